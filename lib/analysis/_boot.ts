/**
 * Bootstrap and verdict helpers shared by the analysis: percentile intervals of statistics whose
 * resampling (seeds within groups, sample blocks, targets) is drawn by the statistic itself from
 * one seeded stream, the holds / fails / inconclusive rule, and the rounding of the figures
 * written and quoted in reasons.
 *
 * @module
 */

import { quantileSorted, randomInt, seededUniform, type Uniform, verdict } from "../stats/mod.ts";
import type { Interval, Verdict } from "./schema.ts";

/** Settings of one bootstrap. */
export interface BootSettings {
  resamples: number;
  level: number;
  seed: number;
}

/**
 * Percentile interval of `stat` over `resamples` draws; `stat` receives the shared uniform stream
 * and returns the statistic of one resample (or null when undefined for that draw). Returns null
 * when fewer than half of the draws are defined (see {@link percentile}).
 *
 * Cost: `settings.resamples` calls of `stat` plus O(R log R) to sort the R defined values.
 *
 * @example
 * ```ts
 * import { bootInterval } from "./_boot.ts";
 * const i = bootInterval((u) => u(), { resamples: 200, level: 0.9, seed: 1 }, ["samples"], null);
 * if (i === null || !(0 < i.lo && i.lo < i.hi && i.hi < 1)) throw new Error("wrong");
 * ```
 */
export function bootInterval(
  stat: (u: Uniform) => number | null,
  settings: BootSettings,
  over: Interval["over"],
  blocks: number | null,
): Interval | null {
  const u = seededUniform(settings.seed);
  const values: number[] = [];
  for (let r = 0; r < settings.resamples; r++) {
    const v = stat(u);
    if (v !== null && Number.isFinite(v)) values.push(v);
  }
  return percentile(values, settings, over, blocks);
}

/**
 * Percentile interval of already drawn resample values; null when fewer than half of the
 * intended `settings.resamples` (or fewer than 2) are defined.
 *
 * @example
 * ```ts
 * import { percentile } from "./_boot.ts";
 * const i = percentile([1, 2, 3, 4, 5], { resamples: 5, level: 0.5, seed: 0 }, ["samples"], null);
 * if (i === null || i.lo !== 2 || i.hi !== 4) throw new Error("wrong");
 * ```
 */
export function percentile(
  values: number[],
  settings: BootSettings,
  over: Interval["over"],
  blocks: number | null,
): Interval | null {
  if (values.length < Math.max(2, settings.resamples / 2)) return null;
  const sorted = Float64Array.from(values).sort();
  const a = (1 - settings.level) / 2;
  return {
    lo: quantileSorted(sorted, a),
    hi: quantileSorted(sorted, 1 - a),
    level: settings.level,
    resamples: values.length,
    over,
    blocks,
  };
}

/** Block weights of one resample: how often each of `blocks` blocks was drawn. */
export function drawBlocks(u: Uniform, blocks: number): Float64Array {
  const w = new Float64Array(blocks);
  for (let i = 0; i < blocks; i++) w[randomInt(u, blocks)]!++;
  return w;
}

/**
 * Draws `list.length` items of `list` with replacement; with `distinct`, draws again (up to 100
 * times) while fewer than two distinct items came out, so a pair statistic stays defined.
 */
export function drawWith<T>(u: Uniform, list: readonly T[], distinct = false): T[] {
  let out: T[] = [];
  for (let attempt = 0; attempt < 100; attempt++) {
    out = [];
    for (let i = 0; i < list.length; i++) out.push(list[randomInt(u, list.length)]!);
    if (!distinct || list.length < 2 || new Set(out).size >= 2) break;
  }
  return out;
}

/**
 * The verdict of a claim that `value` lies on side `side` of `threshold`, by `lib/stats`'
 * `verdict` on the interval: holds when the whole interval lies on that side, fails when it lies
 * on the other, inconclusive otherwise or without an interval.
 *
 * @example
 * ```ts
 * import { verdictOf } from "./_boot.ts";
 * const i = { lo: -0.2, hi: -0.1, level: 0.95, resamples: 100, over: ["samples" as const], blocks: null };
 * if (verdictOf(i, 0, "below") !== "holds" || verdictOf(i, 0, "above") !== "fails") throw new Error();
 * ```
 */
export function verdictOf(
  interval: Interval | null,
  threshold: number,
  side: "above" | "below",
): Verdict {
  if (interval === null || !Number.isFinite(interval.lo) || !Number.isFinite(interval.hi)) {
    return "inconclusive";
  }
  return verdict({ lower: interval.lo, upper: interval.hi }, {
    direction: side === "above" ? ">" : "<",
    threshold,
  });
}

/**
 * Ordinary least-squares slope of y on x, Σ(x − x̄)(y − ȳ) / Σ(x − x̄)², or null with fewer than
 * 2 distinct x. Cost: O(n).
 *
 * @example
 * ```ts
 * import { slope } from "./_boot.ts";
 * if (slope([1, 2, 3], [1, 3, 5]) !== 2 || slope([1, 1], [0, 1]) !== null) throw new Error();
 * ```
 */
export function slope(x: readonly number[], y: readonly number[]): number | null {
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

/** Mean of the finite values of a list, or null when none is finite. */
export function meanOf(values: Iterable<number | null>): number | null {
  let s = 0, n = 0;
  for (const v of values) {
    if (v !== null && Number.isFinite(v)) {
      s += v;
      n++;
    }
  }
  return n > 0 ? s / n : null;
}

/** Mean and population std of the finite values, with their count. */
export function meanStd(
  values: Iterable<number>,
): { mean: number | null; std: number | null; n: number } {
  let s = 0, s2 = 0, n = 0;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    s += v;
    s2 += v * v;
    n++;
  }
  if (n === 0) return { mean: null, std: null, n: 0 };
  const mean = s / n;
  return { mean, std: Math.sqrt(Math.max(0, s2 / n - mean * mean)), n };
}

/** `v` to `digits` significant digits (6 by default) for the written files; null when not finite. */
export const round = (v: number | null, digits = 6): number | null =>
  v === null || !Number.isFinite(v) ? null : Number(v.toPrecision(digits));

/** `v` to 3 significant digits for a sentence, or "n/a". */
export function fmt(v: number | null): string {
  return v === null ? "n/a" : v.toPrecision(3);
}
