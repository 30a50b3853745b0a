import fc from "fast-check";
import { wasserstein1, wasserstein1Histograms } from "../../lib/stats/mod.ts";
import { assert, assertClose, assertThrowsType } from "./_assert.ts";

Deno.test("wasserstein1() between point masses is |a − b|", () => {
  assert.equal(wasserstein1([0.25], [-0.5]), 0.75);
  assert.equal(wasserstein1([3, 3, 3], [1]), 2);
});

Deno.test("wasserstein1() between shifted copies is the shift", () => {
  const a = [0.1, -0.4, 0.33, 0.9, 0.05];
  assertClose(wasserstein1(a, a.map((x) => x + 0.125)), 0.125, { abs: 1e-15 });
});

Deno.test("wasserstein1() is zero for identical samples in any order", () => {
  assert.equal(wasserstein1([0.3, -0.2, 0.7], [0.7, 0.3, -0.2]), 0);
});

Deno.test("wasserstein1() matches scipy on samples of sizes 7 and 4", () => {
  // python3 tests/stats/oracle.py → wasserstein.w1 (scipy.stats.wasserstein_distance, scipy 1.17.1)
  const a = [0.3, -0.1, 0.7, 0.2, 0.2, 0.9, -0.5];
  const b = [0.0, 0.4, 1.1, -0.2];
  assertClose(wasserstein1(a, b), 0.21071428571428574, { abs: 1e-15 });
  assertClose(wasserstein1(b, a), 0.21071428571428574, { abs: 1e-15 });
});

Deno.test("wasserstein1() handles sizes whose breakpoints interleave (3 vs 2)", () => {
  // Quantile functions: a = 0 on (0, 1/3], 1 on (1/3, 2/3], 2 on (2/3, 1]; b = 0 on (0, 1/2],
  // 3 on (1/2, 1]. |diff| × width per piece: (0,1/3]: 0, (1/3,1/2]: 1 × 1/6,
  // (1/2,2/3]: 2 × 1/6, (2/3,1]: 1 × 1/3 → 5/6.
  assertClose(wasserstein1([0, 1, 2], [0, 3]), 5 / 6, { abs: 1e-15 });
});

Deno.test("wasserstein1() with sorted: true equals the unsorted call and checks order", () => {
  const a = Float64Array.of(-1, -0.5, 0.2, 0.4), b = Float64Array.of(0, 0.1, 0.9);
  assert.equal(wasserstein1(a, b, { sorted: true }), wasserstein1(a, b));
  assertThrowsType(() => wasserstein1([1, 0], [0], { sorted: true }), RangeError, /a\[1\]/);
});

Deno.test("wasserstein1() throws on empty input and names a NaN's index", () => {
  assertThrowsType(() => wasserstein1([], [1]), RangeError, /a is empty/);
  assertThrowsType(() => wasserstein1([1], []), RangeError, /b is empty/);
  assertThrowsType(() => wasserstein1([1, 2, NaN], [1]), RangeError, /a\[2\] is NaN/);
  assertThrowsType(() => wasserstein1([1], [Infinity]), RangeError, /b\[0\]/);
});

const sample = fc.array(fc.double({ min: -1, max: 1, noNaN: true }), {
  minLength: 1,
  maxLength: 40,
});

Deno.test("wasserstein1() is symmetric, obeys the triangle inequality and is translation-invariant", () => {
  fc.assert(
    fc.property(
      sample,
      sample,
      sample,
      fc.double({ min: -2, max: 2, noNaN: true }),
      (a, b, c, s) => {
        const ab = wasserstein1(a, b), ba = wasserstein1(b, a);
        if (Math.abs(ab - ba) > 1e-12) return false;
        if (ab > wasserstein1(a, c) + wasserstein1(c, b) + 1e-12) return false;
        const shifted = wasserstein1(a.map((x) => x + s), b.map((x) => x + s));
        if (Math.abs(shifted - ab) > 1e-12 * (1 + Math.abs(s))) return false;
        // Shifting one side only moves W₁ by at most |s|; a point mass against itself is 0.
        return Math.abs(wasserstein1(a, a.map((x) => x + s)) - Math.abs(s)) <= 1e-12 && ab >= 0;
      },
    ),
    { numRuns: 300, seed: 20241 },
  );
});

Deno.test("wasserstein1() equals ∫|F − G| dx computed on the merged support", () => {
  // Independent route: the CDF form, integrated exactly between consecutive support points.
  fc.assert(
    fc.property(sample, sample, (a, b) => {
      const pts = [...new Set([...a, ...b])].sort((x, y) => x - y);
      const cdf = (s: number[], x: number) => s.filter((v) => v <= x).length / s.length;
      let w = 0;
      for (let i = 0; i + 1 < pts.length; i++) {
        w += Math.abs(cdf(a, pts[i]!) - cdf(b, pts[i]!)) * (pts[i + 1]! - pts[i]!);
      }
      return Math.abs(w - wasserstein1(a, b)) <= 1e-12;
    }),
    { numRuns: 200, seed: 7 },
  );
});

Deno.test("wasserstein1Histograms() between uniform blocks is their offset", () => {
  assertClose(wasserstein1Histograms([0, 1, 2, 3], [[5, 0, 0], [0, 0, 7]]), 2, { abs: 1e-15 });
  assert.equal(wasserstein1Histograms([-1, 0, 1], [[2, 3], [4, 6]]), 0);
});

Deno.test("wasserstein1Histograms() matches a fine-grid ∫|F − G| with sign changes inside bins", () => {
  // python3 tests/stats/oracle.py → wassersteinHist.w1 (numpy trapezoid of |F − G| on 2e6+1 points)
  const w = wasserstein1Histograms([-1, -0.5, 0, 0.25, 1], [[1, 3, 0, 2], [0, 1, 4, 1]]);
  assertClose(w, 0.3229166666666667, { abs: 1e-9 });
});

Deno.test("wasserstein1Histograms() approaches wasserstein1() of the samples on a fine grid", () => {
  const a = [-0.52, -0.11, 0.07, 0.3, 0.31, 0.88], b = [-0.9, 0.2, 0.45, 0.6];
  const bins = 20000, edges = Array.from({ length: bins + 1 }, (_, i) => -1 + 2 * i / bins);
  const hist = (s: number[]) => {
    const h = new Array<number>(bins).fill(0);
    for (const v of s) h[Math.min(bins - 1, Math.floor((v + 1) / 2 * bins))]! += 1;
    return h;
  };
  assertClose(wasserstein1Histograms(edges, [hist(a), hist(b)]), wasserstein1(a, b), {
    abs: 2 / bins,
  });
});

Deno.test("wasserstein1Histograms() rejects bad edges, lengths and empty histograms", () => {
  assertThrowsType(() => wasserstein1Histograms([0], [[], []]), RangeError, /at least 2/);
  assertThrowsType(
    () => wasserstein1Histograms([0, 1, 1], [[1, 1], [1, 1]]),
    RangeError,
    /edges\[2\]/,
  );
  assertThrowsType(
    () => wasserstein1Histograms([0, 1, 2], [[1], [1, 1]]),
    TypeError,
    /counts\[0\]/,
  );
  assertThrowsType(() => wasserstein1Histograms([0, 1, 2], [[1, 1], [0, 0]]), RangeError, /empty/);
  assertThrowsType(() => wasserstein1Histograms([0, 1, 2], [[1, -1], [1, 0]]), RangeError, /\[1\]/);
});
