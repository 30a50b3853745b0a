/**
 * The paper's claims as checks: a measured figure, a percentile bootstrap interval and a verdict
 * (holds / fails / inconclusive) with its reason. Used by the gradient analysis and by the
 * experiments in `lib/experiments`.
 *
 * @module
 */

import { bootInterval, fmt, percentile, round, slope, verdictOf } from "./_boot.ts";
import type { ClaimEntry, Interval } from "./schema.ts";

export { bootInterval, percentile as percentileInterval, slope, verdictOf };

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
export function claim(c: {
  id: string;
  statement: string;
  measure: string;
  value: number | null;
  interval: Interval | null;
  threshold: number;
  side: "above" | "below";
  pairs: number;
  unit: string;
  missing?: string;
}): ClaimEntry {
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
  };
}
