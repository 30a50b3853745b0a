/**
 * WGSL salience kernels and the GPU device layer.
 *
 * Everything runs on a {@linkcode Gpu} from {@linkcode requestGpu}: a WebGPU device, or,
 * where no adapter exists or `forceCpu` is set, the pure-TypeScript float64 reference. To share
 * one device with TensorFlow.js, pass its WebGPU backend's device
 * (`requestGpu({ device: backend.device })`), or hand `gpu.device` to the backend you create.
 * `gpu.describe()` says which, and names software adapters (llvmpipe, lavapipe, SwiftShader) as
 * such; print it in every run's output. When the device is lost in the middle of a kernel, that
 * kernel's work is redone from the start on a fresh device (or on the CPU when none can be had);
 * no partial result is returned.
 *
 * The pipeline that runs. Every statistic of the analysis is a function of the per-sample Gram
 * matrices of the models' unit gradients, G_x[i][j] = ⟨u_i(x), u_j(x)⟩, and of sums of them over
 * model sets, so that is the kernels' contract. {@linkcode groupSums}`(gpu, grads, shape, plan,
 * blockOf)` takes a float32 batch `[models][samples][dim]`, the model sets of a
 * {@linkcode SetPlan} (the analysis's groups, then every split's halves) and each sample's
 * bootstrap block, and in one compute pass and one submit per chunk of samples runs
 *
 * 1. `sample_grams/row_scales.wgsl`: each row's largest magnitude (a scaled norm, so 1e-20
 *    gradients do not underflow), zero and NaN/±Inf rows flagged;
 * 2. `sample_grams/sample_grams.wgsl`: register-tiled Grams of the rows, each fetched vec4
 *    multiplied by its row's scale first, for every sample
 *    (rows longer than one dispatch's loop cap summed over several column ranges);
 * 3. `group_sums/cosines.wgsl`: unit-vector cosines, rows left out zeroed;
 * 4. `group_sums/block_sums.wgsl`: per bootstrap block the M×M pair sums Σ_x cos and the
 *    live-pair counts (p_ind and its intervals);
 * 5. `group_sums/set_sums.wgsl`: per sample and model the row sums Σ_{j∈s} cos[f][j] over each
 *    set (leave-one-out t, cosines to other groups' means);
 * 6. `group_sums/set_pairs.wgsl`: per sample the set-pair sums ‖S_a‖² and ⟨S_a, S_b⟩ (spherical
 *    variance, mean directions, split halves, cross-width halves);
 *
 * then reads back only those summaries (per batch: blocks × M² sums and counts, groups × n × M
 * row sums, n × pairs pair sums, the M × n row flags), never the n × M × M Grams;
 * `lib/analysis`'s `GramReducer` turns them into per-sample statistics at O(M·G + G²·splits)
 * per sample. {@linkcode sampleGrams} runs steps 1–2 alone and returns the cosines (for callers
 * that want the Grams themselves). `areaPool` (P×P area pooling, on the CPU) prepares pooled
 * gradients.
 *
 * Large inputs the kernels re-read (the gradients, the cosines, the set members) are textures,
 * not storage buffers: on software adapters a storage-buffer load costs 30–40 ns per invocation
 * (lavapipe, measured, uniform address or not), a texel fetch about 4 ns.
 *
 * Kernels are {@linkcode Program} descriptors run by {@linkcode runPrograms} (`kernels/gpu/`):
 * pipelines cached by shader, source variant and `override` constants, one shared WGSL prelude.
 * Every buffer, texture, uniform, read-back buffer and bind group a kernel uses is kept on the
 * `Gpu` between calls (`kernels/gpu/kept.ts`), so a stream of batches of one shape allocates
 * nothing after its first batch: one upload, one submit and one map per batch. The memory stays
 * held until `gpu.destroy()` (or `gpu.releaseKept()`).
 *
 * Precision: f32 products summed in f32 per invocation; cosines within 2e-6 of the float64
 * reference for short rows and 1e-5 at D = 70,000 and 300,002; the analysis files within 1e-4
 * (relative) of the reference path. Splitting a batch into chunks (lower `maxBindingBytes` to
 * force it) does not change a sample's result.
 *
 * Limits: each dispatch's loop iterations per invocation are asserted under
 * {@linkcode LOOP_CAP} (Mesa's software adapters silently stop an invocation after 65,535);
 * a Gram dispatch walks at most `GRAM_COLUMNS` vec4 of a row and longer rows are split into
 * several dispatches that add their partial sums (rows up to about 2.1 M values, the row-scale
 * pass's bound); a chunk holds at most LOOP_CAP − 1 samples, so a block's pair sums over any
 * number of samples are added up from bounded per-chunk loops; a set's loops run over its
 * members (at most 65,536 models).
 *
 * `reference.*` holds the plain-TypeScript f64 version of each kernel (the test oracle and
 * the CPU path): `sampleGrams`, `groupSums` (from the reference's cosines), `areaPool`.
 *
 * @example
 * ```ts
 * import { requestGpu, sampleGrams } from "./mod.ts";
 * const gpu = await requestGpu();
 * console.log(gpu.describe());
 * // 2 models × 1 sample × 3 values
 * const grads = new Float32Array([2, 0, 0, 0, 5, 0]);
 * const { grams, zeros } = await sampleGrams(gpu, grads, { models: 2, samples: 1, dim: 3 });
 * if (Math.abs(grams[1]!) > 1e-7 || zeros !== 0) throw new Error("orthogonal gradients");
 * gpu.destroy();
 * ```
 *
 * @module
 */
export { Gpu, LOOP_CAP, requestGpu, type RequestGpuOptions } from "./gpu/mod.ts";
export { type Dispatch, type Program, runPrograms } from "./gpu/mod.ts";
export {
  type BatchShape,
  ROW_LIVE,
  ROW_NON_FINITE,
  ROW_ZERO,
  type SampleGrams,
  sampleGrams,
  type SampleGramsOptions,
} from "./sample_grams/mod.ts";
export { type GroupSums, groupSums, type SetPlan, setPlan } from "./group_sums/mod.ts";
export { type PoolOptions } from "./area_pool/mod.ts";

import { areaPool } from "./area_pool/mod.ts";
import { groupSumsReference } from "./group_sums/mod.ts";
import { sampleGramsReference } from "./sample_grams/mod.ts";

/** Plain-TypeScript reference kernels (f64 accumulation): the test oracle and the CPU path. */
export const reference = {
  sampleGrams: sampleGramsReference,
  groupSums: groupSumsReference,
  areaPool,
} as const;
