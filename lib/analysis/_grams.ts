/**
 * Per-sample Gram matrices of a gradient batch: rows are normalised on the CPU (scaled norms,
 * zero rows flagged), then the pairwise-similarity kernel returns every pair's per-sample cosine
 * (on the GPU when `gpu` has a device, else its reference path).
 *
 * @module
 */

import { type Gpu, PairwiseSimilarity } from "../../kernels/mod.ts";
import { batchGrams, normaliseRows } from "./_reduce.ts";

/**
 * Calls `each(i, gram, nonzero)` for every sample of a `[M][count][D]` batch with its M×M Gram of
 * unit vectors. With `gpu` null the whole computation runs in TypeScript.
 */
export async function forEachGram(
  gpu: Gpu | null,
  data: Float32Array,
  dims: { models: number; count: number; dim: number },
  each: (i: number, gram: Float64Array, nonzero: Uint8Array) => void,
): Promise<void> {
  const { models: m, count, dim } = dims;
  if (gpu === null || m < 2) {
    batchGrams(data, m, count, dim, each);
    return;
  }
  const units = new Float32Array(data.length);
  const nz = normaliseRows(data, m * count, dim, units);
  const zero = new Uint8Array(m * count);
  for (let i = 0; i < zero.length; i++) zero[i] = nz[i] ? 0 : 1;
  const acc = new PairwiseSimilarity(gpu, { models: m, dim, cosines: true });
  await acc.add(units, zero);
  const res = acc.result();
  const cos = res.cosines!;
  const gram = new Float64Array(m * m);
  const nonzero = new Uint8Array(m);
  for (let s = 0; s < count; s++) {
    gram.fill(0);
    for (let i = 0; i < m; i++) {
      nonzero[i] = nz[i * count + s]!;
      if (nonzero[i]) gram[i * m + i] = 1;
    }
    cos.pairs.forEach(([i, j], p) => {
      const v = cos.values[p * count + s]!;
      if (nonzero[i] && nonzero[j] && Number.isFinite(v)) gram[i * m + j] = gram[j * m + i] = v;
    });
    each(s, gram, nonzero);
  }
}
