/**
 * The streaming reduction behind `similarity.json`, `table1.json`, `marginals.json` and
 * `small_predicts_large.json`. Everything the analysis needs about the gradients is a function of
 * the per-sample Gram matrix of the models' unit gradients, G_x[i][j] = ⟨u_i(x), u_j(x)⟩:
 * p_ind sums, ‖S_g‖² = Σ_{i,j∈g} G, ⟨S_a, S_b⟩, t leave-one-out
 * ⟨u, S−u⟩/‖S−u‖ = (r − 1)/√(‖S‖² − 2r + 1) with r = Σ_{j∈g} G[f][j], split halves, and the
 * cosine of a model to another group's mean. The reducer consumes one sample's Gram at a time and
 * keeps only per-sample summaries (O(M·N + G²·N + B·M²) memory for B sample blocks).
 *
 * @module
 */

import { ROW_LIVE, ROW_NON_FINITE } from "../../kernels/mod.ts";

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
 * Accumulates per-sample statistics from per-sample Gram matrices. Call {@link add} once per
 * sample in any order; read {@link result} at the end.
 */
export class GramReducer {
  readonly r: Reduced;
  readonly #groups: Group[];
  readonly #halves: Array<Array<[number[], number[]]>>;
  readonly #groupOf: Int32Array;
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
    this.#halves = options.halves;
    this.#groupOf = new Int32Array(m).fill(-1);
    groups.forEach((gr, i) => gr.members.forEach((f) => (this.#groupOf[f] = i)));
    this.#s = new Float64Array(g);
    this.#live = new Uint8Array(m);
  }

  /**
   * Adds sample `x`: `gram` is its M×M Gram of unit vectors (row-major, f64), `status[i]` model
   * i's row status (`ROW_LIVE`, `ROW_ZERO`, `ROW_NON_FINITE`); rows not live are counted and
   * ignored.
   */
  add(x: number, gram: Float64Array, status: Uint8Array): void {
    const r = this.r, m = r.models, n = r.samples, groups = this.#groups;
    const b = r.blockOf[x]!;
    const nonzero = this.#live;
    for (let i = 0; i < m; i++) nonzero[i] = status[i] === ROW_LIVE ? 1 : 0;
    for (let i = 0; i < m; i++) {
      if (!nonzero[i]) {
        if (status[i] === ROW_NON_FINITE) r.nonFinite[i]!++;
        else r.zeros[i]!++;
        continue;
      }
      for (let j = 0; j < m; j++) {
        if (!nonzero[j]) continue;
        const v = gram[i * m + j]!;
        r.pairSum[i * m + j]! += v;
        r.pairCount[i * m + j]!++;
        r.pairBlockSum[b * m * m + i * m + j]! += v;
        r.pairBlockCount[b * m * m + i * m + j]!++;
      }
    }
    const live = (list: number[]) => list.filter((f) => nonzero[f]);
    const cross = (a: number[], c: number[]) => {
      let s = 0;
      for (const i of a) for (const j of c) s += gram[i * m + j]!;
      return s;
    };
    const ss = this.#s;
    const liveMembers = groups.map((gr) => live(gr.members));
    groups.forEach((_, gi) => {
      const a = liveMembers[gi]!;
      const s2 = cross(a, a);
      ss[gi] = s2;
      const cnt = a.length;
      r.svN[gi * n + x] = cnt;
      if (cnt >= 1 && s2 > 0) {
        r.sv[gi * n + x] = 1 - Math.sqrt(s2) / cnt;
      }
      if (cnt >= 2) {
        const pairMean = (s2 - cnt) / (cnt * (cnt - 1));
        r.svCorrected[gi * n + x] = 1 - Math.sqrt(Math.max(0, pairMean));
        for (const f of a) {
          let row = 0;
          for (const j of a) row += gram[f * m + j]!;
          const rest = s2 - 2 * row + 1;
          if (rest > 1e-12) r.t[f * n + x] = Math.max(-1, Math.min(1, (row - 1) / Math.sqrt(rest)));
        }
      }
      // Split halves: only members live at x; halves with no live member are skipped.
      const halves = this.#halves[gi] ?? [];
      let acc = 0, used = 0;
      for (const [ha, hb] of halves) {
        const la = live(ha), lb = live(hb);
        const sa = cross(la, la), sb = cross(lb, lb);
        if (sa <= 0 || sb <= 0) continue;
        acc += cross(la, lb) / Math.sqrt(sa * sb);
        used++;
      }
      if (used > 0) r.splitHalf[gi * n + x] = acc / used;
    });
    const g = groups.length;
    for (let a = 0; a < g; a++) {
      const la = liveMembers[a]!;
      for (let c = 0; c < g; c++) {
        const lc = liveMembers[c]!;
        if (a !== c && ss[a]! > 0 && ss[c]! > 0) {
          r.meanDir[(a * g + c) * n + x] = cross(la, lc) / Math.sqrt(ss[a]! * ss[c]!);
          // Cross-width halves: half A of a against half B of c, with the same split index.
          const ha = this.#halves[a] ?? [], hc = this.#halves[c] ?? [];
          let acc = 0, used = 0;
          for (let s = 0; s < Math.min(ha.length, hc.length); s++) {
            const pa = live(ha[s]![0]), pc = live(hc[s]![1]);
            const sa = cross(pa, pa), sc = cross(pc, pc);
            if (sa <= 0 || sc <= 0) continue;
            acc += cross(pa, pc) / Math.sqrt(sa * sc);
            used++;
          }
          if (used > 0) r.crossHalf[(a * g + c) * n + x] = acc / used;
        }
      }
      // Cosine of every model outside group a to a's mean direction.
      if (ss[a]! > 0) {
        const norm = Math.sqrt(ss[a]!);
        for (let f = 0; f < m; f++) {
          if (!nonzero[f] || this.#groupOf[f] === a) continue;
          let s = 0;
          for (const j of la) s += gram[f * m + j]!;
          r.toMeanSum[a * m + f]! += s / norm;
          r.toMeanCount[a * m + f]!++;
          r.toMeanBlockSum[(b * g + a) * m + f]! += s / norm;
          r.toMeanBlockCount[(b * g + a) * m + f]!++;
        }
      }
    }
  }

  /** The accumulated summaries. */
  result(): Reduced {
    return this.r;
  }
}
