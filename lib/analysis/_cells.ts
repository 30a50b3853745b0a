// Reading the per-sample summaries (private to lib/analysis): p_ind of a pair, means over the
// model pairs of two member lists, per-block sums of a per-sample series and estimates with
// sample-block intervals. Every function is pure in the summaries it is given.
import {
  drawBlockWeights,
  drawWithReplacement,
  leastSquaresSlope,
  meanOfFinite,
  meanPopulationStd,
  type ResampleSettings,
} from "../stats/mod.ts";
import type { Reduced } from "./_reduce.ts";
import { bootInterval } from "./claims.ts";
import { round, roundInterval } from "./_format.ts";
import type { FamilyGroups } from "./grouping.ts";
import type { Estimate, Interval } from "./schema.ts";

/** A pair statistic: the value for models (i, j), or null where undefined. */
export type PairValue = (i: number, j: number) => number | null;

/** p_ind(i, j) = Σ_x G[i][j] / count from the summaries; null where no sample had both. */
export function pIndOf(r: Reduced): PairValue {
  const M = r.models;
  return (i, j) => {
    const c = r.pairCount[i * M + j]!;
    return c > 0 ? r.pairSum[i * M + j]! / c : null;
  };
}

/** Mean of `p` over distinct pairs (i ∈ a, j ∈ b, i ≠ j) that are defined, or null. */
export function cellMean(a: readonly number[], b: readonly number[], p: PairValue): number | null {
  let s = 0, n = 0;
  for (const i of a) {
    for (const j of b) {
      if (i === j) continue;
      const v = p(i, j);
      if (v !== null) {
        s += v;
        n++;
      }
    }
  }
  return n > 0 ? s / n : null;
}

/** Mean ± population std of p over the pairs of `a` × `b`, with model pairs and sample pairs. */
export function cellOf(r: Reduced, a: readonly number[], b: readonly number[], p: PairValue) {
  const M = r.models;
  const vals: number[] = [];
  let pairs = 0;
  for (const i of a) {
    for (const j of b) {
      if (i === j) continue;
      const v = p(i, j);
      if (v === null) continue;
      vals.push(v);
      pairs += r.pairCount[i * M + j]!;
    }
  }
  return { ...meanPopulationStd(vals), pairs };
}

/** p_ind of (i, j) over the sample blocks weighted by `w` (one resample of the blocks). */
export function pairOnBlocks(r: Reduced, w: Float64Array, i: number, j: number): number | null {
  const M = r.models, B = r.blocks;
  let sum = 0, c = 0;
  for (let q = 0; q < B; q++) {
    if (w[q] === 0) continue;
    sum += w[q]! * r.pairBlockSum[q * M * M + i * M + j]!;
    c += w[q]! * r.pairBlockCount[q * M * M + i * M + j]!;
  }
  return c > 0 ? sum / c : null;
}

/** Interval of the mean p_ind over distinct pairs of `a` × `b`, seeds and blocks resampled. */
export function pairCellInterval(
  r: Reduced,
  a: readonly number[],
  b: readonly number[],
  boot: ResampleSettings,
): Interval | null {
  const B = r.blocks;
  return bootInterval(
    (u) => {
      const w = drawBlockWeights(u, B);
      const da = drawWithReplacement(u, a, true),
        db = a === b ? da : drawWithReplacement(u, b, true);
      return cellMean(da, db, (i, j) => pairOnBlocks(r, w, i, j));
    },
    boot,
    ["seeds", "samples"],
    B,
  );
}

/** Per-block sums and counts of the finite values of one per-sample series. */
export interface BlockSums {
  s: Float64Array;
  c: Float64Array;
}

/** Sums and counts per sample block of `values[offset … offset + N)` (non-finite skipped). */
export function blockSums(
  r: Reduced,
  values: Float64Array | Float32Array,
  offset: number,
): BlockSums {
  const s = new Float64Array(r.blocks), c = new Float64Array(r.blocks);
  for (let x = 0; x < r.samples; x++) {
    const v = values[offset + x]!;
    if (!Number.isFinite(v)) continue;
    s[r.blockOf[x]!]! += v;
    c[r.blockOf[x]!]!++;
  }
  return { s, c };
}

/** The mean of a series from its block sums, blocks weighted by `w` (all 1 when null). */
export function weighted(b: BlockSums, w: Float64Array | null): number | null {
  let s = 0, c = 0;
  for (let i = 0; i < b.s.length; i++) {
    const wi = w ? w[i]! : 1;
    s += wi * b.s[i]!;
    c += wi * b.c[i]!;
  }
  return c > 0 ? s / c : null;
}

/** Mean ± population std over samples of one per-sample series, with a sample-block interval. */
export function blockEstimate(
  r: Reduced,
  values: Float64Array | Float32Array,
  offset: number,
  boot: ResampleSettings,
): Estimate {
  const sums = blockSums(r, values, offset);
  const ms = meanPopulationStd(values.subarray(offset, offset + r.samples));
  const ci = ms.n === 0 ? null : bootInterval(
    (u) => weighted(sums, drawBlockWeights(u, r.blocks)),
    boot,
    ["samples"],
    r.blocks,
  );
  return { mean: round(ms.mean), std: round(ms.std), pairs: ms.n, ci: roundInterval(ci) };
}

/**
 * Mean over families of the least-squares slope of `value(group)` against log2 k (families
 * with fewer than two defined widths are left out); null when no family has a slope.
 */
export function riseOf(
  families: readonly FamilyGroups[],
  value: (gi: number) => number | null,
): number | null {
  const slopes: number[] = [];
  for (const fg of families) {
    const xs: number[] = [], ys: number[] = [];
    for (const { g, i } of fg.groups) {
      const v = value(i);
      if (v === null) continue;
      xs.push(Math.log2(g.k));
      ys.push(v);
    }
    const s = leastSquaresSlope(xs, ys);
    if (s !== null) slopes.push(s);
  }
  return meanOfFinite(slopes);
}
