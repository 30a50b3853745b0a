/**
 * Normalise and per-sample Grams: {@linkcode sampleGrams} and its float64 reference.
 *
 * @module
 */
export {
  GRAM_A_TILE,
  GRAM_RA,
  GRAM_RB,
  GRAM_WG,
  gramKernelBody,
  gramLoopBound,
  ROW_SCALE_WG,
  ROW_SCALES,
  rowScaleLoopBound,
  SAMPLE_GRAMS,
  sampleGrams,
  type SampleGramsOptions,
  tilePairs,
} from "./sample_grams.ts";
export {
  type BatchShape,
  finishGrams,
  ROW_LIVE,
  ROW_NON_FINITE,
  ROW_ZERO,
  type SampleGrams,
  sampleGramsReference,
  SMALLEST_NORMAL,
} from "./_reference.ts";
