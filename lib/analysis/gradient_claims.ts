/**
 * The claims that need only gradients, each from the per-sample summaries: similarity rises
 * with width, H1 (spherical variance falls), H2 (mean directions of different widths agree) and
 * deeper families' larger Table 1 distances.
 *
 * Seeds vary in every one of them, so every interval is a hierarchical bootstrap: each draw
 * resamples the models of each group with replacement, then the samples (in blocks), and
 * recomputes the figure. Only models at or above the accuracy floor count, and only groups with
 * at least {@link MIN_SEEDS_PER_GROUP} of them: with fewer, resampling seeds cannot show the
 * seed-to-seed variation, so the claim says it is inconclusive instead of reporting a
 * sample-only interval.
 *
 * @module
 */

import {
  drawBlockWeights,
  drawWithReplacement,
  meanOfFinite,
  randomInt,
  type ResampleSettings,
  seededUniform,
  wasserstein1,
} from "../stats/mod.ts";
import type { Group, Reduced } from "./_reduce.ts";
import { cellMean, pairOnBlocks, riseOf } from "./_cells.ts";
import { roundInterval } from "./_format.ts";
import { claim, percentileInterval } from "./claims.ts";
import { familiesOf, type FamilyGroups } from "./grouping.ts";
import type { ModelInput } from "./inputs.ts";
import type { AccuracyFloor, ClaimEntry, Interval } from "./schema.ts";

/** Fewest models (seeds) a group needs to take part in a claim whose seeds vary. */
export const MIN_SEEDS_PER_GROUP = 3;

/** H2's threshold on the disattenuated cosine of adjacent widths' mean directions. */
export const DEFAULT_H2_THRESHOLD = 0.9;

/** The groups the claims use, and what the accuracy floor and the seed minimum left out. */
export interface ClaimScope {
  /** Groups with their members at or above the floor, only those with enough seeds. */
  groups: Group[];
  families: FamilyGroups[];
  floor: AccuracyFloor;
  /** Groups left out for too few seeds, as "family k=…: n seeds". */
  tooFewSeeds: string[];
}

/**
 * Applies the accuracy floor (models with a recorded test accuracy below `minTestAccuracy` are
 * left out; models without one are kept and counted as unknown) and the seed minimum to the
 * analysis groups. Cost: O(M).
 *
 * @example
 * ```ts
 * import { claimScope } from "./gradient_claims.ts";
 * const models = [0.9, 0.5, 0.8, 0.95].map((accuracy, seed) => ({ family: "A", k: 1, seed, accuracy }));
 * const s = claimScope([{ family: "A", k: 1, members: [0, 1, 2, 3] }], models, 0.75);
 * if (s.groups[0]!.members.join() !== "0,2,3" || s.floor.excluded[0]!.accuracy !== 0.5) throw new Error();
 * ```
 */
export function claimScope(
  groups: readonly Group[],
  models: readonly ModelInput[],
  minTestAccuracy: number | null,
): ClaimScope {
  const excluded: AccuracyFloor["excluded"] = [];
  let unknown = 0;
  const accs: number[] = [];
  models.forEach((m, i) => {
    const a = m.accuracy;
    if (a === null || a === undefined || !Number.isFinite(a)) {
      unknown++;
      return;
    }
    accs.push(a);
    if (minTestAccuracy !== null && a < minTestAccuracy) {
      excluded.push({
        index: i,
        id: m.id ?? `model-${i}`,
        family: m.family,
        k: m.k,
        seed: m.seed,
        accuracy: a,
      });
    }
  });
  const out = new Set(excluded.map((e) => e.index));
  const tooFewSeeds: string[] = [];
  const kept: Group[] = [];
  for (const g of groups) {
    const members = g.members.filter((f) => !out.has(f));
    if (members.length >= MIN_SEEDS_PER_GROUP) kept.push({ ...g, members });
    else tooFewSeeds.push(`${g.family} k=${g.k}: ${members.length}`);
  }
  return {
    groups: kept,
    families: familiesOf(kept),
    floor: {
      minTestAccuracy,
      excluded,
      unknown,
      range: accs.length ? [Math.min(...accs), Math.max(...accs)] : null,
    },
    tooFewSeeds,
  };
}

/** Why a claim over `scope` may have nothing to measure, in words, for its reason. */
function scopeNote(scope: ClaimScope): string {
  const parts: string[] = [];
  if (scope.floor.excluded.length) {
    parts.push(
      `${scope.floor.excluded.length} model(s) below the accuracy floor ${scope.floor.minTestAccuracy} were left out`,
    );
  }
  if (scope.tooFewSeeds.length) {
    parts.push(
      `groups with fewer than ${MIN_SEEDS_PER_GROUP} seeds were left out (${
        scope.tooFewSeeds.join(", ")
      })`,
    );
  }
  return parts.length ? `; ${parts.join("; ")}` : "";
}

/** What the pair-based claims read. */
export interface ClaimInput {
  r: Reduced;
  scope: ClaimScope;
  boot: Omit<ResampleSettings, "seed">;
  seedOf: (label: string) => number;
}

/** Group pairs whose p is needed: each group with itself, and adjacent widths of a family. */
function neededCells(scope: ClaimScope) {
  const diag = scope.groups.map((_, gi) => gi);
  const adjacent: Array<[number, number]> = [];
  for (const fg of scope.families) {
    for (let q = 0; q + 1 < fg.groups.length; q++) {
      adjacent.push([fg.groups[q]!.i, fg.groups[q + 1]!.i]);
    }
  }
  return { diag, adjacent };
}

/** p(a, a) per group and p(a, c) per adjacent pair, for one draw (or the data itself). */
interface CellValues {
  diag: (number | null)[];
  adjacent: (number | null)[];
}

/**
 * The within-width and adjacent-width similarities on the data and on `resamples` hierarchical
 * draws (models within each group with replacement, at least two distinct; then sample blocks).
 * Cost: O(resamples · Σ cells n² · B).
 */
export function hierarchicalCells(
  r: Reduced,
  scope: ClaimScope,
  boot: ResampleSettings,
): { data: CellValues; draws: CellValues[] } {
  const { adjacent } = neededCells(scope);
  const groups = scope.groups;
  const once = (w: Float64Array, drawn: number[][]): CellValues => {
    const p = (i: number, j: number) => pairOnBlocks(r, w, i, j);
    return {
      diag: drawn.map((d) => cellMean(d, d, p)),
      adjacent: adjacent.map(([a, c]) => cellMean(drawn[a]!, drawn[c]!, p)),
    };
  };
  const data = once(new Float64Array(r.blocks).fill(1), groups.map((g) => g.members));
  const u = seededUniform(boot.seed);
  const draws: CellValues[] = [];
  for (let rep = 0; rep < boot.resamples; rep++) {
    const w = drawBlockWeights(u, r.blocks);
    draws.push(once(w, groups.map((g) => drawWithReplacement(u, g.members, true))));
  }
  return { data, draws };
}

/** The three figures the pair-based claims test, from one set of cell values. */
export function pairFigures(scope: ClaimScope, cells: CellValues) {
  const rise = riseOf(scope.families, (gi) => cells.diag[gi] ?? null);
  const h1 = riseOf(scope.families, (gi) => {
    const p = cells.diag[gi];
    return p === null || p === undefined ? null : 1 - Math.sqrt(Math.max(0, p));
  });
  const { adjacent } = neededCells(scope);
  let h2: number | null = null;
  if (adjacent.length) {
    const ratios: number[] = [];
    for (const [q, [a, c]] of adjacent.entries()) {
      const x = cells.adjacent[q], pa = cells.diag[a], pc = cells.diag[c];
      if (x === null || x === undefined || !(pa! > 0) || !(pc! > 0)) {
        ratios.length = 0;
        break;
      }
      ratios.push(x / Math.sqrt(pa! * pc!));
    }
    h2 = ratios.length === adjacent.length ? meanOfFinite(ratios) : null;
  }
  return { rise, h1, h2 };
}

/** Pearson correlation of two figures over the draws where both are defined; null if < 3. */
function drawCorrelation(a: (number | null)[], b: (number | null)[]): number | null {
  const xs: number[] = [], ys: number[] = [];
  a.forEach((v, i) => {
    const w = b[i];
    if (v !== null && w !== null && w !== undefined) (xs.push(v), ys.push(w));
  });
  if (xs.length < 3) return null;
  const mx = xs.reduce((s, v) => s + v, 0) / xs.length,
    my = ys.reduce((s, v) => s + v, 0) / ys.length;
  let sxy = 0, sxx = 0, syy = 0;
  xs.forEach((x, i) => {
    sxy += (x - mx) * (ys[i]! - my);
    sxx += (x - mx) ** 2;
    syy += (ys[i]! - my) ** 2;
  });
  return sxx > 0 && syy > 0 ? Number((sxy / Math.sqrt(sxx * syy)).toPrecision(4)) : null;
}

/**
 * The three pair-based claims from one hierarchical bootstrap: "similarity-rises-with-width"
 * (slope of p(k, k) against log2 k, above 0), "spherical-variance-falls" (H1: slope of the
 * corrected spherical variance 1 − √p(k, k), below 0; a decreasing transform of the same
 * within-width cosines, so its dependence on the first is reported) and
 * "mean-directions-agree" (H2: the mean over adjacent widths of p(k1, k2)/√(p(k1, k1)·p(k2, k2)),
 * above `h2Threshold`: a ratio of unbiased pair-mean estimates that estimates the cosine of the
 * two widths' population mean directions but is not one, so with few seeds it can exceed 1; it
 * is reported unclamped, labelled as a ratio).
 * Cost: that of {@link hierarchicalCells}.
 */
export function pairClaims(input: ClaimInput & { h2Threshold: number }): ClaimEntry[] {
  const { r, scope } = input;
  const B = r.blocks;
  const { data, draws } = hierarchicalCells(r, scope, {
    ...input.boot,
    seed: input.seedOf("pair-claims"),
  });
  const value = pairFigures(scope, data);
  const figures = draws.map((d) => pairFigures(scope, d));
  const over: Interval["over"] = ["seeds", "samples"];
  const interval = (pick: (f: typeof value) => number | null) =>
    roundInterval(
      percentileInterval(
        figures.map(pick).filter((v): v is number => v !== null && Number.isFinite(v)),
        { ...input.boot, seed: 0 },
        over,
        B,
      ),
    );
  const note = scopeNote(scope);
  const N = r.samples;
  const diagPairs = scope.groups.reduce(
    (s, g) => s + g.members.length * (g.members.length - 1) * N,
    0,
  );
  const noWidths =
    `no family has two widths with at least ${MIN_SEEDS_PER_GROUP} seeds each${note}`;
  const { adjacent } = neededCells(scope);
  const rise = claim({
    id: "similarity-rises-with-width",
    statement:
      "Two independently trained models of one family have more similar input gradients the wider they are.",
    measure: `mean over families of the least-squares slope of p(k, k) against log2 k${note}`,
    value: value.rise,
    interval: interval((f) => f.rise),
    threshold: 0,
    side: "above",
    pairs: diagPairs,
    unit: "per doubling of k",
    missing: value.rise === null ? noWidths : undefined,
  });
  const h1 = claim({
    id: "spherical-variance-falls",
    statement: "H1: the spherical variance of a family's unit gradients falls as the width grows.",
    measure:
      `mean over families of the slope of the corrected spherical variance 1 − √p(k, k) against log2 k${note}`,
    value: value.h1,
    interval: interval((f) => f.h1),
    threshold: 0,
    side: "below",
    pairs: diagPairs,
    unit: "per doubling of k",
    missing: value.h1 === null ? noWidths : undefined,
    dependsOn: {
      claim: "similarity-rises-with-width",
      drawCorrelation: drawCorrelation(figures.map((f) => f.h1), figures.map((f) => f.rise)),
      note:
        "both are computed from the same within-width cosines p(k, k) (1 − √p falls exactly when p rises), so they are one piece of evidence, not two",
    },
  });
  const nonPositive = scope.groups.filter((_, gi) => !(data.diag[gi]! > 0));
  const h2 = claim({
    id: "mean-directions-agree",
    statement:
      "H2: the mean gradient directions of different widths agree (beyond what averaging alone gives).",
    measure:
      `mean over adjacent widths of the ratio p(k1, k2) / √(p(k1, k1)·p(k2, k2)) of unbiased pair-mean similarities, ` +
      `an estimate of the cosine of the two widths' population mean directions (1 when they share one direction, near 0 when they do not); ` +
      `a ratio of estimates, not itself a cosine, so sampling noise can take it above 1; against ${input.h2Threshold}${note}`,
    value: value.h2,
    interval: interval((f) => f.h2),
    threshold: input.h2Threshold,
    side: "above",
    pairs: adjacent.length * N,
    unit: H2_UNIT,
    missing: value.h2 !== null
      ? undefined
      : adjacent.length === 0
      ? noWidths
      : `p(k, k) is not positive at ${
        nonPositive.map((g) => `${g.family} k=${g.k}`).join(", ")
      } (its mean direction is noise)${note}`,
  });
  return [rise, h1, h2];
}

/**
 * The unit "mean-directions-agree" states its figure in: a ratio that estimates a cosine, which
 * with finitely many seeds can read above 1, so that no reader takes it for a cosine.
 */
export const H2_UNIT = "ratio estimating a cosine; not bounded by 1";

/** Deeper/shallower family pairs compared by {@link deeperDistanceClaim}. */
export const DEEPER_FAMILIES: ReadonlyArray<readonly [string, string]> = [
  ["CNNLarge", "CNNSmall"],
  ["ResNetLarge", "ResNetSmall"],
];

/**
 * "deeper-larger-distance": the mean over shared widths of W1(deeper) − W1(shallower), W1 the
 * mean over a group's model pairs of the Wasserstein distance between their t distributions
 * (Table 1); the interval resamples models within each group, then samples, and recomputes the
 * distances (resamples lowered so that the work stays under 3·10⁷ sorted values).
 * Cost: O(resamples · Σ n · N log N).
 */
export function deeperDistanceClaim(input: ClaimInput): ClaimEntry {
  const { r, scope } = input;
  const groups = scope.groups, N = r.samples;
  const terms: Array<[number, number]> = [];
  for (const [deep, shallow] of DEEPER_FAMILIES) {
    groups.forEach((g, gi) => {
      if (g.family !== deep) return;
      const s = groups.findIndex((h) => h.family === shallow && h.k === g.k);
      if (s >= 0) terms.push([gi, s]);
    });
  }
  const meanW = (members: readonly number[], xs: Int32Array | null) => {
    const sorted = [...new Set(members)].map((f) => {
      const vals: number[] = [];
      if (xs) {
        for (const x of xs) {
          const v = r.t[f * N + x]!;
          if (Number.isFinite(v)) vals.push(v);
        }
      } else {
        for (let x = 0; x < N; x++) {
          const v = r.t[f * N + x]!;
          if (Number.isFinite(v)) vals.push(v);
        }
      }
      return Float64Array.from(vals).sort();
    });
    const byModel = new Map([...new Set(members)].map((f, q) => [f, sorted[q]!]));
    const vals: number[] = [];
    for (let a = 0; a < members.length; a++) {
      for (let b = 0; b < members.length; b++) {
        const ta = byModel.get(members[a]!)!, tb = byModel.get(members[b]!)!;
        if (members[a] === members[b] || ta.length === 0 || tb.length === 0) continue;
        vals.push(wasserstein1(ta, tb, { sorted: true }));
      }
    }
    return meanOfFinite(vals);
  };
  const diff = (draw: ((gi: number) => number[]) | null, xs: Int32Array | null) =>
    meanOfFinite(terms.map(([d, s]) => {
      const a = meanW(draw ? draw(d) : groups[d]!.members, xs);
      const b = meanW(draw ? draw(s) : groups[s]!.members, xs);
      return a === null || b === null ? null : a - b;
    }));
  const work = terms.reduce(
    (s, [d, sh]) => s + (groups[d]!.members.length + groups[sh]!.members.length) * N,
    0,
  );
  const resamples = Math.min(
    input.boot.resamples,
    Math.max(100, Math.floor(3e7 / Math.max(1, work))),
  );
  let interval: Interval | null = null;
  if (terms.length) {
    const u = seededUniform(input.seedOf("deeper-larger-distance"));
    const values: number[] = [];
    for (let rep = 0; rep < resamples; rep++) {
      const drawn = new Map<number, number[]>();
      const draw = (gi: number) => {
        let d = drawn.get(gi);
        if (!d) drawn.set(gi, d = drawWithReplacement(u, groups[gi]!.members, true));
        return d;
      };
      for (const [d, s] of terms) (draw(d), draw(s));
      const xs = Int32Array.from({ length: N }, () => randomInt(u, N));
      const v = diff(draw, xs);
      if (v !== null) values.push(v);
    }
    interval = roundInterval(
      percentileInterval(values, { ...input.boot, resamples, seed: 0 }, ["seeds", "samples"], null),
    );
  }
  const note = scopeNote(scope);
  return claim({
    id: "deeper-larger-distance",
    statement:
      "Deeper families (CNNLarge, ResNetLarge) have larger Table 1 distances than their shallower counterparts.",
    measure:
      `mean over shared widths of W1(deeper) − W1(shallower) (${terms.length} width pairs)${note}`,
    value: terms.length ? diff(null, null) : null,
    interval,
    threshold: 0,
    side: "above",
    pairs: work,
    unit: "distance",
    missing: terms.length === 0
      ? `no family pair (CNNLarge/CNNSmall or ResNetLarge/ResNetSmall) shares a width with at least ${MIN_SEEDS_PER_GROUP} seeds each${note}`
      : undefined,
  });
}
