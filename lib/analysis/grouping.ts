/**
 * Grouping of the models into (family, width) groups and the random halvings of each group for
 * the split-half control: the first step of the analysis, fixed before any gradient is read.
 *
 * @module
 */

import { randomInt, seededUniform } from "../stats/mod.ts";
import type { Group } from "./_reduce.ts";
import type { ModelInput } from "./inputs.ts";

/** The groups of an analysis and the batch size they share. */
export interface Grouping {
  /** (family, k) groups, sorted by family then k, members sorted by seed. */
  groups: Group[];
  /** The most common training batch size (null when none is recorded); only it is grouped. */
  primaryBatchSize: number | null;
}

/**
 * Groups models by (family, k) among those of the most common batch size (other batch sizes
 * feed only `batch_size.json`). Cost: O(M log M).
 *
 * @example
 * ```ts
 * import { groupModels } from "./grouping.ts";
 * const { groups } = groupModels([
 *   { family: "A", k: 2, seed: 1 }, { family: "A", k: 1, seed: 0 }, { family: "A", k: 2, seed: 0 },
 * ]);
 * if (groups.map((g) => g.members.join()).join("|") !== "1|2,0") throw new Error("wrong");
 * ```
 */
export function groupModels(models: readonly ModelInput[]): Grouping {
  const primary = mostCommon(models.map((m) => m.batchSize ?? null));
  const groups: Group[] = [];
  const byKey = new Map<string, Group>();
  models.forEach((m, i) => {
    if ((m.batchSize ?? null) !== primary) return;
    const key = `${m.family}\u0000${m.k}`;
    let g = byKey.get(key);
    if (!g) {
      g = { family: m.family, k: m.k, members: [] };
      byKey.set(key, g);
      groups.push(g);
    }
    g.members.push(i);
  });
  groups.sort((a, b) => a.family < b.family ? -1 : a.family > b.family ? 1 : a.k - b.k);
  for (const g of groups) g.members.sort((a, b) => models[a]!.seed - models[b]!.seed);
  return { groups, primaryBatchSize: primary };
}

/**
 * `splits` random halvings of each group (two disjoint halves of ⌊n/2⌋ members each, one
 * Fisher–Yates shuffle per split from one stream seeded with `seed`); a group of one model has
 * none. Cost: O(splits · M).
 *
 * @example
 * ```ts
 * import { splitHalves } from "./grouping.ts";
 * const h = splitHalves([{ family: "A", k: 1, members: [0, 1, 2, 3] }], { splits: 2, seed: 0 });
 * if (h[0]!.length !== 2 || h[0]![0]![0].length !== 2) throw new Error("wrong");
 * ```
 */
export function splitHalves(
  groups: readonly Group[],
  options: { splits: number; seed: number },
): Array<Array<[number[], number[]]>> {
  const rng = seededUniform(options.seed);
  return groups.map((g) => {
    const n = g.members.length, h = Math.floor(n / 2);
    if (h < 1) return [];
    const out: Array<[number[], number[]]> = [];
    for (let s = 0; s < options.splits; s++) {
      const p = [...g.members];
      for (let i = p.length - 1; i > 0; i--) {
        const j = randomInt(rng, i + 1);
        [p[i], p[j]] = [p[j]!, p[i]!];
      }
      out.push([p.slice(0, h), p.slice(h, 2 * h)]);
    }
    return out;
  });
}

/** The groups of each family, in order of first appearance, with their indices. */
export interface FamilyGroups {
  family: string;
  groups: Array<{ g: Group; i: number }>;
}

/**
 * The groups of each family with their indices into `groups`, ascending in k within a family
 * when `groups` is sorted as {@link groupModels} sorts it. Cost: O(G · families).
 *
 * @example
 * ```ts
 * import { familiesOf } from "./grouping.ts";
 * const f = familiesOf([{ family: "A", k: 1, members: [] }, { family: "B", k: 1, members: [] }]);
 * if (f.length !== 2 || f[1]!.groups[0]!.i !== 1) throw new Error("wrong");
 * ```
 */
export function familiesOf(groups: readonly Group[]): FamilyGroups[] {
  const families = [...new Set(groups.map((g) => g.family))];
  return families.map((family) => ({
    family,
    groups: groups.map((g, i) => ({ g, i })).filter((x) => x.g.family === family),
  }));
}

function mostCommon<T>(list: readonly T[]): T | null {
  const counts = new Map<T, number>();
  for (const v of list) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: T | null = null, n = -1;
  for (const [v, c] of counts) if (c > n) [best, n] = [v, c];
  return best;
}
