/**
 * Resampling helpers for bootstraps whose statistic draws its own resample (models within
 * groups, sample blocks, targets) from one seeded stream, the seeds of those streams, and the
 * small summaries such statistics are made of (means of finite values, population mean ± std,
 * least-squares slopes).
 *
 * @module
 */
import { quantileSorted } from "./quantiles.ts";
import { randomInt, seededUniform, type Uniform } from "./random.ts";

/** Settings of one resampling bootstrap. */
export interface ResampleSettings {
  /** Draws intended. */
  resamples: number;
  /** Coverage of the interval in (0, 1). */
  level: number;
  /** PRNG seed of the draws (see {@link deriveSeed}). */
  seed: number;
}

/** A percentile interval of the defined draws. */
export interface PercentileInterval {
  /** The (1 − level)/2 type-7 quantile of the draws. */
  lower: number;
  /** The (1 + level)/2 type-7 quantile of the draws. */
  upper: number;
  level: number;
  /** Draws that were defined (finite). */
  resamples: number;
}

/**
 * Percentile interval of `stat` over `settings.resamples` draws: `stat` receives one seeded
 * uniform stream shared by all draws, draws its own resample from it and returns its statistic
 * (null where undefined for that draw). Null when fewer than half of the intended draws (or
 * fewer than 2) are defined, see {@link percentileOfDraws}.
 *
 * Cost: `resamples` calls of `stat` plus O(R log R) to sort the R defined values.
 *
 * @example
 * ```ts
 * import { resampledInterval } from "./mod.ts";
 * const i = resampledInterval((u) => u(), { resamples: 200, level: 0.9, seed: 1 });
 * if (i === null || !(0 < i.lower && i.lower < i.upper && i.upper < 1)) throw new Error("wrong");
 * ```
 */
export function resampledInterval(
  stat: (u: Uniform) => number | null,
  settings: ResampleSettings,
): PercentileInterval | null {
  const u = seededUniform(settings.seed);
  const values: number[] = [];
  for (let r = 0; r < settings.resamples; r++) {
    const v = stat(u);
    if (v !== null && Number.isFinite(v)) values.push(v);
  }
  return percentileOfDraws(values, settings);
}

/**
 * Percentile interval of already drawn values; null when fewer than half of the intended
 * `settings.resamples` (or fewer than 2) are given. Cost: O(R log R).
 *
 * @example
 * ```ts
 * import { percentileOfDraws } from "./mod.ts";
 * const i = percentileOfDraws([1, 2, 3, 4, 5], { resamples: 5, level: 0.5 });
 * if (i === null || i.lower !== 2 || i.upper !== 4) throw new Error("wrong");
 * ```
 */
export function percentileOfDraws(
  values: readonly number[],
  settings: { resamples: number; level: number },
): PercentileInterval | null {
  if (values.length < Math.max(2, settings.resamples / 2)) return null;
  const sorted = Float64Array.from(values).sort();
  const a = (1 - settings.level) / 2;
  return {
    lower: quantileSorted(sorted, a),
    upper: quantileSorted(sorted, 1 - a),
    level: settings.level,
    resamples: values.length,
  };
}

/**
 * Block weights of one resample: how often each of `blocks` blocks was drawn (`blocks` draws
 * with replacement). Cost: O(blocks).
 *
 * @example
 * ```ts
 * import { drawBlockWeights, seededUniform } from "./mod.ts";
 * const w = drawBlockWeights(seededUniform(1), 5);
 * if (w.reduce((a, b) => a + b, 0) !== 5) throw new Error("wrong total");
 * ```
 */
export function drawBlockWeights(u: Uniform, blocks: number): Float64Array {
  const w = new Float64Array(blocks);
  for (let i = 0; i < blocks; i++) w[randomInt(u, blocks)]!++;
  return w;
}

/**
 * Draws `list.length` items of `list` with replacement; with `distinct`, draws again (up to 100
 * times) while fewer than two distinct items came out, so a pair statistic stays defined.
 * Cost: O(list.length) per attempt.
 *
 * @example
 * ```ts
 * import { drawWithReplacement, seededUniform } from "./mod.ts";
 * const d = drawWithReplacement(seededUniform(2), [7, 8], true);
 * if (d.length !== 2 || new Set(d).size !== 2) throw new Error("expected both");
 * ```
 */
export function drawWithReplacement<T>(u: Uniform, list: readonly T[], distinct = false): T[] {
  let out: T[] = [];
  for (let attempt = 0; attempt < 100; attempt++) {
    out = [];
    for (let i = 0; i < list.length; i++) out.push(list[randomInt(u, list.length)]!);
    if (!distinct || list.length < 2 || new Set(out).size >= 2) break;
  }
  return out;
}

/**
 * The seed of one named bootstrap stream: `base` and the `path` (a label and indices) hashed
 * with FNV-1a into a 32-bit integer, so every stream of an analysis has its own seed without
 * hand-kept offsets that can collide. Cost: O(length of the path's text).
 *
 * @example
 * ```ts
 * import { deriveSeed } from "./mod.ts";
 * if (deriveSeed(0, "h1") === deriveSeed(0, "h2")) throw new Error("collided");
 * if (deriveSeed(3, "cell", 1, 2) !== deriveSeed(3, "cell", 1, 2)) throw new Error("unstable");
 * ```
 */
export function deriveSeed(base: number, ...path: ReadonlyArray<string | number>): number {
  const text = `${base}\u0000${path.join("\u0000")}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * Ordinary least-squares slope of y on x, Σ(x − x̄)(y − ȳ) / Σ(x − x̄)², or null with fewer than
 * 2 distinct x. Cost: O(n).
 *
 * @example
 * ```ts
 * import { leastSquaresSlope } from "./mod.ts";
 * if (leastSquaresSlope([1, 2, 3], [1, 3, 5]) !== 2) throw new Error("wrong");
 * if (leastSquaresSlope([1, 1], [0, 1]) !== null) throw new Error("undefined slope");
 * ```
 */
export function leastSquaresSlope(x: readonly number[], y: readonly number[]): number | null {
  const n = x.length;
  if (n < 2) return null;
  let mx = 0, my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i]!;
    my += y[i]!;
  }
  mx /= n;
  my /= n;
  let sxx = 0, sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (x[i]! - mx) ** 2;
    sxy += (x[i]! - mx) * (y[i]! - my);
  }
  return sxx > 0 ? sxy / sxx : null;
}

/**
 * Mean of the finite values of a list (nulls and NaNs skipped), or null when none is finite.
 * Cost: O(n).
 *
 * @example
 * ```ts
 * import { meanOfFinite } from "./mod.ts";
 * if (meanOfFinite([1, null, NaN, 3]) !== 2 || meanOfFinite([null]) !== null) throw new Error();
 * ```
 */
export function meanOfFinite(values: Iterable<number | null>): number | null {
  let s = 0, n = 0;
  for (const v of values) {
    if (v !== null && Number.isFinite(v)) {
      s += v;
      n++;
    }
  }
  return n > 0 ? s / n : null;
}

/** Mean and population standard deviation of the finite values of a list, with their count. */
export interface MeanPopulationStd {
  /** Mean of the finite values; null when there is none. */
  mean: number | null;
  /** Population std √(Σ(x − x̄)²/n) (numpy's default ddof = 0); null when n = 0. */
  std: number | null;
  /** Finite values counted. */
  n: number;
}

/**
 * Mean and population standard deviation (n in the denominator, not the sample std's n − 1 of
 * `meanSampleStd`) of the finite values; non-finite values are skipped, and an empty list gives
 * nulls with n = 0 rather than throwing, for summaries of whatever pairs were defined.
 * Cost: O(n), two passes over the finite values.
 *
 * @example
 * ```ts
 * import { meanPopulationStd } from "./mod.ts";
 * const r = meanPopulationStd([1, 3, NaN]);
 * if (r.mean !== 2 || r.std !== 1 || r.n !== 2) throw new Error("wrong");
 * ```
 */
export function meanPopulationStd(values: Iterable<number>): MeanPopulationStd {
  const finite: number[] = [];
  let s = 0;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    finite.push(v);
    s += v;
  }
  const n = finite.length;
  if (n === 0) return { mean: null, std: null, n: 0 };
  const mean = s / n;
  let ss = 0;
  for (const v of finite) ss += (v - mean) ** 2;
  return { mean, std: Math.sqrt(ss / n), n };
}
