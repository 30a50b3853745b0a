import * as fc from "fast-check";
import { normalizeRows, reference } from "../../kernels/mod.ts";
import { assertClose, maxDiff, randomGrads, variants, variantTest } from "./_helpers.ts";
import { assertRejects } from "../_shared/assert.ts";

// f32 unit vectors against the f64 reference: one or two ulps of values ≤ 1.
const UNIT_TOL = 1e-6;

for (const v of variants) {
  variantTest(
    v,
    "normalizeRows() matches the reference on shapes off the workgroup size",
    async (gpu) => {
      for (
        const [M, N, D] of [[1, 1, 1], [2, 3, 7], [33, 2, 784], [2, 2, 3072], [
          1,
          2,
          70_000,
        ]] as Array<
          [number, number, number]
        >
      ) {
        const grads = randomGrads(M * 1000 + D, M * N * D);
        const got = await normalizeRows(gpu, grads, { models: M, dim: D });
        const want = reference.normalizeRows(grads, { models: M, dim: D });
        assertClose(maxDiff(got.units, want.units), UNIT_TOL, `M=${M} N=${N} D=${D} units`);
        assertClose(
          maxDiff(got.norms.map((n, k) => n / want.norms[k]!), got.norms.map(() => 1)),
          1e-6,
          "norms",
        );
        if (got.dim !== D || got.zeroCount !== 0) {
          throw new Error(`dim ${got.dim}, zeros ${got.zeroCount}`);
        }
      }
    },
  );

  variantTest(
    v,
    "normalizeRows() pools 28 → 8 and 32 → 8 per channel like the reference",
    async (gpu) => {
      for (
        const [C, H, P] of [[1, 28, 8], [3, 32, 8], [2, 5, 3]] as Array<[number, number, number]>
      ) {
        const D = C * H * H;
        const grads = randomGrads(C + H, 3 * 2 * D);
        const pool = { channels: C, height: H, width: H, size: P };
        const got = await normalizeRows(gpu, grads, { models: 3, dim: D, pool });
        const want = reference.normalizeRows(grads, { models: 3, dim: D, pool });
        if (got.dim !== C * P * P) throw new Error(`pooled dim ${got.dim}`);
        assertClose(maxDiff(got.units, want.units), UNIT_TOL, `${C}×${H}×${H} → ${P}`);
      }
    },
  );

  variantTest(
    v,
    "normalizeRows() handles zero, tiny (1e-30) and huge (1e30) gradients",
    async (gpu) => {
      const D = 300;
      const base = randomGrads(7, D);
      const grads = new Float32Array(4 * D);
      grads.set(base.map((x) => x * 1e-30), 0); // sample 0: tiny
      grads.set(base.map((x) => x * 1e30), D); // sample 1: huge
      // sample 2 stays zero
      grads.set(base, 3 * D); // sample 3: plain
      const got = await normalizeRows(gpu, grads, { models: 1, dim: D });
      const unit = reference.normalizeRows(base, { models: 1, dim: D }).units;
      for (const x of [0, 1, 3]) {
        assertClose(maxDiff(got.units.subarray(x * D, (x + 1) * D), unit), UNIT_TOL, `sample ${x}`);
      }
      if (got.zero.join() !== "0,0,1,0" || got.zeroCount !== 1) {
        throw new Error(`zero mask ${got.zero.join()} count ${got.zeroCount}`);
      }
      if (maxDiff(got.units.subarray(2 * D, 3 * D), new Float32Array(D)) !== 0) {
        throw new Error("a zero gradient must give a zero row");
      }
      const n1 = Math.hypot(...Array.from(base, (x) => x * 1e30));
      assertClose(Math.abs(got.norms[1]! / n1 - 1), 1e-6, "norm of the huge gradient");
    },
  );

  variantTest(v, "normalizeRows() rejects NaN and Inf naming the model and sample", async (gpu) => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const grads = randomGrads(3, 3 * 4 * 10);
      grads[(2 * 4 + 1) * 10 + 7] = bad; // model 2, sample 1
      let error: unknown = null;
      try {
        await normalizeRows(gpu, grads, { models: 3, dim: 10 });
      } catch (e) {
        error = e;
      }
      const msg = (error as Error)?.message ?? "";
      if (!(error instanceof RangeError) || !/model 2 at sample 1/.test(msg)) {
        throw new Error(`${bad}: expected a RangeError naming model 2 sample 1, got ${error}`);
      }
    }
  });

  variantTest(
    v,
    "normalizeRows() split into small bindings equals the unsplit result",
    async (gpu) => {
      const grads = randomGrads(11, 5 * 7 * 100);
      const want = await normalizeRows(gpu, grads, { models: 5, dim: 100 });
      const { requestGpu } = await import("../../kernels/mod.ts");
      const small = await requestGpu({ ...v.options, maxBindingBytes: 3 * 400 });
      try {
        const got = await normalizeRows(small, grads, { models: 5, dim: 100 });
        // rows are independent: a split changes nothing
        assertClose(maxDiff(got.units, want.units), 0, "split vs unsplit");
      } finally {
        small.destroy();
      }
    },
  );

  variantTest(
    v,
    "normalizeRows() gives unit vectors invariant to positive scaling (property)",
    async (gpu) => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 40 }),
          fc.integer({ min: -30, max: 30 }),
          fc.integer({ min: 0, max: 1000 }),
          async (D, exp, seed) => {
            const base = randomGrads(seed, D);
            if (base.every((x) => x === 0)) return true;
            const scaled = base.map((x) => x * 10 ** exp);
            const a = await normalizeRows(gpu, base, { models: 1, dim: D });
            const b = await normalizeRows(gpu, scaled, { models: 1, dim: D });
            let n = 0;
            for (const x of b.units) n += x * x;
            return Math.abs(Math.sqrt(n) - 1) < 1e-6 && maxDiff(a.units, b.units) < 1e-6;
          },
        ),
        { seed: 7, numRuns: 25 },
      );
    },
  );

  variantTest(
    v,
    "normalizeRows() throws TypeError on a length that is not models × samples × dim",
    async (gpu) => {
      await assertRejects(
        () => normalizeRows(gpu, new Float32Array(10), { models: 3, dim: 3 }),
        TypeError,
      );
    },
  );
}
