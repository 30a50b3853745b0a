/** Pure-TypeScript reference of the group-mean-direction kernels (f64 arithmetic). */
import { allPairs, checkBatch } from "../gpu/checks.ts";

/** Options of {@linkcode groupMeans}. */
export interface GroupMeansOptions {
  /** Number of models M. */
  models: number;
  /** Values per unit vector D. */
  dim: number;
  /** `[models][samples]`: 1 where the gradient is zero (left out of every mean). */
  zero: Uint8Array;
  /** Group of each model, 0 … groups−1, or −1 for none. */
  labels: Int32Array;
  /** Number of groups (default: the largest label + 1). */
  groups?: number;
  /** Also the cosines between the groups' mean directions, per sample and summed. */
  between?: boolean;
}

/** Mean directions of every group at every sample of one batch. */
export interface GroupMeansResult {
  /** Number of groups G. */
  groups: number;
  /** Samples in the batch N. */
  samples: number;
  /** Values per vector D. */
  dim: number;
  /** `[groups][samples]`: models of the group with a non-zero gradient at the sample. */
  count: Uint32Array;
  /** `[groups][samples][dim]`: m_G(x) = mean of the unit vectors (zeros where count is 0). */
  mean: Float32Array;
  /** `[groups][samples]`: ‖m_G(x)‖ (NaN where count is 0). */
  meanNorm: Float64Array;
  /** `[groups][samples]`: spherical variance 1 − ‖m_G(x)‖ (NaN where count is 0). */
  sphericalVariance: Float64Array;
  /** `[groups][samples][dim]`: μ_G(x) = m/‖m‖ (zeros where invalid). */
  direction: Float32Array;
  /** `[groups][samples]`: 1 where μ_G(x) exists (count > 0 and m ≠ 0). */
  valid: Uint8Array;
  /** Cosines between groups' mean directions (when `between` is set). */
  between?: {
    /** Group pairs (g, h), g < h. */
    pairs: Array<[number, number]>;
    /** `[pairs][samples]`: cos(μ_g(x), μ_h(x)), NaN where either is invalid. */
    cosines: Float32Array;
    /** G×G: Σ over samples where both are valid (diagonal: the count, as cos = 1). */
    sum: Float64Array;
    /** G×G: samples where both are valid. */
    count: Uint32Array;
  };
}

/** Checks labels and returns the number of groups and a CSR member list. */
export function checkLabels(
  labels: Int32Array,
  models: number,
  groups?: number,
): { groups: number; members: Uint32Array } {
  if (!(labels instanceof Int32Array) || labels.length !== models) {
    throw new TypeError(
      `labels has ${labels?.length} entries; expected an Int32Array of one label per model (${models}).`,
    );
  }
  let G = 0;
  for (const l of labels) {
    if (!Number.isInteger(l) || l < -1) {
      throw new RangeError(`labels holds ${l}; expected a group index ≥ 0, or −1 for none.`);
    }
    G = Math.max(G, l + 1);
  }
  if (groups !== undefined) {
    if (!Number.isInteger(groups) || groups < G) {
      throw new RangeError(
        `groups is ${groups}; expected an integer ≥ the largest label + 1 = ${G}.`,
      );
    }
    G = groups;
  }
  if (G === 0) {
    throw new RangeError("labels has no model in any group; expected at least one label ≥ 0.");
  }
  const size = new Uint32Array(G + 1);
  for (const l of labels) if (l >= 0) size[l + 1]!++;
  for (let g = 0; g < G; g++) size[g + 1]! += size[g]!;
  const members = new Uint32Array(G + 1 + size[G]!);
  members.set(size);
  const fill = size.slice(0, G);
  labels.forEach((l, m) => {
    if (l >= 0) members[G + 1 + fill[l]!++] = m;
  });
  return { groups: G, members };
}

/** Between-group sums and counts from per-pair cosines and validity. */
export function betweenSums(
  G: number,
  N: number,
  valid: Uint8Array,
  cosines: Float32Array,
): { pairs: Array<[number, number]>; sum: Float64Array; count: Uint32Array } {
  const pairs = allPairs(G);
  const sum = new Float64Array(G * G);
  const count = new Uint32Array(G * G);
  for (let g = 0; g < G; g++) {
    let c = 0;
    for (let x = 0; x < N; x++) c += valid[g * N + x]!;
    count[g * G + g] = c;
    sum[g * G + g] = c;
  }
  pairs.forEach(([g, h], p) => {
    let s = 0, c = 0;
    for (let x = 0; x < N; x++) {
      const v = cosines[p * N + x]!;
      if (!Number.isNaN(v)) {
        s += v;
        c++;
      }
    }
    sum[g * G + h] = sum[h * G + g] = s;
    count[g * G + h] = count[h * G + g] = c;
  });
  return { pairs, sum, count };
}

/** Fills mean, meanNorm, sphericalVariance and valid from sums S, counts and ‖S‖. */
export function finishMeans(
  sums: ArrayLike<number>,
  count: Uint32Array,
  sumNorm: ArrayLike<number>,
  D: number,
): Pick<GroupMeansResult, "mean" | "meanNorm" | "sphericalVariance" | "valid"> {
  const rows = count.length;
  const mean = new Float32Array(rows * D);
  const meanNorm = new Float64Array(rows);
  const sphericalVariance = new Float64Array(rows);
  const valid = new Uint8Array(rows);
  for (let r = 0; r < rows; r++) {
    const c = count[r]!;
    if (c === 0) {
      meanNorm[r] = NaN;
      sphericalVariance[r] = NaN;
      continue;
    }
    for (let d = 0; d < D; d++) mean[r * D + d] = sums[r * D + d]! / c;
    meanNorm[r] = sumNorm[r]! / c;
    sphericalVariance[r] = 1 - meanNorm[r]!;
    valid[r] = sumNorm[r]! > 0 ? 1 : 0;
  }
  return { mean, meanNorm, sphericalVariance, valid };
}

/** Scaled L2 norm of v[from … from+n) in f64. */
export function scaledNorm(v: ArrayLike<number>, from: number, n: number): number {
  let mx = 0;
  for (let d = 0; d < n; d++) mx = Math.max(mx, Math.abs(v[from + d]!));
  if (mx === 0) return 0;
  let ss = 0;
  for (let d = 0; d < n; d++) ss += (v[from + d]! / mx) ** 2;
  return mx * Math.sqrt(ss);
}

/**
 * Group mean directions at every sample, in f64: `m_G(x)` = mean of the unit vectors of the
 * group's models with a non-zero gradient at x, `‖m_G(x)‖`, spherical variance `1 − ‖m_G(x)‖`,
 * `μ_G(x) = m/‖m‖`, the counts, and optionally the cosines between groups' mean directions.
 * The reference the WGSL kernel is tested against, and the CPU fallback.
 *
 * Cost: O(M·N·D) plus O(G²·N·D) for `between`.
 *
 * @throws {TypeError} when lengths do not match models × samples × dim or labels ≠ models.
 * @throws {RangeError} when a label is below −1 or no model is in any group.
 *
 * @example
 * ```ts
 * import { reference } from "../mod.ts";
 * // two models in group 0 at one sample: (1, 0) and (0, 1) → m = (0.5, 0.5), ‖m‖ = 0.707
 * const r = reference.groupMeans(new Float32Array([1, 0, 0, 1]), {
 *   models: 2, dim: 2, zero: new Uint8Array(2), labels: new Int32Array([0, 0]) });
 * if (Math.abs(r.meanNorm[0]! - Math.SQRT1_2) > 1e-12 || r.count[0] !== 2) throw new Error("wrong");
 * ```
 */
export function groupMeans(units: Float32Array, options: GroupMeansOptions): GroupMeansResult {
  const { models: M, dim: D, zero } = options;
  const N = checkBatch(units, zero, M, D);
  const { groups: G, members } = checkLabels(options.labels, M, options.groups);
  const { sums, count } = groupSums(units, zero, members, G, M, N, D);
  const sumNorm = new Float64Array(G * N);
  const direction = new Float32Array(G * N * D);
  for (let r = 0; r < G * N; r++) {
    const n = scaledNorm(sums, r * D, D);
    sumNorm[r] = n;
    if (n > 0) { for (let d = 0; d < D; d++) direction[r * D + d] = sums[r * D + d]! / n; }
  }
  const result: GroupMeansResult = {
    groups: G,
    samples: N,
    dim: D,
    count,
    direction,
    ...finishMeans(sums, count, sumNorm, D),
  };
  if (options.between) {
    const pairs = allPairs(G);
    const cosines = new Float32Array(pairs.length * N);
    pairs.forEach(([g, h], p) => {
      for (let x = 0; x < N; x++) {
        if (!result.valid[g * N + x] || !result.valid[h * N + x]) {
          cosines[p * N + x] = NaN;
          continue;
        }
        const a = (g * N + x) * D, b = (h * N + x) * D;
        let s = 0;
        for (let d = 0; d < D; d++) {
          s += (sums[a + d]! / sumNorm[g * N + x]!) * (sums[b + d]! / sumNorm[h * N + x]!);
        }
        cosines[p * N + x] = Math.max(-1, Math.min(1, s));
      }
    });
    result.between = { ...betweenSums(G, N, result.valid, cosines), cosines };
  }
  return result;
}

/** S_G(x) = Σ of the non-zero unit vectors of each group (f64) and the counts. */
export function groupSums(
  units: Float32Array,
  zero: Uint8Array,
  members: Uint32Array,
  G: number,
  M: number,
  N: number,
  D: number,
): { sums: Float64Array; count: Uint32Array } {
  void M;
  const sums = new Float64Array(G * N * D);
  const count = new Uint32Array(G * N);
  for (let g = 0; g < G; g++) {
    for (let k = members[g]!; k < members[g + 1]!; k++) {
      const m = members[G + 1 + k]!;
      for (let x = 0; x < N; x++) {
        if (zero[m * N + x]) continue;
        count[g * N + x]!++;
        const from = (m * N + x) * D, to = (g * N + x) * D;
        for (let d = 0; d < D; d++) sums[to + d]! += units[from + d]!;
      }
    }
  }
  return { sums, count };
}
