/**
 * `batch_size.json` from the per-sample summaries: within-width similarity of the models trained
 * at each batch size, beside their mean test loss and accuracy.
 *
 * @module
 */

import { meanOfFinite, type ResampleSettings } from "../stats/mod.ts";
import type { Reduced } from "./_reduce.ts";
import { cellOf, pairCellInterval, pIndOf } from "./_cells.ts";
import { round, roundInterval } from "./_format.ts";
import type { FileHeader, ModelInput } from "./inputs.ts";
import type { BatchSizeFile } from "./schema.ts";

/**
 * One row per (family, k, batch size) with the mean p_ind over its distinct model pairs and an
 * interval over seeds and sample blocks; null when every model has the same (or no) batch size.
 * Cost: O(rows · resamples · n² · B).
 */
export function batchSizeFile(input: {
  r: Reduced;
  models: readonly ModelInput[];
  boot: Omit<ResampleSettings, "seed">;
  /** Seed of a row's interval from its first member's index. */
  seedOf: (firstMember: number) => number;
  header: FileHeader;
}): BatchSizeFile | null {
  const { r, models } = input;
  const distinct = new Set(models.map((m) => m.batchSize ?? null).filter((b) => b !== null));
  if (distinct.size <= 1) return null;
  const pInd = pIndOf(r);
  const keyed = new Map<string, number[]>();
  models.forEach((m, i) => {
    if (m.batchSize == null) return;
    const key = `${m.family}\u0000${m.k}\u0000${m.batchSize}`;
    keyed.set(key, [...(keyed.get(key) ?? []), i]);
  });
  return {
    ...input.header,
    kind: "batchSize",
    rows: [...keyed.values()].map((members) => {
      const m0 = models[members[0]!]!;
      const c = cellOf(r, members, members, pInd);
      return {
        family: m0.family,
        k: m0.k,
        batchSize: m0.batchSize!,
        models: members.length,
        similarity: {
          mean: round(c.mean),
          std: round(c.std),
          pairs: c.pairs,
          modelPairs: c.n,
          ci: members.length >= 2
            ? roundInterval(
              pairCellInterval(r, members, members, {
                ...input.boot,
                seed: input.seedOf(members[0]!),
              }),
            )
            : null,
        },
        loss: round(meanOfFinite(members.map((i) => models[i]!.loss ?? null))),
        accuracy: round(meanOfFinite(members.map((i) => models[i]!.accuracy ?? null))),
      };
    }).sort((a, b) =>
      a.family < b.family ? -1 : a.family > b.family ? 1 : a.k - b.k || a.batchSize - b.batchSize
    ),
  };
}
