import * as fc from "fast-check";
import { cosineToMean, reference, requestGpu } from "../../kernels/mod.ts";
import { assertClose, maxDiff, randomUnits, variants, variantTest } from "./_helpers.ts";
import { assertRejects } from "../_shared/assert.ts";

// t from f32 group sums: within 2e-6 of the f64 reference for groups of a few dozen models.
const TOL = 2e-6;

/** t_f(x) recomputed directly: the normalised mean of the OTHER non-zero members, dotted. */
function directLeaveOneOut(
  units: Float32Array,
  zero: Uint8Array,
  labels: Int32Array,
  M: number,
  N: number,
  D: number,
): Float64Array {
  const t = new Float64Array(M * N).fill(NaN);
  for (let f = 0; f < M; f++) {
    for (let x = 0; x < N; x++) {
      if (labels[f]! < 0 || zero[f * N + x]) continue;
      const mean = new Float64Array(D);
      let others = 0;
      for (let g = 0; g < M; g++) {
        if (g === f || labels[g] !== labels[f] || zero[g * N + x]) continue;
        others++;
        for (let d = 0; d < D; d++) mean[d]! += units[(g * N + x) * D + d]!;
      }
      if (others === 0) continue;
      const norm = Math.hypot(...mean);
      let dot = 0;
      for (let d = 0; d < D; d++) dot += units[(f * N + x) * D + d]! * (mean[d]! / norm);
      t[f * N + x] = dot;
    }
  }
  return t;
}

for (const v of variants) {
  variantTest(
    v,
    "cosineToMean() leave-one-out equals a direct recomputation from the other members",
    async (gpu) => {
      for (
        const [M, N, D] of [[7, 4, 33], [33, 2, 784], [3, 2, 70_000]] as Array<
          [number, number, number]
        >
      ) {
        const { units, zero } = randomUnits(M * 3 + D, M, N, D, [2, N + 1]);
        // group 0 has a single model (model 0: always invalid), model M−1 is unlabelled
        const labels = new Int32Array(M).map((
          _,
          f,
        ) => (f === 0 ? 0 : f === M - 1 ? -1 : 1 + (f % 2)));
        const r = await cosineToMean(gpu, units, { models: M, dim: D, zero, labels });
        const direct = directLeaveOneOut(units, zero, labels, M, N, D);
        assertClose(maxDiff(r.t, direct), TOL, `M=${M} D=${D}`);
        const expectedValid = Array.from(direct, (x) => (Number.isNaN(x) ? 0 : 1));
        if (maxDiff(r.valid, expectedValid) !== 0) throw new Error(`validity ${r.valid.join()}`);
        if (r.validCount !== expectedValid.reduce((a: number, b) => a + b, 0)) {
          throw new Error("validCount");
        }
        for (let x = 0; x < N; x++) {
          if (!Number.isNaN(r.t[x]!)) throw new Error("a singleton group has no mean");
        }
      }
    },
  );

  variantTest(
    v,
    "cosineToMean() matches the reference for another group's and a given mean",
    async (gpu) => {
      const M = 9, N = 5, D = 61;
      const { units, zero } = randomUnits(12, M, N, D, [3, 17]);
      const labels = Int32Array.from([0, 0, 0, 1, 1, 1, 2, 2, -1]);
      const held = randomUnits(13, 1, N, D).units; // a held-out population's mean direction
      for (const target of [{ group: 1 }, { group: 2 }, { mean: held }] as const) {
        const options = { models: M, dim: D, zero, labels, target };
        const got = await cosineToMean(gpu, units, options);
        const want = reference.cosineToMean(units, options);
        assertClose(maxDiff(got.t, want.t), TOL, JSON.stringify(Object.keys(target)));
        if (maxDiff(got.valid, want.valid) !== 0) throw new Error("validity differs");
      }
      // a given mean: t is the plain cosine to it
      const r = await cosineToMean(gpu, units, { models: M, dim: D, zero, target: { mean: held } });
      let dot = 0;
      for (let d = 0; d < D; d++) dot += units[d]! * held[d]!;
      assertClose(Math.abs(r.t[0]! - dot), 1e-6, "t = ⟨u, μ⟩");
    },
  );

  variantTest(
    v,
    "cosineToMean() gives 1 for identical members and −1 against an antipodal one",
    async (gpu) => {
      const N = 2, D = 300;
      const one = randomUnits(21, 1, N, D).units;
      const units = new Float32Array(3 * N * D);
      units.set(one, 0);
      units.set(one, N * D);
      units.set(one.map((x) => -x), 2 * N * D);
      const zero = new Uint8Array(3 * N);
      const same = await cosineToMean(gpu, units, {
        models: 3,
        dim: D,
        zero,
        labels: Int32Array.from([0, 0, 1]),
      });
      assertClose(maxDiff(same.t.subarray(0, 2 * N), [1, 1, 1, 1]), 1e-6, "identical");
      const anti = await cosineToMean(gpu, units, {
        models: 3,
        dim: D,
        zero,
        labels: Int32Array.from([0, 0, 1]),
        target: { group: 1 },
      });
      assertClose(maxDiff(anti.t.subarray(0, 2 * N), [-1, -1, -1, -1]), 1e-6, "antipodal");
      if (!Number.isNaN(anti.t[2 * N]!)) {
        throw new Error("model 2 is group 1's only member: no mean without it");
      }
    },
  );

  variantTest(
    v,
    "cosineToMean() split into small bindings equals the unsplit result",
    async (gpu) => {
      const M = 5, N = 8, D = 40;
      const { units, zero } = randomUnits(31, M, N, D, [9]);
      const options = { models: M, dim: D, zero, labels: Int32Array.from([0, 0, 0, 1, 1]) };
      const whole = await cosineToMean(gpu, units, options);
      const small = await requestGpu({ ...v.options, maxBindingBytes: 4 * M * D * 3 });
      try {
        assertClose(
          maxDiff((await cosineToMean(small, units, options)).t, whole.t),
          0,
          "split = whole",
        );
      } finally {
        small.destroy();
      }
    },
  );

  variantTest(
    v,
    "cosineToMean() throws TypeError without labels for a group target",
    async (gpu) => {
      await assertRejects(
        () =>
          cosineToMean(gpu, new Float32Array(4), { models: 2, dim: 2, zero: new Uint8Array(2) }),
        TypeError,
      );
    },
  );

  variantTest(
    v,
    "cosineToMean() keeps t in [−1, 1] and flags exactly the NaN entries (property)",
    async (gpu) => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 8 }),
          fc.integer({ min: 1, max: 4 }),
          fc.integer({ min: 1, max: 30 }),
          fc.integer({ min: 0, max: 10_000 }),
          async (M, N, D, seed) => {
            const { units, zero } = randomUnits(seed, M, N, D, seed % 2 ? [0] : []);
            const labels = new Int32Array(M).map((_, f) => (f + seed) % 2);
            const r = await cosineToMean(gpu, units, { models: M, dim: D, zero, labels });
            let valid = 0;
            for (let k = 0; k < M * N; k++) {
              const t = r.t[k]!;
              if (Number.isNaN(t) === (r.valid[k] === 1)) return false;
              if (!Number.isNaN(t) && !(t >= -1 && t <= 1)) return false;
              valid += r.valid[k]!;
            }
            return valid === r.validCount;
          },
        ),
        { seed: 5, numRuns: 20 },
      );
    },
  );
}
