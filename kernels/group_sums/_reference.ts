/**
 * The group reductions' plan, result and float64 reference (the test oracle and the CPU path):
 * from a batch's per-sample cosine matrices to per-block pair sums, per-model row sums over
 * model sets and per-sample set-pair sums — the same steps, in the same order, as the WGSL
 * programs `cosines`, `block_sums`, `set_sums` and `set_pairs`.
 */
import { checkCount } from "../gpu/checks.ts";
import { ROW_LIVE, type SampleGrams } from "../sample_grams/mod.ts";

/**
 * What to reduce: model sets (CSR: set s holds `members[starts[s]] … members[starts[s+1] − 1]`),
 * how many leading sets return their per-model row sums, and which set pairs return their
 * per-sample sums.
 */
export interface SetPlan {
  starts: Uint32Array;
  members: Uint32Array;
  /** The first `rowSets` sets return `rowSums`. */
  rowSets: number;
  /** Set pairs (a, b), flat: pair p is (pairs[2p], pairs[2p + 1]). */
  pairs: Uint32Array;
}

/**
 * The plan for `sets` of model indices below `models`: row sums for the first `rowSets`, pair
 * sums for `pairs`.
 *
 * @throws {RangeError} on a member outside 0 … models − 1, a repeated member within a set, a
 * pair naming a set that does not exist, or `rowSets` above the number of sets.
 */
export function setPlan(
  models: number,
  sets: readonly (readonly number[])[],
  rowSets: number,
  pairs: ReadonlyArray<readonly [number, number]>,
): SetPlan {
  checkCount("models", models);
  checkCount("rowSets", rowSets, true);
  if (rowSets > sets.length) {
    throw new RangeError(`rowSets is ${rowSets}; expected at most the ${sets.length} sets.`);
  }
  const starts = new Uint32Array(sets.length + 1);
  const members: number[] = [];
  sets.forEach((set, s) => {
    if (new Set(set).size !== set.length) throw new RangeError(`set ${s} repeats a member.`);
    for (const f of set) {
      if (!Number.isInteger(f) || f < 0 || f >= models) {
        throw new RangeError(`set ${s} holds model ${f}; expected an index in 0 … ${models - 1}.`);
      }
      members.push(f);
    }
    starts[s + 1] = members.length;
  });
  const flat = new Uint32Array(2 * pairs.length);
  pairs.forEach(([a, b], p) => {
    for (const v of [a, b]) {
      if (!Number.isInteger(v) || v < 0 || v >= sets.length) {
        throw new RangeError(`pair ${p} names set ${v}; expected one of 0 … ${sets.length - 1}.`);
      }
    }
    flat[2 * p] = a;
    flat[2 * p + 1] = b;
  });
  return { starts, members: Uint32Array.from(members), rowSets, pairs: flat };
}

/** The largest set of `plan` (the set loops' bound). */
export function largestSet(plan: SetPlan): number {
  let most = 0;
  for (let s = 0; s + 1 < plan.starts.length; s++) {
    most = Math.max(most, plan.starts[s + 1]! - plan.starts[s]!);
  }
  return most;
}

/** The group reductions of one batch of `samples` samples. */
export interface GroupSums {
  models: number;
  samples: number;
  /** Per row `[models][samples]`: 0 live, 1 zero, 2 NaN/±Inf. */
  status: Uint8Array;
  zeros: number;
  nonFinite: number;
  /** The block ids the batch touches, ascending. */
  blocks: Int32Array;
  /** Σ_x cos[x][i][j] per touched block, `[blocks][M][M]`. */
  blockSums: Float64Array;
  /** Samples where both rows are live, per touched block, `[blocks][M][M]`. */
  blockCounts: Float64Array;
  /** Σ_{j ∈ s} cos[x][f][j] for the first `rowSets` sets, `[rowSets][samples][M]`. */
  rowSums: Float64Array;
  /** Σ_{f ∈ a, j ∈ b} cos[x][f][j] per listed pair, `[samples][pairs]`. */
  pairSums: Float64Array;
}

/**
 * The distinct blocks of `blockOf` (one block id per sample, non-decreasing) and each one's
 * sample range, flat `[first, one past last]` pairs.
 *
 * @throws {RangeError} when the block ids decrease or are not non-negative integers.
 */
export function blockRanges(blockOf: Int32Array): { blocks: Int32Array; ranges: Uint32Array } {
  const blocks: number[] = [], ranges: number[] = [];
  for (let x = 0; x < blockOf.length; x++) {
    const b = blockOf[x]!;
    if (b < 0 || (x > 0 && b < blockOf[x - 1]!)) {
      throw new RangeError(
        `blockOf[${x}] is ${b}; expected non-negative block ids that never decrease (blocks are contiguous sample ranges).`,
      );
    }
    if (x === 0 || b !== blockOf[x - 1]) {
      if (x > 0) ranges.push(x);
      blocks.push(b);
      ranges.push(x);
    }
  }
  if (blockOf.length > 0) ranges.push(blockOf.length);
  return { blocks: Int32Array.from(blocks), ranges: Uint32Array.from(ranges) };
}

/**
 * The group reductions of a batch's cosines `sg` in float64: per-block pair sums and counts,
 * row sums over the plan's row sets and the listed set-pair sums. Cost O(n·M² + S·n·|set| +
 * n·P·|set|).
 *
 * @throws {RangeError} when `blockOf` is not one non-decreasing block id per sample.
 */
export function groupSumsReference(
  sg: SampleGrams,
  plan: SetPlan,
  blockOf: Int32Array,
): GroupSums {
  const { models: m, samples: n, grams: cos, status } = sg;
  if (blockOf.length !== n) {
    throw new RangeError(`blockOf holds ${blockOf.length} ids; expected one per sample (${n}).`);
  }
  const { blocks, ranges } = blockRanges(blockOf);
  const mm = m * m, nb = blocks.length;
  const blockSums = new Float64Array(nb * mm), blockCounts = new Float64Array(nb * mm);
  for (let b = 0; b < nb; b++) {
    for (let x = ranges[2 * b]!; x < ranges[2 * b + 1]!; x++) {
      for (let i = 0; i < m; i++) {
        if (status[i * n + x] !== ROW_LIVE) continue;
        for (let j = 0; j < m; j++) {
          if (status[j * n + x] !== ROW_LIVE) continue;
          blockSums[b * mm + i * m + j]! += cos[x * mm + i * m + j]!;
          blockCounts[b * mm + i * m + j]!++;
        }
      }
    }
  }
  const sets = plan.starts.length - 1, { starts, members } = plan;
  const all = new Float64Array(sets * n * m);
  for (let s = 0; s < sets; s++) {
    for (let x = 0; x < n; x++) {
      for (let f = 0; f < m; f++) {
        const row = (x * m + f) * m;
        let acc = 0;
        for (let k = starts[s]!; k < starts[s + 1]!; k++) acc += cos[row + members[k]!]!;
        all[(s * n + x) * m + f] = acc;
      }
    }
  }
  const np = plan.pairs.length / 2;
  const pairSums = new Float64Array(n * np);
  for (let x = 0; x < n; x++) {
    for (let p = 0; p < np; p++) {
      const a = plan.pairs[2 * p]!, base = (plan.pairs[2 * p + 1]! * n + x) * m;
      let acc = 0;
      for (let k = starts[a]!; k < starts[a + 1]!; k++) acc += all[base + members[k]!]!;
      pairSums[x * np + p] = acc;
    }
  }
  return {
    models: m,
    samples: n,
    status,
    zeros: sg.zeros,
    nonFinite: sg.nonFinite,
    blocks,
    blockSums,
    blockCounts,
    rowSums: all.slice(0, plan.rowSets * n * m),
    pairSums,
  };
}
