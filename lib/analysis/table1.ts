/**
 * `table1.json` from the per-sample summaries: each model's t values (sorted), and per group the
 * mean ± std over model pairs of the 1-D Wasserstein distance between their t distributions.
 *
 * @module
 */

import { meanPopulationStd, wasserstein1 } from "../stats/mod.ts";
import type { Group, Reduced } from "./_reduce.ts";
import { round } from "./_format.ts";
import type { FileHeader } from "./inputs.ts";
import type { Table1File } from "./schema.ts";

/**
 * The finite t values of every grouped model, sorted ascending, keyed by model index.
 * Cost: O(M · N log N).
 */
export function sortedT(r: Reduced, groups: readonly Group[]): Map<number, Float64Array> {
  const N = r.samples;
  const out = new Map<number, Float64Array>();
  for (const g of groups) {
    for (const f of g.members) {
      const vals: number[] = [];
      for (let x = 0; x < N; x++) {
        const v = r.t[f * N + x]!;
        if (Number.isFinite(v)) vals.push(v);
      }
      out.set(f, Float64Array.from(vals).sort());
    }
  }
  return out;
}

/**
 * Per group, the n×n matrix (row-major over the group's members) of W1 distances between the
 * members' t distributions; NaN on the diagonal and where a member has no t value.
 * Cost: O(Σ n² · N).
 */
export function distanceMatrices(
  groups: readonly Group[],
  tSorted: ReadonlyMap<number, Float64Array>,
): Float64Array[] {
  return groups.map((g) => {
    const n = g.members.length;
    const w = new Float64Array(n * n).fill(NaN);
    for (let a = 0; a < n; a++) {
      for (let b = a + 1; b < n; b++) {
        const ta = tSorted.get(g.members[a]!)!, tb = tSorted.get(g.members[b]!)!;
        if (ta.length === 0 || tb.length === 0) continue;
        w[a * n + b] = w[b * n + a] = wasserstein1(ta, tb, { sorted: true });
      }
    }
    return w;
  });
}

/**
 * Builds `table1.json`: mean ± population std over each group's model pairs of the distances
 * of {@link distanceMatrices}. Cost: O(Σ n²).
 */
export function table1File(input: {
  groups: readonly Group[];
  tSorted: ReadonlyMap<number, Float64Array>;
  distances: readonly Float64Array[];
  header: FileHeader;
}): Table1File {
  const { groups, tSorted, distances } = input;
  return {
    ...input.header,
    kind: "table1",
    basis: "t",
    upperBound: 2,
    rows: groups.map((g, gi) => {
      const n = g.members.length, w = distances[gi]!;
      const vals: number[] = [];
      for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) vals.push(w[a * n + b]!);
      const ms = meanPopulationStd(vals);
      return {
        family: g.family,
        k: g.k,
        mean: round(ms.mean),
        std: round(ms.std),
        modelPairs: ms.n,
        models: n,
        samplesPerModel: n === 0 ? 0 : Math.min(...g.members.map((f) => tSorted.get(f)!.length)),
      };
    }),
  };
}
