/**
 * The paper's claims as checks: a measured figure, a percentile bootstrap interval and a verdict
 * (holds / fails / inconclusive) with its reason. Used by the gradient analysis and by the
 * experiments in `lib/experiments`.
 *
 * @module
 */

import {
  leastSquaresSlope,
  type PercentileInterval,
  percentileOfDraws,
  resampledInterval,
  type ResampleSettings,
  type Uniform,
  verdict,
} from "../stats/mod.ts";
import { fmt, round } from "./_format.ts";
import type { ClaimEntry, Interval, Verdict } from "./schema.ts";

/** The least-squares slope of `lib/stats` under the name the experiments import. */
export const slope = leastSquaresSlope;

function toInterval(
  i: PercentileInterval | null,
  over: Interval["over"],
  blocks: number | null,
): Interval | null {
  return i === null
    ? null
    : { lo: i.lower, hi: i.upper, level: i.level, resamples: i.resamples, over, blocks };
}

/**
 * `lib/stats`' {@link resampledInterval} as a written {@link Interval}: what was resampled
 * (`over`) and into how many sample blocks (`blocks`, null when samples are drawn one by one or
 * not at all). Null when fewer than half of the draws are defined.
 *
 * Cost: `settings.resamples` calls of `stat` plus a sort.
 *
 * @example
 * ```ts
 * import { bootInterval } from "./claims.ts";
 * const i = bootInterval((u) => u(), { resamples: 200, level: 0.9, seed: 1 }, ["samples"], null);
 * if (i === null || !(0 < i.lo && i.lo < i.hi && i.hi < 1)) throw new Error("wrong");
 * ```
 */
export function bootInterval(
  stat: (u: Uniform) => number | null,
  settings: ResampleSettings,
  over: Interval["over"],
  blocks: number | null,
): Interval | null {
  return toInterval(resampledInterval(stat, settings), over, blocks);
}

/**
 * `lib/stats`' {@link percentileOfDraws} of already drawn values as a written {@link Interval}.
 *
 * @example
 * ```ts
 * import { percentileInterval } from "./claims.ts";
 * const i = percentileInterval([1, 2, 3, 4, 5], { resamples: 5, level: 0.5, seed: 0 }, ["samples"], null);
 * if (i === null || i.lo !== 2 || i.hi !== 4) throw new Error("wrong");
 * ```
 */
export function percentileInterval(
  values: readonly number[],
  settings: ResampleSettings,
  over: Interval["over"],
  blocks: number | null,
): Interval | null {
  return toInterval(percentileOfDraws(values, settings), over, blocks);
}

/**
 * The verdict of a claim that `value` lies on side `side` of `threshold`, by `lib/stats`'
 * `verdict` on the interval: holds when the whole interval lies on that side, fails when it lies
 * on the other, inconclusive otherwise or without an interval.
 *
 * @example
 * ```ts
 * import { verdictOf } from "./claims.ts";
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
 * Builds a claim entry: the verdict is `holds` when the whole interval lies on the claimed `side`
 * of `threshold`, `fails` when it lies on the other, `inconclusive` otherwise (or without a value
 * or interval); the reason states the figure and the interval in one sentence.
 *
 * Cost: O(1).
 *
 * @example
 * ```ts
 * import { claim } from "./claims.ts";
 * const c = claim({
 *   id: "x", statement: "s", measure: "m", value: 0.3, threshold: 0, side: "above", pairs: 10,
 *   unit: "slope",
 *   interval: { lo: 0.1, hi: 0.5, level: 0.95, resamples: 100, over: ["samples"], blocks: null },
 * });
 * if (c.verdict !== "holds") throw new Error(c.reason);
 * ```
 */
export function claim(
  c: Omit<ClaimEntry, "verdict" | "reason"> & {
    side: "above" | "below";
    unit: string;
    missing?: string;
  },
): ClaimEntry {
  const verdict = c.value === null ? "inconclusive" : verdictOf(c.interval, c.threshold, c.side);
  const claimed = c.side === "above" ? "above" : "below";
  let reason: string;
  if (c.missing) reason = `Not measurable here: ${c.missing}.`;
  else if (c.value === null) {
    reason = "Not measurable here: too few widths, seeds or defined samples.";
  } else if (c.interval === null) {
    reason = `Measured ${
      fmt(c.value)
    } (${c.unit}) but no bootstrap interval could be formed (too few resamples defined).`;
  } else {
    const ci = `${(c.interval.level * 100).toFixed(0)} % interval [${fmt(c.interval.lo)}, ${
      fmt(c.interval.hi)
    }]`;
    reason = verdict === "holds"
      ? `Measured ${fmt(c.value)} (${c.unit}); the ${ci} lies ${claimed} ${c.threshold}.`
      : verdict === "fails"
      ? `Measured ${
        fmt(c.value)
      } (${c.unit}); the ${ci} lies on the other side of ${c.threshold} from the claim.`
      : `Measured ${fmt(c.value)} (${c.unit}); the ${ci} contains ${c.threshold}.`;
  }
  return {
    id: c.id,
    statement: c.statement,
    measure: c.measure,
    value: round(c.value),
    interval: c.interval,
    threshold: c.threshold,
    verdict,
    reason,
    pairs: c.pairs,
    ...(c.dependsOn ? { dependsOn: c.dependsOn } : {}),
  };
}
