/**
 * Two-axis percentile bootstrap (over models/seeds and over samples) and the verdict a claim gets
 * from its interval.
 *
 * @module
 */
import { quantileSorted } from "./quantiles.ts";
import { randomInt, seededUniform } from "./random.ts";

/**
 * A statistic of a resample: `models` and `samples` are index arrays (with repeats) into the
 * caller's models and samples; the statistic computes its value over them.
 */
export type ResampledStatistic = (models: Int32Array, samples: Int32Array) => number;

/** Options of {@link bootstrapInterval}. */
export interface BootstrapOptions {
  /** Number of models (seeds) the statistic can index, ≥ 1. */
  models: number;
  /** Number of samples (e.g. probe images) the statistic can index, ≥ 1. */
  samples: number;
  /** Bootstrap replicates (default 1000). */
  resamples?: number;
  /** Coverage of the interval (default 0.95). */
  level?: number;
  /** PRNG seed (default 0). */
  seed?: number;
  /** Resample the models with replacement (default true; false keeps 0..models−1). */
  resampleModels?: boolean;
  /** Resample the samples with replacement (default true; false keeps 0..samples−1). */
  resampleSamples?: boolean;
}

/** A point estimate with a bootstrap percentile interval. */
export interface BootstrapInterval {
  /** The statistic on the original data (identity index arrays). */
  estimate: number;
  /** Lower end: the (1 − level)/2 type-7 quantile of the replicates. */
  lower: number;
  /** Upper end: the (1 + level)/2 type-7 quantile of the replicates. */
  upper: number;
  /** Coverage requested. */
  level: number;
  /** Number of replicates. */
  resamples: number;
}

/**
 * Percentile bootstrap interval of any scalar statistic, resampling two axes at once: each
 * replicate draws `models` indices uniformly with replacement from 0..models−1 and `samples`
 * indices from 0..samples−1 (seeded xoshiro128**), calls `statistic(models, samples)`, and the
 * interval is [Q((1 − level)/2), Q((1 + level)/2)] of the replicates (type-7 quantiles).
 * Turning an axis off (e.g. a single model) passes the identity indices on it.
 * Note: a model resample repeats models, so a pairwise statistic must decide what a pair of one
 * model with itself means (usually: skip it).
 *
 * Cost: `resamples` calls of the statistic plus O(resamples·(models + samples)) index draws and
 * O(resamples log resamples) to sort the replicates.
 *
 * @throws {RangeError} when models or samples is not a positive integer, resamples < 2,
 *   level ∉ (0, 1), or the statistic returns a non-finite value (on the original data or a
 *   replicate, named by its number)
 * @example
 * ```ts
 * import { bootstrapInterval } from "./mod.ts";
 * const values = [0.1, 0.4, 0.35, 0.2, 0.3, 0.25];
 * const ci = bootstrapInterval(
 *   (_models, samples) => samples.reduce((s, i) => s + values[i]!, 0) / samples.length,
 *   { models: 1, samples: values.length, resamples: 500, seed: 1 },
 * );
 * if (!(ci.lower <= ci.estimate && ci.estimate <= ci.upper)) throw new Error("bad interval");
 * ```
 */
export function bootstrapInterval(
  statistic: ResampledStatistic,
  options: BootstrapOptions,
): BootstrapInterval {
  const { models, samples } = options;
  for (const [name, v] of [["models", models], ["samples", samples]] as const) {
    if (!Number.isInteger(v) || v < 1) {
      throw new RangeError(`${name} is ${String(v)}; expected a positive integer count.`);
    }
  }
  const resamples = options.resamples ?? 1000;
  if (!Number.isInteger(resamples) || resamples < 2) {
    throw new RangeError(`resamples is ${String(resamples)}; expected an integer ≥ 2.`);
  }
  const level = options.level ?? 0.95;
  if (!(level > 0 && level < 1)) {
    throw new RangeError(`level is ${String(level)}; expected a coverage in (0, 1).`);
  }
  const uniform = seededUniform(options.seed ?? 0);
  const identity = (n: number) => Int32Array.from({ length: n }, (_, i) => i);
  const estimate = statistic(identity(models), identity(samples));
  if (!Number.isFinite(estimate)) {
    throw new RangeError(
      `the statistic is ${estimate} on the original data; expected a finite number.`,
    );
  }
  const rm = options.resampleModels ?? true, rs = options.resampleSamples ?? true;
  const replicates = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    const mi = identity(models), si = identity(samples);
    if (rm) { for (let i = 0; i < models; i++) mi[i] = randomInt(uniform, models); }
    if (rs) { for (let i = 0; i < samples; i++) si[i] = randomInt(uniform, samples); }
    const v = statistic(mi, si);
    if (!Number.isFinite(v)) {
      throw new RangeError(
        `the statistic is ${v} on bootstrap replicate ${r}; expected a finite number ` +
          `(make it defined on resamples with repeated indices).`,
      );
    }
    replicates[r] = v;
  }
  replicates.sort();
  return {
    estimate,
    lower: quantileSorted(replicates, (1 - level) / 2),
    upper: quantileSorted(replicates, (1 + level) / 2),
    level,
    resamples,
  };
}

/** What a claim asserts about its statistic: above or below a threshold. */
export interface Claim {
  /** ">": the statistic exceeds the threshold; "<": it is below it. */
  direction: ">" | "<";
  /** The threshold. */
  threshold: number;
}

/** The outcome of checking a claim against an interval. */
export type Verdict = "holds" | "fails" | "inconclusive";

/**
 * Verdict of a claim from an interval [lower, upper] of its statistic. For "> threshold":
 * holds when lower > threshold, fails when upper ≤ threshold, else inconclusive. For
 * "< threshold": holds when upper < threshold, fails when lower ≥ threshold, else inconclusive.
 *
 * Cost: O(1).
 *
 * @throws {RangeError} when an end or the threshold is not finite, lower > upper, or the
 *   direction is neither ">" nor "<"
 * @example
 * ```ts
 * import { verdict } from "./mod.ts";
 * if (verdict({ lower: 0.2, upper: 0.4 }, { direction: ">", threshold: 0.1 }) !== "holds") {
 *   throw new Error("0.2..0.4 is above 0.1");
 * }
 * if (verdict({ lower: 0.05, upper: 0.4 }, { direction: ">", threshold: 0.1 }) !== "inconclusive") {
 *   throw new Error("0.05..0.4 straddles 0.1");
 * }
 * ```
 */
export function verdict(interval: { lower: number; upper: number }, claim: Claim): Verdict {
  const { lower, upper } = interval;
  const { direction, threshold } = claim;
  for (const [name, v] of [["lower", lower], ["upper", upper], ["threshold", threshold]] as const) {
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new RangeError(`${name} is ${String(v)}; expected a finite number.`);
    }
  }
  if (lower > upper) {
    throw new RangeError(`lower (${lower}) is above upper (${upper}); expected lower ≤ upper.`);
  }
  if (direction === ">") {
    return lower > threshold ? "holds" : upper <= threshold ? "fails" : "inconclusive";
  }
  if (direction === "<") {
    return upper < threshold ? "holds" : lower >= threshold ? "fails" : "inconclusive";
  }
  throw new RangeError(`direction is ${String(direction)}; expected ">" or "<".`);
}

/** A claim checked by bootstrap: the interval, the claim and its verdict. */
export interface ClaimAssessment extends BootstrapInterval {
  /** The claim that was checked. */
  claim: Claim;
  /** "holds" / "fails" / "inconclusive" from {@link verdict} on the interval. */
  verdict: Verdict;
}

/**
 * Bootstraps a statistic ({@link bootstrapInterval}) and gives the claim's {@link verdict} on
 * the resulting percentile interval, in one call.
 *
 * Cost: that of {@link bootstrapInterval}.
 *
 * @throws {RangeError} as {@link bootstrapInterval} and {@link verdict}
 * @example
 * ```ts
 * import { assessClaim } from "./mod.ts";
 * const sims = [0.31, 0.28, 0.35, 0.3, 0.33, 0.29];
 * const r = assessClaim(
 *   (_m, s) => s.reduce((acc, i) => acc + sims[i]!, 0) / s.length,
 *   { direction: ">", threshold: 0.2 },
 *   { models: 1, samples: sims.length, seed: 3 },
 * );
 * if (r.verdict !== "holds") throw new Error(`expected holds, got ${r.verdict}`);
 * ```
 */
export function assessClaim(
  statistic: ResampledStatistic,
  claim: Claim,
  options: BootstrapOptions,
): ClaimAssessment {
  const interval = bootstrapInterval(statistic, options);
  return { ...interval, claim, verdict: verdict(interval, claim) };
}
