/**
 * `similarity.json` from the per-sample summaries: p_ind, p(k1, k2) with intervals over seeds
 * and sample blocks, the per-family matrices, mean-direction similarity beside its split-half
 * control, and the spherical variance.
 *
 * @module
 */

import {
  drawBlockWeights,
  drawWithReplacement,
  type ResampleSettings,
  seededUniform,
} from "../stats/mod.ts";
import type { Group, Reduced } from "./_reduce.ts";
import { blockEstimate, cellMean, cellOf, pIndOf } from "./_cells.ts";
import { round, roundInterval } from "./_format.ts";
import { percentileInterval } from "./claims.ts";
import type { FamilyGroups } from "./grouping.ts";
import type { FileHeader, ModelInput } from "./inputs.ts";
import type {
  AccuracyFloor,
  Estimate,
  GradientInfo,
  Interval,
  ModelEntry,
  PairCell,
  SimilarityFile,
} from "./schema.ts";

/** Bootstrap draws of every p(k1, k2) cell. */
export interface SimilarityDraws {
  /** Draws of cell (a, b) at index a·G + b. */
  cells: number[][];
}

/**
 * One joint bootstrap of every p(k1, k2) cell: each draw reweights the sample blocks and
 * resamples the models of every group with replacement (at least two distinct), then averages
 * p_ind over the drawn distinct pairs. Cost: O(resamples · (B · M² + M²)).
 */
export function similarityDraws(
  r: Reduced,
  groups: readonly Group[],
  boot: ResampleSettings,
): SimilarityDraws {
  const M = r.models, B = r.blocks, G = groups.length;
  const cells: number[][] = Array.from({ length: G * G }, () => []);
  const u = seededUniform(boot.seed);
  const pw = new Float64Array(M * M);
  for (let rep = 0; rep < boot.resamples; rep++) {
    const w = drawBlockWeights(u, B);
    pw.fill(NaN);
    for (let i = 0; i < M; i++) {
      for (let j = i + 1; j < M; j++) {
        let s = 0, c = 0;
        for (let b = 0; b < B; b++) {
          const wb = w[b]!;
          if (wb === 0) continue;
          s += wb * r.pairBlockSum[b * M * M + i * M + j]!;
          c += wb * r.pairBlockCount[b * M * M + i * M + j]!;
        }
        if (c > 0) pw[i * M + j] = pw[j * M + i] = s / c;
      }
    }
    const drawn = groups.map((g) => drawWithReplacement(u, g.members, true));
    const p = (i: number, j: number) => {
      const v = pw[i * M + j]!;
      return Number.isNaN(v) ? null : v;
    };
    for (let a = 0; a < G; a++) {
      for (let b = 0; b < G; b++) {
        const v = cellMean(drawn[a]!, drawn[b]!, p);
        if (v !== null) cells[a * G + b]!.push(v);
      }
    }
  }
  return { cells };
}

/** What {@link similarityFile} reads. */
export interface SimilarityInput {
  r: Reduced;
  groups: readonly Group[];
  families: readonly FamilyGroups[];
  models: readonly ModelInput[];
  header: FileHeader;
  info: Omit<GradientInfo, "samples">;
  splits: number;
  draws: SimilarityDraws;
  /** Interval settings; `seedOf(label, …indices)` gives each estimate's bootstrap seed. */
  boot: Omit<ResampleSettings, "seed">;
  seedOf: (label: string, ...index: number[]) => number;
  /** Reported in the file's `bootstrap` field. */
  baseSeed: number;
  /** The accuracy floor the claims applied. */
  accuracyFloor: AccuracyFloor;
}

/**
 * Builds `similarity.json` from the summaries and the joint draws of {@link similarityDraws}.
 * Cost: O(M² + G² · resamples log resamples + G² · resamples · B) for the estimates' intervals.
 */
export function similarityFile(input: SimilarityInput): SimilarityFile {
  const { r, groups, draws } = input;
  const M = r.models, N = r.samples, B = r.blocks, G = groups.length;
  const pInd = pIndOf(r);
  const boot = (label: string, ...index: number[]) => ({
    ...input.boot,
    seed: input.seedOf(label, ...index),
  });
  const seedsSamples: Interval["over"] = ["seeds", "samples"];
  const expected: PairCell[][] = [];
  for (let a = 0; a < G; a++) {
    const row: PairCell[] = [];
    for (let b = 0; b < G; b++) {
      const c = cellOf(r, groups[a]!.members, groups[b]!.members, pInd);
      row.push({
        mean: round(c.mean),
        std: round(c.std),
        pairs: c.pairs,
        modelPairs: c.n,
        ci: roundInterval(
          percentileInterval(
            draws.cells[a * G + b]!,
            { ...input.boot, seed: input.baseSeed },
            seedsSamples,
            B,
          ),
        ),
      });
    }
    expected.push(row);
  }
  const byFamily = input.families.map((fg) => ({
    family: fg.family,
    ks: fg.groups.map((x) => x.g.k),
    mean: fg.groups.map((x) => fg.groups.map((y) => expected[x.i]![y.i]!.mean)),
    std: fg.groups.map((x) => fg.groups.map((y) => expected[x.i]![y.i]!.std)),
    modelPairs: fg.groups.map((x) => fg.groups.map((y) => expected[x.i]![y.i]!.modelPairs)),
  }));
  const meanDirection: (Estimate | null)[][] = [];
  for (let a = 0; a < G; a++) {
    const row: (Estimate | null)[] = [];
    for (let c = 0; c < G; c++) {
      row.push(
        a === c ? null : blockEstimate(r, r.meanDir, (a * G + c) * N, boot("meanDirection", a, c)),
      );
    }
    meanDirection.push(row);
  }
  const splitHalf = groups.flatMap((g, gi) => {
    const h = Math.floor(g.members.length / 2);
    if (h < 1) return [];
    return [{
      group: gi,
      family: g.family,
      k: g.k,
      halfSizes: [h, h] as [number, number],
      splits: input.splits,
      estimate: blockEstimate(r, r.splitHalf, gi * N, boot("splitHalf", gi)),
    }];
  });
  const sphericalVariance = groups.map((g, gi) => {
    let n = 0;
    for (let x = 0; x < N; x++) n = Math.max(n, r.svN[gi * N + x]!);
    return {
      group: gi,
      family: g.family,
      k: g.k,
      n,
      estimate: blockEstimate(r, r.sv, gi * N, boot("sphericalVariance", gi)),
      corrected: blockEstimate(r, r.svCorrected, gi * N, boot("sphericalVarianceCorrected", gi)),
    };
  });
  const models: ModelEntry[] = input.models.map((m, i) => ({
    index: i,
    id: m.id ?? `model-${i}`,
    family: m.family,
    k: m.k,
    seed: m.seed,
    batchSize: m.batchSize ?? null,
    zeroGradients: r.zeros[i]!,
    nonFiniteGradients: r.nonFinite[i]!,
    accuracy: m.accuracy ?? null,
  }));
  return {
    ...input.header,
    kind: "similarity",
    gradients: { samples: N, ...input.info },
    models,
    groups: groups.map((g, index) => ({
      index,
      family: g.family,
      k: g.k,
      members: [...g.members],
    })),
    zeroGradients: r.zeros.reduce((a, b) => a + b, 0),
    nonFiniteGradients: r.nonFinite.reduce((a, b) => a + b, 0),
    pInd: {
      values: Array.from(
        { length: M },
        (_, i) => Array.from({ length: M }, (_, j) => round(pInd(i, j))),
      ),
      counts: Array.from(
        { length: M },
        (_, i) => Array.from({ length: M }, (_, j) => r.pairCount[i * M + j]!),
      ),
    },
    expected,
    byFamily,
    meanDirection,
    splitHalf,
    sphericalVariance,
    accuracyFloor: input.accuracyFloor,
    bootstrap: {
      resamples: input.boot.resamples,
      level: input.boot.level,
      blocks: B,
      seed: input.baseSeed,
    },
  };
}
