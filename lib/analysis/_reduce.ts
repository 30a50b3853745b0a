/**
 * The streaming reduction behind `similarity.json`, `table1.json`, `marginals.json` and
 * `small_predicts_large.json`. Everything the analysis needs about the gradients is a function of
 * the per-sample Gram matrix of the models' unit gradients, G_x[i][j] = ⟨u_i(x), u_j(x)⟩:
 * p_ind sums, ‖S_g‖² = Σ_{i,j∈g} G, ⟨S_a, S_b⟩, t leave-one-out
 * ⟨u, S−u⟩/‖S−u‖ = (r − 1)/√(‖S‖² − 2r + 1) with r = Σ_{j∈g} G[f][j], split halves, and the
 * cosine of a model to another group's mean.
 *
 * Those sums run in the kernels (`groupSums`: on the device, or its float64 reference): per
 * block the M×M pair sums, per model the row sums r over each group, and per sample the
 * set-pair sums ‖S‖² and ⟨S_a, S_b⟩ over the groups and their split halves (the
 * {@linkcode GramReducer.plan}). The reducer turns one batch's sums into the per-sample
 * summaries at O(M·G + G²·splits) per sample (O(M·N + G²·N + B·M²) memory for B blocks).
 *
 * @module
 */

import {
  type GroupSums,
  reference,
  ROW_LIVE,
  ROW_NON_FINITE,
  ROW_ZERO,
  type SetPlan,
  setPlan,
} from "../../kernels/mod.ts";

/** A group of model indices (one family at one width). */
export interface Group {
  family: string;
  k: number;
  members: number[];
}

/** Per-sample summaries kept by {@link GramReducer}. NaN marks "undefined at this sample". */
export interface Reduced {
  models: number;
  samples: number;
  blocks: number;
  /** Block index of each sample. */
  blockOf: Int32Array;
  /** Zero-gradient count per model. */
  zeros: Int32Array;
  /** Count per model of gradients holding NaN or ±Inf (left out like zero gradients). */
  nonFinite: Int32Array;
  /** Σ_x G[i][j] over samples where both are non-zero, M×M row-major. */
  pairSum: Float64Array;
  pairCount: Float64Array;
  /** Σ_x G[i][j] per block: [B][M][M]. */
  pairBlockSum: Float64Array;
  pairBlockCount: Float64Array;
  /** t leave-one-out per model and sample, [M][N]. */
  t: Float32Array;
  /** Spherical variance 1 − ‖m‖ per group and sample, [G][N]. */
  sv: Float64Array;
  /** Corrected spherical variance per group and sample, [G][N]. */
  svCorrected: Float64Array;
  /** Non-zero members per group and sample, [G][N]. */
  svN: Int32Array;
  /** cos(μ_a, μ_b) per group pair and sample, [G][G][N]. */
  meanDir: Float64Array;
  /** Split-half cos(μ_A, μ_B) within each group, averaged over splits, [G][N]. */
  splitHalf: Float64Array;
  /** Cross-width half cosine cos(μ_{A of a}, μ_{B of b}) for a ≠ b, averaged, [G][G][N]. */
  crossHalf: Float64Array;
  /** cos(μ_g(x), u_m(x)) summed over samples for m ∉ g ([G][M]; m ∈ g uses t). */
  toMeanSum: Float64Array;
  toMeanCount: Float64Array;
  /** The same per sample block: [B][G][M]. */
  toMeanBlockSum: Float64Array;
  toMeanBlockCount: Float64Array;
}

/** Options of {@link GramReducer}. */
export interface ReducerOptions {
  /** Sample blocks for the bootstrap (default min(N, 64)). */
  blocks?: number;
  /** Random halvings of each group for the split-half control. */
  halves: Array<Array<[number[], number[]]>>;
}

/**
 * Accumulates per-sample statistics from the group sums of batches of samples. Call
 * {@link addSums} once per batch (or {@link add} once per sample with its Gram) in any order;
 * read {@link result} at the end.
 */
export class GramReducer {
  readonly r: Reduced;
  /** The sets and set pairs `groupSums` reduces: the groups first, then every split's halves. */
  readonly plan: SetPlan;
  readonly #groups: Group[];
  readonly #groupOf: Int32Array;
  /** Pair index of (a, a) per group. */
  readonly #self: Int32Array;
  /** Pair index of (min, max) per ordered group pair, [G][G] (−1 on the diagonal). */
  readonly #cross: Int32Array;
  /** Per group and split: pair indices of (A, A), (B, B), (A, B). */
  readonly #halves: Array<Array<[number, number, number]>>;
  /** Per ordered group pair (a ≠ c) and split s < min: pair indices (A_a, A_a), (B_c, B_c), (A_a, B_c). */
  readonly #crossHalves: Array<Array<[number, number, number]>>;
  readonly #s: Float64Array;
  readonly #live: Uint8Array;

  constructor(models: number, samples: number, groups: Group[], options: ReducerOptions) {
    const m = models, n = samples, g = groups.length;
    const blocks = Math.max(1, Math.min(samples, options.blocks ?? 64));
    const blockOf = new Int32Array(n);
    for (let x = 0; x < n; x++) blockOf[x] = Math.floor((x * blocks) / n);
    const nan = (len: number) => new Float64Array(len).fill(NaN);
    this.r = {
      models: m,
      samples: n,
      blocks,
      blockOf,
      zeros: new Int32Array(m),
      nonFinite: new Int32Array(m),
      pairSum: new Float64Array(m * m),
      pairCount: new Float64Array(m * m),
      pairBlockSum: new Float64Array(blocks * m * m),
      pairBlockCount: new Float64Array(blocks * m * m),
      t: new Float32Array(m * n).fill(NaN),
      sv: nan(g * n),
      svCorrected: nan(g * n),
      svN: new Int32Array(g * n),
      meanDir: nan(g * g * n),
      splitHalf: nan(g * n),
      crossHalf: nan(g * g * n),
      toMeanSum: new Float64Array(g * m),
      toMeanCount: new Float64Array(g * m),
      toMeanBlockSum: new Float64Array(blocks * g * m),
      toMeanBlockCount: new Float64Array(blocks * g * m),
    };
    this.#groups = groups;
    this.#groupOf = new Int32Array(m).fill(-1);
    groups.forEach((gr, i) => gr.members.forEach((f) => (this.#groupOf[f] = i)));
    this.#s = new Float64Array(g);
    this.#live = new Uint8Array(m);

    // Sets: the groups, then half A and half B of every split of every group.
    const sets: number[][] = groups.map((gr) => gr.members);
    const halfSets = groups.map((_, gi) =>
      (options.halves[gi] ?? []).map(([a, b]) => {
        sets.push(a, b);
        return [sets.length - 2, sets.length - 1] as const;
      })
    );
    const pairs: Array<[number, number]> = [];
    const index = new Map<string, number>();
    const pair = (a: number, b: number) => {
      const key = `${a},${b}`;
      let p = index.get(key);
      if (p === undefined) {
        p = pairs.length;
        pairs.push([a, b]);
        index.set(key, p);
      }
      return p;
    };
    this.#self = Int32Array.from(groups.map((_, a) => pair(a, a)));
    this.#cross = new Int32Array(g * g).fill(-1);
    for (let a = 0; a < g; a++) {
      for (let c = a + 1; c < g; c++) this.#cross[a * g + c] = this.#cross[c * g + a] = pair(a, c);
    }
    this.#halves = halfSets.map((list) =>
      list.map(([ha, hb]) => [pair(ha, ha), pair(hb, hb), pair(ha, hb)] as [number, number, number])
    );
    this.#crossHalves = [];
    for (let a = 0; a < g; a++) {
      for (let c = 0; c < g; c++) {
        const ha = halfSets[a]!, hc = halfSets[c]!;
        const list: Array<[number, number, number]> = [];
        if (a !== c) {
          for (let s = 0; s < Math.min(ha.length, hc.length); s++) {
            const pa = ha[s]![0], pc = hc[s]![1];
            list.push([pair(pa, pa), pair(pc, pc), pair(pa, pc)]);
          }
        }
        this.#crossHalves.push(list);
      }
    }
    this.plan = setPlan(m, sets, g, pairs);
  }

  /** The block id of each of the samples start … start + count − 1 (for `groupSums`). */
  blockIds(start: number, count: number): Int32Array {
    return this.r.blockOf.slice(start, start + count);
  }

  /**
   * Adds sample `x`: `gram` is its M×M Gram of unit vectors (row-major, f64), `status[i]` model
   * i's row status (`ROW_LIVE`, `ROW_ZERO`, `ROW_NON_FINITE`); rows not live are counted and
   * ignored. Runs the float64 reference of the group sums on this one Gram.
   */
  add(x: number, gram: Float64Array, status: Uint8Array): void {
    const m = this.r.models;
    const grams = new Float64Array(m * m);
    for (let i = 0; i < m; i++) {
      if (status[i] !== ROW_LIVE) continue;
      for (let j = 0; j < m; j++) {
        if (status[j] === ROW_LIVE) grams[i * m + j] = gram[i * m + j]!;
      }
    }
    let zeros = 0, nonFinite = 0;
    for (const v of status) {
      if (v === ROW_ZERO) zeros++;
      else if (v === ROW_NON_FINITE) nonFinite++;
    }
    const one = { models: m, samples: 1, grams, status: status.slice(0, m), zeros, nonFinite };
    this.addSums(x, reference.groupSums(one, this.plan, this.blockIds(x, 1)));
  }

  /** Adds the group sums of samples start … start + sums.samples − 1 (from `groupSums`). */
  addSums(start: number, sums: GroupSums): void {
    const r = this.r, m = r.models, n = r.samples, groups = this.#groups, g = groups.length;
    const count = sums.samples, mm = m * m;
    if (sums.models !== m || start < 0 || start + count > n) {
      throw new RangeError(
        `group sums of ${sums.models} models × samples ${start}…${
          start + count - 1
        } do not fit a reduction of ${m} models × ${n} samples.`,
      );
    }
    sums.blocks.forEach((b, k) => {
      for (let e = 0; e < mm; e++) {
        const v = sums.blockSums[k * mm + e]!, c = sums.blockCounts[k * mm + e]!;
        r.pairSum[e]! += v;
        r.pairCount[e]! += c;
        r.pairBlockSum[b * mm + e]! += v;
        r.pairBlockCount[b * mm + e]! += c;
      }
    });
    const np = sums.pairSums.length / Math.max(1, count);
    const live = this.#live, ss = this.#s;
    for (let lx = 0; lx < count; lx++) {
      const x = start + lx, b = r.blockOf[x]!;
      for (let i = 0; i < m; i++) {
        const st = sums.status[i * count + lx];
        live[i] = st === ROW_LIVE ? 1 : 0;
        if (st === ROW_NON_FINITE) r.nonFinite[i]!++;
        else if (st !== ROW_LIVE) r.zeros[i]!++;
      }
      const q = (p: number) => sums.pairSums[lx * np + p]!;
      const rowSum = (gi: number, f: number) => sums.rowSums[(gi * count + lx) * m + f]!;
      groups.forEach((gr, gi) => {
        let cnt = 0;
        for (const f of gr.members) cnt += live[f]!;
        const s2 = cnt === 0 ? 0 : q(this.#self[gi]!);
        ss[gi] = s2;
        r.svN[gi * n + x] = cnt;
        if (cnt >= 1 && s2 > 0) r.sv[gi * n + x] = 1 - Math.sqrt(s2) / cnt;
        if (cnt >= 2) {
          const pairMean = (s2 - cnt) / (cnt * (cnt - 1));
          r.svCorrected[gi * n + x] = 1 - Math.sqrt(Math.max(0, pairMean));
          for (const f of gr.members) {
            if (!live[f]) continue;
            const row = rowSum(gi, f);
            const rest = s2 - 2 * row + 1;
            if (rest > 1e-12) {
              r.t[f * n + x] = Math.max(-1, Math.min(1, (row - 1) / Math.sqrt(rest)));
            }
          }
        }
        // Split halves: only members live at x; halves with no live member are skipped.
        const split = halfCosines(this.#halves[gi]!, q);
        if (split !== null) r.splitHalf[gi * n + x] = split;
      });
      for (let a = 0; a < g; a++) {
        for (let c = 0; c < g; c++) {
          if (a === c || !(ss[a]! > 0 && ss[c]! > 0)) continue;
          r.meanDir[(a * g + c) * n + x] = q(this.#cross[a * g + c]!) / Math.sqrt(ss[a]! * ss[c]!);
          // Cross-width halves: half A of a against half B of c, with the same split index.
          const cross = halfCosines(this.#crossHalves[a * g + c]!, q);
          if (cross !== null) r.crossHalf[(a * g + c) * n + x] = cross;
        }
        // Cosine of every model outside group a to a's mean direction.
        if (ss[a]! > 0) {
          const norm = Math.sqrt(ss[a]!);
          for (let f = 0; f < m; f++) {
            if (!live[f] || this.#groupOf[f] === a) continue;
            const v = rowSum(a, f) / norm;
            r.toMeanSum[a * m + f]! += v;
            r.toMeanCount[a * m + f]!++;
            r.toMeanBlockSum[(b * g + a) * m + f]! += v;
            r.toMeanBlockCount[(b * g + a) * m + f]!++;
          }
        }
      }
    }
  }

  /** The accumulated summaries. */
  result(): Reduced {
    return this.r;
  }
}

/**
 * The mean over halvings of cos(S_A, S_B) = ⟨S_A, S_B⟩ / √(‖S_A‖² ‖S_B‖²), from the pair sums
 * (A, A), (B, B), (A, B) of each; halvings with an empty (all left out) half are skipped; null
 * when none is left.
 */
function halfCosines(
  list: ReadonlyArray<readonly [number, number, number]>,
  q: (p: number) => number,
): number | null {
  let acc = 0, used = 0;
  for (const [aa, bb, ab] of list) {
    const sa = q(aa), sb = q(bb);
    if (!(sa > 0 && sb > 0)) continue;
    acc += q(ab) / Math.sqrt(sa * sb);
    used++;
  }
  return used > 0 ? acc / used : null;
}
