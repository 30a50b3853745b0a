/**
 * Quantiles (type 7, linear interpolation between order statistics) and deciles.
 *
 * @module
 */
import { checkInRange, sortedCopy } from "./_validate.ts";

/**
 * Quantiles of `values` at the probabilities `probs`, by Hyndman & Fan's type 7 (numpy's and
 * R's default): with x₍₀₎ ≤ … ≤ x₍ₙ₋₁₎ the sorted values, h = (n − 1)·q, j = ⌊h⌋,
 * Q(q) = x₍ⱼ₎ + (h − j)·(x₍ⱼ₊₁₎ − x₍ⱼ₎). Q(0) is the minimum, Q(1) the maximum.
 *
 * Cost: O(n log n) for the sort (once for all `probs`), then O(1) per probability.
 *
 * @param values the sample (any order; not modified)
 * @param probs probabilities in [0, 1]
 * @returns one quantile per entry of `probs`, in the same order
 * @throws {RangeError} when `values` is empty or holds a non-finite entry (named by index), or a
 *   probability is outside [0, 1]
 * @example
 * ```ts
 * import { quantiles } from "./mod.ts";
 * const [q25, median] = quantiles([4, 1, 3, 2], [0.25, 0.5]);
 * if (q25 !== 1.75 || median !== 2.5) throw new Error("wrong quantiles");
 * ```
 */
export function quantiles(values: ArrayLike<number>, probs: ArrayLike<number>): number[] {
  const sorted = sortedCopy("values", values);
  const out: number[] = [];
  for (let i = 0; i < probs.length; i++) {
    checkInRange(`probs[${i}]`, probs[i]!, 0, 1);
    out.push(quantileSorted(sorted, probs[i]!));
  }
  return out;
}

/**
 * One type-7 quantile of `values` at probability `q` (see {@link quantiles}).
 *
 * Cost: O(n log n).
 *
 * @throws {RangeError} when `values` is empty or holds a non-finite entry, or `q` ∉ [0, 1]
 * @example
 * ```ts
 * import { quantile } from "./mod.ts";
 * if (quantile([1, 2, 3, 4, 5], 0.5) !== 3) throw new Error("median of 1..5 is 3");
 * ```
 */
export function quantile(values: ArrayLike<number>, q: number): number {
  return quantiles(values, [q])[0]!;
}

/**
 * Type-7 quantile of an already sorted (ascending), non-empty array; no checks.
 * Used where the sort is shared by many calls.
 *
 * Cost: O(1).
 *
 * @example
 * ```ts
 * import { quantileSorted } from "./mod.ts";
 * if (quantileSorted(Float64Array.of(0, 10), 0.3) !== 3) throw new Error("wrong");
 * ```
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  const h = (n - 1) * q;
  const j = Math.floor(h);
  const lo = sorted[j]!;
  if (j >= n - 1) return sorted[n - 1]!;
  const frac = h - j;
  return frac === 0 ? lo : lo + frac * (sorted[j + 1]! - lo);
}

/**
 * The nine decile cut points of `values`: type-7 quantiles at 0.1, 0.2, …, 0.9 (each cut has
 * 10 % more of the mass below it than the previous one).
 *
 * Cost: O(n log n).
 *
 * @throws {RangeError} when `values` is empty or holds a non-finite entry (named by index)
 * @example
 * ```ts
 * import { deciles } from "./mod.ts";
 * const values = Array.from({ length: 11 }, (_, i) => i); // 0..10
 * const d = deciles(values);
 * if (d.length !== 9 || d[0] !== 1 || d[8] !== 9) throw new Error("wrong deciles");
 * ```
 */
export function deciles(values: ArrayLike<number>): number[] {
  return quantiles(values, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
}
