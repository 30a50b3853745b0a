/**
 * The analysis's link to the kernels: one batch of gradients through `groupSums` (normalise
 * with scaled norms, zero and NaN/±Inf rows flagged, per-sample Grams and the group reductions
 * of the reducer's plan, on the device when `gpu` has one, else the kernels' float64
 * reference) into the reducer.
 *
 * @module
 */

import { type Gpu, groupSums, reference } from "../../kernels/mod.ts";
import type { GramReducer } from "./_reduce.ts";

/** Floats per streamed batch by default: 16 M (64 MB of float32). */
export const BATCH_FLOATS = 16_000_000;
/** The most samples per streamed batch by default. */
export const MAX_BATCH_SAMPLES = 2048;

/**
 * The default samples per streamed batch for `models` models of `dim` values: about
 * {@linkcode BATCH_FLOATS} floats, 8 … {@linkcode MAX_BATCH_SAMPLES} samples. Every batch costs
 * one submit and read-back on the device (about 11 ms on lavapipe) and a few dispatches, so
 * small model counts take many samples per batch: at M = 16, D = 784 a batch of 256 samples
 * spent about a sixth of its time on that round trip.
 *
 * @example
 * ```ts
 * import { streamBatchSize } from "./_grams.ts";
 * if (streamBatchSize(16, 784) !== 1275 || streamBatchSize(256, 3072) !== 20) throw new Error();
 * ```
 */
export function streamBatchSize(models: number, dim: number): number {
  const fit = Math.floor(BATCH_FLOATS / Math.max(1, models * dim));
  return Math.max(8, Math.min(MAX_BATCH_SAMPLES, fit));
}

/**
 * Reduces samples `start … start + count − 1` of a `[M][count][D]` batch into `reducer`. With
 * `gpu` null the kernels' float64 reference runs. Only the group sums (per-block M×M pair sums,
 * per-model row sums over groups, per-sample set-pair sums) come back from the device.
 */
export async function reduceBatch(
  gpu: Gpu | null,
  reducer: GramReducer,
  data: Float32Array,
  dims: { models: number; start: number; count: number; dim: number },
): Promise<void> {
  const { models, start, count, dim } = dims;
  const shape = { models, samples: count, dim };
  const blocks = reducer.blockIds(start, count);
  const sums = gpu === null
    ? reference.groupSums(reference.sampleGrams(data, shape), reducer.plan, blocks)
    : await groupSums(gpu, data, shape, reducer.plan, blocks);
  reducer.addSums(start, sums);
}
