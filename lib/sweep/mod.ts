/**
 * The sweep runner: `deno task sweep` trains families of models at several widths and seeds,
 * takes their input salience on a probe set, runs the attack and ensemble experiments and the
 * analysis, and writes everything into the results store (`lib/store`, `docs/store.md`). The
 * command itself, its flags and `--dry-run` report, is `lib/cli/sweep.ts`.
 *
 * - Presets ({@link PRESETS}, all values in `presets.ts`): `default` (the embedded
 *   Fashion-MNIST subset, every model trained; tens of minutes on a 2-core machine), `tiny`
 *   (seconds, synthetic), `fmnist`, `population`, `batch-size`, `vit`, and the paper's
 *   `cifar10-paper`, `cifar100-paper`, `tinyimagenet-paper` (for `--dry-run` here and GPU
 *   machines elsewhere).
 * - `--config FILE`: a JSON object whose `preset` names the base and whose other keys override
 *   it, validated with one clear error per problem ({@link resolveConfigFile}).
 * - Every run is addressed by (family, k, seed, config hash) and writes only its own folder,
 *   atomically, ending with a `COMPLETE` marker of checksums; a rerun skips complete runs,
 *   resumes interrupted training from its last checkpoint and redoes corrupted artifacts
 *   ({@link executeRun}).
 * - Population training (default; `--no-population` or `training.population: false` turns it
 *   off): the seeds of one family, width and batch size train together in the same dispatches,
 *   each run still its own folder, checkpoints and marker ({@link executePopulation},
 *   {@link planPopulations}).
 * - `--shard i/n`, Slurm job arrays and Kubernetes Indexed Jobs take a deterministic slice of
 *   the plan, whole populations at a time ({@link resolveShard}, {@link shardPopulations});
 *   the analysis reads whatever is complete.
 *
 * ```ts
 * import { buildPlan, planCost, presetConfig } from "./mod.ts";
 * const config = presetConfig("cifar10-paper");
 * const plan = buildPlan(config);
 * const cost = planCost(config, plan.runs);
 * console.log(plan.runs.length, (cost.gradientBytes / 1e9).toFixed(1), "GB of gradients");
 * ```
 *
 * @module
 */
export { PRESET_NAMES, presetConfig, type PresetName, PRESETS } from "./presets.ts";
export {
  datasetOptions,
  loadConfigFile,
  MAX_POPULATION,
  resolveConfigFile,
  SWEEP_DATASETS,
  validateConfig,
} from "./config.ts";
export {
  buildPlan,
  resolveShard,
  runHashInput,
  type Shard,
  shardRuns,
  sweepIdentity,
} from "./plan.ts";
export {
  DATASET_FACTS,
  type DatasetFacts,
  type ModelCost,
  modelCost,
  type PlanCost,
  planCost,
  REFERENCE_FLOPS_PER_SECOND,
} from "./cost.ts";
export {
  type CurrentRun,
  formatDuration,
  PhaseTimes,
  Progress,
  type ProgressSink,
  stdoutSink,
} from "./progress.ts";
export { executeRun, type RunContext, type RunOutcome, trainScheduleOf } from "./executor.ts";
export { finalCheckpointDir, type Recalibrated, recalibrateRun } from "./precise_bn.ts";
export {
  executePopulation,
  PLANNED_POPULATION,
  planPopulations,
  populationLabel,
  populationSizeOf,
  type PopulationTrainer,
  shardPopulations,
  STACKABLE_FAMILIES,
} from "./populations.ts";
export { prepareSweepDir, runSweep, type SweepOptions, type SweepOutcome } from "./runner.ts";
export { analyzeSweepDir, type AnalyzeSweepDirOptions } from "./analyze.ts";
export {
  checkCheckpointList,
  CHECKPOINT_FILE_NAME,
  checkpointGrid,
  checkpointsInFolder,
  importCheckpoint,
  loadCheckpointWeights,
  resolveCheckpoints,
  type WeightsFormat,
} from "./checkpoints.ts";
