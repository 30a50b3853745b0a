// The group reductions (`groupSums`): the float64 reference against sums written from the
// definitions, the device against the reference on odd shapes, split batches and blocks, and
// reductions over far more than 65,535 samples.
import { groupSums, LOOP_CAP, reference, ROW_LIVE, setPlan } from "../../kernels/mod.ts";
import {
  blockRanges,
  DERIVED_STEP,
  GROUP_SUM_PROGRAMS,
  largestSet,
  NO_MEMBER,
  packedSets,
  SET_STEP,
  setWalk,
  STEP_DERIVED,
  STEP_PARENT,
  stepSet,
} from "../../kernels/group_sums/mod.ts";
import { programSource } from "../../kernels/gpu/mod.ts";
import { assertWithin, gpuTest, maxDiff, randomGrads, variants, variantTest } from "./_helpers.ts";
import { requestGpu } from "../../kernels/mod.ts";
import { assertEquals, assertRejects, assertThrows } from "../_shared/assert.ts";

/** Unit-vector cosine of two rows straight from the definition (0 when either is not live). */
function cosine(g: Float32Array, d: number, oi: number, oj: number): number {
  let ii = 0, jj = 0, ij = 0;
  for (let k = 0; k < d; k++) {
    ii += g[oi + k]! * g[oi + k]!;
    jj += g[oj + k]! * g[oj + k]!;
    ij += g[oi + k]! * g[oj + k]!;
  }
  if (!(ii > 0 && jj > 0 && Number.isFinite(ii) && Number.isFinite(jj))) return 0;
  return ij / Math.sqrt(ii * jj);
}

/** Sets over M models: the first `groups` partition 0 … M−1, then halves, one empty set. */
function setsOf(m: number, seed: number): number[][] {
  const order = Array.from({ length: m }, (_, i) => i);
  let r = seed;
  for (let i = m - 1; i > 0; i--) {
    r = (r * 1103515245 + 12345) % 2 ** 31;
    const j = r % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const cut = Math.max(1, Math.floor(m / 3));
  const a = order.slice(0, cut), b = order.slice(cut);
  return [a, b, b.slice(0, Math.floor(b.length / 2)), b.slice(Math.floor(b.length / 2)), []];
}

function planOf(m: number, seed: number) {
  const sets = setsOf(m, seed);
  const pairs: Array<[number, number]> = [];
  for (let a = 0; a < sets.length; a++) for (let b = 0; b < sets.length; b++) pairs.push([a, b]);
  return { sets, plan: setPlan(m, sets, 2, pairs), pairs };
}

Deno.test("reference.groupSums() equals block, row and pair sums written from the definition", () => {
  const [m, s, d] = [7, 9, 13];
  const g = randomGrads(5, m * s * d);
  g.fill(0, (2 * s + 3) * d, (2 * s + 4) * d); // model 2, sample 3: zero
  g[(4 * s + 1) * d + 2] = NaN; // model 4, sample 1
  g[(5 * s + 7) * d] = -Infinity; // model 5, sample 7
  const { sets, plan, pairs } = planOf(m, 3);
  const blockOf = Int32Array.from([4, 4, 4, 5, 5, 7, 7, 7, 7]);
  const shape = { models: m, samples: s, dim: d };
  const r = reference.groupSums(reference.sampleGrams(g, shape), plan, blockOf);
  const live = (i: number, x: number) => cosine(g, d, (i * s + x) * d, (i * s + x) * d) > 0;
  const c = (x: number, i: number, j: number) =>
    i === j ? (live(i, x) ? 1 : 0) : cosine(g, d, (i * s + x) * d, (j * s + x) * d);
  if (String(r.blocks) !== "4,5,7") throw new Error(`blocks ${r.blocks}`);
  const sums = new Float64Array(3 * m * m), counts = new Float64Array(3 * m * m);
  for (let x = 0; x < s; x++) {
    const b = x < 3 ? 0 : x < 5 ? 1 : 2;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < m; j++) {
        sums[(b * m + i) * m + j]! += c(x, i, j);
        if (live(i, x) && live(j, x)) counts[(b * m + i) * m + j]!++;
      }
    }
  }
  assertWithin(maxDiff(r.blockSums, sums), 1e-12, "block sums");
  assertWithin(maxDiff(r.blockCounts, counts), 0, "block counts");
  const rows = new Float64Array(2 * s * m);
  for (let t = 0; t < 2; t++) {
    for (let x = 0; x < s; x++) {
      for (let f = 0; f < m; f++) {
        for (const j of sets[t]!) rows[(t * s + x) * m + f]! += c(x, f, j);
      }
    }
  }
  assertWithin(maxDiff(r.rowSums, rows), 1e-12, "row sums");
  const want = new Float64Array(s * pairs.length);
  for (let x = 0; x < s; x++) {
    pairs.forEach(([a, b], p) => {
      for (const f of sets[a]!) for (const j of sets[b]!) want[x * pairs.length + p]! += c(x, f, j);
    });
  }
  assertWithin(maxDiff(r.pairSums, want), 1e-12, "pair sums");
  if (r.zeros !== 1 || r.nonFinite !== 2 || r.status[2 * s + 3] === ROW_LIVE) {
    throw new Error(`zeros ${r.zeros}, non-finite ${r.nonFinite}`);
  }
});

Deno.test("setPlan() and blockRanges() refuse bad members, pairs and decreasing blocks", () => {
  assertThrows(() => setPlan(3, [[0, 3]], 1, []), RangeError, "expected an index in 0 … 2");
  assertThrows(() => setPlan(3, [[1, 1]], 1, []), RangeError, "repeats a member");
  assertThrows(() => setPlan(3, [[0]], 1, [[0, 1]]), RangeError, "names set 1");
  assertThrows(() => setPlan(3, [[0]], 2, []), RangeError, "rowSets is 2");
  assertThrows(() => blockRanges(Int32Array.from([0, 1, 0])), RangeError, "never decrease");
  const { blocks, ranges } = blockRanges(Int32Array.from([2, 2, 3, 9]));
  if (String(blocks) !== "2,3,9" || String(ranges) !== "0,2,2,3,3,4") {
    throw new Error(`${blocks} / ${ranges}`);
  }
  if (largestSet(setPlan(5, [[0], [1, 2, 3], []], 0, [])) !== 3) throw new Error("largest set");
  // set_sums dispatches: SET_STEP steps per set and one per texel of four members, each walk
  // under the cap.
  const plan = setPlan(6, [[0, 1, 2], [3, 4, 5], [0, 2, 4], [1, 2, 3, 4, 5]], 0, []);
  const [a, b, c, d] = [1, 1, 1, 2].map((texels) => SET_STEP + texels) as [
    number,
    number,
    number,
    number,
  ];
  assertEquals(setWalk(plan, a + b + c).ranges, [[0, 3, a + b + c], [3, 4, d]]);
  assertEquals(setWalk(plan, a + b).ranges, [[0, 2, a + b], [2, 3, c], [3, 4, d]]);
  assertEquals(setWalk(plan).ranges, [[0, 4, a + b + c + d]]);
  // Packed: every set from a texel of its own, padded with NO_MEMBER.
  const packed = packedSets(setPlan(6, [[0, 1, 2, 3, 4], [], [5], [1, 2, 3, 4]], 0, []));
  const x = NO_MEMBER;
  assertEquals([...packed.starts], [0, 2, 2, 3, 4]);
  assertEquals([...packed.members], [0, 1, 2, 3, 4, x, x, x, 5, x, x, x, 1, 2, 3, 4]);
});

Deno.test("setWalk() derives only halves whose union is a set walked just before them", () => {
  // Groups [0…5] and [6, 7, 8], then the first group's halves (B derivable), a halving of the
  // odd group that leaves model 8 out (not derivable), and two overlapping sets (not disjoint).
  const sets = [[0, 1, 2, 3, 4, 5], [6, 7, 8], [0, 2, 4], [5, 3, 1], [6], [7], [0, 1], [1, 2]];
  const plan = setPlan(9, sets, 2, []);
  const walk = setWalk(plan);
  const d = (s: number) => (s | STEP_DERIVED) >>> 0;
  assertEquals([...walk.steps], [0 | STEP_PARENT, 2, d(3), 1, 4, 5, 6, 7]);
  assertEquals(walk.steps.map(stepSet).slice().sort().join(), "0,1,2,3,4,5,6,7");
  const plain = (s: number) => SET_STEP + Math.ceil(sets[s]!.length / 4);
  const chain = plain(0) + plain(2) + DERIVED_STEP;
  assertEquals(walk.ranges, [[0, 8, chain + [1, 4, 5, 6, 7].reduce((c, s) => c + plain(s), 0)]]);
  // A parent and its pairs stay in one range; a cap below the chain sums them as plain sets.
  assertEquals(setWalk(plan, chain).ranges[0], [0, 3, chain]);
  const tight = setWalk(plan, chain - 1);
  assertEquals([...tight.steps], [0, 1, 2, 3, 4, 5, 6, 7]);
});

Deno.test("the group-sum programs take WG as a pipeline constant and get the prelude", () => {
  for (const p of GROUP_SUM_PROGRAMS) {
    const text = programSource(p);
    if (!/override WG: u32/.test(text) || p.constants?.WG === undefined) {
      throw new Error(`${p.label}: WG is not a pipeline constant`);
    }
    if (!text.includes("fn flatWorkgroup(")) throw new Error(`${p.label}: no prelude`);
  }
});

const SHAPES: ReadonlyArray<readonly [number, number, number]> = [
  [1, 1, 1],
  [2, 5, 6],
  [3, 4, 13],
  [17, 6, 30],
  [41, 3, 9],
];

for (const v of variants) {
  variantTest(v, "groupSums() matches the float64 reference on odd shapes", async (gpu) => {
    for (const [m, s, d] of SHAPES) {
      const g = randomGrads(m * 31 + s * 7 + d, m * s * d);
      if (m > 2) {
        g.fill(0, d, 2 * d); // model 0, sample 1: zero
        g[(2 * s) * d + 1] = NaN; // model 2, sample 0
      }
      const { plan } = planOf(m, m + s);
      const blockOf = Int32Array.from({ length: s }, (_, x) => Math.floor((x * 3) / s) + 10);
      const shape = { models: m, samples: s, dim: d };
      const want = reference.groupSums(reference.sampleGrams(g, shape), plan, blockOf);
      const got = await groupSums(gpu, g, shape, plan, blockOf);
      const what = `M ${m} S ${s} D ${d}`;
      if (String(got.status) !== String(want.status)) throw new Error(`${what}: status`);
      if (String(got.blocks) !== String(want.blocks)) throw new Error(`${what}: blocks`);
      assertWithin(maxDiff(got.blockCounts, want.blockCounts), 0, `${what}: counts`);
      assertWithin(maxDiff(got.blockSums, want.blockSums), 1e-5 * s, `${what}: block sums`);
      assertWithin(maxDiff(got.rowSums, want.rowSums), 1e-5 * m, `${what}: row sums`);
      assertWithin(maxDiff(got.pairSums, want.pairSums), 1e-5 * m * m, `${what}: pair sums`);
      if (got.zeros !== want.zeros || got.nonFinite !== want.nonFinite) {
        throw new Error(`${what}: zeros ${got.zeros}, non-finite ${got.nonFinite}`);
      }
    }
  });

  variantTest(
    v,
    "groupSums() matches float64 on split halves (half B derived as its group less half A)",
    async (gpu) => {
      // Groups of 13, 12, 12 and 11 models, 8 random halvings each (the odd ones leave a model
      // out, so their B is summed, not derived); correlated rows make the group sums large.
      const [m, s, d] = [48, 7, 33];
      const g = randomGrads(7, m * s * d);
      for (let i = 0; i < m; i++) {
        for (let k = 0; k < s * d; k++) g[i * s * d + k] = g[i * s * d + k]! * 0.3 + g[k]!;
      }
      g.fill(0, (5 * s + 2) * d, (5 * s + 3) * d); // model 5, sample 2: zero
      const bounds = [0, 13, 25, 37, 48];
      const groups = bounds.slice(1).map((e, i) =>
        Array.from({ length: e - bounds[i]! }, (_, k) => bounds[i]! + k)
      );
      const sets: number[][] = [...groups];
      let r = 3;
      for (const members of groups) {
        for (let split = 0; split < 8; split++) {
          const p = [...members].sort(() => ((r = (r * 1103515245 + 12345) % 2 ** 31) % 2) - 0.5);
          const h = Math.floor(p.length / 2);
          sets.push(p.slice(0, h), p.slice(h, 2 * h));
        }
      }
      const pairs: Array<[number, number]> = sets.map((_, a) => [a, a]);
      for (let a = 4; a < sets.length; a += 2) pairs.push([a, a + 1], [a + 1, 0]);
      const plan = setPlan(m, sets, groups.length, pairs);
      const derived = setWalk(plan).steps.filter((st) => st >= STEP_DERIVED).length;
      if (derived !== 16) {
        throw new Error(`${derived} derived halves; expected 16 (two even groups)`);
      }
      const shape = { models: m, samples: s, dim: d };
      const blockOf = new Int32Array(s);
      const want = reference.groupSums(reference.sampleGrams(g, shape), plan, blockOf);
      const got = await groupSums(gpu, g, shape, plan, blockOf);
      assertWithin(maxDiff(got.rowSums, want.rowSums), 1e-5 * m, "row sums");
      // Half sums and norms: each within 1e-5 of its group's size squared.
      assertWithin(maxDiff(got.pairSums, want.pairSums), 1e-5 * 13 * 13, "pair sums");
    },
  );

  variantTest(
    v,
    "groupSums() cosines are exactly symmetric (cos[i][j] and cos[j][i] one f32)",
    async (gpu) => {
      const [m, s, d] = [9, 4, 21];
      const g = randomGrads(99, m * s * d, 1e3);
      const singles = Array.from({ length: m }, (_, i) => [i]);
      const pairs: Array<[number, number]> = [];
      for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) pairs.push([i, j]);
      const plan = setPlan(m, singles, 0, pairs);
      const got = await groupSums(
        gpu,
        g,
        { models: m, samples: s, dim: d },
        plan,
        new Int32Array(s),
      );
      for (let x = 0; x < s; x++) {
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < m; j++) {
            const a = got.pairSums[x * m * m + i * m + j], b = got.pairSums[x * m * m + j * m + i];
            if (a !== b) {
              throw new Error(`sample ${x}: cos(${i}, ${j}) = ${a} but cos(${j}, ${i}) = ${b}`);
            }
          }
        }
      }
    },
  );

  variantTest(
    v,
    "groupSums() split into small bindings adds a block's parts from every chunk",
    async (gpu) => {
      const [m, s, d] = [5, 23, 8];
      const g = randomGrads(23, m * s * d);
      const { plan } = planOf(m, 1);
      // Blocks of 7 samples; the 768-byte bindings forced below hold one sample's 16 padded
      // rows of 2 vec4 (512 bytes), so every block is added up from 7 chunks.
      const blockOf = Int32Array.from({ length: s }, (_, x) => Math.floor(x / 7));
      const shape = { models: m, samples: s, dim: d };
      const want = reference.groupSums(reference.sampleGrams(g, shape), plan, blockOf);
      const got = await groupSums(gpu, g, shape, plan, blockOf);
      assertWithin(maxDiff(got.blockCounts, want.blockCounts), 0, "counts");
      assertWithin(maxDiff(got.blockSums, want.blockSums), 1e-4, "block sums");
      assertWithin(maxDiff(got.rowSums, want.rowSums), 1e-5, "row sums");
      assertWithin(maxDiff(got.pairSums, want.pairSums), 1e-4, "pair sums");
    },
    { gpuOptions: { maxBindingBytes: 3 * 8 * 2 * 16 } },
  );

  variantTest(
    v,
    "groupSums() sums one block of 140,000 samples (beyond the 65,535-iteration cap) like float64",
    async (gpu) => {
      const [m, s, d] = [2, 140_000, 4];
      if (!(s > 2 * LOOP_CAP)) throw new Error("the block must be longer than the cap");
      const g = randomGrads(41, m * s * d);
      for (let x = 0; x < s; x++) g[(1 * s + x) * d] = 0.8 * g[x * d]! + 0.3; // correlated
      const plan = setPlan(m, [[0, 1]], 1, [[0, 0]]);
      const blockOf = new Int32Array(s); // one block
      const shape = { models: m, samples: s, dim: d };
      const want = reference.groupSums(reference.sampleGrams(g, shape), plan, blockOf);
      const got = await groupSums(gpu, g, shape, plan, blockOf);
      if (got.blockCounts[1] !== s) throw new Error(`pair count ${got.blockCounts[1]} of ${s}`);
      // A silently stopped loop would lose whole samples (an error ≥ 1e-1 of a term each).
      const rel = Math.abs(got.blockSums[1]! - want.blockSums[1]!) / Math.abs(want.blockSums[1]!);
      if (!(rel < 1e-5)) throw new Error(`Σ cos over ${s} samples: relative error ${rel}`);
      assertWithin(maxDiff(got.pairSums, want.pairSums), 1e-5, "per-sample ‖S‖²");
    },
  );

  variantTest(
    v,
    "groupSums() refuses a blockOf that decreases or has the wrong length",
    async (gpu) => {
      const g = randomGrads(1, 2 * 3 * 4), shape = { models: 2, samples: 3, dim: 4 };
      const plan = setPlan(2, [[0, 1]], 1, [[0, 0]]);
      await assertRejects(
        () => groupSums(gpu, g, shape, plan, Int32Array.from([1, 0, 0])),
        RangeError,
        "never decrease",
      );
      await assertRejects(
        () => groupSums(gpu, g, shape, plan, new Int32Array(2)),
        RangeError,
        "expected one per sample (3)",
      );
    },
  );
}

gpuTest(
  "groupSums() keeps its device resources across batches and reads no stale data",
  async () => {
    const gpu = await requestGpu();
    try {
      const device = gpu.device!;
      let created = 0;
      for (const name of ["createBuffer", "createTexture", "createBindGroup"] as const) {
        const make = device[name].bind(device) as (d: never) => unknown;
        (device as unknown as Record<string, unknown>)[name] = (d: never) => {
          created++;
          return make(d);
        };
      }
      const run = async (m: number, s: number, d: number, seed: number) => {
        const g = randomGrads(seed, m * s * d);
        const { plan } = planOf(m, seed);
        const blockOf = Int32Array.from({ length: s }, (_, x) => Math.floor((x * 2) / s));
        const shape = { models: m, samples: s, dim: d };
        const want = reference.groupSums(reference.sampleGrams(g, shape), plan, blockOf);
        const got = await groupSums(gpu, g, shape, plan, blockOf);
        const what = `M ${m} S ${s} seed ${seed}`;
        if (String(got.status) !== String(want.status)) throw new Error(`${what}: status`);
        assertWithin(maxDiff(got.blockCounts, want.blockCounts), 0, `${what}: counts`);
        assertWithin(maxDiff(got.blockSums, want.blockSums), 1e-5 * s, `${what}: block sums`);
        assertWithin(maxDiff(got.rowSums, want.rowSums), 1e-5 * m, `${what}: row sums`);
        assertWithin(maxDiff(got.pairSums, want.pairSums), 1e-5 * m * m, `${what}: pair sums`);
      };
      await run(20, 9, 40, 1);
      const first = created;
      if (first === 0) throw new Error("the first batch created no resources: the count is broken");
      await run(20, 9, 40, 2); // the same shape, other data: nothing new
      if (created !== first) throw new Error(`a second batch created ${created - first} resources`);
      await run(20, 4, 40, 3); // a shorter batch in the larger buffers
      await run(7, 5, 12, 4); // another model count
      await run(20, 9, 40, 5);
    } finally {
      gpu.destroy();
    }
  },
);
