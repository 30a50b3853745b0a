/**
 * Normalise + pool kernel: optional P×P area pooling per channel, then the scaled L2 norm and
 * unit vector of every (model, sample) gradient, with zero gradients flagged and NaN/Inf
 * rejected.
 *
 * @module
 */
export { NORMALIZE_WG, normalizeLoopBound, normalizeRows } from "./normalize_rows.ts";
export {
  areaPool,
  type NormalizedBatch,
  type NormalizeOptions,
  normalizeRows as referenceNormalizeRows,
  type PoolOptions,
} from "./_reference.ts";
