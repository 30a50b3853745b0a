/**
 * The semi-parametric Saw model of the marginal of t = ⟨u, μ⟩: one shape ψ shared by all
 * widths and one concentration κ_k per width, p_k(t) ∝ ψ(t)^κ_k · P_origin(t).
 *
 * @module
 */
import { type Bandwidth, kde } from "./kde.ts";
import { logSphereMarginal } from "./sphere.ts";

/** Least-squares fit of one width's marginal on the shared shape. */
export interface SawFit {
  /** Concentration κ: the slope of log(p_k / P_origin) on log ψ. */
  kappa: number;
  /** Intercept of that regression (absorbs normalising constants). */
  intercept: number;
  /** R² of the regression of log(p_k / P_origin) on log ψ, as specified by the model. */
  r2: number;
  /**
   * 1 − SS_res / SS_tot(log p_k): the same residuals against the spread of log p_k itself.
   * When d is large, −log P_origin varies by hundreds over the grid and appears on both sides of
   * the regression, pushing `r2` towards 1 whatever the data; this one does not share that term
   * and can be negative.
   */
  r2LogDensity: number;
  /** Grid points used (both densities above their floors, all logs finite). */
  points: number;
}

/** Options of {@link sawLogShape} and {@link fitSawWidth}. */
export interface SawFloorOptions {
  /**
   * Grid points where a density is below this fraction of its own maximum are left out
   * (default 0.01): the log of a KDE's thin tails is mostly noise.
   */
  relativeFloor?: number;
}

function checkGrid(grid: ArrayLike<number>, density: ArrayLike<number>, name: string): void {
  if (grid.length < 3) {
    throw new RangeError(`grid has ${grid.length} points; expected at least 3.`);
  }
  if (density.length !== grid.length) {
    throw new TypeError(
      `${name} has ${density.length} values; expected one per grid point (${grid.length}).`,
    );
  }
  for (let j = 0; j < grid.length; j++) {
    const x = grid[j]!, p = density[j]!;
    if (!(x >= -1 && x <= 1)) {
      throw new RangeError(`grid[${j}] is ${x}; expected a point in [−1, 1].`);
    }
    if (!(p >= 0) || !Number.isFinite(p)) {
      throw new RangeError(`${name}[${j}] is ${p}; expected a finite density ≥ 0.`);
    }
  }
}

function floorOf(density: ArrayLike<number>, options: SawFloorOptions): number {
  const rel = options.relativeFloor ?? 0.01;
  if (!(rel >= 0 && rel < 1)) {
    throw new RangeError(`relativeFloor is ${rel}; expected a fraction in [0, 1).`);
  }
  let max = 0;
  for (let j = 0; j < density.length; j++) max = Math.max(max, density[j]!);
  if (!(max > 0)) throw new RangeError(`a density is zero everywhere; expected some mass.`);
  return rel * max;
}

/**
 * The log shape log ψ(t) = log p_ref(t) − log P_origin(t) on a grid, from a reference marginal
 * density p_ref (a KDE, pooled over widths or at the smallest width). ψ is defined up to a
 * constant factor, which the intercepts of {@link fitSawWidth} absorb.
 *
 * Cost: O(G) for G grid points.
 *
 * @param grid points in [−1, 1]
 * @param reference the reference density at each grid point
 * @returns log ψ per grid point; NaN marks points left out (reference below its floor, or
 *   P_origin zero or infinite there, as at ±1 when d ≠ 3)
 * @throws {RangeError} when the grid has fewer than 3 points or leaves [−1, 1], a density value
 *   is negative or not finite, the reference is zero everywhere, or d < 2
 * @throws {TypeError} when `reference` and `grid` differ in length
 * @example
 * ```ts
 * import { sawLogShape } from "./mod.ts";
 * // d = 3: P_origin = 1/2, so log ψ = log p_ref + log 2.
 * const logPsi = sawLogShape([-0.5, 0, 0.5], [0.5, 1, 1.5], 3);
 * if (Math.abs(logPsi[1]! - Math.log(2)) > 1e-15) throw new Error("wrong");
 * ```
 */
export function sawLogShape(
  grid: ArrayLike<number>,
  reference: ArrayLike<number>,
  d: number,
  options: SawFloorOptions = {},
): Float64Array {
  checkGrid(grid, reference, "reference");
  const floor = floorOf(reference, options);
  const out = new Float64Array(grid.length);
  for (let j = 0; j < grid.length; j++) {
    const p = reference[j]!;
    const lp0 = logSphereMarginal(grid[j]!, d);
    out[j] = p > floor && p > 0 && Number.isFinite(lp0) ? Math.log(p) - lp0 : NaN;
  }
  return out;
}

/**
 * Fits one width's concentration: ordinary least squares of yⱼ = log(p_k(tⱼ) / P_origin(tⱼ))
 * on xⱼ = log ψ(tⱼ) over the grid points where both are finite and p_k is above its floor;
 * κ = Sxy / Sxx, intercept = ȳ − κ x̄, R² = 1 − SS_res / SS_tot(y) (see {@link SawFit} for the
 * second R²).
 *
 * Cost: O(G).
 *
 * @param grid points in [−1, 1]
 * @param density p_k at each grid point
 * @param logPsi from {@link sawLogShape} on the same grid (NaN = left out)
 * @param d dimension of the directions
 * @throws {RangeError} when fewer than 3 grid points qualify (lower `relativeFloor` or use a
 *   finer grid), when log ψ is constant over them (the shape carries no information), or on the
 *   input errors of {@link sawLogShape}
 * @throws {TypeError} when lengths differ
 * @example
 * ```ts
 * import { fitSawWidth, sawLogShape } from "./mod.ts";
 * const grid = Array.from({ length: 41 }, (_, j) => -1 + j / 20);
 * const ref = grid.map((t) => Math.exp(t) / (Math.E - 1 / Math.E));      // ψ ∝ e^t, d = 3
 * const pk = grid.map((t) => 3 * Math.exp(3 * t) / (Math.exp(3) - Math.exp(-3))); // ψ³
 * const fit = fitSawWidth(grid, pk, sawLogShape(grid, ref, 3, { relativeFloor: 0 }), 3, {
 *   relativeFloor: 0,
 * });
 * if (Math.abs(fit.kappa - 3) > 1e-12 || fit.r2 < 1 - 1e-12) throw new Error("wrong fit");
 * ```
 */
export function fitSawWidth(
  grid: ArrayLike<number>,
  density: ArrayLike<number>,
  logPsi: ArrayLike<number>,
  d: number,
  options: SawFloorOptions = {},
): SawFit {
  checkGrid(grid, density, "density");
  if (logPsi.length !== grid.length) {
    throw new TypeError(
      `logPsi has ${logPsi.length} values; expected one per grid point (${grid.length}).`,
    );
  }
  const floor = floorOf(density, options);
  const xs: number[] = [], ys: number[] = [], ls: number[] = [];
  for (let j = 0; j < grid.length; j++) {
    const p = density[j]!, x = logPsi[j]!;
    if (!(p > floor) || !Number.isFinite(x)) continue;
    const lp = Math.log(p);
    const y = lp - logSphereMarginal(grid[j]!, d);
    if (!Number.isFinite(y)) continue;
    xs.push(x);
    ys.push(y);
    ls.push(lp);
  }
  const m = xs.length;
  if (m < 3) {
    throw new RangeError(
      `only ${m} grid point(s) have both densities above the floor; expected at least 3 ` +
        `(lower relativeFloor or use a finer grid).`,
    );
  }
  const mx = mean(xs), my = mean(ys), ml = mean(ls);
  let sxx = 0, sxy = 0, syy = 0, sll = 0;
  for (let i = 0; i < m; i++) {
    const dx = xs[i]! - mx, dy = ys[i]! - my, dl = ls[i]! - ml;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
    sll += dl * dl;
  }
  if (!(sxx > 0)) {
    throw new RangeError(
      `log ψ is constant over the ${m} grid points used; the reference marginal equals ` +
        `P_origin there, so no concentration can be fitted.`,
    );
  }
  const kappa = sxy / sxx;
  const intercept = my - kappa * mx;
  let ssRes = 0;
  for (let i = 0; i < m; i++) {
    const r = ys[i]! - intercept - kappa * xs[i]!;
    ssRes += r * r;
  }
  return {
    kappa,
    intercept,
    r2: syy > 0 ? 1 - ssRes / syy : 1,
    r2LogDensity: sll > 0 ? 1 - ssRes / sll : (ssRes > 0 ? -Infinity : 1),
    points: m,
  };
}

function mean(v: readonly number[]): number {
  let s = 0;
  for (const x of v) s += x;
  return s / v.length;
}

/** Options of {@link fitSaw}. */
export interface FitSawOptions extends SawFloorOptions {
  /**
   * Where ψ comes from: "pooled" (default; the KDE of all widths' samples together) or a width
   * key of `samplesByWidth` (e.g. the smallest k, whose κ is then 1 by construction).
   */
  reference?: "pooled" | number;
  /** KDE bandwidth rule or value for every marginal (default "scott"). */
  bandwidth?: Bandwidth;
  /** KDE grid size (default 512). */
  gridSize?: number;
}

/** Result of {@link fitSaw}. */
export interface SawModel {
  /** KDE grid on [−1, 1]. */
  grid: Float64Array;
  /** log ψ on the grid (NaN where left out). */
  logPsi: Float64Array;
  /** The reference used for ψ. */
  reference: "pooled" | number;
  /** One fit per width, in ascending width order, with each width's KDE. */
  fits: Array<SawFit & { width: number; density: Float64Array; n: number }>;
}

/**
 * Fits the Saw model p_k(t) ∝ ψ(t)^κ_k · P_origin(t) to the samples of t at each width: KDE of
 * every width (reflected, on [−1, 1]), log ψ from the reference's KDE by {@link sawLogShape},
 * then κ_k, intercept and R² per width by {@link fitSawWidth}. κ is relative to the reference
 * (the reference's own κ is 1).
 *
 * Cost: one KDE per width plus the reference (see {@link kde}), then O(G) per width.
 *
 * @param samplesByWidth samples of t in [−1, 1], keyed by width k
 * @param d dimension of the directions (e.g. C·H·W of the gradient)
 * @throws {RangeError} when `samplesByWidth` is empty or the reference width is missing, and on
 *   the errors of {@link kde} and {@link fitSawWidth}
 * @example
 * ```ts
 * import { fitSaw, normalSampler, seededUniform } from "./mod.ts";
 * const normal = normalSampler(seededUniform(7));
 * const draw = (sd: number) => Array.from({ length: 4000 }, () => 0.2 + sd * normal());
 * // d = 3, ψ a Gaussian bump: ψ^κ narrows the bump by √κ.
 * const model = fitSaw(new Map([[1, draw(0.15)], [4, draw(0.075)]]), 3, { reference: 1 });
 * const k4 = model.fits[1]!.kappa;
 * if (Math.abs(k4 - 4) > 0.6) throw new Error(`expected κ ≈ 4, got ${k4}`);
 * ```
 */
export function fitSaw(
  samplesByWidth: ReadonlyMap<number, ArrayLike<number>>,
  d: number,
  options: FitSawOptions = {},
): SawModel {
  if (!(samplesByWidth instanceof Map) || samplesByWidth.size === 0) {
    throw new RangeError(`samplesByWidth is empty; expected a Map from width to samples of t.`);
  }
  const reference = options.reference ?? "pooled";
  const kdeOptions = { bandwidth: options.bandwidth, gridSize: options.gridSize };
  const widths = [...samplesByWidth.keys()].sort((a, b) => a - b);
  const kdes = new Map(widths.map((k) => {
    try {
      return [k, kde(samplesByWidth.get(k)!, kdeOptions)] as const;
    } catch (e) {
      if (e instanceof RangeError) throw new RangeError(`width ${k}: ${e.message}`);
      throw e;
    }
  }));
  let refDensity: Float64Array;
  if (reference === "pooled") {
    const pooled: number[] = [];
    for (const k of widths) {
      const v = samplesByWidth.get(k)!;
      for (let i = 0; i < v.length; i++) pooled.push(v[i]!);
    }
    refDensity = kde(pooled, kdeOptions).density;
  } else {
    const r = kdes.get(reference);
    if (!r) {
      throw new RangeError(
        `reference is ${reference}; expected "pooled" or one of the widths ${widths.join(", ")}.`,
      );
    }
    refDensity = r.density;
  }
  const grid = kdes.get(widths[0]!)!.grid;
  const logPsi = sawLogShape(grid, refDensity, d, options);
  const fits = widths.map((k) => {
    const r = kdes.get(k)!;
    try {
      return {
        width: k,
        ...fitSawWidth(grid, r.density, logPsi, d, options),
        density: r.density,
        n: r.n,
      };
    } catch (e) {
      if (e instanceof RangeError) throw new RangeError(`width ${k}: ${e.message}`);
      throw e;
    }
  });
  return { grid, logPsi, reference, fits };
}
