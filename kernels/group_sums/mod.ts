/**
 * The group reductions that follow the per-sample Grams: {@linkcode groupSums} on the device
 * and its float64 reference.
 *
 * @module
 */
export {
  BLOCK_SUMS,
  COSINES,
  DERIVED_STEP,
  GROUP_SUM_PROGRAMS,
  groupSums,
  INV_NORMS,
  NO_MEMBER,
  packedSets,
  REDUCE_WG,
  SET_PAIRS,
  SET_STEP,
  SET_SUMS,
  type SetWalk,
  setWalk,
  STEP_DERIVED,
  STEP_PARENT,
  stepSet,
} from "./group_sums.ts";
export {
  blockRanges,
  type GroupSums,
  groupSumsReference,
  largestSet,
  type SetPlan,
  setPlan,
} from "./_reference.ts";
