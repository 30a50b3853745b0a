/**
 * WGSL salience kernels and the GPU device layer.
 *
 * Everything runs on a {@linkcode Gpu} from {@linkcode requestGpu}: a WebGPU device (shared
 * with TensorFlow.js if you pass its device in), or, where no adapter exists or `forceCpu` is
 * set, the pure-TypeScript reference kernels — `gpu.describe()` says which, and names software
 * adapters (llvmpipe, lavapipe, SwiftShader) as such.
 *
 * Kernels (gradients are float32, model-major `[models][samples][dim]`, fed in sample batches):
 * - {@linkcode normalizeRows}: optional area pooling, scaled norm, unit vectors, zero flags.
 * - {@linkcode PairwiseSimilarity}: Σ_x cos(u_i(x), u_j(x)) and counts for every pair,
 *   optional per-sample cosines and histograms.
 * - {@linkcode groupMeans}: per group and sample, m_G(x), ‖m_G(x)‖, μ_G(x), counts, and the
 *   cosines between groups' mean directions.
 * - {@linkcode cosineToMean}: t_f(x) = ⟨u_f(x), μ(x)⟩ with μ leave-one-out, from another group,
 *   or given.
 *
 * `reference.*` holds the plain-TypeScript f64 version of each kernel (the test oracle and
 * the CPU path).
 *
 * @example
 * ```ts
 * import { PairwiseSimilarity, requestGpu } from "./mod.ts";
 * const gpu = await requestGpu();
 * console.log(gpu.describe());
 * const acc = new PairwiseSimilarity(gpu, { models: 2, dim: 3 });
 * await acc.add(new Float32Array([1, 0, 0, 0, 1, 0]), new Uint8Array(2));
 * console.log(acc.result().sum); // [1, 0, 0, 1]
 * gpu.destroy();
 * ```
 *
 * @module
 */
export { Gpu, LOOP_CAP, requestGpu, type RequestGpuOptions } from "./gpu/mod.ts";
export {
  type NormalizedBatch,
  type NormalizeOptions,
  normalizeRows,
  type PoolOptions,
} from "./normalize_rows/mod.ts";
export {
  type PairwiseOptions,
  type PairwiseResult,
  PairwiseSimilarity,
} from "./pairwise_similarity/mod.ts";

export { groupMeans, type GroupMeansOptions, type GroupMeansResult } from "./group_means/mod.ts";
export {
  cosineToMean,
  type CosineToMeanOptions,
  type CosineToMeanResult,
  type MeanTarget,
} from "./cosine_to_mean/mod.ts";

import { pairCosines, pairwiseSimilarity } from "./pairwise_similarity/mod.ts";
import { referenceGroupMeans } from "./group_means/mod.ts";
import { referenceCosineToMean } from "./cosine_to_mean/mod.ts";
import { areaPool, referenceNormalizeRows } from "./normalize_rows/mod.ts";

/** Plain-TypeScript reference kernels (f64 accumulation): the test oracle and the CPU path. */
export const reference = {
  normalizeRows: referenceNormalizeRows,
  areaPool,
  pairwiseSimilarity,
  pairCosines,
  groupMeans: referenceGroupMeans,
  cosineToMean: referenceCosineToMean,
} as const;
