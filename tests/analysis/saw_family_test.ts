import { fitSawFamily } from "../../lib/analysis/mod.ts";
import { logSphereMarginal } from "../../lib/stats/mod.ts";
import { assert, assertAlmostEquals } from "./_synthetic.ts";

const d = 200, beta = 12;
const grid = Array.from({ length: 1001 }, (_, j) => -1 + j / 500);
/** Normalised p(t) ∝ exp(κ β t) · P_origin(t) on the grid. */
function saw(kappa: number, shape = (t: number) => beta * t): number[] {
  const logs = grid.map((t) => kappa * shape(t) + logSphereMarginal(t, d));
  const max = Math.max(...logs);
  const p = logs.map((l) => Math.exp(l - max));
  const z = p.reduce((a, b) => a + b, 0) * (2 / 1000);
  return p.map((v) => v / z);
}

Deno.test("fitSawFamily() recovers planted concentrations along the chain of widths", () => {
  const kappas = [1, 2, 4, 8];
  const fits = fitSawFamily(grid, kappas.map((k) => saw(k)), d);
  fits.forEach((f, i) => {
    assert(!("error" in f), JSON.stringify(f));
    assertAlmostEquals(f.kappa!, kappas[i]!, 1e-6, `κ of width ${i}`);
    assert(f.r2! > 1 - 1e-9);
  });
  // Against the smallest width directly: the same κ where the marginals overlap.
  const direct = fitSawFamily(grid, kappas.slice(0, 3).map((k) => saw(k)), d, {
    reference: "smallest-k",
  });
  assertAlmostEquals((direct[2] as { kappa: number }).kappa, 4, 1e-6);
});

Deno.test("fitSawFamily() can fail: a width of another shape fits poorly, disjoint widths break the chain", () => {
  // Width 2 follows ψ(t)² with log ψ quadratic instead of linear: its R² against the chain drops.
  const other = saw(1, (t) => -60 * (t - 0.35) ** 2);
  const fits = fitSawFamily(grid, [saw(1), other], d);
  const f = fits[1] as { r2: number; r2LogDensity: number };
  assert(f.r2LogDensity < 0.99, `R² of the log density ${f.r2LogDensity}`);
  // Marginals with no overlapping grid points cannot be chained.
  const far = fitSawFamily(grid, [saw(1), saw(200), saw(400)], d);
  assert("error" in far[1]! || "error" in far[2]!, JSON.stringify(far));
  assert("error" in far[2]!);
});
