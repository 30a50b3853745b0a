import {
  fitSaw,
  fitSawWidth,
  logSphereMarginal,
  sawLogShape,
  seededUniform,
  type Uniform,
} from "../../lib/stats/mod.ts";
import { assert, assertClose, assertThrowsType } from "./_assert.ts";

/** Draws n samples from an unnormalised log density on [−1, 1] by inverse CDF on a fine grid. */
function drawInverseCdf(logDensity: (t: number) => number, n: number, uniform: Uniform): number[] {
  const g = 20001, xs = new Float64Array(g), cdf = new Float64Array(g);
  let prev = 0;
  for (let j = 0; j < g; j++) {
    xs[j] = -1 + 2 * j / (g - 1);
    const p = Math.exp(logDensity(xs[j]!));
    if (j > 0) cdf[j] = cdf[j - 1]! + (xs[j]! - xs[j - 1]!) * (p + prev) / 2;
    prev = p;
  }
  const total = cdf[g - 1]!;
  return Array.from({ length: n }, () => {
    const u = uniform() * total;
    let lo = 0, hi = g - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! <= u) lo = mid;
      else hi = mid;
    }
    const span = cdf[hi]! - cdf[lo]!;
    return xs[lo]! + (span > 0 ? (u - cdf[lo]!) / span : 0) * (xs[hi]! - xs[lo]!);
  });
}

// The planted shape: a Gaussian bump, log ψ(t) = −(t − 0.2)² / (2 · 0.35²).
const logPsi = (t: number) => -((t - 0.2) ** 2) / (2 * 0.35 ** 2);

Deno.test("fitSawWidth() recovers κ exactly from exact densities, even at d = 784", () => {
  const d = 784, grid = Array.from({ length: 401 }, (_, j) => -1 + j / 200);
  const ref = grid.map((t) => Math.exp(logPsi(t) + logSphereMarginal(t, d) + 300));
  const shape = sawLogShape(grid, ref, d, { relativeFloor: 0 });
  for (const kappa of [0.5, 2, 7]) {
    const pk = grid.map((t) => Math.exp(kappa * logPsi(t) + logSphereMarginal(t, d) + 300));
    const fit = fitSawWidth(grid, pk, shape, d, { relativeFloor: 0 });
    assertClose(fit.kappa, kappa, { rel: 1e-9 }, `κ = ${kappa}`);
    assertClose(fit.r2, 1, { abs: 1e-12 });
    assert.ok(fit.points > 100 && fit.points < 401, `points used: ${fit.points}`);
  }
});

Deno.test("fitSaw() recovers planted κ from samples drawn from ψ^κ · P_origin (d = 10)", () => {
  const d = 10, uniform = seededUniform(31337), n = 20000;
  const planted = new Map([[10, 1], [20, 2], [40, 3.5]]);
  const samples = new Map(
    [...planted].map(([k, kappa]) => [
      k,
      drawInverseCdf((t) => kappa * logPsi(t) + logSphereMarginal(t, d), n, uniform),
    ]),
  );
  const model = fitSaw(samples, d, { reference: 10 });
  for (const fit of model.fits) {
    const kappa = planted.get(fit.width)!;
    assertClose(fit.kappa, kappa, { rel: 0.06 }, `κ at width ${fit.width}`);
    assert.ok(fit.r2 > 0.98, `R² at width ${fit.width} is ${fit.r2}`);
  }
  // With the pooled reference κ is on another scale but must still grow with the width.
  const pooled = fitSaw(samples, d);
  const kappas = pooled.fits.map((f) => f.kappa);
  assert.ok(kappas[0]! < kappas[1]! && kappas[1]! < kappas[2]!, `κ not increasing: ${kappas}`);
});

Deno.test("fitSaw() gives a visibly worse R² when a marginal is not a power of ψ (bimodal)", () => {
  const d = 10, uniform = seededUniform(99), n = 20000;
  const bump = (m: number, s: number) => (t: number) => Math.exp(-((t - m) ** 2) / (2 * s * s));
  const bimodal = (t: number) => Math.log(bump(-0.35, 0.08)(t) + bump(0.45, 0.08)(t));
  const samples = new Map([
    [10, drawInverseCdf((t) => logPsi(t) + logSphereMarginal(t, d), n, uniform)],
    [20, drawInverseCdf((t) => 2 * logPsi(t) + logSphereMarginal(t, d), n, uniform)],
    [40, drawInverseCdf(bimodal, n, uniform)],
  ]);
  const model = fitSaw(samples, d, { reference: 10 });
  const r2 = new Map(model.fits.map((f) => [f.width, f.r2]));
  assert.ok(r2.get(20)! > 0.98, `the power-of-ψ width fits: R² ${r2.get(20)}`);
  assert.ok(r2.get(40)! < 0.6, `the bimodal width must fit badly: R² ${r2.get(40)}`);
  assert.ok(model.fits[2]!.r2LogDensity < 0.6);
});

Deno.test("fitSawWidth() r2LogDensity exposes a bad fit that r2 hides at large d", () => {
  // At d = 3072 −log P_origin spans hundreds over the grid and sits on both sides of the
  // regression, so r2 stays near 1 for a bimodal marginal; r2LogDensity does not.
  const d = 3072, grid = Array.from({ length: 401 }, (_, j) => -1 + j / 200);
  const ref = grid.map((t) => Math.exp(-((t - 0.3) ** 2) / (2 * 0.1 ** 2)));
  const bimodal = grid.map((t) =>
    Math.exp(-((t - 0.15) ** 2) / (2 * 0.03 ** 2)) + Math.exp(-((t - 0.45) ** 2) / (2 * 0.03 ** 2))
  );
  const fit = fitSawWidth(grid, bimodal, sawLogShape(grid, ref, d), d);
  assert.ok(fit.r2 > 0.9, `r2 ${fit.r2}`);
  assert.ok(fit.r2LogDensity < 0.5, `r2LogDensity ${fit.r2LogDensity}`);
});

Deno.test("fitSaw() and fitSawWidth() throw on empty input, missing reference and too few points", () => {
  assertThrowsType(() => fitSaw(new Map(), 10), RangeError, /samplesByWidth is empty/);
  const s = new Map([[4, [0.1, 0.2, 0.3, 0.25]]]);
  assertThrowsType(() => fitSaw(s, 10, { reference: 8 }), RangeError, /reference is 8/);
  assertThrowsType(() => fitSaw(new Map([[4, []]]), 10), RangeError, /width 4: samples is empty/);
  assertThrowsType(() => fitSaw(new Map([[4, [0.1, NaN]]]), 10), RangeError, /samples\[1\] is NaN/);
  const grid = [-0.5, 0, 0.5];
  assertThrowsType(
    () => fitSawWidth(grid, [0, 1, 0], sawLogShape(grid, [1, 1, 1], 3), 3),
    RangeError,
    /only 1 grid point/,
  );
  assertThrowsType(
    () => fitSawWidth(grid, [1, 2, 3], sawLogShape(grid, [1, 1, 1], 3), 3),
    RangeError,
    /log ψ is constant/,
  );
  assertThrowsType(() => sawLogShape(grid, [1, 1], 3), TypeError, /reference has 2/);
});
