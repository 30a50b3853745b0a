/**
 * The gradient-only analysis as a pipeline of pure steps: group the models and fix the split
 * halves (`grouping.ts`), stream the gradients through the Gram reduction into per-sample
 * summaries (`_reduce.ts`, `_grams.ts`), then build each file from those summaries alone —
 * `similarity.json` (`similarity.ts`), `table1.json` (`table1.ts`), `marginals.json`
 * (`marginals.ts`), `small_predicts_large.json` (`small_predicts_large.ts`), `batch_size.json`
 * (`batch_size.ts`) and the claims (`gradient_claims.ts`).
 *
 * @module
 */

import type { Gpu } from "../../kernels/mod.ts";
import { deriveSeed } from "../stats/mod.ts";
import { reduceBatch, streamBatchSize } from "./_grams.ts";
import { GramReducer, type Group, type Reduced } from "./_reduce.ts";
import { batchSizeFile } from "./batch_size.ts";
import {
  claimScope,
  deeperDistanceClaim,
  DEFAULT_H2_THRESHOLD,
  pairClaims,
} from "./gradient_claims.ts";
import { familiesOf, groupModels, splitHalves } from "./grouping.ts";
import { type BatchStream, fileHeader, type ModelInput } from "./inputs.ts";
import { marginalsFile } from "./marginals.ts";
import { includingModelT } from "./mean_direction.ts";
import type {
  BatchSizeFile,
  ClaimEntry,
  GradientInfo,
  MarginalsFile,
  SimilarityFile,
  SmallPredictsLargeFile,
  Table1File,
} from "./schema.ts";
import { similarityDraws, similarityFile } from "./similarity.ts";
import { smallPredictsLargeFile } from "./small_predicts_large.ts";
import { distanceMatrices, sortedT, table1File } from "./table1.ts";

export type { BatchRange, BatchStream, ModelInput } from "./inputs.ts";

/** The default accuracy floor of the claims: a claim measured on untrained models is not evidence. */
export const DEFAULT_MIN_TEST_ACCURACY = 0.75;

/** What a NaN or ±Inf gradient does: left out and counted, or an error. */
export type NonFinitePolicy = "exclude" | "error";

/** The values {@link NonFinitePolicy} takes. */
export const NON_FINITE_POLICIES: readonly NonFinitePolicy[] = ["exclude", "error"];

/** Options of {@link analyzeGradients}. */
export interface GradientAnalysisOptions {
  /** Where the gradients came from (the sweep id or file name), copied into every file. */
  source?: string;
  /** What the gradients are (N and D are taken from the stream). */
  info?: Partial<Omit<GradientInfo, "samples" | "dimension">>;
  /** Kernels' device; null (default) computes everything in TypeScript. */
  gpu?: Gpu | null;
  /** Samples per streamed batch (default: `streamBatchSize`, about 16 M floats, 8 … 2,048 samples). */
  batchSize?: number;
  /** Contiguous sample blocks the bootstrap resamples (default min(N, 64)). */
  blocks?: number;
  /** Bootstrap resamples (default 1000; lowered automatically for very many models). */
  resamples?: number;
  /** Interval coverage (default 0.95). */
  level?: number;
  /** Seed of every random choice (splits, bootstrap; default 0). */
  seed?: number;
  /** Random halvings per group for the split-half control (default 8). */
  splits?: number;
  /** Images with their own t marginal in `marginals.json` (default 4). */
  perImageLimit?: number;
  /** Fewest seeds a width needs for its per-image marginals (default 10). */
  perImageMinSeeds?: number;
  /**
   * Also report t against μ including the model (the paper's μ from all seeds) beside the
   * leave-one-out t in `marginals.json`, with the bias of each (default false).
   */
  includingModelMean?: boolean;
  /** KDE grid points on [−1, 1] (default 1001). */
  gridSize?: number;
  /**
   * Where log ψ comes from (default "chain"): each width fitted on the next smaller width's
   * marginal and the slopes multiplied (κ of the smallest width = 1; needs adjacent widths'
   * marginals to overlap), the smallest width for all ("smallest-k"), or all widths pooled.
   */
  sawReference?: "chain" | "smallest-k" | "pooled";
  /** Grid points below this fraction of a density's maximum are left out of the fit (0.01). */
  densityFloor?: number;
  /** Threshold of the disattenuated H2 cosine (default 0.9, fixed before looking at data). */
  h2Threshold?: number;
  /**
   * Models whose recorded test accuracy is below this are left out of every claim (default
   * {@link DEFAULT_MIN_TEST_ACCURACY}); null applies no floor. Models without a recorded
   * accuracy are kept.
   */
  minTestAccuracy?: number | null;
  /**
   * What a gradient holding NaN or ±Inf does (default "exclude"): counted per model
   * (`nonFiniteGradients`) and left out like a zero gradient, on every backend alike; or
   * "error": the analysis stops at the first batch holding one, naming the models.
   */
  nonFinite?: NonFinitePolicy;
  /** Progress messages. */
  onProgress?: (message: string) => void;
}

/** Everything {@link analyzeGradients} computes. */
export interface GradientAnalysis {
  similarity: SimilarityFile;
  table1: Table1File;
  marginals: MarginalsFile;
  smallPredictsLarge: SmallPredictsLargeFile;
  /** Null when every model has the same (or no) batch size. */
  batchSize: BatchSizeFile | null;
  /** Claims that need only gradients. */
  claims: ClaimEntry[];
  /** The per-sample summaries (t values and Grams sums) for experiments that reuse them. */
  reduced: Reduced;
  groups: Group[];
  warnings: string[];
  timings: Record<string, number>;
}

/**
 * Runs the gradient-only analysis over a batch stream of M models × N samples × D values.
 *
 * Per sample it forms the M×M Gram of unit gradients (kernels when `gpu` is given) and keeps
 * per-sample summaries (see `docs/analysis.md` for every figure). Cost: O(N·M²·D) for the Grams,
 * O(N·(M² + G²·splits·n²)) for the summaries, O(resamples · B · M²) for the intervals.
 *
 * @throws {TypeError} when `models.length` differs from the stream's M.
 * @throws {RangeError} when the stream holds no samples or no models.
 *
 * @example
 * ```ts
 * import { analyzeGradients } from "./gradients.ts";
 * const data = new Float32Array([1, 0, 0, 1, 1, 0.1, 0, 1]); // 2 models × 2 samples × 2
 * const stream = {
 *   models: 2, samples: 2, dim: 2,
 *   async *batches() { yield { start: 0, count: 2, data }; },
 * };
 * const a = await analyzeGradients(stream, [
 *   { family: "MLP", k: 1, seed: 0 }, { family: "MLP", k: 1, seed: 1 },
 * ], { resamples: 20 });
 * if (!(a.similarity.pInd.values[0]![1]! > 0.99)) throw new Error("wrong p_ind");
 * ```
 */
export async function analyzeGradients(
  stream: BatchStream,
  models: readonly ModelInput[],
  options: GradientAnalysisOptions = {},
): Promise<GradientAnalysis> {
  const M = stream.models, N = stream.samples, D = stream.dim;
  if (models.length !== M) {
    throw new TypeError(
      `models lists ${models.length} entries but the gradients hold ${M} models; pass one entry per model.`,
    );
  }
  if (M < 1 || N < 1) {
    throw new RangeError(
      `gradients hold ${M} models × ${N} samples; expected at least one of each.`,
    );
  }
  const timings: Record<string, number> = {};
  let t0 = performance.now();
  const lap = (name: string) => {
    timings[name] = performance.now() - t0;
    t0 = performance.now();
  };
  const seed = options.seed ?? 0;
  const header = fileHeader(options.source ?? "gradients");
  const { groups } = groupModels(models);
  const families = familiesOf(groups);
  const splits = options.splits ?? 8;
  const halves = splitHalves(groups, { splits, seed });

  const r = await reduceStream(stream, models, groups, halves, options);
  lap("reduce");

  const B = r.blocks;
  // The requested resamples, lowered for very many models to what 3e8 pair-block terms allow,
  // but not below 100.
  const boot = {
    resamples: Math.min(
      options.resamples ?? 1000,
      Math.max(100, Math.floor(3e8 / Math.max(1, M * M * B))),
    ),
    level: options.level ?? 0.95,
  };
  // Every bootstrap stream's seed is derived from the analysis seed and the stream's name.
  const seedOf = (label: string, ...index: number[]) => deriveSeed(seed, label, ...index);
  const warnings: string[] = [];
  const zeroTotal = r.zeros.reduce((a, b) => a + b, 0);
  if (zeroTotal > 0) warnings.push(`${zeroTotal} zero gradients were counted and left out.`);
  const nonFinite = nonFiniteModels(r, models);
  if (nonFinite.total > 0) {
    warnings.push(
      `${nonFinite.total} gradients holding NaN or ±Inf were counted and left out (${nonFinite.list}).`,
    );
  }

  const draws = similarityDraws(r, groups, { ...boot, seed: seedOf("similarity") });
  const scope = claimScope(
    groups,
    models,
    options.minTestAccuracy === undefined ? DEFAULT_MIN_TEST_ACCURACY : options.minTestAccuracy,
  );
  const similarity = similarityFile({
    r,
    groups,
    families,
    models,
    header,
    info: {
      dimension: D,
      scalar: options.info?.scalar ?? null,
      pooling: options.info?.pooling ?? null,
      inputShape: options.info?.inputShape ?? null,
    },
    splits,
    draws,
    boot,
    seedOf,
    baseSeed: seed,
    accuracyFloor: scope.floor,
  });
  lap("similarity");

  const tSorted = sortedT(r, groups);
  const distances = distanceMatrices(groups, tSorted);
  const table1 = table1File({ groups, tSorted, distances, header });
  lap("table1");

  const marginals = marginalsFile({
    r,
    groups,
    families,
    tSorted,
    dimension: D,
    header,
    options,
    includingModel: options.includingModelMean ? includingModelT(r, groups) : null,
  });
  warnings.push(...marginals.warnings);
  lap("marginals");

  const smallPredictsLarge = smallPredictsLargeFile({
    r,
    groups,
    families,
    expected: similarity.expected,
    boot,
    seedOf: (s, l) => seedOf("smallPredictsLarge", s, l),
    header,
  });
  const batchSize = batchSizeFile({
    r,
    models,
    boot,
    seedOf: (first) => seedOf("batchSize", first),
    header,
  });

  const claimInput = { r, scope, boot, seedOf: (label: string) => seedOf(label) };
  const claims: ClaimEntry[] = [
    ...pairClaims({ ...claimInput, h2Threshold: options.h2Threshold ?? DEFAULT_H2_THRESHOLD }),
    deeperDistanceClaim(claimInput),
  ];
  lap("claims");

  return {
    similarity,
    table1,
    marginals: marginals.file,
    smallPredictsLarge,
    batchSize,
    claims,
    reduced: r,
    groups,
    warnings,
    timings,
  };
}

/** Streams the gradients through the Gram reduction into per-sample summaries. */
async function reduceStream(
  stream: BatchStream,
  models: readonly ModelInput[],
  groups: Group[],
  halves: Array<Array<[number[], number[]]>>,
  options: GradientAnalysisOptions,
): Promise<Reduced> {
  const M = stream.models, N = stream.samples, D = stream.dim;
  const reducer = new GramReducer(M, N, groups, { blocks: options.blocks, halves });
  const gpu = options.gpu ?? null;
  const policy = options.nonFinite ?? "exclude";
  if (!NON_FINITE_POLICIES.includes(policy)) {
    throw new RangeError(
      `nonFinite is ${JSON.stringify(policy)}; expected one of ${
        NON_FINITE_POLICIES.map((p) => `"${p}"`).join(", ")
      }.`,
    );
  }
  const streamBatch = options.batchSize ?? streamBatchSize(M, D);
  for await (const batch of stream.batches(streamBatch, { reuseBuffer: true })) {
    await reduceBatch(gpu, reducer, batch.data, {
      models: M,
      start: batch.start,
      count: batch.count,
      dim: D,
    });
    if (policy === "error") {
      const bad = nonFiniteModels(reducer.result(), models);
      if (bad.total > 0) {
        throw new RangeError(
          `gradients hold NaN or ±Inf (${bad.list}) by sample ${
            batch.start + batch.count - 1
          }; fix the run that produced them, or set the analysis's nonFinite option to "exclude" (--non-finite exclude) to count them and leave them out.`,
        );
      }
    }
    options.onProgress?.(
      `reduced samples ${batch.start}..${batch.start + batch.count - 1} of ${N}`,
    );
  }
  return reducer.result();
}

/** Gradients holding NaN or ±Inf: the total and a list of the models that hold them. */
function nonFiniteModels(
  r: Reduced,
  models: readonly ModelInput[],
): { total: number; list: string } {
  const parts: string[] = [];
  let total = 0;
  r.nonFinite.forEach((n, i) => {
    if (n === 0) return;
    total += n;
    const m = models[i]!;
    parts.push(`${m.id ?? `model ${i}`} (${m.family} k=${m.k} seed ${m.seed}): ${n}`);
  });
  return { total, list: parts.join(", ") };
}
