/**
 * The analysis's link to the kernels: per-sample Gram matrices of a gradient batch's unit
 * vectors, from `sampleGrams` (normalise with scaled norms, zero and NaN/±Inf rows flagged, and
 * the Grams, on the device when `gpu` has one, else the kernel's float64 reference).
 *
 * @module
 */

import { type Gpu, reference, sampleGrams } from "../../kernels/mod.ts";

/**
 * Calls `each(i, gram, status)` for every sample of a `[M][count][D]` batch with its M×M Gram of
 * unit vectors (a view, valid during the call) and each model's row status (`ROW_LIVE`,
 * `ROW_ZERO`, `ROW_NON_FINITE`). With `gpu` null the kernel's float64 reference runs.
 */
export async function forEachGram(
  gpu: Gpu | null,
  data: Float32Array,
  dims: { models: number; count: number; dim: number },
  each: (i: number, gram: Float64Array, status: Uint8Array) => void,
): Promise<void> {
  const { models: m, count, dim } = dims;
  const shape = { models: m, samples: count, dim };
  const r = gpu === null ? reference.sampleGrams(data, shape) : await sampleGrams(gpu, data, shape);
  const status = new Uint8Array(m);
  for (let s = 0; s < count; s++) {
    for (let i = 0; i < m; i++) status[i] = r.status[i * count + s]!;
    each(s, r.grams.subarray(s * m * m, (s + 1) * m * m), status);
  }
}
