import { normalSampler, randomInt, seededUniform, uniformFloats } from "../../lib/stats/mod.ts";
import { assert, assertClose, assertThrowsType } from "./_assert.ts";

Deno.test("seededUniform() repeats its stream per seed and differs across seeds", () => {
  const a = seededUniform(123), b = seededUniform(123), c = seededUniform(124);
  const xa = Array.from({ length: 100 }, a), xb = Array.from({ length: 100 }, b);
  const xc = Array.from({ length: 100 }, c);
  assert.deepEqual(xa, xb);
  assert.notDeepEqual(xa, xc);
  assert.ok(xa.every((x) => x >= 0 && x < 1));
});

Deno.test("seededUniform() has uniform moments and bins (chi-square over 20 bins)", () => {
  const u = seededUniform(2026), n = 200000, bins = new Array<number>(20).fill(0);
  let s = 0, s2 = 0;
  for (let i = 0; i < n; i++) {
    const x = u();
    s += x;
    s2 += x * x;
    bins[Math.floor(x * 20)]! += 1;
  }
  assertClose(s / n, 0.5, { abs: 3e-3 });
  assertClose(s2 / n - (s / n) ** 2, 1 / 12, { abs: 2e-3 });
  const e = n / 20, chi2 = bins.reduce((acc, o) => acc + (o - e) ** 2 / e, 0);
  assert.ok(chi2 < 43.8, `chi-square ${chi2} exceeds the 0.1 % critical value for 19 dof`);
});

Deno.test("normalSampler() has mean 0, variance 1 and normal tail mass", () => {
  const z = normalSampler(seededUniform(77)), n = 200000;
  let s = 0, s2 = 0, beyond2 = 0;
  for (let i = 0; i < n; i++) {
    const x = z();
    s += x;
    s2 += x * x;
    if (Math.abs(x) > 2) beyond2++;
  }
  assertClose(s / n, 0, { abs: 0.01 });
  assertClose(s2 / n, 1, { abs: 0.015 });
  assertClose(beyond2 / n, 0.0455003, { abs: 0.002 }); // P(|Z| > 2) = erfc(√2)
});

Deno.test("randomInt() stays in range and rejects bad bounds; seeds must be integers", () => {
  const u = seededUniform(1);
  for (let i = 0; i < 1000; i++) {
    const k = randomInt(u, 7);
    assert.ok(Number.isInteger(k) && k >= 0 && k < 7);
  }
  assertThrowsType(() => randomInt(u, 0), RangeError, /n is 0/);
  assertThrowsType(() => seededUniform(0.5), RangeError, /seed is 0.5/);
});

Deno.test("uniformFloats() is 2u − 1 of seededUniform()'s stream, in float32, and rejects bad sizes", () => {
  const u = seededUniform(9), a = uniformFloats(1000, 9);
  assert.ok(a instanceof Float32Array && a.length === 1000);
  assert.deepEqual(a, Float32Array.from({ length: 1000 }, () => 2 * u() - 1));
  assert.ok(a.every((x) => x >= -1 && x < 1));
  assert.notDeepEqual(a, uniformFloats(1000, 10));
  assert.equal(uniformFloats(0, 1).length, 0);
  assertThrowsType(() => uniformFloats(-1, 1), RangeError, /n is -1/);
  assertThrowsType(() => uniformFloats(3, 0.5), RangeError, /seed is 0.5/);
});
