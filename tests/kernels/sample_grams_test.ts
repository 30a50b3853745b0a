import {
  LOOP_CAP,
  reference,
  ROW_LIVE,
  ROW_NON_FINITE,
  ROW_ZERO,
  sampleGrams,
} from "../../kernels/mod.ts";
import {
  columnChunks,
  gramLoopBound,
  gramTile,
  maxDim,
  ROW_SCALE_WG,
  rowScaleLanes,
  rowScaleLoopBound,
  tilePairs,
} from "../../kernels/sample_grams/mod.ts";
import { assertWithin, maxDiff, randomGrads, variants, variantTest } from "./_helpers.ts";
import { assertRejects } from "../_shared/assert.ts";

/** Plain f64 cosines straight from the definition, independent of the kernel's scaling. */
function directCosines(g: Float32Array, m: number, s: number, d: number): Float64Array {
  const out = new Float64Array(s * m * m);
  const norm = (o: number) => {
    let q = 0;
    for (let k = 0; k < d; k++) q += g[o + k]! * g[o + k]!;
    return Math.sqrt(q);
  };
  for (let x = 0; x < s; x++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < m; j++) {
        const oi = (i * s + x) * d, oj = (j * s + x) * d;
        const ni = norm(oi), nj = norm(oj);
        if (!(ni > 0 && nj > 0 && Number.isFinite(ni) && Number.isFinite(nj))) continue;
        let dot = 0;
        for (let k = 0; k < d; k++) dot += g[oi + k]! * g[oj + k]!;
        out[(x * m + i) * m + j] = dot / (ni * nj);
      }
    }
  }
  return out;
}

Deno.test("reference.sampleGrams() equals cosines computed from the definition", () => {
  const [m, s, d] = [5, 3, 11];
  const g = randomGrads(1, m * s * d);
  g.fill(0, 4 * d, 5 * d); // model 1, sample 1
  const r = reference.sampleGrams(g, { models: m, samples: s, dim: d });
  assertWithin(maxDiff(r.grams, directCosines(g, m, s, d)), 1e-12, "cosines");
  if (r.zeros !== 1 || r.status[4] !== ROW_ZERO) throw new Error(`zeros ${r.zeros}`);
});

Deno.test("tilePairs() covers every upper-triangle entry of the Gram exactly once", () => {
  for (const m of [1, 7, 16, 17, 64, 128, 257]) {
    const owners = new Uint8Array(m * m);
    const t = gramTile(m);
    for (const p of tilePairs(m)) {
      const a = p >> 16, b = p & 0xffff;
      for (let i = a * t; i < Math.min(m, a * t + t); i++) {
        for (let j = b * t; j < Math.min(m, b * t + t); j++) if (i <= j) owners[i * m + j]!++;
      }
    }
    for (let i = 0; i < m; i++) {
      for (let j = i; j < m; j++) {
        if (owners[i * m + j] !== 1) {
          throw new Error(`M = ${m}: (${i}, ${j}) owned ${owners[i * m + j]} times`);
        }
      }
    }
  }
});

Deno.test("sample-Gram loop bounds stay under LOOP_CAP at D = 70,000", () => {
  const cols4 = 70_000 / 4;
  const lanes = rowScaleLanes(cols4);
  if (!(gramLoopBound(cols4) <= LOOP_CAP && rowScaleLoopBound(cols4, lanes) <= LOOP_CAP)) {
    throw new Error(`bounds ${gramLoopBound(cols4)}, ${rowScaleLoopBound(cols4, lanes)}`);
  }
});

Deno.test("rowScaleLanes() gives a row per invocation while its walk fits the cap, else a workgroup", () => {
  // D = 70,000 (17,500 vec4): one lane walks the row; D = 300,002 (75,001 vec4) would run past
  // the cap on one lane, so ROW_SCALE_WG lanes share it. The device tests below run both.
  if (rowScaleLanes(70_000 / 4) !== 1) throw new Error(`lanes ${rowScaleLanes(70_000 / 4)}`);
  if (rowScaleLanes(75_001) !== ROW_SCALE_WG) throw new Error(`lanes ${rowScaleLanes(75_001)}`);
  if (!(rowScaleLoopBound(75_001, 1) > LOOP_CAP)) throw new Error("one lane would fit");
  for (const cols4 of [1, LOOP_CAP - 3, LOOP_CAP - 2, 75_001, maxDim() / 4]) {
    const bound = rowScaleLoopBound(cols4, rowScaleLanes(cols4));
    if (!(bound <= LOOP_CAP)) throw new Error(`cols4 ${cols4}: bound ${bound}`);
  }
});

/** Models × samples × dim: one model, one sample, sizes off the 16-row tile and the vec4. */
const SHAPES: ReadonlyArray<readonly [number, number, number]> = [
  [1, 1, 1],
  [1, 4, 6],
  [2, 1, 7],
  [3, 5, 13],
  [17, 3, 30],
  [41, 2, 9],
  [130, 2, 5],
];

for (const v of variants) {
  variantTest(
    v,
    "sampleGrams() matches the f64 reference on shapes off the tile size",
    async (gpu) => {
      for (
        const [m, s, d] of SHAPES
      ) {
        const g = randomGrads(m * 100 + s * 10 + d, m * s * d);
        if (m > 2) {
          g.fill(0, d, 2 * d); // model 0, sample 1: zero
          g[(2 * s) * d + 1] = NaN; // model 2, sample 0
          g[(2 * s + 1) * d] = Infinity; // model 2, sample 1
        }
        const shape = { models: m, samples: s, dim: d };
        const want = reference.sampleGrams(g, shape);
        const got = await sampleGrams(gpu, g, shape);
        assertWithin(maxDiff(got.grams, want.grams), 2e-6, `M ${m} S ${s} D ${d}`);
        if (String(got.status) !== String(want.status)) throw new Error(`status ${got.status}`);
        if (m > 2) {
          if (got.zeros !== 1 || got.nonFinite !== 2) {
            throw new Error(`zeros ${got.zeros}, non-finite ${got.nonFinite}`);
          }
          if (got.status[2 * s] !== ROW_NON_FINITE || got.status[0] !== ROW_LIVE) {
            throw new Error("row flags");
          }
        }
        for (let x = 0; x < s; x++) {
          for (let i = 0; i < m; i++) {
            const live = got.status[i * s + x] === ROW_LIVE;
            if (got.grams[(x * m + i) * m + i] !== (live ? 1 : 0)) throw new Error("diagonal");
          }
        }
      }
    },
  );

  variantTest(v, "sampleGrams() reduces D = 70,000 over many samples within 1e-5", async (gpu) => {
    const [m, s, d] = [7, 8, 70_000];
    const g = randomGrads(7, m * s * d);
    const shape = { models: m, samples: s, dim: d };
    const got = await sampleGrams(gpu, g, shape);
    assertWithin(maxDiff(got.grams, reference.sampleGrams(g, shape).grams), 1e-5, "D = 70,000");
  });

  variantTest(
    v,
    "sampleGrams() splits rows longer than one Gram dispatch (D = 300,002) and matches f64",
    async (gpu) => {
      const [m, s, d] = [3, 2, 300_002];
      const cols4 = Math.ceil(d / 4);
      // Longer than 4·(LOOP_CAP − 1) = 262,136 values: at least two Gram dispatches per row.
      if (!(d > 4 * (LOOP_CAP - 1) && columnChunks(cols4).length === 2)) {
        throw new Error(`chunks ${JSON.stringify(columnChunks(cols4))}`);
      }
      for (const [, kn] of columnChunks(cols4)) {
        if (gramLoopBound(kn) > LOOP_CAP) throw new Error(`bound ${gramLoopBound(kn)}`);
      }
      const g = randomGrads(17, m * s * d);
      g.fill(0, d, 2 * d); // model 0, sample 1: zero
      const shape = { models: m, samples: s, dim: d };
      const got = await sampleGrams(gpu, g, shape);
      const want = reference.sampleGrams(g, shape);
      assertWithin(maxDiff(got.grams, want.grams), 1e-5, "D = 300,002");
      assertWithin(maxDiff(got.grams, directCosines(g, m, s, d)), 1e-5, "D = 300,002 direct");
      if (got.zeros !== 1) throw new Error(`zeros ${got.zeros}`);
      // The diagonal is exactly 1: the partial sums of the halves were added, not overwritten.
      if (got.grams[0] !== 1 || got.grams[(1 * m + 1) * m + 1] !== 1) throw new Error("diagonal");
    },
  );

  variantTest(
    v,
    "sampleGrams() with every Gram tile matches f64 past the loop cap, on model counts off the tile",
    async (gpu) => {
      // [models, samples, dim]: 70 models leave the last 32-model tile part empty; D = 70,000
      // is one dispatch of 17,500 steps per invocation, D = 300,002 two column ranges.
      const cases = [[70, 3, 70_000], [33, 1, 300_002]] as const;
      for (const [m, s, d] of cases) {
        const g = randomGrads(m + d, m * s * d);
        g.fill(0, d, 2 * d); // model 0, sample 1 (or model 1, sample 0): zero
        g[(5 * s) * d + 3] = NaN; // model 5, sample 0
        const shape = { models: m, samples: s, dim: d };
        const want = reference.sampleGrams(g, shape);
        for (const tile of [4, 8, 16, 32]) {
          const got = await sampleGrams(gpu, g, { ...shape, tile });
          assertWithin(maxDiff(got.grams, want.grams), 1e-5, `M ${m} D ${d} tile ${tile}`);
          if (String(got.status) !== String(want.status)) throw new Error(`tile ${tile} status`);
        }
      }
      if (gramTile(64) !== 32 || gramTile(63) !== 16) throw new Error("tile choice");
    },
  );

  variantTest(
    v,
    "sampleGrams() gives the same cosines for gradients of 1e-30 and 1e30",
    async (gpu) => {
      const [m, s, d] = [4, 3, 50];
      const base = randomGrads(3, m * s * d);
      const shape = { models: m, samples: s, dim: d };
      const want = reference.sampleGrams(base, shape);
      for (const scale of [1e-30, 1e30]) {
        const got = await sampleGrams(gpu, base.map((x) => x * scale), shape);
        assertWithin(maxDiff(got.grams, want.grams), 2e-6, `scale ${scale}`);
        if (got.zeros !== 0) throw new Error(`scale ${scale}: ${got.zeros} rows taken as zero`);
      }
    },
  );

  variantTest(
    v,
    "sampleGrams() split into small bindings equals one binding",
    async (gpu) => {
      const [m, s, d] = [6, 23, 40];
      const g = randomGrads(11, m * s * d);
      const shape = { models: m, samples: s, dim: d };
      const got = await sampleGrams(gpu, g, shape);
      assertWithin(maxDiff(got.grams, reference.sampleGrams(g, shape).grams), 2e-6, "split");
    },
    { gpuOptions: { maxBindingBytes: 6 * 40 * 4 * 3 } },
  );

  variantTest(
    v,
    "sampleGrams() throws TypeError on a length that is not M × S × D",
    async (gpu) => {
      await assertRejects(
        () => sampleGrams(gpu, new Float32Array(10), { models: 2, samples: 2, dim: 3 }),
        TypeError,
      );
      const dim = maxDim() + 4;
      await assertRejects(
        () => sampleGrams(gpu, new Float32Array(dim), { models: 1, samples: 1, dim }),
        RangeError,
        `dim may be at most ${maxDim()}`,
      );
    },
  );
}
