/**
 * Types of every JSON file the analysis writes under `<sweep>/analysis/`. The report site reads
 * these files and nothing else of the analysis, so each field is documented here and in
 * `docs/analysis.md`. Every file carries `schemaVersion`; a reader that finds another version
 * refuses the file instead of guessing.
 *
 * Conventions shared by all files:
 * - A statistic that could not be computed (no pairs, all gradients zero) is `null`, never NaN.
 * - Every average carries the number of (model, sample) pairs it ran over (`pairs`) and, where
 *   models are paired, the number of model pairs (`modelPairs`).
 * - Zero gradients are counted and left out of every average (never divided by).
 * - Intervals are percentile bootstrap intervals; `over` names what was resampled.
 *
 * @module
 */

/** Version of every file described here; bumped on any incompatible change. */
export const ANALYSIS_SCHEMA_VERSION = 1 as const;

/** Names of the files written under `<sweep>/analysis/`, keyed by their `kind`. */
export const ANALYSIS_FILES = {
  summary: "summary.json",
  similarity: "similarity.json",
  table1: "table1.json",
  marginals: "marginals.json",
  attacks: "attacks.json",
  ensembles: "ensembles.json",
  batchSize: "batch_size.json",
  smallPredictsLarge: "small_predicts_large.json",
  claims: "claims.json",
  pooling: "pooling.json",
  paper: "paper.json",
} as const;

/** The `kind` field of an analysis file. */
export type AnalysisKind = keyof typeof ANALYSIS_FILES;

/** Fields every analysis file starts with. */
export interface AnalysisHeader<K extends AnalysisKind> {
  /** Always {@link ANALYSIS_SCHEMA_VERSION}. */
  schemaVersion: typeof ANALYSIS_SCHEMA_VERSION;
  /** Which file this is. */
  kind: K;
  /** ISO 8601 time the file was written. */
  generatedAt: string;
  /** Where the gradients came from: the sweep id, or the external `.npy` file's name. */
  source: string;
}

/** A percentile bootstrap interval. */
export interface Interval {
  /** Lower end. */
  lo: number;
  /** Upper end. */
  hi: number;
  /** Coverage, e.g. 0.95. */
  level: number;
  /** Number of bootstrap resamples. */
  resamples: number;
  /**
   * What was resampled with replacement: `"seeds"` (models within each group), `"samples"`
   * (probe images, or contiguous blocks of them, see `blocks`), `"targets"` (target models of an
   * attack), `"members"` (ensemble draws).
   */
  over: Array<"seeds" | "samples" | "targets" | "members">;
  /** When samples were resampled in contiguous blocks: the number of blocks; else null. */
  blocks: number | null;
}

/** A mean with its support and an optional interval. */
export interface Estimate {
  /** The mean; null when there was nothing to average. */
  mean: number | null;
  /** Standard deviation of the averaged unit (model pair, model or sample, see the field). */
  std: number | null;
  /** Number of (model, sample) pairs the mean ran over (zero gradients excluded). */
  pairs: number;
  /** Bootstrap interval of the mean, or null when not computed. */
  ci: Interval | null;
}

/** One model of the analysis, in the order of every model-indexed array. */
export interface ModelEntry {
  /** Position in every model-indexed array of the file. */
  index: number;
  /** Run id in the store, or `model-<index>` for external gradients. */
  id: string;
  /** Family name, e.g. `"CNNSmall"`. */
  family: string;
  /** Width parameter. */
  k: number;
  /** Training seed. */
  seed: number;
  /** Training batch size when known (the batch-size study varies it), else null. */
  batchSize: number | null;
  /** Number of probe samples whose gradient was exactly zero (left out everywhere). */
  zeroGradients: number;
  /**
   * Number of probe samples whose gradient held NaN or ±Inf (left out everywhere, like a zero
   * gradient; absent in files written before it was counted apart).
   */
  nonFiniteGradients?: number;
  /** Test accuracy when recorded (absent in files written before it was added). */
  accuracy?: number | null;
}

/** The accuracy floor of the claims: which models it left out and the accuracies seen. */
export interface AccuracyFloor {
  /** Models below this test accuracy are left out of every claim; null: no floor. */
  minTestAccuracy: number | null;
  /** The models left out, with their accuracy. */
  excluded: Array<{
    index: number;
    id: string;
    family: string;
    k: number;
    seed: number;
    accuracy: number;
  }>;
  /** Models kept without a recorded accuracy (external gradients): the floor cannot judge them. */
  unknown: number;
  /** Lowest and highest recorded test accuracy over all models; null when none is recorded. */
  range: [number, number] | null;
}

/** A group of models: one family at one width (seeds vary). */
export interface GroupEntry {
  /** Position in every group-indexed array of the file. */
  index: number;
  family: string;
  k: number;
  /** Indices into the file's `models` of the group's members, in seed order. */
  members: number[];
}

/** What the gradients are (copied from the `.npy` sidecar where known). */
export interface GradientInfo {
  /** Number of probe samples N. */
  samples: number;
  /** Dimension D of each gradient as compared (after pooling). */
  dimension: number;
  /** Differentiated scalar, e.g. `"true-logit"`, or null if unknown. */
  scalar: string | null;
  /** Pooling size P (P×P per channel) or null when unpooled or unknown. */
  pooling: number | null;
  /** Input shape [C, H, W] before pooling, or null. */
  inputShape: [number, number, number] | null;
}

// ---------------------------------------------------------------- similarity.json

/** One cell of a group × group matrix of pair averages. */
export interface PairCell extends Estimate {
  /** Number of distinct model pairs (f1 ≠ f2) averaged. */
  modelPairs: number;
}

/** p(k1, k2) for one family, laid out by width for heatmaps. */
export interface FamilyMatrix {
  family: string;
  /** Widths in increasing order; rows and columns of `mean` follow them. */
  ks: number[];
  /** `mean[i][j]` = the cell's mean (null when no pairs). */
  mean: (number | null)[][];
  /** Standard deviation over model pairs, same layout. */
  std: (number | null)[][];
  /** Model pairs per cell, same layout. */
  modelPairs: number[][];
}

/** Contents of `similarity.json`. */
export interface SimilarityFile extends AnalysisHeader<"similarity"> {
  gradients: GradientInfo;
  models: ModelEntry[];
  groups: GroupEntry[];
  /** Total zero gradients over all models and samples. */
  zeroGradients: number;
  /** Total gradients holding NaN or ±Inf (absent in files written before they were counted). */
  nonFiniteGradients?: number;
  /**
   * Individual similarity p_ind(f1, f2) = mean_x cos(g_f1(x), g_f2(x)), an M × M matrix in
   * `models` order; the diagonal is 1 where the model has a non-zero gradient.
   */
  pInd: {
    values: (number | null)[][];
    /** Samples where both gradients were non-zero, M × M. */
    counts: number[][];
  };
  /**
   * Expected similarity p(g1, g2) = mean over model pairs f1 ∈ g1, f2 ∈ g2, f1 ≠ f2, of p_ind:
   * a G × G matrix over `groups` (across families as well as within). `std` is over model pairs;
   * the interval resamples seeds within each group and sample blocks.
   */
  expected: PairCell[][];
  /** The within-family blocks of `expected`, by width. */
  byFamily: FamilyMatrix[];
  /**
   * Mean-direction similarity mean_x cos(μ_g1(x), μ_g2(x)), G × G over `groups`, where μ_g is
   * the normalised mean of the group's unit gradients at x. The diagonal is null: see `splitHalf`.
   * `std` is over samples; `pairs` counts samples where both means are defined; the interval
   * resamples sample blocks.
   */
  meanDirection: (Estimate | null)[][];
  /**
   * Split-half control: for each group with at least 2 members, the seeds are split at random
   * into two disjoint halves `splits` times; the value is mean_x cos(μ_A(x), μ_B(x)) averaged over
   * splits. Compare it with `meanDirection` across widths: averaging alone raises that number.
   */
  splitHalf: Array<{
    group: number;
    family: string;
    k: number;
    /** Members in each half (the larger half first when odd). */
    halfSizes: [number, number];
    splits: number;
    estimate: Estimate;
  }>;
  /**
   * Spherical variance 1 − ‖m_g(x)‖ with m_g(x) = mean of the n members' unit gradients,
   * averaged over x (H1: it falls as k grows). It depends on n (uniform directions give about
   * 1 − 1/√n), so `n` is reported and `corrected` gives 1 − √max(0, (n‖m‖² − 1)/(n − 1)),
   * the plug-in value with the unbiased estimate of ‖E u‖² (the mean pairwise cosine within
   * the group), which does not grow with n for a fixed distribution.
   */
  sphericalVariance: Array<{
    group: number;
    family: string;
    k: number;
    /** Members with a non-zero gradient, maximum over samples. */
    n: number;
    estimate: Estimate;
    corrected: Estimate;
  }>;
  /** Resamples and level used by every interval of the file. */
  bootstrap: { resamples: number; level: number; blocks: number; seed: number };
  /**
   * The accuracy floor applied to the claims (the matrices above keep every model); absent in
   * files written before it was added.
   */
  accuracyFloor?: AccuracyFloor;
}

// ---------------------------------------------------------------- table1.json

/** Contents of `table1.json`: the paper's Table 1. */
export interface Table1File extends AnalysisHeader<"table1"> {
  /**
   * Which per-model distribution over x is compared: `"t"` (cosine to the group's mean direction
   * estimated without the model, the default) or `"pairwise"` (cosine to each other member).
   */
  basis: "t";
  /** The largest possible distance (cosines lie in [−1, 1]). */
  upperBound: 2;
  rows: Array<{
    family: string;
    k: number;
    /** Mean over pairs f1 ≠ f2 in F(k) of W1(S(f1), S(f2)); null with fewer than 2 models. */
    mean: number | null;
    /** Standard deviation over those pairs (population, n in the denominator). */
    std: number | null;
    /** Number of model pairs. */
    modelPairs: number;
    /** Members of the group. */
    models: number;
    /** Samples per model distribution (minimum over members; zero gradients left out). */
    samplesPerModel: number;
  }>;
}

// ---------------------------------------------------------------- marginals.json

/** A Saw-model fit: log(p_k / P_origin) ≈ κ · log ψ + intercept over the fitted grid points. */
export interface SawFit {
  kappa: number | null;
  intercept: number | null;
  /** R² of the regression of log(p_k / P_origin) on log ψ (the paper's reading). */
  r2: number | null;
  /**
   * 1 − SS_res / SS_tot(log p_k): the same residuals against the spread of log p_k itself. For
   * large d, −log P_origin sits on both sides of the regression and pushes `r2` towards 1 whatever
   * the data; this one does not and can be negative.
   */
  r2LogDensity: number | null;
  /** Grid points used (where the KDE is above `densityFloor` of its maximum). */
  points: number;
}

/** The marginal of t for one group. */
export interface GroupMarginal {
  group: number;
  family: string;
  k: number;
  /** Values of t pooled over members and samples. */
  pooled: {
    /** Number of (model, sample) pairs, i.e. t values. */
    pairs: number;
    mean: number | null;
    /** KDE density on `grid` (Gaussian kernel). */
    density: number[];
    bandwidth: number;
    /** Decile cut points (10 %, …, 90 %). */
    deciles: number[];
  };
  /**
   * The marginal of t over models for single test images (the paper's one-image figure; needs
   * many seeds per width). At most `perImageLimit` images, the first ones of the probe set.
   */
  perImage: Array<{
    sample: number;
    pairs: number;
    density: number[];
    bandwidth: number;
    deciles: number[];
  }>;
  saw: SawFit;
  /**
   * t against μ including the model (every seed of the width, the paper's μ), when the analysis
   * was asked for it (`includingModelMean`): pooled and per image like the leave-one-out t, and
   * `expected`, what independent draws with the group's p(k, k) give for E[t] under the
   * population μ, the leave-one-out μ and μ including the model (see `muIncludingModel`).
   */
  includingModel?: {
    pooled: GroupMarginal["pooled"];
    perImage: GroupMarginal["perImage"];
    expected: {
      pWithin: number;
      seeds: number;
      population: number;
      leaveOneOut: number | null;
      includingModel: number;
    } | null;
  };
}

/** Contents of `marginals.json`. */
export interface MarginalsFile extends AnalysisHeader<"marginals"> {
  /** Dimension d of the sphere the gradients live on. */
  dimension: number;
  /** How μ was estimated for t: leave-one-out within the group. */
  mu: "leave-one-out";
  /** Fewest seeds a group needs for its per-image marginals (absent in older files: 2). */
  perImageMinSeeds?: number;
  /** Present when groups carry `includingModel`: what it is and its bias. */
  muIncludingModel?: string;
  /** Evaluation grid of t in [−1, 1]. */
  grid: number[];
  /**
   * log P_origin(t) on `grid` for dimension d (uniform directions). Where it is −∞ (t = ±1 for
   * d > 3) the JSON holds `null`: read `null` as a density of 0, never as `Math.exp(null)` = 1.
   */
  logPOrigin: (number | null)[];
  /** Deciles of t under the uniform-sphere marginal for dimension d. */
  originDeciles: number[];
  groups: GroupMarginal[];
  /**
   * The Saw-model fit: one shape ψ per family, one κ per width. log ψ is estimated as
   * log(KDE_ref / P_origin) from the reference marginal (`reference`), then each width's
   * log(KDE_k / P_origin) is regressed on it. `"chain"` (the default) regresses each width on the
   * next smaller width's log(KDE/P_origin) and multiplies the slopes, so κ of the smallest width
   * is 1 by construction and every other κ is relative to it; each R² is that of its own link
   * (adjacent marginals must overlap, else κ is null from there on, with a warning). With
   * `"smallest-k"` every width is regressed on the smallest one (which gets κ = 1, R² = 1).
   * `logPsi` holds the smallest width's shape (or the pooled one).
   */
  saw: {
    reference: "chain" | "smallest-k" | "pooled";
    densityFloor: number;
    /** log ψ on `grid` per family (null where not estimated). */
    logPsi: Array<{ family: string; values: (number | null)[] }>;
  };
  /** The random baseline P(Z > p) = ∫_p^1 P_origin for dimension d. */
  randomBaseline: {
    p: number[];
    /** P(Z > p). */
    tail: number[];
    /** log10 P(Z > p) (finite where `tail` underflows). */
    log10Tail: number[];
  };
}

// ---------------------------------------------------------------- attacks.json

/** Decay ratios of one attack cell. */
export interface AlphaCell {
  /** α over all probe images: mean_x p_target(y|x') / p_target(y|x). */
  all: Estimate;
  /** α over the images the target classifies correctly. */
  correct: Estimate;
}

/** Contents of `attacks.json`. */
export interface AttacksFile extends AnalysisHeader<"attacks"> {
  /** FGSM step size in normalised units. */
  epsilon: number;
  /** The range adversarial inputs are clipped to, in normalised units: one [lo, hi] per channel
   * (a single entry when one range serves every channel). */
  clip: Array<[number, number]>;
  /** The scalar whose input gradient drives the attack. */
  scalar: "true-probability";
  /** Probe samples attacked. */
  samples: number;
  /**
   * α(k1, k2) per family: source width k1 (rows), target width k2 (columns); single source
   * models paired with target models of other seeds; `all.std` is over (source, target) pairs.
   */
  matrices: Array<{
    family: string;
    ks: number[];
    cells: (AlphaCell | null)[][];
    /** (source, target) model pairs per cell. */
    modelPairs: number[][];
  }>;
  /**
   * Three strategies per target width: `largest` (a single model of the family's largest width),
   * `same-width` (a single model of the target's width, another seed), `mean-direction` (the
   * normalised mean of the unit gradients of a population that never includes the target:
   * the same width by default, `mean-direction-all` when the option takes all families).
   */
  strategies: Array<{
    family: string;
    k: number;
    strategy: "largest" | "same-width" | "mean-direction" | "mean-direction-all";
    /** Number of target models averaged (the interval resamples them). */
    targets: number;
    /** Mean size of the source population (1 for single-model strategies). */
    sourceModels: number;
    alpha: AlphaCell;
  }>;
  /** Claims this experiment checks (copied into `claims.json`). */
  claims: ClaimEntry[];
}

// ---------------------------------------------------------------- ensembles.json

/** One point of the ensemble curve. */
export interface EnsemblePoint {
  /** Members averaged (1 = single model). */
  members: number;
  /** Number of distinct ensembles of this size evaluated. */
  draws: number;
  /** E_x[t]: cosine of the ensemble's salience to μ of seeds outside the ensemble. */
  meanT: Estimate;
  /**
   * E_x[t] that the width's p(k, k) alone predicts for this size (independent members of equal
   * norm): √(m·h)·p/√((1 + (m − 1)p)(1 + (h − 1)p)); null when p ≤ 0 or for single models.
   */
  predictedT?: number | null;
  /** Mean test cross-entropy of the ensemble (logits averaged). */
  loss: number;
  /** Test accuracy of the ensemble. */
  accuracy: number;
}

/** Contents of `ensembles.json`. */
export interface EnsemblesFile extends AnalysisHeader<"ensembles"> {
  /** Probe samples used for t, and test samples used for loss/accuracy. */
  samples: number;
  curves: Array<{
    family: string;
    k: number;
    /** Seeds of the group available; μ always comes from seeds outside the ensemble. */
    models: number;
    /** Seeds held out for μ (h). */
    heldOut?: number;
    /** p(k, k) on the probe images: mean over x of the mean pairwise cosine of every seed. */
    pWithin?: number | null;
    points: EnsemblePoint[];
  }>;
  /** Single models beside the ensembles: one point per model (members = 1, draws = 1). */
  singles: Array<{ model: number; family: string; k: number; seed: number; point: EnsemblePoint }>;
  /** Claims this experiment checks (copied into `claims.json`). */
  claims: ClaimEntry[];
}

// ---------------------------------------------------------------- batch_size.json

/** Contents of `batch_size.json`: similarity within groups that differ only in batch size. */
export interface BatchSizeFile extends AnalysisHeader<"batchSize"> {
  rows: Array<{
    family: string;
    k: number;
    batchSize: number;
    models: number;
    /** Mean pairwise cosine between distinct models of this (family, k, batch size). */
    similarity: PairCell;
    /** Mean test loss / accuracy of the models when the store recorded them, else null. */
    loss: number | null;
    accuracy: number | null;
  }>;
}

// ---------------------------------------------------------------- small_predicts_large.json

/** Contents of `small_predicts_large.json`: the mean direction of small models predicts large ones. */
export interface SmallPredictsLargeFile extends AnalysisHeader<"smallPredictsLarge"> {
  rows: Array<{
    family: string;
    kSmall: number;
    kLarge: number;
    /** mean over large models f and x of cos(μ_small(x), g_f(x)), μ over all small seeds. */
    meanDirection: Estimate;
    /** mean over pairs (small f1, large f2) and x of cos(g_f1(x), g_f2(x)). */
    individual: PairCell;
    smallModels: number;
    largeModels: number;
  }>;
}

// ---------------------------------------------------------------- claims.json

/** Verdict of one claim. */
export type Verdict = "holds" | "fails" | "inconclusive";

/** One paper claim checked against the data. */
export interface ClaimEntry {
  /** Stable id, e.g. `"similarity-rises-with-width"`. */
  id: string;
  /** The claim in words. */
  statement: string;
  /** What was measured, in words (the statistic and the families it covers). */
  measure: string;
  /** The measured figure (e.g. a mean difference or a slope); null when it could not be computed. */
  value: number | null;
  /** Bootstrap interval of `value`, or null. */
  interval: Interval | null;
  /** The value the claim is tested against (the interval must exclude it to decide). */
  threshold: number;
  verdict: Verdict;
  /** Why this verdict, in one sentence with the numbers. */
  reason: string;
  /** Number of (model, sample) pairs behind the figure. */
  pairs: number;
  /**
   * When this claim's figure is computed from the same data as another claim's, which one and
   * the correlation of the two figures over their shared bootstrap draws (so two verdicts are
   * not read as two independent pieces of evidence). Absent when the claim stands alone.
   */
  dependsOn?: { claim: string; drawCorrelation: number | null; note: string };
}

/** Contents of `claims.json`. */
export interface ClaimsFile extends AnalysisHeader<"claims"> {
  claims: ClaimEntry[];
}

// ---------------------------------------------------------------- pooling.json

/** One analysis of the same salience at one pooling, as `pooling.json` lists it. */
export interface PoolingVariant {
  /** Area-pooled to pooling × pooling per channel, or null for the unpooled gradients. */
  pooling: number | null;
  /** D as compared. */
  dimension: number;
  /** Folder of its files, relative to the sweep's `analysis/` ("" for the main analysis). */
  folder: string;
  /** Whether this is the main analysis (the config's `salience.pool`). */
  main: boolean;
  /** p(k, k) per group (the diagonal of `similarity.json` `expected`), in group order. */
  groups: Array<{ family: string; k: number; pWithin: PairCell }>;
  /** p(k1, k2) of adjacent widths per family. */
  adjacent: Array<{ family: string; k1: number; k2: number; p: PairCell }>;
  /** The gradient claims of this variant. */
  claims: Array<Pick<ClaimEntry, "id" | "value" | "interval" | "verdict" | "reason">>;
}

/** Contents of `pooling.json`: the same models' salience analysed pooled and unpooled. */
export interface PoolingFile extends AnalysisHeader<"pooling"> {
  /** The main analysis first, then the comparison (when it could run). */
  variants: PoolingVariant[];
  /** Why the comparison variant is missing, or null. */
  skipped: string | null;
}

// ---------------------------------------------------------------- paper.json

/** One of the paper's published figures beside ours. */
export interface PaperComparisonRow {
  id: string;
  /** What is compared, in words. */
  figure: string;
  /** The paper's figure: its range and how it was stated. */
  paper: { lo: number; hi: number; text: string };
  /** Ours: the range over the compared widths, in words, and each value with its interval. */
  ours: {
    range: [number, number] | null;
    text: string;
    values: Array<{ k1: number; k2: number; value: number | null; ci: Interval | null }>;
  };
  /** Whether our range meets the paper's (for one value: whether its interval holds it). */
  overlaps: boolean | null;
  /** What differs between our setting and the paper's, on the same line. */
  differs: string;
}

/** Contents of `paper.json`: our figures beside the paper's published ones. */
export interface PaperFile extends AnalysisHeader<"paper"> {
  /** The published setting compared with. */
  reference: string;
  /** The family compared (CNNSmall when the sweep has it). */
  family: string | null;
  /** Pooling of the similarity figures used (8 when the sweep analysed 8×8). */
  pooling: number | null;
  rows: PaperComparisonRow[];
  /** Why rows are missing, or null. */
  missing: string | null;
}

// ---------------------------------------------------------------- summary.json

/** Contents of `summary.json`. */
export interface SummaryFile extends AnalysisHeader<"summary"> {
  /** Which compute path reduced the gradients. */
  backend: {
    kind: "webgpu" | "reference";
    /** Adapter description, e.g. `"llvmpipe (software)"`, or null without one. */
    adapter: string | null;
    /** True when the adapter is a software (CPU) one. */
    software: boolean | null;
  };
  counts: {
    models: number;
    groups: number;
    families: number;
    samples: number;
    dimension: number;
    zeroGradients: number;
    /** Gradients holding NaN or ±Inf, left out (absent in files written before). */
    nonFiniteGradients?: number;
    /** (model, sample) pairs with a non-zero, finite gradient (the ones analysed). */
    nonZeroPairs: number;
  };
  /** Milliseconds per phase (e.g. `read`, `reduce`, `marginals`, `claims`). */
  timings: Record<string, number>;
  /** Files written in this run. */
  files: string[];
  /** Files not written and why (e.g. attacks without checkpoints). */
  skipped: Array<{ file: string; reason: string }>;
  warnings: string[];
}

/** Any analysis file. */
export type AnalysisFile =
  | SummaryFile
  | SimilarityFile
  | Table1File
  | MarginalsFile
  | AttacksFile
  | EnsemblesFile
  | BatchSizeFile
  | SmallPredictsLargeFile
  | ClaimsFile
  | PoolingFile
  | PaperFile;

/**
 * Checks that a parsed JSON value is an analysis file of the expected kind and version.
 *
 * Cost: O(1). Throws `TypeError` when `value` is not an object with the expected `kind`, and
 * `RangeError` when its `schemaVersion` is not {@link ANALYSIS_SCHEMA_VERSION}.
 *
 * @example
 * ```ts
 * import { assertAnalysisFile } from "./schema.ts";
 * const file = assertAnalysisFile(
 *   { schemaVersion: 1, kind: "claims", generatedAt: "", source: "x", claims: [] },
 *   "claims",
 * );
 * if (file.claims.length !== 0) throw new Error("unexpected");
 * ```
 */
export function assertAnalysisFile<K extends AnalysisKind>(
  value: unknown,
  kind: K,
): Extract<AnalysisFile, { kind: K }> {
  if (typeof value !== "object" || value === null) {
    throw new TypeError(
      `analysis file is ${
        value === null ? "null" : typeof value
      }; expected an object of kind "${kind}".`,
    );
  }
  const v = value as { kind?: unknown; schemaVersion?: unknown };
  if (v.kind !== kind) {
    throw new TypeError(
      `analysis file has kind ${JSON.stringify(v.kind)}; expected "${kind}" — read ${
        ANALYSIS_FILES[kind]
      }.`,
    );
  }
  if (v.schemaVersion !== ANALYSIS_SCHEMA_VERSION) {
    throw new RangeError(
      `analysis file ${ANALYSIS_FILES[kind]} has schemaVersion ${
        JSON.stringify(v.schemaVersion)
      }; expected ${ANALYSIS_SCHEMA_VERSION} — re-run the analysis.`,
    );
  }
  return value as Extract<AnalysisFile, { kind: K }>;
}
