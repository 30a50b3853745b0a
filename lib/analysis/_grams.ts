/**
 * The analysis's link to the kernels: per-sample Gram matrices of a gradient batch's unit
 * vectors, from `sampleGrams` (normalise with scaled norms, zero and NaN/±Inf rows flagged, and
 * the Grams, on the device when `gpu` has one, else the kernel's float64 reference).
 *
 * @module
 */

import { type Gpu, reference, ROW_LIVE, sampleGrams } from "../../kernels/mod.ts";

/**
 * Calls `each(i, gram, nonzero)` for every sample of a `[M][count][D]` batch with its M×M Gram of
 * unit vectors (a view, valid during the call) and which models' rows are live (non-zero and
 * finite). With `gpu` null the kernel's float64 reference runs.
 */
export async function forEachGram(
  gpu: Gpu | null,
  data: Float32Array,
  dims: { models: number; count: number; dim: number },
  each: (i: number, gram: Float64Array, nonzero: Uint8Array) => void,
): Promise<void> {
  const { models: m, count, dim } = dims;
  const shape = { models: m, samples: count, dim };
  const r = gpu === null ? reference.sampleGrams(data, shape) : await sampleGrams(gpu, data, shape);
  const nonzero = new Uint8Array(m);
  for (let s = 0; s < count; s++) {
    for (let i = 0; i < m; i++) nonzero[i] = r.status[i * count + s] === ROW_LIVE ? 1 : 0;
    each(s, r.grams.subarray(s * m * m, (s + 1) * m * m), nonzero);
  }
}
