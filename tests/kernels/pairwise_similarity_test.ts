import * as fc from "fast-check";
import { PairwiseSimilarity, reference, requestGpu } from "../../kernels/mod.ts";
import {
  GRAM_KS,
  GRAM_REG_LARGE_FROM,
  GRAM_REG_R,
  GRAM_REG_R_LARGE,
  GRAM_REG_WG,
  GRAM_TILE,
  GRAM_WG,
  type GramKernel,
  gramLoopBound,
  registerBlock,
  registerKernelBody,
} from "../../kernels/pairwise_similarity/mod.ts";
import { type Gpu, LOOP_CAP } from "../../kernels/mod.ts";
import {
  assertClose,
  maxDiff,
  randomUnits,
  type Variant,
  variants,
  variantTest,
} from "./_helpers.ts";
import { assertRejects } from "../_shared/assert.ts";

// Batch sums are f32 partial sums (≤ ~56,000 products each) added in f64: we allow
// 1e-5 per sample summed (observed errors are ~1e-7 per sample).
const tolFor = (samples: number) => 1e-5 * Math.max(1, samples);

/** The Gram kernel version of the test being run (undefined: the backend's default). */
let kernelVersion: GramKernel | undefined;

async function accumulate(
  gpu: Gpu,
  units: Float32Array,
  zero: Uint8Array,
  options: {
    models: number;
    dim: number;
    histogramBins?: number;
    cosines?: boolean;
    pairs?: Array<[number, number]>;
  },
  batches: number[] = [],
) {
  const acc = new PairwiseSimilarity(gpu, { ...options, kernel: kernelVersion });
  const M = options.models, D = options.dim, N = zero.length / M;
  const cuts = [0, ...batches, N];
  for (let b = 0; b + 1 < cuts.length; b++) {
    const x0 = cuts[b]!, x1 = cuts[b + 1]!, n = x1 - x0;
    const u = new Float32Array(M * n * D), z = new Uint8Array(M * n);
    for (let m = 0; m < M; m++) {
      u.set(units.subarray((m * N + x0) * D, (m * N + x1) * D), m * n * D);
      z.set(zero.subarray(m * N + x0, m * N + x1), m * n);
    }
    await acc.add(u, z);
  }
  return acc.result();
}

Deno.test("PairwiseSimilarity tile constants agree between TypeScript and both Gram kernels", () => {
  // tiled: TILE = 4·WG (4×4 per invocation) and TILE·KS = 4·WG² (four loads per invocation)
  if (GRAM_TILE !== 4 * GRAM_WG || GRAM_TILE * GRAM_KS !== 4 * GRAM_WG * GRAM_WG) {
    throw new Error(
      `WG ${GRAM_WG}, TILE ${GRAM_TILE}, KS ${GRAM_KS} break the tiled kernel's loads`,
    );
  }
  // registers: the unrolled body has R² accumulators and stores and 2R loads per step, for the
  // block side chosen for few and for many models
  for (const r of [GRAM_REG_R, GRAM_REG_R_LARGE]) {
    const body = registerKernelBody(r);
    const lines = (text: string) => text.split("\n").length;
    if (
      lines(body.DECLARE) !== r * r || lines(body.FMA) !== r * r || lines(body.STORE) !== r * r ||
      lines(body.LOAD) !== 2 * r || !body.STORE.includes(`partial[out + ${r * r - 1}u]`)
    ) {
      throw new Error(`register kernel body for R = ${r} is not ${r}×${r}`);
    }
  }
  if (
    registerBlock(GRAM_REG_LARGE_FROM - 1) !== GRAM_REG_R ||
    registerBlock(GRAM_REG_LARGE_FROM) !== GRAM_REG_R_LARGE
  ) {
    throw new Error("registerBlock() switches block sides at GRAM_REG_LARGE_FROM models");
  }
  // the register kernel's lanes split a span, so one invocation walks span / (4·WG) steps
  if (gramLoopBound(4 * GRAM_REG_WG * 1000, "registers") !== 1001) {
    throw new Error("register loop bound must count vec4 steps per lane");
  }
  if (
    gramLoopBound(56_000) > LOOP_CAP ||
    gramLoopBound((LOOP_CAP - 1) * 4 * GRAM_REG_WG, "registers") > LOOP_CAP
  ) {
    throw new Error("the longest spans must fit the loop cap");
  }
});

type Version = { v: Variant; kernel: GramKernel | undefined; tag: string };
const versions: Version[] = variants.flatMap((v): Version[] =>
  v.needsAdapter
    ? (["tiled", "registers"] as const).map((kernel) => ({ v, kernel, tag: ` (${kernel} kernel)` }))
    : [{ v, kernel: undefined, tag: "" }]
);

for (const { v, kernel, tag } of versions) {
  variantTest(
    v,
    `PairwiseSimilarity matches the reference on shapes off the tile size${tag}`,
    async (gpu) => {
      kernelVersion = kernel;
      for (
        // 70 × 15 × 1001: rows and columns padded (70 → 80 rows for 16×16 blocks, 1001 → 1004)
        // and an upload above WRITE_BUFFER_FROM (the queue.writeBuffer path)
        const [M, N, D] of [[1, 3, 7], [2, 4, 1], [33, 3, 784], [257, 2, 7], [3, 2, 3072], [
          70,
          15,
          1001,
        ]] as Array<[number, number, number]>
      ) {
        const { units, zero } = randomUnits(M * 31 + D, M, N, D, M > 2 ? [1, N + 1] : []);
        const got = await accumulate(gpu, units, zero, { models: M, dim: D });
        const want = reference.pairwiseSimilarity(units, zero, { models: M, dim: D });
        assertClose(maxDiff(got.sum, want.sum), tolFor(N), `M=${M} N=${N} D=${D} sums`);
        if (maxDiff(got.count, want.count) !== 0 || got.samples !== N) {
          throw new Error("counts differ");
        }
      }
    },
  );

  variantTest(
    v,
    `PairwiseSimilarity reduces D = 70,000 and N·D far beyond 65,535 exactly${tag}`,
    async (gpu) => {
      kernelVersion = kernel;
      // D = 70,000: one sample's dot product is longer than Mesa's per-invocation loop cap.
      // N·D = 30 × 3,072 = 92,160: a naive nested loop over samples × dim would exceed it too.
      for (const [M, N, D] of [[2, 2, 70_000], [3, 30, 3072]] as Array<[number, number, number]>) {
        const { units, zero } = randomUnits(D + N, M, N, D);
        const options = { models: M, dim: D, cosines: true };
        const got = await accumulate(gpu, units, zero, options);
        const want = reference.pairwiseSimilarity(units, zero, options);
        assertClose(maxDiff(got.sum, want.sum), tolFor(N), `M=${M} N=${N} D=${D}`);
        // per-sample cosines: a 70,000-value sample is itself split into spans
        assertClose(maxDiff(got.cosines!.values, want.cosines!.values), 1e-5, "per-sample cosines");
        // the diagonal is Σ‖u‖² = N for non-zero unit vectors: a truncated loop would fall short
        assertClose(Math.abs(got.sum[0]! - N), tolFor(N), "diagonal");
      }
    },
  );

  variantTest(
    v,
    `PairwiseSimilarity over several batches and forced splits equals one batch${tag}`,
    async (gpu) => {
      kernelVersion = kernel;
      const M = 40, N = 20, D = 100;
      const { units, zero } = randomUnits(5, M, N, D, [3, 44, 45]);
      const whole = await accumulate(gpu, units, zero, { models: M, dim: D });
      const batched = await accumulate(gpu, units, zero, { models: M, dim: D }, [1, 7, 13]);
      assertClose(maxDiff(batched.sum, whole.sum), tolFor(N), "batches");
      if (maxDiff(batched.count, whole.count) !== 0) throw new Error("batched counts differ");
      // split by samples (2 KiB bindings hold 12 samples' worth of one model… 0.128 samples of all)
      // and, below one sample of all models, by dimension ranges
      for (const maxBindingBytes of [4 * M * D * 3, 2048]) {
        const small = await requestGpu({ ...v.options, maxBindingBytes });
        try {
          const split = await accumulate(small, units, zero, { models: M, dim: D }, [9]);
          assertClose(
            maxDiff(split.sum, whole.sum),
            tolFor(N),
            `maxBindingBytes ${maxBindingBytes}`,
          );
        } finally {
          small.destroy();
        }
      }
    },
  );

  variantTest(
    v,
    `PairwiseSimilarity gives 1 for identical models and −1 for antipodal ones${tag}`,
    async (gpu) => {
      kernelVersion = kernel;
      const N = 6, D = 513;
      const one = randomUnits(9, 1, N, D).units;
      const units = new Float32Array(3 * N * D);
      units.set(one, 0);
      units.set(one, N * D);
      units.set(one.map((x) => -x), 2 * N * D);
      const r = await accumulate(gpu, units, new Uint8Array(3 * N), {
        models: 3,
        dim: D,
        cosines: true,
      });
      assertClose(Math.abs(r.sum[0 * 3 + 1]! - N), 1e-6 * N, "identical: Σ cos = N");
      assertClose(Math.abs(r.sum[0 * 3 + 2]! + N), 1e-6 * N, "antipodal: Σ cos = −N");
      const c = r.cosines!;
      const p01 = c.values.subarray(0, N), p02 = c.values.subarray(N, 2 * N);
      assertClose(maxDiff(p01, new Float32Array(N).fill(1)), 1e-6, "per-sample cos 1");
      assertClose(maxDiff(p02, new Float32Array(N).fill(-1)), 1e-6, "per-sample cos −1");
    },
  );

  variantTest(
    v,
    `PairwiseSimilarity leaves zero gradients out of sums and counts${tag}`,
    async (gpu) => {
      kernelVersion = kernel;
      const M = 3, N = 5, D = 17;
      // model 0 is zero at samples 0 and 4, model 2 at sample 4
      const { units, zero } = randomUnits(2, M, N, D, [0, 4, 2 * N + 4]);
      const r = await accumulate(gpu, units, zero, { models: M, dim: D, histogramBins: 4 });
      const want = reference.pairwiseSimilarity(units, zero, { models: M, dim: D });
      if (r.count[0 * M + 1] !== 3 || r.count[0 * M + 2] !== 3 || r.count[1 * M + 2] !== 4) {
        throw new Error(`counts ${r.count.join()}`);
      }
      if (r.count[0] !== 3 || r.count[4] !== 5 || r.count[8] !== 4) {
        throw new Error("diagonal counts");
      }
      assertClose(maxDiff(r.sum, want.sum), tolFor(N), "sums");
      const h = r.histograms!;
      h.pairs.forEach(([i, j], p) => {
        let total = 0;
        for (let b = 0; b < h.bins; b++) total += h.counts[p * h.bins + b]!;
        if (total !== r.count[i * M + j]) {
          throw new Error(`histogram of (${i}, ${j}) holds ${total}`);
        }
      });
    },
  );

  variantTest(
    v,
    `PairwiseSimilarity per-sample cosines and histograms match the reference${tag}`,
    async (gpu) => {
      kernelVersion = kernel;
      const M = 6, N = 50, D = 9;
      const { units, zero } = randomUnits(77, M, N, D, [5, 70]);
      const pairs: Array<[number, number]> = [[0, 1], [2, 5], [4, 3], [1, 1]];
      const options = { models: M, dim: D, pairs, histogramBins: 7, cosines: true };
      const r = await accumulate(gpu, units, zero, options, [20]);
      const want = reference.pairwiseSimilarity(units, zero, options);
      assertClose(maxDiff(r.cosines!.values, want.cosines!.values), 1e-6, "cosines");
      // the histogram is exactly the binning of the backend's own cosines
      const counts = new Uint32Array(pairs.length * 7);
      pairs.forEach((_, p) => {
        for (let x = 0; x < N; x++) {
          const c = r.cosines!.values[p * N + x]!;
          if (!Number.isNaN(c)) counts[p * 7 + Math.min(6, Math.floor((c + 1) * 3.5))]!++;
        }
      });
      if (maxDiff(counts, r.histograms!.counts) !== 0) {
        throw new Error("histogram ≠ binned cosines");
      }
      // and agrees with the f64 reference's bins up to cosines sitting on a bin edge
      if (maxDiff(r.histograms!.counts, want.histograms!.counts) > 1) {
        throw new Error("histograms differ");
      }
    },
  );

  variantTest(
    v,
    `PairwiseSimilarity sums are symmetric with |Σ cos| ≤ count (property)${tag}`,
    async (gpu) => {
      kernelVersion = kernel;
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 9 }),
          fc.integer({ min: 1, max: 6 }),
          fc.integer({ min: 1, max: 40 }),
          fc.integer({ min: 0, max: 10_000 }),
          async (M, N, D, seed) => {
            const zeroRows = seed % 3 === 0 ? [0] : [];
            const { units, zero } = randomUnits(seed, M, N, D, zeroRows);
            const r = await accumulate(gpu, units, zero, { models: M, dim: D });
            for (let i = 0; i < M; i++) {
              for (let j = 0; j < M; j++) {
                if (r.sum[i * M + j] !== r.sum[j * M + i]) return false;
                if (Math.abs(r.sum[i * M + j]!) > r.count[i * M + j]! * (1 + 1e-6)) return false;
              }
            }
            return true;
          },
        ),
        { seed: 3, numRuns: 20 },
      );
    },
  );

  variantTest(
    v,
    `PairwiseSimilarity.add() throws TypeError on mismatched lengths${tag}`,
    async (gpu) => {
      kernelVersion = kernel;
      const acc = new PairwiseSimilarity(gpu, { models: 2, dim: 3 });
      await assertRejects(() => acc.add(new Float32Array(7), new Uint8Array(2)), TypeError);
    },
  );
}

Deno.test("PairwiseSimilarity() rejects an unknown Gram kernel version by name", async () => {
  const gpu = await requestGpu({ forceCpu: true });
  for (const kernel of ["fast", [3, 3], 0, null]) {
    let error: unknown = null;
    try {
      new PairwiseSimilarity(gpu, { models: 2, dim: 3, kernel: kernel as GramKernel });
    } catch (e) {
      error = e;
    }
    if (!(error instanceof RangeError) || !String(error.message).includes("kernel")) {
      throw new Error(`kernel ${JSON.stringify(kernel)}: expected a RangeError, got ${error}`);
    }
  }
});
