/**
 * Pairwise similarity kernel: for every pair of models, the sum over samples of the cosine of
 * their gradients and the count of samples where both are non-zero, accumulated over sample
 * batches; optionally per-sample cosines of chosen pairs and their histograms on [−1, 1].
 *
 * @module
 */
export {
  COSINE_WG,
  cosineLoopBound,
  GRAM_KERNELS,
  GRAM_KS,
  GRAM_REG_LARGE_FROM,
  GRAM_REG_R,
  GRAM_REG_R_LARGE,
  GRAM_REG_WG,
  GRAM_TILE,
  GRAM_WG,
  type GramKernel,
  gramLoopBound,
  pairCosinesOnDevice,
  PairwiseSimilarity,
  registerBlock,
  registerKernelBody,
  SPAN_SUM_WG,
} from "./pairwise_similarity.ts";
export {
  pairCosines,
  type PairwiseOptions,
  type PairwiseResult,
  pairwiseSimilarity,
} from "./_reference.ts";
