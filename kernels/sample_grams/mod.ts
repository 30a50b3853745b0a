/**
 * Normalise and per-sample Grams: {@linkcode sampleGrams} and its float64 reference.
 *
 * @module
 */
export {
  checkShape,
  chunkInput,
  chunkSamples,
  columnChunks,
  GRAM_COLUMNS,
  GRAM_TILE_32_FROM,
  GRAM_WG,
  gramKernelBody,
  gramLoopBound,
  type GramStage,
  gramStage,
  gramStageBytes,
  gramStageMaxBytes,
  gramTile,
  maxDim,
  ROW_SCALE_WG,
  rowScaleLanes,
  rowScaleLoopBound,
  rowScalesProgram,
  sampleGrams,
  type SampleGramsOptions,
  sampleGramsProgram,
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
