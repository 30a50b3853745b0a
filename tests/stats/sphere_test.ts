import {
  logBeta,
  logGamma,
  logGammaDiff,
  logRegIncBeta,
  logSphereMarginal,
  sphereMarginal,
  sphereTail,
} from "../../lib/stats/mod.ts";
import { assert, assertClose, assertThrowsType } from "./_assert.ts";

// Expected values below: python3 tests/stats/oracle.py (mpmath 1.3.0 at 50 digits).

Deno.test("logGamma() matches mpmath.loggamma to ~1e-14 relative", () => {
  const expected: Record<string, number> = {
    "0.001": 6.907178885383853,
    "0.3": 1.0957979948180756,
    "0.75": 0.20328095143129538,
    "1.5": -0.12078223763524522,
    "2.5": 0.2846828704729192,
    "7.25": 7.0521854507385395,
    "9.99": 12.779315214350193,
    "10.5": 13.940625219403763,
    "123.456": 469.60554712992945,
    "75263.5": 769846.8729776994,
    "75264": 769852.4873513228,
    "1e7": 151180949.3694739,
  };
  for (const [x, v] of Object.entries(expected)) {
    assertClose(logGamma(Number(x)), v, { rel: 2e-15, abs: 1e-15 }, `logGamma(${x})`);
  }
  assert.equal(logGamma(1), 0);
  assert.equal(logGamma(2), 0);
});

Deno.test("logGammaDiff() keeps full accuracy where plain differences cancel", () => {
  const expected: Array<[number, number, number]> = [
    [75263.5, 0.5, 5.614373623425321],
    [1535.5, 0.5, 3.6682242632339643],
    [3.5, 0.5, 0.5907858668809808],
    [12, 100.25, 398.7087859259134],
  ];
  for (const [x, h, v] of expected) {
    assertClose(logGammaDiff(x, h), v, { rel: 1e-14 }, `logGammaDiff(${x}, ${h})`);
  }
});

Deno.test("logBeta() has the closed forms B(½, ½) = π and B(1, b) = 1/b", () => {
  assertClose(logBeta(0.5, 0.5), Math.log(Math.PI), { abs: 1e-15 });
  assertClose(logBeta(1, 7.5), -Math.log(7.5), { abs: 1e-15 });
  assertClose(logBeta(2e5, 1), -Math.log(2e5), { rel: 1e-14 });
});

Deno.test("logRegIncBeta() matches mpmath.betainc (regularised) including a deep tail", () => {
  const expected: Array<[number, number, number, number]> = [
    [0.3, 2, 3, -1.0546911016101816],
    [0.9, 0.5, 0.5, -0.22920282758111515],
    [0.01, 50, 0.5, -232.7844595410256],
    [0.999, 4.5, 0.5, -0.07638291424532924],
    [0.5, 200, 200, -0.6931471805599453],
  ];
  for (const [x, a, b, v] of expected) {
    assertClose(logRegIncBeta(x, a, b), v, { rel: 1e-12, abs: 1e-14 }, `ln I_${x}(${a}, ${b})`);
  }
  assert.equal(logRegIncBeta(0, 2, 3), -Infinity);
  assert.equal(logRegIncBeta(1, 2, 3), 0);
});

Deno.test("logRegIncBeta() rejects x outside [0, 1] and non-positive parameters", () => {
  assertThrowsType(() => logRegIncBeta(1.5, 1, 1), RangeError, /x is 1.5/);
  assertThrowsType(() => logRegIncBeta(0.5, 0, 1), RangeError, /a is 0/);
  assertThrowsType(() => logRegIncBeta(0.5, 1, NaN), RangeError, /b is NaN/);
  assertThrowsType(() => logGamma(-1), RangeError, /x is -1/);
});

Deno.test("sphereMarginal() for d = 3 is uniform 1/2 on [−1, 1]", () => {
  for (const t of [-1, -0.7, 0, 0.123, 0.99, 1]) {
    assertClose(sphereMarginal(t, 3), 0.5, { abs: 1e-15 });
  }
  assert.equal(sphereMarginal(1.01, 3), 0);
});

Deno.test("sphereMarginal() for d = 2 is the arcsine density 1/(π√(1 − t²))", () => {
  for (const t of [-0.99, -0.5, 0, 0.3, 0.9999]) {
    assertClose(sphereMarginal(t, 2), 1 / (Math.PI * Math.sqrt((1 - t) * (1 + t))), { rel: 1e-14 });
  }
  assert.equal(sphereMarginal(1, 2), Infinity);
  assert.equal(sphereMarginal(1, 4), 0);
});

Deno.test("logSphereMarginal() matches mpmath at d = 150,528 where the density underflows", () => {
  const expected: Array<[number, number, number]> = [
    [0, 150528, 5.04200868050062],
    [0.1, 150528, -751.3713934936516],
    [0.5, 3072, -438.3522808569486],
    [-0.9, 10, -5.660606907294975],
    [0.99, 5, -4.204717619703471],
  ];
  for (const [t, d, v] of expected) {
    assertClose(logSphereMarginal(t, d), v, { rel: 1e-13, abs: 1e-13 }, `ln P(${t}; d=${d})`);
  }
});

Deno.test("sphereMarginal() integrates to 1 for several d (Simpson on a fine grid)", () => {
  // Independent check of the normalising constant: composite Simpson's rule, 200,000 intervals,
  // on d ≥ 5 where the density is smooth up to the ends (for d = 4, √(1 − t²) is not).
  for (const d of [5, 7, 50, 784]) {
    const n = 200000, h = 2 / n;
    let s = 0;
    for (let i = 0; i <= n; i++) {
      const w = i === 0 || i === n ? 1 : i % 2 === 1 ? 4 : 2;
      s += w * sphereMarginal(-1 + i * h, d);
    }
    assertClose(s * h / 3, 1, { abs: 1e-9 }, `mass for d = ${d}`);
  }
});

Deno.test("sphereTail() is 1/2 at p = 0 for every d", () => {
  for (const d of [2, 3, 10, 3072, 150528]) {
    assertClose(sphereTail(0, d).value, 0.5, { abs: 1e-15 }, `d = ${d}`);
  }
});

Deno.test("sphereTail() for d = 3 is (1 − p)/2 and for d = 2 is arccos(p)/π", () => {
  for (const p of [-0.9, -0.25, 0.1, 0.5, 0.999]) {
    assertClose(sphereTail(p, 3).value, (1 - p) / 2, { abs: 1e-15, rel: 1e-14 }, `d=3 p=${p}`);
    assertClose(sphereTail(p, 2).value, Math.acos(p) / Math.PI, { rel: 1e-13 }, `d=2 p=${p}`);
  }
  assert.deepEqual(sphereTail(1, 3), { value: 0, log10: -Infinity });
  assert.deepEqual(sphereTail(-1, 3), { value: 1, log10: 0 });
});

Deno.test("sphereTail() matches mpmath's log10 far into the tail (to 1e-300 and beyond)", () => {
  const expected: Array<[number, number, number]> = [
    [0.05, 10, -0.3546128972367341],
    [0.6, 10, -1.593432053649024],
    [0.95, 10, -5.419635993652521],
    [-0.3, 10, -0.0888645387869618],
    [0.1, 784, -2.5984466942646383],
    [0.5, 784, -50.46023906915493],
    [0.01, 3072, -0.5379865926684763],
    [0.2, 3072, -28.66964492192594],
    [0.001, 150528, -0.4571542579780824],
    // around the incomplete beta's switch point p² ≈ 1.5/(d/2), where branches change
    [0.0044, 150528, -1.3575266330860498],
    [0.0046, 150528, -1.4299881946055384],
    [0.005, 150528, -1.5817656692272524],
    [0.008, 150528, -3.0199790636519444],
    [0.01, 150528, -4.2818651947313615],
    [0.1, 150528, -330.4987144248321],
    [0.5, 150528, -9406.01347923664],
    [-0.01, 150528, -2.2695014472529636e-05],
  ];
  for (const [p, d, v] of expected) {
    const r = sphereTail(p, d);
    assertClose(r.log10, v, { rel: 5e-12, abs: 1e-14 }, `log10 P(Z > ${p}; d = ${d})`);
    if (v > -300) assertClose(r.value, 10 ** v, { rel: 1e-10 }, `P(Z > ${p}; d = ${d})`);
  }
  const far = sphereTail(0.5, 150528);
  assert.equal(far.value, 0);
  assert.ok(Number.isFinite(far.log10));
});

Deno.test("sphereTail() is a decreasing tail and P(Z > p) + P(Z > −p) = 1", () => {
  for (const d of [5, 100, 3072]) {
    let prev = 1;
    for (let p = -0.99; p < 1; p += 0.01) {
      const v = sphereTail(p, d).value;
      assert.ok(v <= prev + 1e-15, `not decreasing at p = ${p}, d = ${d}`);
      prev = v;
      assertClose(v + sphereTail(-p, d).value, 1, { abs: 1e-14 }, `symmetry p = ${p}, d = ${d}`);
    }
  }
});

Deno.test("sphereTail() equals the numerically integrated marginal for d = 10", () => {
  // Simpson's rule on ∫_p^1 P_origin, 20,000 intervals.
  for (const p of [-0.5, 0.2, 0.7]) {
    const n = 20000, h = (1 - p) / n;
    let s = 0;
    for (let i = 0; i <= n; i++) {
      const w = i === 0 || i === n ? 1 : i % 2 === 1 ? 4 : 2;
      s += w * sphereMarginal(p + i * h, 10);
    }
    assertClose(sphereTail(p, 10).value, s * h / 3, { abs: 1e-12 }, `p = ${p}`);
  }
});

Deno.test("sphereTail() and logSphereMarginal() reject d < 2 and NaN", () => {
  assertThrowsType(() => sphereTail(0.1, 1), RangeError, /d is 1/);
  assertThrowsType(() => sphereTail(NaN, 10), RangeError, /p is NaN/);
  assertThrowsType(() => logSphereMarginal(NaN, 10), RangeError, /t is NaN/);
  assertThrowsType(() => logSphereMarginal(0, Infinity), RangeError, /d is Infinity/);
});
