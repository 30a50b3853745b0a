/**
 * Group mean directions kernel: per group of models and per sample, the mean of the unit
 * vectors `m_G(x)`, its norm (spherical variance `1 − ‖m_G(x)‖`), the direction
 * `μ_G(x) = m/‖m‖` and the counts, plus cosines between groups' mean directions.
 *
 * @module
 */
export {
  GROUP_WG,
  groupLoopBound,
  groupMeans,
  groupSumsOnDevice,
  samplesPerChunk,
} from "./group_means.ts";
export {
  checkLabels,
  groupMeans as referenceGroupMeans,
  type GroupMeansOptions,
  type GroupMeansResult,
  groupSums,
  scaledNorm,
} from "./_reference.ts";
