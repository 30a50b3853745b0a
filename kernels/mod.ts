/**
 * WGSL salience kernels and the GPU device layer.
 *
 * Everything runs on a {@linkcode Gpu} from {@linkcode requestGpu}: a WebGPU device, or,
 * where no adapter exists or `forceCpu` is set, the pure-TypeScript reference kernels. To share
 * one device with TensorFlow.js, pass its WebGPU backend's device
 * (`requestGpu({ device: backend.device })`), or hand `gpu.device` to the backend you create. `gpu.describe()` says which, and names
 * software adapters (llvmpipe, lavapipe, SwiftShader) as such; print it in every run's output.
 * When the device is lost in the middle of a kernel, that kernel's work is redone from the
 * start on a fresh device (or on the CPU when none can be had); no partial sum is returned.
 *
 * Data: float32, model-major `[models][samples][dim]`, one sample batch at a time (a real
 * sweep does not fit in memory). A typical pass over a gradient store:
 *
 * 1. {@linkcode normalizeRows}`(gpu, grads, { models, dim, pool? })` → unit vectors, zero
 *    flags and norms (optional P×P area pooling; NaN/Inf rejected naming model and sample).
 * 2. `new` {@linkcode PairwiseSimilarity}`(gpu, { models, dim, pairs?, histogramBins?,
 *    cosines? })`, `await acc.add(units, zero)` per batch, then `acc.result()` → M×M
 *    `sum` (Σ_x cos) and `count` (samples where both are non-zero): p_ind = sum/count.
 * 3. {@linkcode groupMeans}`(gpu, units, { models, dim, zero, labels, between? })` → per group
 *    and sample m_G, ‖m_G‖, spherical variance, μ_G, counts, cosines between groups.
 * 4. {@linkcode cosineToMean}`(gpu, units, { models, dim, zero, labels, target? })` → t_f(x),
 *    leave-one-out by default, NaN plus a validity mask where undefined.
 *
 * Precision: GPU partial sums are f32 and are added across chunks and batches in f64 on the
 * CPU. Unit vectors match the f64 reference within 1e-6 per value; pairwise sums within
 * 1e-5 per sample summed; group means and t within 2e-6. Splitting a reduction (lower
 * `maxBindingBytes` to force it) changes sums only within these tolerances.
 *
 * Speed: on software adapters (lavapipe, llvmpipe) the pairwise Gram runs the register-blocked
 * kernel (`kernel: "registers"`, chosen automatically from `gpu.isSoftware`), on GPUs the
 * workgroup-tiled one (`"tiled"`). Its input goes through a staging buffer that the `Gpu` keeps
 * mapped between batches ({@linkcode Gpu.uploadShared}; it holds up to two buffers of the
 * largest chunk until `gpu.destroy()`), because a fresh buffer uploads at only 0.15–0.3 GB/s
 * under Deno on a loaded CPU.
 *
 * Limits: each dispatcher computes every invocation's total loop iterations and asserts it is
 * under {@linkcode LOOP_CAP} (Mesa's software adapters silently stop an invocation after
 * 65,535); long reductions are split across invocations, workgroups and dispatches.
 *
 * `reference.*` holds the plain-TypeScript f64 version of each kernel (the test oracle and
 * the CPU path): `normalizeRows`, `areaPool`, `pairwiseSimilarity`, `pairCosines`,
 * `groupMeans`, `cosineToMean`.
 *
 * @example
 * ```ts
 * import { normalizeRows, PairwiseSimilarity, requestGpu } from "./mod.ts";
 * const gpu = await requestGpu();
 * console.log(gpu.describe());
 * // 2 models × 1 sample × 3 values
 * const grads = new Float32Array([2, 0, 0, 0, 5, 0]);
 * const { units, zero } = await normalizeRows(gpu, grads, { models: 2, dim: 3 });
 * const acc = new PairwiseSimilarity(gpu, { models: 2, dim: 3 });
 * await acc.add(units, zero);
 * const { sum, count } = acc.result();
 * if (sum[1] !== 0 || count[1] !== 1) throw new Error("orthogonal gradients");
 * gpu.destroy();
 * ```
 *
 * @module
 */
export { Gpu, LOOP_CAP, requestGpu, type RequestGpuOptions } from "./gpu/mod.ts";
export {
  type BatchShape,
  ROW_LIVE,
  ROW_NON_FINITE,
  ROW_ZERO,
  type SampleGrams,
  sampleGrams,
  type SampleGramsOptions,
} from "./sample_grams/mod.ts";
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
import { sampleGramsReference } from "./sample_grams/mod.ts";

/** Plain-TypeScript reference kernels (f64 accumulation): the test oracle and the CPU path. */
export const reference = {
  sampleGrams: sampleGramsReference,
  normalizeRows: referenceNormalizeRows,
  areaPool,
  pairwiseSimilarity,
  pairCosines,
  groupMeans: referenceGroupMeans,
  cosineToMean: referenceCosineToMean,
} as const;
