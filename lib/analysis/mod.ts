/**
 * Analysis of input-salience gradients: the similarity statistics of the study (p_ind, p(k1,k2),
 * mean-direction similarity beside its split-half control, spherical variance, Table 1, the
 * marginal of t with Saw fits and the random baseline), the paper's claims as checks with
 * bootstrap intervals, and the writers of every JSON file under `<sweep>/analysis/` (types in
 * `schema.ts`, fields in `docs/analysis.md`).
 *
 * ```ts
 * import { analyzeGradients } from "./mod.ts";
 * const data = new Float32Array([1, 0, 0, 1, 1, 0.1, 0, 1]); // 2 models × 2 samples × 2
 * const stream = { models: 2, samples: 2, dim: 2, async *batches() { yield { start: 0, count: 2, data }; } };
 * const a = await analyzeGradients(stream, [
 *   { family: "MLP", k: 1, seed: 0 }, { family: "MLP", k: 1, seed: 1 },
 * ], { resamples: 20 });
 * if (a.similarity.models.length !== 2) throw new Error("wrong");
 * ```
 *
 * @module
 */
export * from "./schema.ts";
export { bootInterval, claim, percentileInterval, slope, verdictOf } from "./claims.ts";
export { fitSawFamily, type SawFamilyOptions } from "./saw_family.ts";
export {
  type ClaimScope,
  claimScope,
  DEFAULT_H2_THRESHOLD,
  MIN_SEEDS_PER_GROUP,
} from "./gradient_claims.ts";
export {
  analyzeGradients,
  type BatchRange,
  type BatchStream,
  DEFAULT_MIN_TEST_ACCURACY,
  type GradientAnalysis,
  type GradientAnalysisOptions,
  type ModelInput,
  NON_FINITE_POLICIES,
  type NonFinitePolicy,
} from "./gradients.ts";
export {
  analyzeExternal,
  type AnalyzeOptions,
  type AnalyzeResult,
  analyzeSweep,
  type ExternalModels,
  type ExternalOptions,
  runModelInput,
  writeAnalysisFile,
} from "./sweep.ts";
export {
  analyzeNpyBytes,
  arrayStream,
  backendSummary,
  type ExternalAnalysis,
  externalModels,
  gradientShape,
  modelMajorStream,
  npyGradients,
} from "./external.ts";
export { type OurSetting, PAPER_DEMO, PAPER_FIGURES, paperComparison } from "./paper.ts";
export {
  type ChwShape,
  PAPER_POOL,
  pooledStream,
  poolingFile,
  poolingVariant,
  UNPOOLED_SALIENCE,
} from "./pooling.ts";
// The streaming reduction's two steps, for benchmarks and callers with their own batch loop.
export { reduceBatch, streamBatchSize } from "./_grams.ts";
export { GramReducer, type Group, type Reduced, type ReducerOptions } from "./_reduce.ts";
