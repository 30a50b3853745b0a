/**
 * The Saw-model fit of one family: p_k(t) ∝ ψ(t)^κ_k · P_origin(t) with one shape ψ shared by
 * all widths and one concentration κ per width, estimated from each width's marginal density of t
 * on a grid (see `docs/analysis.md`).
 *
 * @module
 */

import { fitSawWidth, sawLogShape } from "../stats/mod.ts";
import type { SawFit } from "./schema.ts";

/** Options of {@link fitSawFamily}. */
export interface SawFamilyOptions {
  /**
   * "chain" (default): width i regressed on width i−1's log(p/P_origin), slopes multiplied;
   * "smallest-k": every width on the smallest; or a reference density (e.g. the pooled KDE).
   */
  reference?: "chain" | "smallest-k" | ArrayLike<number>;
  /** Grid points below this fraction of a density's maximum are left out (default 0.01). */
  densityFloor?: number;
}

/**
 * Fits κ, intercept and R² for each width of a family from its densities on `grid` (ascending
 * widths). With "chain", κ_i = a_i·κ_{i−1} and c_i = a_i·c_{i−1} + b_i where (a_i, b_i) regress
 * log(p_i/P_origin) on log(p_{i−1}/P_origin); κ of the smallest width is 1. A width whose fit is
 * impossible (no overlapping grid points, constant shape) gets `{ error }`, and with "chain" so
 * does every larger width.
 *
 * Cost: O(widths · grid).
 *
 * @example
 * ```ts
 * import { logSphereMarginal } from "../stats/mod.ts";
 * import { fitSawFamily } from "./saw_family.ts";
 * const grid = Array.from({ length: 201 }, (_, j) => -1 + j / 100);
 * const density = (kappa: number) => grid.map((t) => Math.exp(kappa * 3 * t + logSphereMarginal(t, 5)));
 * const fits = fitSawFamily(grid, [density(1), density(2)], 5, { densityFloor: 0 });
 * const k = "kappa" in fits[1]! ? fits[1].kappa : NaN;
 * if (Math.abs(k! - 2) > 1e-9) throw new Error(`κ = ${k}`);
 * ```
 */
export function fitSawFamily(
  grid: ArrayLike<number>,
  densities: ReadonlyArray<ArrayLike<number>>,
  d: number,
  options: SawFamilyOptions = {},
): Array<SawFit | { error: string }> {
  const floor = { relativeFloor: options.densityFloor ?? 0.01 };
  const reference = options.reference ?? "chain";
  const out: Array<SawFit | { error: string }> = [];
  if (densities.length === 0) return out;
  const fixed = reference === "chain" || reference === "smallest-k" ? densities[0]! : reference;
  const logPsi = sawLogShape(grid, fixed, d, floor);
  let prev: { kappa: number; intercept: number } | null = { kappa: 1, intercept: 0 };
  for (const [i, density] of densities.entries()) {
    try {
      if (reference === "chain" && i > 0) {
        if (prev === null) throw new RangeError("the chain of widths is broken below this width");
        const fit = fitSawWidth(
          grid,
          density,
          sawLogShape(grid, densities[i - 1]!, d, floor),
          d,
          floor,
        );
        prev = {
          kappa: fit.kappa * prev.kappa,
          intercept: fit.kappa * prev.intercept + fit.intercept,
        };
        out.push({ ...prev, r2: fit.r2, r2LogDensity: fit.r2LogDensity, points: fit.points });
        continue;
      }
      const fit = fitSawWidth(grid, density, logPsi, d, floor);
      out.push({
        kappa: fit.kappa,
        intercept: fit.intercept,
        r2: fit.r2,
        r2LogDensity: fit.r2LogDensity,
        points: fit.points,
      });
    } catch (e) {
      if (reference === "chain") prev = null;
      out.push({ error: (e as Error).message });
    }
  }
  return out;
}
