/** Pure-TypeScript reference of the pairwise-similarity kernels (f64 accumulation). */
import { allPairs, checkBatch, checkCount, checkPairs, cosineBin } from "../gpu/checks.ts";

/** Options shared by the reference and the GPU accumulator. */
export interface PairwiseOptions {
  /** Number of models M. */
  models: number;
  /** Values per unit vector D (after pooling). */
  dim: number;
  /** Pairs whose per-sample cosines or histograms are wanted (default: every i < j). */
  pairs?: ReadonlyArray<readonly [number, number]>;
  /** Number of equal bins on [−1, 1] for per-pair histograms of the per-sample cosines. */
  histogramBins?: number;
  /** Keep the per-sample cosine of every pair in `pairs` (NaN where either gradient is zero). */
  cosines?: boolean;
  /**
   * Gram kernel version on WebGPU: "tiled" (workgroup-memory tiles, the default on GPUs) or
   * "registers" (no barriers, the default on software adapters). Ignored on the CPU path.
   */
  kernel?: "tiled" | "registers";
}

/** Sums over samples for every pair of models, plus the optional per-pair distributions. */
export interface PairwiseResult {
  /** Number of models M. */
  models: number;
  /** Samples added. */
  samples: number;
  /** M×M, row-major, symmetric: Σ_x cos(u_i(x), u_j(x)) over samples where both are non-zero. */
  sum: Float64Array;
  /** M×M: number of samples where both gradients are non-zero (the diagonal: model i's). */
  count: Uint32Array;
  /** Per-pair histograms of the per-sample cosines (only samples where both are non-zero). */
  histograms?: { bins: number; pairs: Array<[number, number]>; counts: Uint32Array };
  /** Per-pair, per-sample cosines: `values[p·samples + x]`, NaN where either is zero. */
  cosines?: { pairs: Array<[number, number]>; values: Float32Array };
}

/** Adds popcount(nz_i ∧ nz_j) for every i ≤ j to `count` (mirrored). */
export function addCounts(zero: Uint8Array, models: number, count: Uint32Array): void {
  const samples = zero.length / models;
  const words = Math.ceil(samples / 32);
  const bits = new Uint32Array(models * words);
  for (let m = 0; m < models; m++) {
    for (let x = 0; x < samples; x++) {
      if (!zero[m * samples + x]) bits[m * words + (x >>> 5)]! |= 1 << (x & 31);
    }
  }
  for (let i = 0; i < models; i++) {
    for (let j = i; j < models; j++) {
      let c = 0;
      for (let w = 0; w < words; w++) {
        let v = bits[i * words + w]! & bits[j * words + w]!;
        v = v - ((v >>> 1) & 0x55555555);
        v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
        c += (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
      }
      count[i * models + j]! += c;
      if (i !== j) count[j * models + i]! += c;
    }
  }
}

/**
 * The batch's Gram sums `sum[i·M + j] = Σ_x ⟨u_i(x), u_j(x)⟩` of `[M][N][D]` unit vectors, in
 * f64 (symmetric, both triangles filled). Cost: O(M²·N·D/2) multiply-adds.
 */
export function gramSums(units: Float32Array, M: number, N: number, D: number): Float64Array {
  const sum = new Float64Array(M * M);
  for (let i = 0; i < M; i++) {
    for (let j = i; j < M; j++) {
      let s = 0;
      for (let x = 0; x < N; x++) {
        const a = (i * N + x) * D, b = (j * N + x) * D;
        for (let d = 0; d < D; d++) s += units[a + d]! * units[b + d]!;
      }
      sum[i * M + j] = s;
      sum[j * M + i] = s;
    }
  }
  return sum;
}

/**
 * Pairwise similarity of M models over one batch of unit vectors: for every pair (i, j),
 * `sum[i][j] = Σ_x ⟨u_i(x), u_j(x)⟩` (= Σ cos, zero gradients contributing nothing) and
 * `count[i][j]` = samples where both are non-zero; optionally per-pair per-sample cosines and
 * histograms. The reference the WGSL kernel is tested against, and the CPU fallback.
 *
 * Cost: O(M²·N·D/2) multiply-adds in f64.
 *
 * @throws {TypeError} when `units`/`zero` lengths do not match `models`, `dim`.
 * @throws {RangeError} when a pair names a model out of range or bins < 1.
 *
 * @example
 * ```ts
 * import { reference } from "../mod.ts";
 * // 2 models, 1 sample, dim 2: u_0 = (1, 0), u_1 = (0.6, 0.8)
 * const r = reference.pairwiseSimilarity(
 *   new Float32Array([1, 0, 0.6, 0.8]), new Uint8Array(2), { models: 2, dim: 2 });
 * if (Math.abs(r.sum[1]! - 0.6) > 1e-6 || r.count[1] !== 1) throw new Error("wrong");
 * ```
 */
export function pairwiseSimilarity(
  units: Float32Array,
  zero: Uint8Array,
  options: PairwiseOptions,
): PairwiseResult {
  const { models: M, dim: D } = options;
  const N = checkBatch(units, zero, M, D);
  const sum = gramSums(units, M, N, D);
  const count = new Uint32Array(M * M);
  addCounts(zero, M, count);
  const result: PairwiseResult = { models: M, samples: N, sum, count };
  const extra = pairCosines(units, zero, options);
  if (extra.histograms) result.histograms = extra.histograms;
  if (extra.cosines) result.cosines = extra.cosines;
  return result;
}

/**
 * Per-sample cosines of the chosen pairs (f64, clamped to [−1, 1], NaN where either gradient is
 * zero) and their histograms, as requested by `options`. Cost: O(P·N·D).
 */
export function pairCosines(
  units: Float32Array,
  zero: Uint8Array,
  options: PairwiseOptions,
): Pick<PairwiseResult, "histograms" | "cosines"> {
  const { models: M, dim: D } = options;
  const N = checkBatch(units, zero, M, D);
  const bins = options.histogramBins ?? 0;
  if (options.histogramBins !== undefined) checkCount("histogramBins", bins);
  if (!bins && !options.cosines) return {};
  const pairs = (options.pairs ?? allPairs(M)).map(([i, j]) => [i, j] as [number, number]);
  checkPairs(pairs, M);
  const values = new Float32Array(pairs.length * N);
  const counts = new Uint32Array(pairs.length * bins);
  pairs.forEach(([i, j], p) => {
    for (let x = 0; x < N; x++) {
      if (zero[i * N + x] || zero[j * N + x]) {
        values[p * N + x] = NaN;
        continue;
      }
      const a = (i * N + x) * D, b = (j * N + x) * D;
      let s = 0;
      for (let d = 0; d < D; d++) s += units[a + d]! * units[b + d]!;
      const c = Math.max(-1, Math.min(1, s));
      values[p * N + x] = c;
      if (bins) counts[p * bins + cosineBin(c, bins)]!++;
    }
  });
  const out: Pick<PairwiseResult, "histograms" | "cosines"> = {};
  if (bins) out.histograms = { bins, pairs, counts };
  if (options.cosines) out.cosines = { pairs, values };
  return out;
}
