// Rounding of the figures the analysis writes and quotes in sentences (private to lib/analysis).
import type { Interval } from "./schema.ts";

/** `v` to `digits` significant digits (6 by default) for the written files; null when not finite. */
export const round = (v: number | null, digits = 6): number | null =>
  v === null || !Number.isFinite(v) ? null : Number(v.toPrecision(digits));

/** `v` to 3 significant digits for a sentence, or "n/a". */
export function fmt(v: number | null): string {
  return v === null ? "n/a" : v.toPrecision(3);
}

/** An interval with both ends rounded by {@link round}. */
export function roundInterval(i: Interval | null): Interval | null {
  return i === null ? null : { ...i, lo: round(i.lo)!, hi: round(i.hi)! };
}
