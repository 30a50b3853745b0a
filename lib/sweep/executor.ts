/**
 * The run executor: one function that brings one planned run to `complete`, resuming whatever a
 * previous process left behind. It trains through `lib/train` (per-epoch checkpoints, resume),
 * takes the probe-set salience through `lib/salience`, writes the probe logits, the run record
 * and last the completion marker with checksums.
 *
 * @module
 */
import { join } from "node:path";
import type { Dataset } from "../data/mod.ts";
import { countParams, createModel, type Family } from "../models/mod.ts";
import { metaDim, writeNpy } from "../npy/mod.ts";
import { type EpochRecord, train, type TrainOptions, type TrainResult } from "../train/mod.ts";
import {
  type BackendInfo,
  clearComplete,
  exists,
  isTemporaryName,
  markComplete,
  type PlanEntry,
  readRun,
  removeIfPresent,
  RUN_FILES,
  type RunJson,
  type SalienceMethodName,
  SCHEMA_VERSION,
  type SweepConfig,
  verifyRun,
  writeRun,
} from "../store/mod.ts";
import { inputGradients, predictLogits } from "../salience/mod.ts";
import { UNPOOLED_SALIENCE } from "../analysis/pooling.ts";
import type { PhaseTimes, Progress } from "./progress.ts";
import {
  poolRows,
  type PrecomputedAttribution,
  writeMethodSalience,
  writeRunSalience,
} from "./salience_methods.ts";
import { trainAnalysingEpochs } from "./epochs.ts";
import { importCheckpoint } from "./checkpoints.ts";
import { dropUnverified } from "./reverify.ts";
import { finalCheckpointDir, type Recalibrated, recalibrateRun } from "./precise_bn.ts";

/**
 * The training schedule of one planned run as `train()` takes it: the config's epochs, learning
 * rate and schedule, plain SGD, the run's batch size, and the run's own seed as the data-order
 * seed, so seeds differ in data order as well as in initialisation (as in the paper).
 *
 * @example
 * ```ts
 * import { trainScheduleOf } from "./executor.ts";
 * import { buildPlan } from "./plan.ts";
 * import { presetConfig } from "./presets.ts";
 * const config = presetConfig("tiny");
 * const entry = buildPlan(config).runs.find((r) => r.seed === 1)!;
 * if (trainScheduleOf(config, entry).seed !== 1) throw new Error("data order ignores the seed");
 * ```
 */
export function trainScheduleOf(
  config: SweepConfig,
  entry: PlanEntry,
): Required<
  Pick<TrainOptions, "epochs" | "batchSize" | "learningRate" | "schedule" | "optimizer" | "seed">
> {
  return {
    epochs: config.training.epochs,
    batchSize: entry.batchSize,
    learningRate: config.training.lr,
    schedule: config.training.schedule,
    optimizer: "sgd",
    seed: entry.seed,
  };
}

/** What every run of a process shares. */
export interface RunContext {
  config: SweepConfig;
  /** The prepared data set (loaded once per process). */
  dataset: Dataset;
  backend: BackendInfo;
  progress: Progress;
  /** Aborts training at the next batch (the last finished epoch stays checkpointed). */
  signal?: AbortSignal;
  /** Where each phase's wall time is summed (training per family, salience, …); none: untimed. */
  timings?: PhaseTimes;
}

/** Runs `fn`, adding its wall time to `phase` of `ctx.timings` when the context keeps them. */
export function timePhase<T>(ctx: RunContext, phase: string, fn: () => Promise<T>): Promise<T> {
  return ctx.timings ? ctx.timings.time(phase, fn) : fn();
}

/**
 * Splits a training call's wall time into `training <family>` (the seconds of the epochs it
 * trained, as their records give) and `test evaluation` (the rest: the per-epoch test passes,
 * and whatever else of that wall time the caller left in: a single run's checkpoints and epoch
 * salience; a population times those as `checkpoints` and `epoch salience` and leaves them out)
 * in `ctx.timings`.
 */
export function addTrainingTimes(
  ctx: RunContext,
  family: string,
  result: TrainResult,
  wallSeconds: number,
): void {
  if (!ctx.timings) return;
  const trained = result.epochsDone - (result.resumedFrom ?? 0);
  const epochs = result.history.slice(result.history.length - Math.max(0, trained));
  const training = Math.min(wallSeconds, epochs.reduce((a, h) => a + h.seconds, 0));
  ctx.timings.add(`training ${family}`, training);
  ctx.timings.add("test evaluation", wallSeconds - training);
}

/** What {@link executeRun} did. */
export interface RunOutcome {
  /** `skipped`: already complete; `done`: brought to complete in this call. */
  status: "skipped" | "done";
  /** Artifacts redone because their checksum failed. */
  redone: string[];
  /** Epoch training resumed from (`null`: started fresh or nothing to train). */
  resumedFrom: number | null;
  /** Epochs trained in this call. */
  epochsTrained: number;
  record: RunJson | null;
}

async function removeTemporaries(dir: string): Promise<void> {
  for (const sub of [dir, join(dir, RUN_FILES.checkpoint)]) {
    try {
      for await (const e of Deno.readDir(sub)) {
        if (isTemporaryName(e.name)) await Deno.remove(join(sub, e.name), { recursive: true });
      }
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }
}

/**
 * Readies a run folder for (re)execution: `{ complete: true }` when its `COMPLETE` marker
 * verifies (nothing is touched); otherwise removes leftover temporaries and every artifact whose
 * checksum fails (a bad checkpoint file deletes the checkpoint and everything derived from it,
 * so the run retrains; without a valid marker only a checkpoint and epoch files that pass their
 * own checksums stay, `dropUnverified()`) and returns the paths redone. Cost: one read of every
 * artifact.
 */
export async function prepareRunDir(
  runDir: string,
): Promise<{ complete: boolean; redone: string[] }> {
  const before = await verifyRun(runDir);
  if (before.status === "complete") return { complete: true, redone: [] };
  await Deno.mkdir(runDir, { recursive: true });
  // Without a valid marker nothing is trusted: what cannot be verified is redone. (First: it puts
  // back a folder swap a kill cut short, whose `.old-` folder the next line would delete.)
  const redone = before.marker === "valid"
    ? before.problems.map((p) => p.path)
    : await dropUnverified(runDir);
  await removeTemporaries(runDir);
  if (before.problems.length > 0) {
    await clearComplete(runDir);
    const bad = new Set(redone);
    if (redone.some((p) => p.startsWith(`${RUN_FILES.checkpoint}/`))) {
      // Everything derives from the checkpoint: retrain from scratch.
      for (
        const name of [
          RUN_FILES.checkpoint,
          RUN_FILES.salience,
          RUN_FILES.salienceSidecar,
          RUN_FILES.logits,
          RUN_FILES.run,
        ]
      ) {
        await removeIfPresent(join(runDir, name));
      }
    } else {
      if (bad.has(RUN_FILES.salience) || bad.has(RUN_FILES.salienceSidecar)) {
        await removeIfPresent(join(runDir, RUN_FILES.salience));
        await removeIfPresent(join(runDir, RUN_FILES.salienceSidecar));
      }
      if (bad.has(RUN_FILES.logits)) await removeIfPresent(join(runDir, RUN_FILES.logits));
      if (bad.has(RUN_FILES.run)) await removeIfPresent(join(runDir, RUN_FILES.run));
    }
  }
  return { complete: false, redone };
}

/** The model of a planned run, freshly initialised from its seed (caller disposes). */
export function modelOf(dataset: Dataset, entry: PlanEntry): ReturnType<typeof createModel> {
  return createModel({
    family: entry.family as Family,
    k: entry.k,
    seed: entry.seed,
    shape: dataset.shape,
    classes: dataset.classes.length,
  });
}

/** The epoch line of a run's progress. */
export function epochSummary(r: EpochRecord): string {
  return `train loss ${r.trainLoss.toFixed(3)}, test loss ${r.testLoss?.toFixed(3)}, test acc ${
    ((r.testAccuracy ?? 0) * 100).toFixed(1)
  } %, ${r.seconds.toFixed(1)} s`;
}

/**
 * Brings one run of the plan to `complete` in `runDir`:
 * 1. a run whose `COMPLETE` marker verifies is skipped;
 * 2. leftover temporaries are removed; artifacts whose checksum fails are deleted (a bad
 *    checkpoint file deletes the checkpoint and everything derived from it, so the run retrains);
 *    without a valid marker, only a checkpoint and epoch files that pass their own checksums
 *    stay (`dropUnverified()`), everything else is redone ({@link prepareRunDir});
 * 3. `lib/train` trains, resuming from the latest checkpoint (one per epoch), stopping at each
 *    epoch of `salience.epochs` to write that epoch's salience (`trainAnalysingEpochs()`); a
 *    run of a config's `checkpoints` instead loads its weights (`importCheckpoint()`); with
 *    `training.preciseBN` a trained model's batch-norm statistics are then recomputed and its
 *    test split evaluated again (`recalibrateRun()`, which also writes them into the final
 *    checkpoint), before anything below (imported weights are used as they are);
 * 4. missing salience (`salience.npy` + sidecar), the other configured attribution methods'
 *    (`salience-<method>.npy`, see `writeMethodSalience()`) and logits are computed from the model;
 * 5. `run.json` is written, then `COMPLETE` with the SHA-256 of every artifact.
 * Every file is written atomically, so killing the process at any point loses at most the epoch
 * in progress.
 *
 * Cost: the run's training, one salience pass and one forward pass over the probe set (and with
 * precise BN its batches' forward passes and one over the test split).
 *
 * @throws what training throws (an abort through `ctx.signal` included).
 * @example
 * ```ts ignore
 * import { executeRun } from "./executor.ts";
 * // ctx: the config, the loaded data set, the backend and a Progress (see runSweep()).
 * const outcome = await executeRun(ctx, plan.runs[0], runDirOf(sweepDir, plan.runs[0].runId));
 * console.log(outcome.status, outcome.redone);
 * ```
 */
export async function executeRun(
  ctx: RunContext,
  entry: PlanEntry,
  runDir: string,
): Promise<RunOutcome> {
  const { config, dataset, progress } = ctx;
  const { complete, redone } = await prepareRunDir(runDir);
  if (complete) {
    return { status: "skipped", redone: [], resumedFrom: null, epochsTrained: 0, record: null };
  }
  const started = new Date().toISOString();
  const model = modelOf(dataset, entry);
  try {
    const t0 = performance.now();
    const trainOptions: TrainOptions = {
      ...trainScheduleOf(config, entry),
      test: dataset.test,
      checkpointDir: join(runDir, RUN_FILES.checkpoint),
      signal: ctx.signal,
      progressEvery: 1,
      onProgress: (p) =>
        progress.update(
          p.epoch,
          p.batch / p.batches,
          `batch ${p.batch}/${p.batches} loss ${p.loss.toFixed(3)} · ${
            p.samplesPerSecond.toFixed(0)
          } img/s`,
        ),
      onEpoch: (r) => progress.epochDone(r.epoch, epochSummary(r)),
    };
    const epochCtx = { model, dataset, config, entry, runDir, redone, progress };
    // A checkpoint run loads its weights instead of training (lib/sweep/checkpoints.ts).
    if (entry.weights) progress.phase("loading weights");
    const imported = entry.weights
      ? await importCheckpoint(model, entry.weights, dataset, runDir)
      : null;
    const result = imported
      ? { epochsDone: 0, history: [], optimizerStep: 0, resumedFrom: null, stopped: false }
      : await trainAnalysingEpochs(
        epochCtx,
        (stopAfterEpoch) => train(model, dataset.train, { ...trainOptions, stopAfterEpoch }),
      );
    const trainSeconds = (performance.now() - t0) / 1000;
    if (!imported) addTrainingTimes(ctx, entry.family, result, trainSeconds);
    return await finishRun(ctx, entry, runDir, model, result, {
      redone,
      started,
      trainSeconds,
      imported,
    });
  } finally {
    model.dispose();
  }
}

/**
 * What {@link executeRun} does after training, for a model trained by `train()` or with its
 * population: precise BN when configured, the missing salience, attribution methods and logits,
 * `run.json` and `COMPLETE`. Cost: one salience pass and one forward pass over the probe set
 * (and with precise BN its batches' forward passes and one over the test split).
 */
export async function finishRun(
  ctx: RunContext,
  entry: PlanEntry,
  runDir: string,
  model: ReturnType<typeof createModel>,
  result: TrainResult,
  how: {
    redone: string[];
    started: string;
    trainSeconds: number;
    /** Set for a run of a config's `checkpoints`: what `importCheckpoint()` loaded. */
    imported?: Awaited<ReturnType<typeof importCheckpoint>> | null;
    /** Precise BN already applied (its population's `recalibratePopulation()`). */
    recal?: Recalibrated;
    /** The model's unpooled probe-set gradients [N, C·H·W], already computed with its population. */
    gradients?: Float32Array;
    /** This model's share of the seconds its population's salience pass took. */
    gradientSeconds?: number;
    /** The model's probe-set logits [N, classes], already computed with its population. */
    logits?: Float32Array;
    /** The model's attribution-method salience, already computed with its population. */
    methods?: Map<SalienceMethodName, PrecomputedAttribution>;
  },
): Promise<RunOutcome> {
  const { config, dataset, progress } = ctx;
  const { redone, started, trainSeconds } = how;
  const imported = how.imported ?? null;
  const { shape, classes } = dataset;
  const epochsTrained = result.epochsDone - (result.resumedFrom ?? 0);
  const last = result.history.at(-1);
  if (config.training.preciseBN != null && !imported && !how.recal) progress.phase("precise BN");
  // Recomputed from the trained weights on every call, so a resumed run gets the same
  // statistics; everything below (logits, salience, the record, the final checkpoint that the
  // experiments load) holds the recalibrated model. Imported weights are used as they are.
  const recal = imported
    ? { preciseBN: null, final: imported.final }
    : how.recal ?? await timePhase(ctx, "precise BN", async () =>
      recalibrateRun(
        model,
        dataset,
        config,
        entry.batchSize,
        { testLoss: last?.testLoss ?? NaN, testAcc: last?.testAccuracy ?? NaN },
        await finalCheckpointDir(runDir),
      ));

  const salPath = join(runDir, RUN_FILES.salience);
  let salienceSeconds = 0;
  const N = dataset.probe.count;
  const D = metaDim({ pooling: config.salience.pool, input: shape });
  // A pooled sweep keeps the unpooled gradients of the same pass for the side-by-side analysis.
  const unpooledPath = config.salience.pool !== null &&
      config.analysis?.comparePooling !== false
    ? join(runDir, UNPOOLED_SALIENCE)
    : null;
  if (
    !(await exists(salPath)) || !(await exists(join(runDir, RUN_FILES.salienceSidecar))) ||
    (unpooledPath !== null && !(await exists(unpooledPath)))
  ) {
    progress.phase("salience");
    const s0 = performance.now();
    const { values: grads, unpooled } = how.gradients
      ? poolSalience(how.gradients, dataset, config.salience.pool)
      : await timePhase(ctx, "salience", () => probeSalience(model, dataset, config.salience));
    if (grads.length !== N * D) {
      throw new TypeError(
        `Salience of ${entry.runId} has ${grads.length} values; expected ${N} × ${D}.`,
      );
    }
    const run = { config, dataset, entry };
    if (unpooledPath !== null) {
      await writeRunSalience(unpooledPath, unpooled, { ...run, pooling: null });
    }
    await writeRunSalience(salPath, grads, { ...run, pooling: config.salience.pool });
    salienceSeconds = how.gradients && how.gradientSeconds !== undefined
      ? how.gradientSeconds
      : (performance.now() - s0) / 1000;
  }

  const logitsPath = join(runDir, RUN_FILES.logits);
  if (config.experiments.logits && !(await exists(logitsPath))) {
    progress.phase("logits");
    const logits = how.logits ??
      await timePhase(
        ctx,
        "logits",
        () => predictLogits(model, dataset.probe.images, { batchSize: 64 }),
      );
    await writeNpy(logitsPath, [N, classes.length], logits);
  }

  await timePhase(
    ctx,
    "other attribution methods",
    () =>
      writeMethodSalience({
        model,
        dataset,
        config,
        entry,
        runDir,
        redone,
        progress,
        precomputed: how.methods,
      }),
  );

  const runPath = join(runDir, RUN_FILES.run);
  let record: RunJson;
  const previous = await exists(runPath) ? await readRun(runDir).catch(() => null) : null;
  if (
    previous && previous.configHash === entry.configHash &&
    previous.history.length === result.history.length
  ) {
    record = previous;
  } else {
    record = {
      schemaVersion: SCHEMA_VERSION,
      kind: "run",
      runId: entry.runId,
      family: entry.family,
      k: entry.k,
      seed: entry.seed,
      batchSize: entry.batchSize,
      configHash: entry.configHash,
      params: countParams(model),
      backend: ctx.backend,
      input: { shape: [shape.channels, shape.height, shape.width], classes: classes.length },
      history: result.history.map((h) => ({
        epoch: h.epoch + 1,
        trainLoss: h.trainLoss,
        testLoss: h.testLoss ?? NaN,
        testAcc: h.testAccuracy ?? NaN,
        lr: h.learningRate,
        seconds: h.seconds,
      })),
      final: recal.final,
      ...(recal.preciseBN ? { preciseBN: recal.preciseBN } : {}),
      salience: { file: RUN_FILES.salience, sidecar: RUN_FILES.salienceSidecar, shape: [N, D] },
      logits: config.experiments.logits
        ? { file: RUN_FILES.logits, shape: [N, classes.length] }
        : null,
      seconds: {
        train: imported ? 0 : result.history.reduce((a, h) => a + h.seconds, 0) || trainSeconds,
        salience: salienceSeconds,
      },
      ...(imported ? { weights: { ...entry.weights!, format: imported.format } } : {}),
      started,
      finished: new Date().toISOString(),
    };
    await writeRun(runDir, record);
  }
  progress.phase("checksums");
  await markComplete(runDir, entry.runId);
  return { status: "done", redone, resumedFrom: result.resumedFrom, epochsTrained, record };
}

/**
 * Salience of the probe set: per-image input gradients of the configured scalar (C×H×W rows,
 * through `lib/salience`), area-pooled to pool×pool per channel when asked (the kernels'
 * reference `areaPool`, i.e. PyTorch's `interpolate(mode='area')`). Returns [N, D] row-major
 * `values` and the unpooled [N, C·H·W] gradients of the same pass.
 */
async function probeSalience(
  model: ReturnType<typeof createModel>,
  dataset: Dataset,
  salience: SweepConfig["salience"],
): Promise<{ values: Float32Array; unpooled: Float32Array }> {
  const g = await inputGradients(model, dataset.probe, {
    scalar: salience.scalar,
    layout: "chw",
    batchSize: 64,
  });
  return poolSalience(g, dataset, salience.pool);
}

/**
 * The probe-set gradients `g` [N, C·H·W] as the config stores them: area-pooled to P×P per
 * channel when `P` is set (the kernels' reference `areaPool`), beside the unpooled `g`.
 */
export function poolSalience(
  g: Float32Array,
  dataset: Dataset,
  P: number | null,
): { values: Float32Array; unpooled: Float32Array } {
  return { values: poolRows(g, dataset.shape, dataset.probe.count, P), unpooled: g };
}
