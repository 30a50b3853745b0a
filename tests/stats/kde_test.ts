import { kde, kdeBandwidth, normalSampler, seededUniform } from "../../lib/stats/mod.ts";
import { assert, assertClose, assertThrowsType, trapezoid } from "./_assert.ts";

Deno.test("kdeBandwidth() matches scipy.stats.gaussian_kde's Scott and Silverman factors × std", () => {
  // python3 tests/stats/oracle.py → kde.scott, kde.silverman (√covariance of gaussian_kde)
  const s = [-0.3, -0.1, 0.0, 0.05, 0.2, 0.4, 0.45];
  assertClose(kdeBandwidth(s, "scott"), 0.1824523221887268, { rel: 1e-14 });
  assertClose(kdeBandwidth(s, "silverman"), 0.19325784951701863, { rel: 1e-14 });
  assert.equal(kdeBandwidth(s, 0.05), 0.05);
});

Deno.test("kde() without reflection equals scipy's gaussian_kde away from the ends", () => {
  // python3 tests/stats/oracle.py → kde.densityScott at x = −0.2, 0, 0.3
  const s = [-0.3, -0.1, 0.0, 0.05, 0.2, 0.4, 0.45];
  const r = kde(s, { gridSize: 21, reflect: false }); // grid step 0.1
  assertClose(r.density[8]!, 0.8612606317449211, { rel: 1e-12 }, "x = −0.2");
  assertClose(r.density[10]!, 1.1773088637574338, { rel: 1e-12 }, "x = 0");
  assertClose(r.density[13]!, 0.993040527320114, { rel: 1e-12 }, "x = 0.3");
});

Deno.test("kde() reflects mass at ±1 as the three-image sum computed with scipy.stats.norm", () => {
  // python3 tests/stats/oracle.py → kdeReflect (h = 0.1, samples 0.95, 0.99, −0.97, 0.5)
  const r = kde([0.95, 0.99, -0.97, 0.5], { bandwidth: 0.1, gridSize: 201 }); // step 0.01
  assertClose(r.density[200]!, 3.7450968048041298, { rel: 1e-12 }, "x = 1");
  assertClose(r.density[197]!, 3.600134419939545, { rel: 1e-12 }, "x = 0.97");
  assertClose(r.density[0]!, 1.9069390773026202, { rel: 1e-12 }, "x = −1");
  assertClose(r.density[100]!, 3.7167987868357744e-06, { rel: 1e-9 }, "x = 0");
});

Deno.test("kde() mass integrates to 1 with reflection and leaks without it", () => {
  const normal = normalSampler(seededUniform(11));
  const s = Array.from({ length: 3000 }, () => Math.max(-1, Math.min(1, 0.8 + 0.15 * normal())));
  const reflected = kde(s, { gridSize: 512 });
  assertClose(trapezoid(reflected.grid, reflected.density), 1, { abs: 2e-3 }, "reflected mass");
  const leaky = kde(s, { gridSize: 512, reflect: false });
  assert.ok(
    trapezoid(leaky.grid, leaky.density) < 0.95,
    "mass near +1 must leak without reflection",
  );
});

Deno.test("kde() of a normal sample approaches the analytic N(μ, σ² + h²) density", () => {
  // E[p̂(x)] = N(x; μ, σ² + h²) exactly (a Gaussian kernel convolved with a Gaussian; the
  // reflected images are below 1e-9 here). At n = 20,000 the KDE's own sampling noise is
  // ~1.6 % at the mode and gives an expected L1 distance of ~0.02.
  const mu = 0.1, sigma = 0.15, n = 20000;
  const normal = normalSampler(seededUniform(2024));
  const s = Array.from({ length: n }, () => mu + sigma * normal());
  const r = kde(s, { gridSize: 512 });
  const v = sigma * sigma + r.bandwidth * r.bandwidth;
  const exact = Array.from(
    r.grid,
    (x) => Math.exp(-((x - mu) ** 2) / (2 * v)) / Math.sqrt(2 * Math.PI * v),
  );
  const l1 = trapezoid(r.grid, Array.from(r.density, (p, j) => Math.abs(p - exact[j]!)));
  assert.ok(l1 < 0.04, `L1 distance to the analytic density is ${l1}`);
  const mode = Math.round((mu + 1) / 2 * 511);
  assertClose(r.density[mode]!, exact[mode]!, { rel: 0.05 }, "density at the mode");
  assertClose(r.bandwidth, sigma * n ** -0.2, { rel: 0.03 }, "Scott bandwidth");
});

Deno.test("kde() handles 10^5 samples × 512 grid points in well under a second", () => {
  const normal = normalSampler(seededUniform(5));
  const s = Float64Array.from({ length: 100000 }, () => Math.tanh(0.6 * normal()));
  const t0 = performance.now();
  const r = kde(s, { gridSize: 512 });
  const ms = performance.now() - t0;
  assertClose(trapezoid(r.grid, r.density), 1, { abs: 1e-3 });
  assert.ok(ms < 3000, `took ${ms.toFixed(0)} ms`);
});

Deno.test("kde() of one sample or equal samples needs a numeric bandwidth", () => {
  assertThrowsType(() => kde([0.3]), RangeError, /zero spread.*numeric bandwidth/);
  assertThrowsType(
    () => kde([0.2, 0.2, 0.2], { bandwidth: "silverman" }),
    RangeError,
    /zero spread/,
  );
  const r = kde([0.2, 0.2], { bandwidth: 0.05, gridSize: 401 });
  assertClose(r.density[240]!, 1 / (0.05 * Math.sqrt(2 * Math.PI)), { rel: 1e-12 }, "peak at 0.2");
});

Deno.test("kde() throws on empty input, NaN (by index), values past ±1 and bad options", () => {
  assertThrowsType(() => kde([]), RangeError, /samples is empty/);
  assertThrowsType(() => kde([0.1, NaN]), RangeError, /samples\[1\] is NaN/);
  assertThrowsType(() => kde([0.1, 1.5]), RangeError, /samples\[1\] is 1.5/);
  assertThrowsType(() => kde([0.1, 0.2], { gridSize: 1 }), RangeError, /gridSize/);
  assertThrowsType(() => kde([0.1, 0.2], { bandwidth: -1 }), RangeError, /bandwidth is -1/);
  // f32 rounding just past 1 is clamped, not refused.
  assert.equal(kde([1 + 1e-7, 0.5], { bandwidth: 0.1 }).n, 2);
});

Deno.test("kde() equals the direct three-image sum on long grids and wide kernels", () => {
  // Direct evaluation with one exp per (point, sample, image), no truncation: guards the
  // recurrence over 2,048 grid steps and kernels wider than the domain.
  const u = seededUniform(17);
  const s = Array.from({ length: 50 }, () => 2 * u() - 1);
  for (const h of [0.003, 0.05, 0.7]) {
    const r = kde(s, { bandwidth: h, gridSize: 2048 });
    for (let j = 0; j < r.grid.length; j += 97) {
      const x = r.grid[j]!;
      let direct = 0;
      for (const t of s) {
        for (const c of [t, 2 - t, -2 - t]) direct += Math.exp(-((x - c) ** 2) / (2 * h * h));
      }
      direct /= s.length * h * Math.sqrt(2 * Math.PI);
      assertClose(r.density[j]!, direct, { rel: 1e-11, abs: 1e-13 }, `h = ${h}, x = ${x}`);
    }
  }
});
