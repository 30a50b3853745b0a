import * as fc from "fast-check";
import { groupMeans, reference, requestGpu } from "../../kernels/mod.ts";
import { assertClose, maxDiff, randomUnits, variants, variantTest } from "./_helpers.ts";
import { assertRejects } from "../_shared/assert.ts";

// Group sums are f32 over at most M unit vectors; directions and norms are then within a few
// ulps of the f64 reference.
const TOL = 2e-6;

function check(
  got: Awaited<ReturnType<typeof groupMeans>>,
  want: ReturnType<typeof reference.groupMeans>,
  label: string,
): void {
  if (maxDiff(got.count, want.count) !== 0) throw new Error(`${label}: counts differ`);
  if (maxDiff(got.valid, want.valid) !== 0) throw new Error(`${label}: validity differs`);
  assertClose(maxDiff(got.mean, want.mean), TOL, `${label} mean`);
  assertClose(maxDiff(got.direction, want.direction), TOL, `${label} direction`);
  assertClose(maxDiff(got.meanNorm, want.meanNorm), TOL, `${label} ‖m‖`);
  assertClose(maxDiff(got.sphericalVariance, want.sphericalVariance), TOL, `${label} variance`);
  if (want.between) {
    assertClose(
      maxDiff(got.between!.cosines, want.between.cosines),
      TOL,
      `${label} between cosines`,
    );
    assertClose(
      maxDiff(got.between!.sum, want.between.sum),
      TOL * got.samples,
      `${label} between sums`,
    );
    if (maxDiff(got.between!.count, want.between.count) !== 0) {
      throw new Error(`${label}: between counts`);
    }
  }
}

for (const v of variants) {
  variantTest(
    v,
    "groupMeans() matches the reference with unlabelled models and zero gradients",
    async (gpu) => {
      for (
        const [M, N, D] of [[1, 2, 7], [33, 3, 784], [5, 2, 70_000]] as Array<
          [number, number, number]
        >
      ) {
        const { units, zero } = randomUnits(M + D, M, N, D, [1, N, N + 1]);
        const labels = new Int32Array(M).map((_, f) => (f % 4 === 3 ? -1 : f % 3));
        const options = { models: M, dim: D, zero, labels, between: true };
        check(
          await groupMeans(gpu, units, options),
          reference.groupMeans(units, options),
          `M=${M} D=${D}`,
        );
      }
    },
  );

  variantTest(
    v,
    "groupMeans() gives ‖m‖ = 1 for identical members and flags antipodal ones",
    async (gpu) => {
      const N = 3, D = 100;
      const one = randomUnits(4, 1, N, D).units;
      const units = new Float32Array(4 * N * D);
      units.set(one, 0);
      units.set(one, N * D); // group 0: two identical models
      units.set(one, 2 * N * D);
      units.set(one.map((x) => -x), 3 * N * D); // group 1: antipodal pair
      const r = await groupMeans(gpu, units, {
        models: 4,
        dim: D,
        zero: new Uint8Array(4 * N),
        labels: Int32Array.from([0, 0, 1, 1]),
      });
      assertClose(maxDiff(r.meanNorm.subarray(0, N), [1, 1, 1]), 1e-6, "identical: ‖m‖ = 1");
      assertClose(
        maxDiff(r.sphericalVariance.subarray(0, N), [0, 0, 0]),
        1e-6,
        "identical: variance 0",
      );
      assertClose(maxDiff(r.direction.subarray(0, N * D), one), 1e-6, "identical: μ = u");
      if (r.valid.join() !== "1,1,1,0,0,0") throw new Error(`validity ${r.valid.join()}`);
      assertClose(maxDiff(r.meanNorm.subarray(N), [0, 0, 0]), 0, "antipodal: m = 0");
      if (r.count.join() !== "2,2,2,2,2,2") throw new Error(`counts ${r.count.join()}`);
    },
  );

  variantTest(
    v,
    "groupMeans() split into small bindings equals the unsplit result",
    async (gpu) => {
      const M = 6, N = 9, D = 50;
      const { units, zero } = randomUnits(8, M, N, D, [4]);
      const options = {
        models: M,
        dim: D,
        zero,
        labels: Int32Array.from([0, 1, 2, 0, 1, 2]),
        between: true,
      };
      const whole = await groupMeans(gpu, units, options);
      const small = await requestGpu({ ...v.options, maxBindingBytes: 4 * M * D * 2 });
      try {
        check(
          await groupMeans(small, units, options),
          reference.groupMeans(units, options),
          "split",
        );
        assertClose(
          maxDiff((await groupMeans(small, units, options)).mean, whole.mean),
          0,
          "split = whole",
        );
      } finally {
        small.destroy();
      }
    },
  );

  variantTest(v, "groupMeans() throws RangeError on a label below −1", async (gpu) => {
    await assertRejects(
      () =>
        groupMeans(gpu, new Float32Array(4), {
          models: 2,
          dim: 2,
          zero: new Uint8Array(2),
          labels: Int32Array.from([0, -2]),
        }),
      RangeError,
    );
  });

  variantTest(
    v,
    "groupMeans() keeps ‖m‖ in [0, 1] with unit μ wherever valid (property)",
    async (gpu) => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 8 }),
          fc.integer({ min: 1, max: 4 }),
          fc.integer({ min: 1, max: 30 }),
          fc.integer({ min: 0, max: 10_000 }),
          async (M, N, D, seed) => {
            const { units, zero } = randomUnits(seed, M, N, D, seed % 2 ? [0] : []);
            const labels = new Int32Array(M).map((_, f) =>
              (f + seed) % 3 === 2 ? -1 : (f + seed) % 2
            );
            if (labels.every((l) => l < 0)) labels[0] = 0;
            const r = await groupMeans(gpu, units, { models: M, dim: D, zero, labels });
            for (let k = 0; k < r.groups * N; k++) {
              if (r.count[k] === 0) {
                if (!Number.isNaN(r.meanNorm[k]!) || r.valid[k]) return false;
                continue;
              }
              if (!(r.meanNorm[k]! >= 0 && r.meanNorm[k]! <= 1 + 1e-6)) return false;
              if (r.valid[k]) {
                let n = 0;
                for (let d = 0; d < D; d++) n += r.direction[k * D + d]! ** 2;
                if (Math.abs(Math.sqrt(n) - 1) > 1e-5) return false;
              }
            }
            return true;
          },
        ),
        { seed: 11, numRuns: 20 },
      );
    },
  );
}
