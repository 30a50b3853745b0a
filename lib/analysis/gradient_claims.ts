/**
 * The claims that need only gradients, each from the per-sample summaries and the files built
 * from them: similarity rises with width, H1 (spherical variance falls), H2 (mean directions of
 * different widths agree) and deeper families' larger Table 1 distances.
 *
 * @module
 */

import {
  drawBlockWeights,
  drawWithReplacement,
  meanOfFinite,
  type ResampleSettings,
} from "../stats/mod.ts";
import type { Group, Reduced } from "./_reduce.ts";
import { blockSums, riseOf, weighted } from "./_cells.ts";
import { fmt, roundInterval } from "./_format.ts";
import { bootInterval, claim, percentileInterval } from "./claims.ts";
import type { FamilyGroups } from "./grouping.ts";
import type { ClaimEntry, Interval, SimilarityFile, Table1File } from "./schema.ts";

/** What every gradient claim reads. */
export interface ClaimInput {
  r: Reduced;
  groups: readonly Group[];
  families: readonly FamilyGroups[];
  boot: Omit<ResampleSettings, "seed">;
  seedOf: (label: string) => number;
}

/**
 * "similarity-rises-with-width": the mean over families of the slope of p(k, k) against log2 k,
 * with the interval of the joint seed-and-block draws of `similarity.json` (`riseDraws`).
 */
export function similarityRisesClaim(
  input: ClaimInput & { similarity: SimilarityFile; riseDraws: readonly number[] },
): ClaimEntry {
  const { groups, similarity } = input;
  const expected = similarity.expected;
  const seedsSamples: Interval["over"] = ["seeds", "samples"];
  return claim({
    id: "similarity-rises-with-width",
    statement:
      "Two independently trained models of one family have more similar input gradients the wider they are.",
    measure: "mean over families of the least-squares slope of p(k, k) against log2 k",
    value: riseOf(input.families, (gi) => expected[gi]![gi]!.mean),
    interval: roundInterval(
      percentileInterval(input.riseDraws, { ...input.boot, seed: 0 }, seedsSamples, input.r.blocks),
    ),
    threshold: 0,
    side: "above",
    pairs: groups.reduce((s, _, gi) => s + expected[gi]![gi]!.pairs, 0),
    unit: "per doubling of k",
  });
}

/** "spherical-variance-falls" (H1): the slope of the corrected spherical variance against log2 k. */
export function sphericalVarianceClaim(
  input: ClaimInput & { similarity: SimilarityFile },
): ClaimEntry {
  const { r, groups } = input;
  const N = r.samples, B = r.blocks;
  const svBlocks = groups.map((_, gi) => blockSums(r, r.svCorrected, gi * N));
  const svOf = (w: Float64Array | null) =>
    riseOf(input.families, (gi) => weighted(svBlocks[gi]!, w));
  return claim({
    id: "spherical-variance-falls",
    statement: "H1: the spherical variance of a family's unit gradients falls as the width grows.",
    measure:
      "mean over families of the slope of the corrected spherical variance (1 − √(mean pairwise cosine)) against log2 k",
    value: svOf(null),
    interval: roundInterval(
      bootInterval(
        (u) => svOf(drawBlockWeights(u, B)),
        { ...input.boot, seed: input.seedOf("spherical-variance-falls") },
        ["samples"],
        B,
      ),
    ),
    threshold: 0,
    side: "below",
    pairs: input.similarity.sphericalVariance.reduce((s, v) => s + v.corrected.pairs, 0),
    unit: "per doubling of k",
  });
}

/**
 * "mean-directions-agree" (H2): the mean over adjacent widths of the cross-width half cosine
 * divided by the geometric mean of the two widths' split-half cosines, against `threshold`.
 */
export function meanDirectionsClaim(
  input: ClaimInput & { similarity: SimilarityFile; threshold: number },
): ClaimEntry {
  const { r, groups, similarity } = input;
  const N = r.samples, B = r.blocks, G = groups.length;
  const adjacent: Array<[number, number]> = [];
  for (const fg of input.families) {
    for (let q = 0; q + 1 < fg.groups.length; q++) {
      adjacent.push([fg.groups[q]!.i, fg.groups[q + 1]!.i]);
    }
  }
  const shBlocks = groups.map((_, gi) => blockSums(r, r.splitHalf, gi * N));
  const crossBlocks = adjacent.map(([a, c]) => [
    blockSums(r, r.crossHalf, (a * G + c) * N),
    blockSums(r, r.crossHalf, (c * G + a) * N),
  ]);
  const ratio = (w: Float64Array | null) => {
    const vals: number[] = [];
    adjacent.forEach(([a, c], q) => {
      const x1 = weighted(crossBlocks[q]![0]!, w), x2 = weighted(crossBlocks[q]![1]!, w);
      const sa = weighted(shBlocks[a]!, w), sc = weighted(shBlocks[c]!, w);
      if (x1 === null || x2 === null || sa === null || sc === null || !(sa > 0) || !(sc > 0)) {
        return;
      }
      vals.push((x1 + x2) / 2 / Math.sqrt(sa * sc));
    });
    return meanOfFinite(vals);
  };
  const value = ratio(null);
  const md = meanOfFinite(adjacent.map(([a, c]) => similarity.meanDirection[a]![c]!.mean));
  const sh = meanOfFinite(similarity.splitHalf.map((s) => s.estimate.mean));
  return claim({
    id: "mean-directions-agree",
    statement:
      "H2: the mean gradient directions of different widths agree (beyond what averaging alone gives).",
    measure:
      `mean over adjacent widths of cos(μ_half(k1), μ_half(k2)) / √(split-half(k1)·split-half(k2)), halves of equal size ` +
      `(raw mean-direction similarity of adjacent widths ${fmt(md)}, split-half control ${
        fmt(sh)
      })`,
    value,
    interval: roundInterval(
      bootInterval(
        (u) => ratio(drawBlockWeights(u, B)),
        { ...input.boot, seed: input.seedOf("mean-directions-agree") },
        ["samples"],
        B,
      ),
    ),
    threshold: input.threshold,
    side: "above",
    pairs: adjacent.length * N,
    unit: "ratio",
    missing: value !== null
      ? undefined
      : adjacent.length === 0
      ? "no family has two widths with at least two seeds each"
      : "the split-half similarity is not positive at some width (its mean direction is noise) or no sample had both halves defined",
  });
}

/** Deeper/shallower family pairs compared by {@link deeperDistanceClaim}. */
export const DEEPER_FAMILIES: ReadonlyArray<readonly [string, string]> = [
  ["CNNLarge", "CNNSmall"],
  ["ResNetLarge", "ResNetSmall"],
];

/**
 * "deeper-larger-distance": the mean over shared widths of W1(deeper) − W1(shallower) of
 * Table 1, with an interval over the models of each group.
 */
export function deeperDistanceClaim(
  input: ClaimInput & { table1: Table1File; distances: readonly Float64Array[] },
): ClaimEntry {
  const { groups, distances, table1 } = input;
  const N = input.r.samples;
  const terms: Array<[number, number]> = [];
  for (const [deep, shallow] of DEEPER_FAMILIES) {
    for (const g of groups) {
      if (g.family !== deep) continue;
      const s = groups.findIndex((h) => h.family === shallow && h.k === g.k);
      if (s >= 0) terms.push([groups.indexOf(g), s]);
    }
  }
  const meanW = (gi: number, members: number[] | null) => {
    const g = groups[gi]!, n = g.members.length, w = distances[gi]!;
    const idx = members ?? g.members.map((_, q) => q);
    const vals: number[] = [];
    for (const a of idx) {
      for (const b of idx) {
        if (a !== b && Number.isFinite(w[a * n + b]!)) vals.push(w[a * n + b]!);
      }
    }
    return meanOfFinite(vals);
  };
  const diff = (draw: ((gi: number) => number[]) | null) =>
    meanOfFinite(terms.map(([d, s]) => {
      const a = meanW(d, draw ? draw(d) : null), b = meanW(s, draw ? draw(s) : null);
      return a === null || b === null ? null : a - b;
    }));
  const interval = terms.length
    ? roundInterval(
      bootInterval(
        (u) => diff((gi) => drawWithReplacement(u, groups[gi]!.members.map((_, q) => q), true)),
        { ...input.boot, seed: input.seedOf("deeper-larger-distance") },
        ["seeds"],
        null,
      ),
    )
    : null;
  return claim({
    id: "deeper-larger-distance",
    statement:
      "Deeper families (CNNLarge, ResNetLarge) have larger Table 1 distances than their shallower counterparts.",
    measure: `mean over shared widths of W1(deeper) − W1(shallower) (${terms.length} width pairs)`,
    value: terms.length ? diff(null) : null,
    interval,
    threshold: 0,
    side: "above",
    pairs: terms.reduce(
      (s, [d, sh]) => s + (table1.rows[d]!.models + table1.rows[sh]!.models) * N,
      0,
    ),
    unit: "distance",
    missing: terms.length === 0
      ? "no family pair (CNNLarge/CNNSmall or ResNetLarge/ResNetSmall) shares a width"
      : undefined,
  });
}
