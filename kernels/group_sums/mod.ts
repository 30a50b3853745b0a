/**
 * The group reductions that follow the per-sample Grams: {@linkcode groupSums} on the device
 * and its float64 reference.
 *
 * @module
 */
export {
  BLOCK_SUMS,
  COSINES,
  GROUP_SUM_PROGRAMS,
  groupSums,
  INV_NORMS,
  NO_MEMBER,
  packedSets,
  REDUCE_WG,
  SET_PAIRS,
  SET_STEP,
  SET_SUMS,
  setRanges,
} from "./group_sums.ts";
export {
  blockRanges,
  type GroupSums,
  groupSumsReference,
  largestSet,
  type SetPlan,
  setPlan,
} from "./_reference.ts";
