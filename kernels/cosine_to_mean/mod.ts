/**
 * Cosine-to-the-mean kernel: `t_f(x) = ⟨u_f(x), μ(x)⟩` for every model and sample, with μ
 * leave-one-out from the model's own group, from another group, or given by the caller.
 *
 * @module
 */
export { COSINE_TO_MEAN_WG, cosineToMean, cosineToMeanLoopBound } from "./cosine_to_mean.ts";
export {
  cosineToMean as referenceCosineToMean,
  type CosineToMeanOptions,
  type CosineToMeanResult,
  type MeanTarget,
} from "./_reference.ts";
