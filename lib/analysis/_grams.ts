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
