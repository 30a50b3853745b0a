/**
 * `small_predicts_large.json` from the per-sample summaries: how well the mean direction of a
 * small width predicts the gradients of each larger width's models, beside p(k_small, k_large).
 *
 * @module
 */

import {
  drawBlockWeights,
  drawWithReplacement,
  meanPopulationStd,
  type ResampleSettings,
} from "../stats/mod.ts";
import type { Group, Reduced } from "./_reduce.ts";
import { cellOf, pIndOf } from "./_cells.ts";
import { round, roundInterval } from "./_format.ts";
import { bootInterval } from "./claims.ts";
import type { FamilyGroups } from "./grouping.ts";
import type { FileHeader } from "./inputs.ts";
import type { PairCell, SmallPredictsLargeFile } from "./schema.ts";

/**
 * One row per family and pair of widths k_small < k_large: the mean over the larger width's
 * models and the samples of cos(μ_small(x), u_f(x)), with an interval over those models and
 * sample blocks, beside the individual similarity p(k_small, k_large) of `expected`.
 * Cost: O(rows · resamples · n · B).
 */
export function smallPredictsLargeFile(input: {
  r: Reduced;
  groups: readonly Group[];
  families: readonly FamilyGroups[];
  /** The p(k1, k2) cells of `similarity.json` (their intervals are reused). */
  expected: readonly (readonly PairCell[])[];
  boot: Omit<ResampleSettings, "seed">;
  seedOf: (small: number, large: number) => number;
  header: FileHeader;
}): SmallPredictsLargeFile {
  const { r, groups } = input;
  const M = r.models, B = r.blocks, G = groups.length;
  const pInd = pIndOf(r);
  const rows: SmallPredictsLargeFile["rows"] = [];
  for (const fg of input.families) {
    for (const s of fg.groups) {
      for (const l of fg.groups) {
        if (!(s.g.k < l.g.k)) continue;
        let sum = 0, cnt = 0;
        const perModel: number[] = [];
        for (const f of l.g.members) {
          const c = r.toMeanCount[s.i * M + f]!;
          if (c === 0) continue;
          sum += r.toMeanSum[s.i * M + f]!;
          cnt += c;
          perModel.push(r.toMeanSum[s.i * M + f]! / c);
        }
        const ms = meanPopulationStd(perModel);
        const ind = cellOf(r, s.g.members, l.g.members, pInd);
        const ci = bootInterval(
          (u) => {
            const w = drawBlockWeights(u, B);
            let bs = 0, bc = 0;
            for (const f of drawWithReplacement(u, l.g.members)) {
              for (let q = 0; q < B; q++) {
                bs += w[q]! * r.toMeanBlockSum[(q * G + s.i) * M + f]!;
                bc += w[q]! * r.toMeanBlockCount[(q * G + s.i) * M + f]!;
              }
            }
            return bc > 0 ? bs / bc : null;
          },
          { ...input.boot, seed: input.seedOf(s.i, l.i) },
          ["seeds", "samples"],
          B,
        );
        rows.push({
          family: s.g.family,
          kSmall: s.g.k,
          kLarge: l.g.k,
          meanDirection: {
            mean: round(cnt > 0 ? sum / cnt : null),
            std: round(ms.std),
            pairs: cnt,
            ci: roundInterval(ci),
          },
          individual: {
            mean: round(ind.mean),
            std: round(ind.std),
            pairs: ind.pairs,
            modelPairs: ind.n,
            ci: input.expected[s.i]![l.i]!.ci,
          },
          smallModels: s.g.members.length,
          largeModels: l.g.members.length,
        });
      }
    }
  }
  return { ...input.header, kind: "smallPredictsLarge", rows };
}
