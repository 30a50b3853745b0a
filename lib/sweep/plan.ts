/**
 * The plan of a sweep (every run, in a stable order) and its division into shards, from a flag
 * or from the environment of a Slurm job array or a Kubernetes Indexed Job.
 *
 * @module
 */
import {
  hashConfig,
  type PlanEntry,
  type PlanJson,
  runIdOf,
  SCHEMA_VERSION,
  type SweepConfig,
  sweepIdOf,
} from "../store/mod.ts";

/**
 * Everything that determines the artifacts of one run; its hash is the run's config hash.
 * Lists of the sweep (other widths, seed count, the experiments) are left out, so a run keeps
 * its id when the sweep around it grows.
 *
 * @example
 * ```ts
 * import { runHashInput } from "./plan.ts";
 * import { presetConfig } from "./presets.ts";
 * const a = presetConfig("tiny"), b = { ...presetConfig("tiny"), seeds: 9 };
 * const run = { family: "CNNSmall", k: 1, seed: 0, batchSize: 16 };
 * if (JSON.stringify(runHashInput(a, run)) !== JSON.stringify(runHashInput(b, run))) throw new Error();
 * ```
 */
export function runHashInput(
  config: SweepConfig,
  run: { family: string; k: number; seed: number; batchSize: number },
): unknown {
  const { batchSizes: _b, population: _p, ...training } = withoutNullPreciseBn(config).training;
  return {
    family: run.family,
    k: run.k,
    seed: run.seed,
    batchSize: run.batchSize,
    dataset: { ...config.dataset, dir: null },
    training,
    salience: config.salience,
    logits: config.experiments.logits,
  };
}

/**
 * The part of a config that identifies a sweep: all of it but `dataset.dir`, so that machines
 * holding the same data set at different paths (shards on a cluster) share sweep and run ids
 * (and `training.preciseBN` when it is `null`, which means the same as its absence), and
 * `training.population`, which changes how runs are trained together but not what they
 * produce (so a sweep started with population training resumes with `--no-population`).
 *
 * @example
 * ```ts
 * import { identityOf } from "./plan.ts";
 * import { presetConfig } from "./presets.ts";
 * const c = presetConfig("fmnist");
 * c.dataset.dir = "/data/fmnist";
 * if (identityOf(c).dataset.dir !== null || c.dataset.dir !== "/data/fmnist") throw new Error();
 * ```
 */
export function identityOf(config: SweepConfig): SweepConfig {
  const base = withoutNullPreciseBn(config);
  const { population: _p, ...training } = base.training;
  const out = { ...base, dataset: { ...config.dataset, dir: null }, training };
  // A checkpoint is identified by its bytes, not by where it lies.
  if (config.checkpoints) {
    out.checkpoints = config.checkpoints.map((e) => ({ ...e, weights: e.sha256 ?? e.weights }));
  }
  return out;
}

/** `training.preciseBN: null` means the same as its absence, so it hashes the same. */
function withoutNullPreciseBn(config: SweepConfig): SweepConfig {
  if (config.training.preciseBN !== null) return config;
  const { preciseBN: _p, ...training } = config.training;
  return { ...config, training };
}

/**
 * The sweep id (`<name>-<hash8>`) and config hash (SHA-256 of the canonical JSON) of a config.
 *
 * @example
 * ```ts
 * import { sweepIdentity } from "./plan.ts";
 * import { presetConfig } from "./presets.ts";
 * const { sweepId, configHash } = sweepIdentity(presetConfig("tiny"));
 * if (sweepId !== `tiny-${configHash.slice(0, 8)}`) throw new Error(sweepId);
 * ```
 */
export function sweepIdentity(config: SweepConfig): { sweepId: string; configHash: string } {
  const configHash = hashConfig(identityOf(config));
  return { sweepId: sweepIdOf(config.name, configHash), configHash };
}

/**
 * Builds the plan of a resolved config: one entry per (batch size, seed, family, width), in
 * that nesting order (batch size outermost, width innermost), each in the order the config
 * lists them. The same config always gives the same plan. Cost: O(runs).
 *
 * @example
 * ```ts
 * import { buildPlan } from "./plan.ts";
 * import { presetConfig } from "./presets.ts";
 * const plan = buildPlan(presetConfig("tiny"));
 * if (plan.runs.length !== 8 || plan.runs[0]?.runId.slice(0, 14) !== "CNNSmall-k1-s0") throw new Error();
 * ```
 */
export function buildPlan(config: SweepConfig): PlanJson {
  const { sweepId, configHash } = sweepIdentity(config);
  const runs: PlanEntry[] = config.checkpoints ? checkpointRuns(config) : [];
  for (const batchSize of config.checkpoints ? [] : config.training.batchSizes) {
    for (let seed = 0; seed < config.seeds; seed++) {
      for (const family of config.families) {
        for (const k of config.widths) {
          const hash = hashConfig(runHashInput(config, { family, k, seed, batchSize }));
          runs.push({
            index: runs.length,
            runId: runIdOf({ family, k, seed, configHash: hash }),
            family,
            k,
            seed,
            batchSize,
            configHash: hash,
          });
        }
      }
    }
  }
  return {
    schemaVersion: SCHEMA_VERSION,
    kind: "plan",
    sweepId,
    configHash,
    runs,
    sharding: {
      rule: "round-robin",
      description:
        "Shard i of n (0-based) trains the populations whose position % n === i: runs of one family, width and batch size in blocks of consecutive seeds (training.population), ordered by their first run's index; with population training off, the runs whose index % n === i.",
    },
  };
}

/**
 * The runs of a checkpoint sweep, one per `checkpoints` entry in the config's order. A run's
 * hash covers the weights' SHA-256, the data set, the salience and the logits (not the training
 * settings: nothing is trained).
 *
 * @throws {TypeError} when an entry lacks its `sha256` (resolve the config with
 *   `resolveCheckpoints()` first).
 */
function checkpointRuns(config: SweepConfig): PlanEntry[] {
  return config.checkpoints!.map((e, index) => {
    if (e.sha256 === undefined) {
      throw new TypeError(
        `checkpoints[${index}] (${e.family} k=${e.k} seed ${e.seed}) has no sha256; resolve the config with resolveCheckpoints() before planning.`,
      );
    }
    const { family, k, seed } = e;
    const hash = hashConfig({
      family,
      k,
      seed,
      weights: e.sha256,
      dataset: { ...config.dataset, dir: null },
      salience: config.salience,
      logits: config.experiments.logits,
    });
    return {
      index,
      runId: runIdOf({ family, k, seed, configHash: hash }),
      family,
      k,
      seed,
      batchSize: config.training.batchSizes[0]!,
      configHash: hash,
      weights: { path: e.weights, sha256: e.sha256 },
    };
  });
}

/** A shard: index `index` (0-based) of `count`. */
export interface Shard {
  index: number;
  count: number;
  /** Where the shard came from, for the log: `--shard`, `Slurm`, `Kubernetes`, or `none`. */
  source: string;
}

/**
 * The runs shard `index` of `count` owns: those whose plan index ≡ index (mod count). Shards are
 * disjoint and together cover the plan. Cost: O(runs).
 *
 * @throws {RangeError} when count is not a positive integer or index is outside 0 … count − 1.
 * @example
 * ```ts
 * import { shardRuns } from "./plan.ts";
 * const runs = [0, 1, 2, 3, 4].map((index) => ({ index }));
 * if (shardRuns(runs, { index: 1, count: 2 }).map((r) => r.index).join() !== "1,3") throw new Error();
 * ```
 */
export function shardRuns<T extends { index: number }>(
  runs: readonly T[],
  shard: { index: number; count: number },
): T[] {
  if (!Number.isInteger(shard.count) || shard.count < 1) {
    throw new RangeError(`Shard count ${shard.count} is invalid; expected a positive integer.`);
  }
  if (!Number.isInteger(shard.index) || shard.index < 0 || shard.index >= shard.count) {
    throw new RangeError(
      `Shard index ${shard.index} is outside 0–${
        shard.count - 1
      }; expected 0 ≤ i < n for --shard i/n.`,
    );
  }
  return runs.filter((r) => r.index % shard.count === shard.index);
}

function parseIntStrict(text: string, what: string): number {
  if (!/^\s*\d+\s*$/.test(text)) {
    throw new RangeError(`${what} is '${text}'; expected a non-negative integer.`);
  }
  return Number(text);
}

/**
 * Decides which shard this process is, in order of precedence:
 * 1. `--shard i/n` (0-based i);
 * 2. a Slurm job array: `SLURM_ARRAY_TASK_ID` and `SLURM_ARRAY_TASK_COUNT`, with the index
 *    taken relative to `SLURM_ARRAY_TASK_MIN` and divided by `SLURM_ARRAY_TASK_STEP` when set
 *    (so `--array=1-8` and `--array=0-14:2` both give indices 0 … n − 1);
 * 3. a Kubernetes Indexed Job: `JOB_COMPLETION_INDEX`, with the count from `--shard-count N`
 *    or the environment variable `SWEEP_SHARD_COUNT` (set it to the Job's `completions`);
 * 4. otherwise the whole plan (`{ index: 0, count: 1 }`).
 *
 * @throws {RangeError} for malformed values, an index outside the count, or a
 *   `JOB_COMPLETION_INDEX` without a count.
 * @example
 * ```ts
 * import { resolveShard } from "./plan.ts";
 * const s = resolveShard({}, { SLURM_ARRAY_TASK_ID: "3", SLURM_ARRAY_TASK_COUNT: "4", SLURM_ARRAY_TASK_MIN: "1" });
 * if (s.index !== 2 || s.count !== 4) throw new Error(JSON.stringify(s));
 * ```
 */
export function resolveShard(
  flags: { shard?: string; shardCount?: string },
  env: Record<string, string | undefined>,
): Shard {
  let shard: Shard;
  if (flags.shard !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(flags.shard.trim());
    if (!m) {
      throw new RangeError(
        `--shard '${flags.shard}' is malformed; expected i/n with 0 ≤ i < n, e.g. --shard 0/4.`,
      );
    }
    shard = { index: Number(m[1]), count: Number(m[2]), source: "--shard" };
  } else if (env.SLURM_ARRAY_TASK_ID !== undefined && env.SLURM_ARRAY_TASK_ID !== "") {
    const id = parseIntStrict(env.SLURM_ARRAY_TASK_ID, "SLURM_ARRAY_TASK_ID");
    if (env.SLURM_ARRAY_TASK_COUNT === undefined) {
      throw new RangeError(
        `SLURM_ARRAY_TASK_ID is ${id} but SLURM_ARRAY_TASK_COUNT is unset; run inside a job array (sbatch --array) or pass --shard i/n.`,
      );
    }
    const count = parseIntStrict(env.SLURM_ARRAY_TASK_COUNT, "SLURM_ARRAY_TASK_COUNT");
    const min = env.SLURM_ARRAY_TASK_MIN
      ? parseIntStrict(env.SLURM_ARRAY_TASK_MIN, "SLURM_ARRAY_TASK_MIN")
      : 0;
    const step = env.SLURM_ARRAY_TASK_STEP
      ? parseIntStrict(env.SLURM_ARRAY_TASK_STEP, "SLURM_ARRAY_TASK_STEP")
      : 1;
    if ((id - min) % step !== 0) {
      throw new RangeError(
        `SLURM_ARRAY_TASK_ID ${id} is not SLURM_ARRAY_TASK_MIN ${min} plus a multiple of SLURM_ARRAY_TASK_STEP ${step}; use a regular --array range.`,
      );
    }
    shard = { index: (id - min) / step, count, source: "Slurm" };
  } else if (env.JOB_COMPLETION_INDEX !== undefined && env.JOB_COMPLETION_INDEX !== "") {
    const index = parseIntStrict(env.JOB_COMPLETION_INDEX, "JOB_COMPLETION_INDEX");
    const countText = flags.shardCount ?? env.SWEEP_SHARD_COUNT;
    if (countText === undefined) {
      throw new RangeError(
        `JOB_COMPLETION_INDEX is ${index} but the shard count is unknown; pass --shard-count N or set SWEEP_SHARD_COUNT to the Job's completions.`,
      );
    }
    shard = { index, count: parseIntStrict(countText, "the shard count"), source: "Kubernetes" };
  } else {
    if (flags.shardCount !== undefined) {
      throw new RangeError(
        `--shard-count ${flags.shardCount} was given without JOB_COMPLETION_INDEX; use --shard i/n to pick a shard by hand.`,
      );
    }
    shard = { index: 0, count: 1, source: "none" };
  }
  if (shard.count < 1 || shard.index >= shard.count) {
    throw new RangeError(
      `Shard ${shard.index} of ${shard.count} (from ${shard.source}) is out of range; expected 0 ≤ index < count and count ≥ 1.`,
    );
  }
  return shard;
}
