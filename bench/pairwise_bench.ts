/**
 * Benchmark of the pairwise-similarity kernel (`PairwiseSimilarity` from `kernels/mod.ts`):
 * the Gram matrix Σ_x ⟨u_i(x), u_j(x)⟩ of M models over a batch of N samples of D floats,
 * measured side by side in one run with
 *
 * - (a) the obvious TypeScript triple loop (Float32Array input, f64 accumulation, j ≥ i),
 * - (b) the same product with `tf.matMul` on tfjs-backend-webgpu (chunked so that each tensor
 *   fits a binding and each matMul's inner dimension stays ≤ 65,535, beyond which tfjs-webgpu is
 *   wrong on Mesa's software adapters), accumulated on the GPU in f32,
 * - (c) the adapter's roofline, measured by `roofline_copy.wgsl` and `roofline_fma.wgsl`.
 *
 * Flop count (the same for every column, so GFLOP/s ratios are time ratios): the Gram using
 * symmetry, 2 · M(M+1)/2 · N · D = M(M+1)·N·D (tf.matMul and tile padding do more work than
 * that; it is not credited). Bytes: the gradient data, read once, 4·M·N·D. Arithmetic
 * intensity: (M+1)/4 flops per byte. The kernel's time is `add()` end to end as the analysis
 * calls it: upload, dispatches, read-back and f64 accumulation of the partial tiles.
 *
 * Errors are max |value − f64 reference| over up to 256 entries of the M×M result (all of them
 * when M(M+1)/2 ≤ 256), the reference computed in f64 over every sample; the kernel's is checked
 * against its documented bound (2e-5 × samples in the batch).
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs-core";
import { type PairwiseOptions, PairwiseSimilarity, requestGpu } from "../kernels/mod.ts";
import {
  type BenchContext,
  type BenchReport,
  fmt,
  loadAverage,
  markdownTable,
  ratio,
  textTable,
  timeIt,
} from "./_harness.ts";
import { measureRoofline, type Roofline, rooflineGflops } from "./_roofline.ts";

/** The kernel's documented accuracy: max error ≤ this × samples in the batch. */
const KERNEL_TOLERANCE = 2e-5;
/** Gram kernel versions measured, each in its own row (see `PairwiseOptions.kernel`). */
export const KERNEL_VERSIONS: ReadonlyArray<NonNullable<PairwiseOptions["kernel"]>> = [
  "tiled",
  "registers",
];
/** Fewest samples per batch measured (a realistic batch, even where the flop budget is hit). */
const MIN_SAMPLES = 4;
/** Model counts benchmarked. */
export const MODEL_COUNTS = [16, 64, 256] as const;
/** Gradient sizes benchmarked: 1×28×28 (Fashion-MNIST) and 3×32×32 (CIFAR). */
export const DIMS = [784, 3072] as const;
/** Flops of one measurement at `--scale=1`; N follows as FLOPS / (M(M+1)·D). */
const FLOPS_PER_CASE = 1e8;
/** Most flops the TypeScript loop is timed on (it is timed on the first samples only). */
const TS_FLOPS = 1e8;
/** Targets: speed-up over the TypeScript loop, and fraction of the roofline. */
export const TARGET_VS_TS = 10;
export const TARGET_VS_ROOFLINE = 0.5;
/** tfjs-backend-webgpu's matMul is wrong beyond this inner dimension on Mesa. */
const TF_MAX_INNER = 65_535;
/** tfjs-backend-webgpu's flag that forces a matMul program, and its MatMulReduceProgram value. */
const TF_PROGRAM_FLAG = "WEBGPU_MATMUL_PROGRAM_TYPE";
const TF_REDUCE_PROGRAM = 0;

/** Seeded unit vectors, model-major [M][N][D]. */
function unitRows(M: number, N: number, D: number, seed: number): Float32Array {
  const out = new Float32Array(M * N * D);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < out.length; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  for (let r = 0; r < M * N; r++) {
    const row = out.subarray(r * D, (r + 1) * D);
    let ss = 0;
    for (const v of row) ss += v * v;
    const inv = 1 / Math.sqrt(ss);
    for (let d = 0; d < D; d++) row[d]! *= inv;
  }
  return out;
}

/** (a) The obvious loop: G[i][j] = Σ_x Σ_d u[i][x][d]·u[j][x][d] for j ≥ i, over samples [0, n). */
function tsGram(u: Float32Array, M: number, N: number, D: number, n: number): Float64Array {
  const g = new Float64Array(M * M);
  for (let i = 0; i < M; i++) {
    for (let j = i; j < M; j++) {
      let s = 0;
      for (let x = 0; x < n; x++) {
        const a = (i * N + x) * D, b = (j * N + x) * D;
        for (let d = 0; d < D; d++) s += u[a + d]! * u[b + d]!;
      }
      g[i * M + j] = s;
      g[j * M + i] = s;
    }
  }
  return g;
}

/** Up to 256 (i, j) entries, i ≤ j, spread deterministically; all of them when few. */
function sampleEntries(M: number): Array<[number, number]> {
  const all = (M * (M + 1)) / 2;
  const out: Array<[number, number]> = [];
  if (all <= 256) {
    for (let i = 0; i < M; i++) for (let j = i; j < M; j++) out.push([i, j]);
    return out;
  }
  for (let k = 0; k < 256; k++) {
    const i = (k * 37) % M;
    const j = i + ((k * 101) % (M - i));
    out.push([i, j]);
  }
  return out;
}

/** f64 reference of the sampled entries over all N samples. */
function referenceEntries(
  u: Float32Array,
  N: number,
  D: number,
  entries: Array<[number, number]>,
): Float64Array {
  return Float64Array.from(entries, ([i, j]) => {
    let s = 0;
    const a = i * N * D, b = j * N * D;
    for (let k = 0; k < N * D; k++) s += u[a + k]! * u[b + k]!;
    return s;
  });
}

function maxError(
  got: ArrayLike<number>,
  M: number,
  entries: Array<[number, number]>,
  ref: Float64Array,
): number {
  let e = 0;
  entries.forEach(([i, j], k) => {
    e = Math.max(e, Math.abs(got[i * M + j]! - ref[k]!));
  });
  return e;
}

/** Tries tfjs-backend-webgpu; returns null and the reason when it cannot initialise. */
async function initTfWebgpu(): Promise<{ ok: true } | { ok: false; why: string }> {
  try {
    await import("@tensorflow/tfjs-backend-webgpu");
    if (!(await tf.setBackend("webgpu"))) {
      return { ok: false, why: 'tf.setBackend("webgpu") returned false' };
    }
    await tf.ready();
    if (tf.getBackend() !== "webgpu") {
      return { ok: false, why: `tfjs chose backend ${tf.getBackend()}` };
    }
    return { ok: true };
  } catch (e) {
    return { ok: false, why: (e as Error).message ?? String(e) };
  }
}

/** (b) G = U Uᵀ with tf.matMul over column chunks of the [M, N·D] matrix, summed on the GPU. */
async function tfGram(u: Float32Array, M: number, N: number, D: number): Promise<Float32Array> {
  const cols = N * D;
  const maxBinding = (tf.backend() as unknown as { device?: GPUDevice }).device?.limits
    .maxStorageBufferBindingSize ?? 2 ** 27;
  const chunk = Math.max(1, Math.min(TF_MAX_INNER, Math.floor(maxBinding / (4 * M))));
  const packed = new Float32Array(M * Math.min(chunk, cols));
  let acc: tf.Tensor | null = null;
  for (let c0 = 0; c0 < cols; c0 += chunk) {
    const k = Math.min(chunk, cols - c0);
    const view = packed.subarray(0, M * k);
    for (let m = 0; m < M; m++) view.set(u.subarray(m * cols + c0, m * cols + c0 + k), m * k);
    const part = tf.tidy(() => {
      const a = tf.tensor2d(view, [M, k]);
      const g = tf.matMul(a, a, false, true);
      return acc ? tf.add(acc, g) : g;
    });
    acc?.dispose();
    acc = part;
  }
  const out = (await acc!.data()) as Float32Array;
  acc!.dispose();
  return out;
}

interface Row {
  M: number;
  N: number;
  D: number;
  version: string;
  kernelSeconds: number;
  kernelGflops: number;
  kernelGBs: number;
  kernelError: number;
  tsGflops: number;
  tsSamples: number;
  tfGflops: number | null;
  tfError: number | null;
  /** tfjs's matMul program measured: "default" (its own choice) or "reduce" (forced). */
  tfProgram: string;
  /** The default program's error when it was wrong and "reduce" was measured instead. */
  tfDefaultError: number | null;
  roofline: number | null;
}

/**
 * Runs the benchmark; prints its tables and returns them as Markdown. Cost: about three
 * minutes on a 2-core software adapter at `scale` 1 (`quick`: seconds).
 *
 * @example
 * ```ts ignore
 * import { run } from "./pairwise_bench.ts";
 * const report = await run({ quick: true, scale: 1, log: console.error });
 * console.log(report.markdown);
 * ```
 */
export async function run(ctx: BenchContext): Promise<BenchReport> {
  const warnings: string[] = [];
  const gpu = await requestGpu({ onWarning: (m) => warnings.push(m) });
  const adapter = gpu.describe();
  const load0 = loadAverage();
  ctx.log(`adapter: ${adapter}`);
  const reps = ctx.quick ? 1 : 3;
  const budget = (ctx.quick ? 2e6 : FLOPS_PER_CASE) * ctx.scale;
  const tsBudget = ctx.quick ? 2e6 : TS_FLOPS;

  let roofline: Roofline | null = null;
  let rooflineNote = "";
  if (gpu.device) {
    try {
      roofline = await measureRoofline(gpu.device, {
        copyBytes: ctx.quick ? 2 ** 22 : 64 * 2 ** 20,
        minSeconds: ctx.quick ? 0.01 : 0.25,
        reps: ctx.quick ? 1 : 5,
        log: ctx.log,
      });
    } catch (e) {
      rooflineNote = `roofline not measured: ${(e as Error).message}`;
    }
  } else rooflineNote = "roofline not measured: no WebGPU adapter";
  if (rooflineNote) ctx.log(rooflineNote);

  const tfState = await initTfWebgpu();
  const tfNote = tfState.ok ? "tfjs-backend-webgpu" : `tf.matMul column skipped: ${tfState.why}`;
  ctx.log(tfState.ok ? "tf.matMul on tfjs-backend-webgpu" : tfNote);

  // JIT warm-up of the TypeScript loop on a small input.
  tsGram(unitRows(8, 4, 64, 1), 8, 4, 64, 4);

  const rows: Row[] = [];
  for (const D of DIMS) {
    for (const M of MODEL_COUNTS) {
      const perSample = M * (M + 1) * D;
      const maxN = Math.max(1, Math.floor(gpu.maxBindingBytes / (4 * M * D)));
      const N = Math.max(
        1,
        Math.min(maxN, Math.max(ctx.quick ? 1 : MIN_SAMPLES, Math.round(budget / perSample))),
      );
      const flops = perSample * N;
      const u = unitRows(M, N, D, M * 7919 + D);
      const zero = new Uint8Array(M * N);
      const entries = sampleEntries(M);
      const ref = referenceEntries(u, N, D, entries);
      ctx.log(`M=${M} N=${N} D=${D}: ${fmt(flops / 1e9)} GFLOP per run`);

      // (a) TypeScript loop, timed on the first tsN samples.
      const tsN = Math.max(1, Math.min(N, Math.round(tsBudget / perSample)));
      let tsOut: Float64Array | null = null;
      const ts = await timeIt(() => {
        tsOut = tsGram(u, M, N, D, tsN);
      }, { warmup: 0, reps });
      if (tsN === N && maxError(tsOut!, M, entries, ref) > 1e-9 * N) {
        throw new Error(`TypeScript loop disagrees with the reference at M=${M} D=${D}.`);
      }
      const tsGflops = (perSample * tsN) / ts.median / 1e9;

      // The kernel, every version: a fresh accumulator per run, one add() of the whole batch.
      const kernels = [];
      for (const version of gpu.backend === "webgpu" ? KERNEL_VERSIONS : ["cpu reference"]) {
        const options: PairwiseOptions = { models: M, dim: D };
        if (version !== "cpu reference") options.kernel = version as PairwiseOptions["kernel"];
        let kernelSum: Float64Array | null = null;
        const t = await timeIt(async () => {
          const acc = new PairwiseSimilarity(gpu, options);
          await acc.add(u, zero);
          kernelSum = acc.result().sum;
        }, { warmup: 1, reps });
        kernels.push({ version, t, error: maxError(kernelSum!, M, entries, ref) });
      }

      // (b) tf.matMul with tfjs's own choice of matMul program; if that result is wrong (the
      // split-K program is, on Mesa's software adapters), again with the reduce program.
      let tfGflops: number | null = null;
      let tfError: number | null = null;
      let tfProgram = "default";
      let tfDefaultError: number | null = null;
      if (tfState.ok) {
        const tolerance = 1e-3 * Math.max(1, ...ref.map(Math.abs));
        // One untimed run checks the default program (and warms it up).
        const check = maxError(await tfGram(u, M, N, D), M, entries, ref);
        const before = tf.env().get(TF_PROGRAM_FLAG);
        if (!(check <= tolerance)) {
          tfDefaultError = check;
          tfProgram = "reduce";
          tf.env().set(TF_PROGRAM_FLAG, TF_REDUCE_PROGRAM);
        }
        try {
          let out: Float32Array | null = null;
          const t = await timeIt(async () => {
            out = await tfGram(u, M, N, D);
          }, { warmup: tfProgram === "default" ? 0 : 1, reps });
          tfGflops = flops / t.median / 1e9;
          tfError = maxError(out!, M, entries, ref);
        } finally {
          tf.env().set(TF_PROGRAM_FLAG, before);
        }
      }

      for (const k of kernels) {
        const row: Row = {
          M,
          N,
          D,
          version: k.version,
          kernelSeconds: k.t.median,
          kernelGflops: flops / k.t.median / 1e9,
          kernelGBs: (4 * M * N * D) / k.t.median / 1e9,
          kernelError: k.error,
          tsGflops,
          tsSamples: tsN,
          tfGflops,
          tfError,
          tfProgram,
          tfDefaultError,
          roofline: roofline ? rooflineGflops(roofline, (M + 1) / 4) : null,
        };
        rows.push(row);
        ctx.log(
          `  kernel ${k.version} ${fmt(row.kernelGflops)} GFLOP/s, TS ${fmt(tsGflops)}, tf ${
            tfGflops === null ? "-" : fmt(tfGflops)
          }, roofline ${row.roofline === null ? "-" : fmt(row.roofline)}`,
        );
      }
    }
  }
  const load1 = loadAverage();

  const dash = "–";
  const measured = {
    header: [
      "M",
      "N",
      "D",
      "kernel",
      "kernel s",
      "kernel GB/s",
      "kernel GFLOP/s",
      "TS loop GFLOP/s",
      "tf.matMul GFLOP/s",
      "roofline GFLOP/s",
      "kernel max err",
      "tf.matMul max err",
      "tf.matMul program",
    ],
    rows: rows.map((r) => [
      String(r.M),
      String(r.N),
      String(r.D),
      r.version,
      fmt(r.kernelSeconds),
      fmt(r.kernelGBs),
      fmt(r.kernelGflops),
      fmt(r.tsGflops),
      r.tfGflops === null ? dash : fmt(r.tfGflops),
      r.roofline === null ? dash : fmt(r.roofline),
      fmt(r.kernelError, 2),
      r.tfError === null ? dash : fmt(r.tfError, 2),
      r.tfGflops === null
        ? dash
        : r.tfDefaultError === null
        ? "default"
        : `reduce (default: err ${fmt(r.tfDefaultError, 2)})`,
    ]),
  };
  const verdict = (ok: boolean) => (ok ? "PASS" : "MISS");
  // A wrong result passes nothing, however fast.
  const correct = (r: Row) => r.kernelError <= KERNEL_TOLERANCE * r.N;
  const ratios = {
    header: [
      "M",
      "D",
      "kernel",
      "kernel / TS loop",
      "kernel / tf.matMul",
      "kernel / roofline",
      `≥ ${TARGET_VS_TS}× TS loop`,
      `≥ ${TARGET_VS_ROOFLINE} of roofline`,
      "kernel result",
    ],
    rows: rows.map((r) => {
      const vsTs = r.kernelGflops / r.tsGflops;
      const vsRoof = r.roofline === null ? null : r.kernelGflops / r.roofline;
      return [
        String(r.M),
        String(r.D),
        r.version,
        ratio(vsTs),
        r.tfGflops === null ? dash : ratio(r.kernelGflops / r.tfGflops),
        vsRoof === null ? dash : fmt(vsRoof),
        verdict(correct(r) && vsTs >= TARGET_VS_TS),
        vsRoof === null ? dash : verdict(correct(r) && vsRoof >= TARGET_VS_ROOFLINE),
        correct(r) ? "within tolerance" : "WRONG",
      ];
    }),
  };
  // Per M and kernel version: PASS only if every D passes.
  const versions = [...new Set(rows.map((r) => r.version))];
  const perM = MODEL_COUNTS.flatMap((M) =>
    versions.map((version) => {
      const rs = rows.filter((r) => r.M === M && r.version === version);
      const ts = rs.every((r) => correct(r) && r.kernelGflops / r.tsGflops >= TARGET_VS_TS);
      const roof = rs.every((r) =>
        correct(r) && r.roofline !== null && r.kernelGflops / r.roofline >= TARGET_VS_ROOFLINE
      );
      return `M = ${M}, ${version}: ${verdict(ts)} (≥ ${TARGET_VS_TS}× TS loop), ${
        verdict(roof)
      } (≥ ${TARGET_VS_ROOFLINE} of roofline)`;
    })
  );

  const context = [
    `Adapter: ${adapter}.`,
    roofline
      ? `Roofline measured in this run: bandwidth ${fmt(roofline.bandwidth)} GB/s (best copy: ${
        roofline.copies.map((c) => `${c.name} ${fmt(c.rate)}`).join(", ")
      }; bytes read + written), peak ${fmt(roofline.peak)} GFLOP/s (${
        roofline.arithmetic.map((a) => `${a.name} ${fmt(a.rate)}`).join(", ")
      }); roofline = min(bandwidth × (M+1)/4, peak).`
      : rooflineNote + ".",
    `tf.matMul: ${tfNote}; f32 accumulation on the GPU; where tfjs's default matMul program ` +
    `gives a wrong result (error > 1e-3 of the largest entry) it is measured again with ` +
    `${TF_PROGRAM_FLAG} = ${TF_REDUCE_PROGRAM} (MatMulReduceProgram) and the table says so.`,
    `Flops = M(M+1)·N·D (the Gram by symmetry); GB/s = 4·M·N·D bytes of gradients / time; ` +
    `kernel time = PairwiseSimilarity.add() end to end, per Gram kernel version ` +
    `(options.kernel); TS loop timed on the first ` +
    `${[...new Set(rows.map((r) => r.tsSamples))].join("/")} samples; median of ${reps} ` +
    `run(s) after a warm-up.`,
    `Load average: ${load0 ?? "?"} at start, ${load1 ?? "?"} at end (other processes on this ` +
    `machine slow every column alike).`,
    ...(warnings.length ? [`Device warnings: ${warnings.join("; ")}.`] : []),
    ...(ctx.quick ? ["--quick: tiny sizes, a smoke test; the numbers are not meaningful."] : []),
  ];

  console.log("\nPairwise similarity kernel\n");
  for (const line of context) console.log(line);
  console.log(`\n${textTable(measured.header, measured.rows)}\n`);
  console.log(`${textTable(ratios.header, ratios.rows)}\n`);
  for (const line of perM) console.log(line);
  gpu.destroy();

  const markdown = [
    context.map((l) => `- ${l}`).join("\n"),
    markdownTable(measured.header, measured.rows),
    markdownTable(ratios.header, ratios.rows),
    perM.map((l) => `- ${l}`).join("\n"),
  ].join("\n\n");
  return { title: "Pairwise similarity kernel", markdown };
}
