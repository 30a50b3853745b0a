import {
  meanDirection,
  meanResultantLength,
  normalSampler,
  seededUniform,
  sphericalVariance,
} from "../../lib/stats/mod.ts";
import { assert, assertClose, assertThrowsType } from "./_assert.ts";

Deno.test("meanResultantLength() is 1 for one vector and for identical vectors", () => {
  assertClose(meanResultantLength([[0.6, 0.8]]), 1, { abs: 1e-15 });
  assertClose(meanResultantLength([[0, 0, 1], [0, 0, 1], [0, 0, 1]]), 1, { abs: 1e-15 });
  assertClose(sphericalVariance([[0.6, 0.8]]), 0, { abs: 1e-15 });
});

Deno.test("meanResultantLength() of two unit vectors at angle θ is cos(θ/2)", () => {
  for (const theta of [0.1, 1, 2, 3]) {
    const r = meanResultantLength([[1, 0], [Math.cos(theta), Math.sin(theta)]]);
    assertClose(r, Math.cos(theta / 2), { abs: 1e-15 }, `θ = ${theta}`);
  }
});

Deno.test("meanDirection() of symmetric opposite vectors has length 0 and no direction", () => {
  const m = meanDirection([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0]]);
  assert.equal(m.resultantLength, 0);
  assert.equal(m.direction, null);
  assert.equal(sphericalVariance([[1, 0], [-1, 0]]), 1);
});

Deno.test("meanResultantLength() of n random directions in high dimension is ≈ 1/√n", () => {
  // E‖Σuᵢ‖² = n for independent uniform directions, so R̄ ≈ 1/√n (d = 500, n = 400).
  const normal = normalSampler(seededUniform(8));
  const vectors = Array.from({ length: 400 }, () => Float32Array.from({ length: 500 }, normal));
  const r = meanResultantLength(vectors, { normalize: true });
  assertClose(r, 1 / Math.sqrt(400), { rel: 0.1 });
});

Deno.test("meanDirection() is a unit vector along the sum and normalize handles tiny scales", () => {
  const m = meanDirection([[1e-30, 0], [0, 3e-30]], { normalize: true });
  assertClose(m.resultantLength, Math.SQRT1_2, { abs: 1e-15 });
  assertClose(m.direction![0]!, Math.SQRT1_2, { abs: 1e-15 });
  assertClose(m.direction![1]!, Math.SQRT1_2, { abs: 1e-15 });
});

Deno.test("meanResultantLength() throws on empty input, NaN by index, non-unit and zero vectors", () => {
  assertThrowsType(() => meanResultantLength([]), RangeError, /vectors is empty/);
  assertThrowsType(
    () => meanResultantLength([[1, 0], [NaN, 1]]),
    RangeError,
    /vectors\[1\]\[0\] is NaN/,
  );
  assertThrowsType(
    () => meanResultantLength([[1, 0], [2, 0]]),
    RangeError,
    /vectors\[1\] has norm 2/,
  );
  assertThrowsType(
    () => meanResultantLength([[1, 0], [0, 0]], { normalize: true }),
    RangeError,
    /vectors\[1\] is the zero vector/,
  );
  assertThrowsType(() => meanResultantLength([[1, 0], [1, 0, 0]]), TypeError, /dimension 3/);
});
