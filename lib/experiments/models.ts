/**
 * The experiments on trained TensorFlow.js models: wraps `lib/salience`'s `predictLogits` and
 * `inputGradients` into the callbacks of {@link attackStudy} and {@link ensembleStudy}, loads a
 * sweep's checkpoints, and returns `attacks.json` / `ensembles.json` for `analyzeSweep`.
 *
 * @module
 */

import { join } from "node:path";
import type * as tfl from "@tensorflow/tfjs-layers";
import type { Dataset } from "../data/mod.ts";
import type { AttacksFile, EnsemblesFile } from "../analysis/mod.ts";
import {
  ensembleInputGradients,
  GRADIENT_BATCH,
  inputGradients,
  populationInputGradients,
  populationLogits,
  predictLogits,
  type SalienceScalar,
} from "../salience/mod.ts";
import { readNpy, readSidecar } from "../npy/mod.ts";
import { readRun, readSweep, RUN_FILES, verifiedRuns } from "../store/mod.ts";
import { listCheckpoints, loadCheckpointModel, STACKED_BATCH } from "../train/mod.ts";
import {
  type AttackModel,
  attackStudy,
  type AttackStudyOptions,
  type ModelsTogether,
} from "./attack.ts";
import { type EnsembleMember, ensembleStudy, type EnsembleStudyOptions } from "./ensemble.ts";

/** A trained model and who it is. */
export interface TrainedModel {
  family: string;
  k: number;
  seed: number;
  model: tfl.LayersModel;
  /**
   * This model's outputs on the probe set as a sweep stored them (its logits, [N, classes], and
   * its unpooled C×H×W gradients of the ensemble study's scalar, [N, D]): the ensemble study
   * uses them instead of recomputing them when every model of a width has them, and the attack
   * takes its clean predictions from the logits.
   */
  outputs?: { logits: Float32Array; gradient: Float32Array };
}

/** The probe set as `lib/data` prepares it (NHWC normalised images, labels) and its statistics. */
export type ProbeData = Pick<Dataset, "probe" | "shape" | "classes" | "mean" | "std">;

/**
 * Per-channel range of valid normalised pixel values: `[(0 − mean_c)/std_c, (1 − mean_c)/std_c]`
 * (raw values in [0, 1]); a constant channel (std 0) gets [0, 0].
 *
 * @example
 * ```ts
 * import { clipRangeOf } from "./models.ts";
 * const r = clipRangeOf([0.5], [0.25]);
 * if (r[0]![0] !== -2 || r[0]![1] !== 2) throw new Error("wrong range");
 * ```
 */
export function clipRangeOf(
  mean: readonly number[],
  std: readonly number[],
): Array<[number, number]> {
  return mean.map((m, c) => {
    const s = std[c]!;
    return s > 0 ? [(0 - m) / s, (1 - m) / s] : [0, 0];
  });
}

/**
 * An {@link AttackModel} over a tfjs model: logits by `predictLogits`, ∇x p_y by `inputGradients`
 * with the true-class probability in the images' NHWC layout.
 *
 * Cost: one forward (logits) or forward + backward (gradient) pass per call.
 *
 * @example
 * ```ts
 * import { createModel } from "../models/mod.ts";
 * import { initTf } from "../tf/mod.ts";
 * import { attackModelOf } from "./models.ts";
 * await initTf({ backend: "cpu" });
 * const shape = { channels: 1, height: 2, width: 2 };
 * const model = createModel({ family: "MLP", k: 1, seed: 0, shape, classes: 2 });
 * const am = attackModelOf({ family: "MLP", k: 1, seed: 0, model });
 * const g = await am.probabilityGradient(new Float32Array(4).fill(0.5), Int32Array.of(1), 1);
 * if (g.length !== 4) throw new Error("one gradient value per pixel expected");
 * model.dispose();
 * ```
 */
export function attackModelOf(m: TrainedModel, options: { batchSize?: number } = {}): AttackModel {
  return {
    family: m.family,
    k: m.k,
    seed: m.seed,
    logits: (images) => predictLogits(m.model, images, { batchSize: options.batchSize }),
    probabilityGradient: (images, labels) =>
      inputGradients(m.model, { images, labels }, {
        scalar: "true-class-probability",
        layout: "hwc",
        batchSize: options.batchSize,
      }),
  };
}

/** Options of {@link runModelExperiments}. */
export interface ModelExperimentsOptions {
  /** Run the attack study (default true); its options. */
  attack?: false | AttackStudyOptions;
  /** Run the ensemble study (default true); its options. */
  ensembles?: false | EnsembleStudyOptions;
  /** Salience scalar of the ensemble study (default "true-class-logit"). */
  scalar?: SalienceScalar;
  /**
   * Images per model in each tfjs pass (default: lib/train's `STACKED_BATCH` for logits and
   * lib/salience's `GRADIENT_BATCH` for gradients, the shapes of the sweep's evaluation and
   * salience passes, whose compiled pipelines the experiments then reuse).
   */
  batchSize?: number;
  source?: string;
  onProgress?: (message: string) => void;
}

/**
 * Runs the attack and ensemble studies on trained models over the probe set. The attack uses
 * ∇x p_y (FGSM in NHWC, clipped per channel to the valid range); the ensembles use the salience
 * of `scalar` (unpooled), with the ensemble's gradient the mean of its members' for logit scalars
 * (exact: the ensemble's logit is their mean) and `ensembleInputGradients` otherwise; loss and
 * accuracy are over the probe images.
 *
 * Cost: M gradient passes and about M² + 2M prediction passes for the attack; M logit and
 * gradient passes plus the ensembles' for the ensembles.
 *
 * @throws {RangeError} when `models` is empty.
 *
 * @example
 * ```ts
 * import { createModel } from "../models/mod.ts";
 * import { initTf } from "../tf/mod.ts";
 * import { runModelExperiments } from "./models.ts";
 * await initTf({ backend: "cpu" });
 * const shape = { channels: 1, height: 2, width: 2 };
 * const models = [0, 1, 2].map((seed) => ({
 *   family: "MLP", k: 1, seed, model: createModel({ family: "MLP", k: 1, seed, shape, classes: 2 }),
 * }));
 * const probe = {
 *   images: Float32Array.from({ length: 16 }, (_, i) => Math.sin(i)), labels: Int32Array.of(0, 1, 0, 1),
 *   count: 4, split: "test" as const, indices: Int32Array.of(0, 1, 2, 3),
 * };
 * const r = await runModelExperiments(models, { probe, shape, classes: ["a", "b"], mean: [0.5], std: [0.5] }, {
 *   attack: { resamples: 20 }, ensembles: { resamples: 20 },
 * });
 * if (r.attacks?.strategies.length !== 3) throw new Error("three strategies expected");
 * for (const m of models) m.model.dispose();
 * ```
 */
export async function runModelExperiments(
  models: readonly TrainedModel[],
  data: ProbeData,
  options: ModelExperimentsOptions = {},
): Promise<{ attacks: AttacksFile | null; ensembles: EnsemblesFile | null }> {
  if (models.length === 0) throw new RangeError("no trained models given; pass at least one.");
  const { probe, shape } = data;
  const dim = shape.channels * shape.height * shape.width;
  const bs = options.batchSize ?? STACKED_BATCH;
  const gbs = options.batchSize ?? GRADIENT_BATCH;
  const classes = data.classes.length;
  const clip = clipRangeOf(data.mean, data.std);
  let attacks: AttacksFile | null = null, ensembles: EnsemblesFile | null = null;
  if (options.attack !== false) {
    // The models of one family and width answer in one stacked pass (lib/salience).
    const together: ModelsTogether = {
      logits: (ms, images) =>
        populationLogits(ms.map((i) => models[i]!.model), images, { batchSize: bs }),
      probabilityGradients: (ms, images, labels) =>
        populationInputGradients(ms.map((i) => models[i]!.model), { images, labels }, {
          scalar: "true-class-probability",
          layout: "hwc",
          batchSize: gbs,
        }),
    };
    const r = await attackStudy(models.map((m) => attackModelOf(m, { batchSize: bs })), {
      images: probe.images,
      labels: probe.labels,
      dim,
      classes,
      clip,
    }, {
      batchSize: bs,
      source: options.source,
      onProgress: options.onProgress,
      together,
      // The stored probe-set logits are the clean predictions the attack compares against.
      cleanLogits: models.map((m) => m.outputs?.logits),
      ...(options.attack ?? {}),
    });
    attacks = r.file;
  }
  if (options.ensembles !== false) {
    const scalar = options.scalar ?? "true-class-logit";
    const members: EnsembleMember[] = [];
    // Each family and width's models in one stacked pass (lib/salience), members in input order.
    const groups = new Map<string, number[]>();
    models.forEach((m, i) => {
      const key = `${m.family}/${m.k}`;
      groups.set(key, [...(groups.get(key) ?? []), i]);
    });
    for (const g of groups.values()) {
      const ms = g.map((i) => models[i]!.model);
      const stored = g.every((i) => models[i]!.outputs) ? g.map((i) => models[i]!.outputs!) : null;
      const logits = stored
        ? stored.map((o) => o.logits)
        : await populationLogits(ms, probe.images, { batchSize: bs });
      const gradients = stored
        ? stored.map((o) => o.gradient)
        : await populationInputGradients(ms, probe, { scalar, batchSize: gbs });
      g.forEach((i, j) => {
        const m = models[i]!;
        members[i] = {
          family: m.family,
          k: m.k,
          seed: m.seed,
          logits: logits[j]!,
          gradient: gradients[j]!,
        };
      });
      const m = models[g[0]!]!;
      options.onProgress?.(
        `ensembles: outputs of ${m.family} k=${m.k} (${g.length} models${
          stored ? ", as the sweep stored them" : ""
        })`,
      );
    }
    const linear = scalar === "true-class-logit" || scalar === "predicted-class-logit";
    const r = await ensembleStudy(members, { labels: probe.labels, classes, dim }, {
      source: options.source,
      ...(linear ? {} : {
        ensembleGradient: (idx: number[]) =>
          ensembleInputGradients(idx.map((i) => models[i]!.model), probe, {
            scalar,
            batchSize: gbs,
          }),
      }),
      ...(options.ensembles ?? {}),
    });
    ensembles = r.file;
  }
  return { attacks, ensembles };
}

/**
 * Loads the latest checkpoint of every complete run of a sweep (the runs of the most common batch
 * size) and runs {@link runModelExperiments} on `data` (the sweep's data set, as the sweep loaded
 * it). The ensemble study takes each run's stored logits and salience (written from the weights
 * of that checkpoint) where they are what it would compute: the sweep's scalar, unpooled, on the
 * same probe images; else it computes them. Hand the result to `analyzeSweep(dir, { attacks,
 * ensembles })`. The models are disposed before returning.
 *
 * @throws {RangeError} when the sweep has no complete run with a checkpoint.
 *
 * @example
 * ```ts ignore
 * import { loadDataset } from "../data/mod.ts";
 * import { analyzeSweep } from "../analysis/mod.ts";
 * import { runSweepExperiments } from "./models.ts";
 * const dir = "results/tiny-0123abcd";
 * const data = await loadDataset("synthetic", { trainCount: 64, testCount: 32, probeCount: 16 });
 * const { attacks, ensembles } = await runSweepExperiments(dir, data);
 * await analyzeSweep(dir, { attacks: attacks ?? undefined, ensembles: ensembles ?? undefined });
 * ```
 */
export async function runSweepExperiments(
  sweepDir: string,
  data: ProbeData,
  options: ModelExperimentsOptions = {},
): Promise<{ attacks: AttacksFile | null; ensembles: EnsemblesFile | null }> {
  const sweep = await readSweep(sweepDir);
  const runs = await verifiedRuns(sweepDir);
  const counts = new Map<number, number>();
  for (const r of runs) counts.set(r.batchSize, (counts.get(r.batchSize) ?? 0) + 1);
  const primary = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
  const loaded: TrainedModel[] = [];
  try {
    for (const r of runs.filter((x) => x.batchSize === primary)) {
      const run = await readRun(r.dir);
      const dir = join(r.dir, RUN_FILES.checkpoint);
      const last = (await listCheckpoints(dir)).at(-1);
      if (last === undefined) continue;
      const outputs = await storedOutputs(r.dir, data, sweep.config.salience.scalar);
      loaded.push({
        family: run.family,
        k: run.k,
        seed: run.seed,
        model: await loadCheckpointModel(join(dir, `epoch-${String(last).padStart(4, "0")}`)),
        ...(outputs ? { outputs } : {}),
      });
    }
    if (loaded.length === 0) {
      throw new RangeError(
        `sweep ${sweepDir} has no complete run with a checkpoint; the experiments need trained models.`,
      );
    }
    const scalar = sweep.config.salience.scalar as SalienceScalar;
    const ens = sweep.config.experiments.ensembles;
    const att = sweep.config.experiments.attack;
    return await runModelExperiments(loaded, data, {
      scalar,
      source: sweep.sweepId,
      ...options,
      attack: options.attack ?? (att === null ? false : { epsilon: att.epsilon }),
      ensembles: options.ensembles ?? (ens === null ? false : { sizes: ens.sizes }),
    });
  } finally {
    for (const m of loaded) m.model.dispose();
  }
}

/**
 * A run's stored probe-set logits and salience (`logits.npy`, `salience.npy`), written after its
 * last checkpoint from the same weights, when they are what the ensemble study would compute:
 * the salience of `scalar`, unpooled, on the probe images of `data` (the same test indices), and
 * logits of one row per probe image. `null` otherwise (the study then computes them).
 * Cost: reads the two files (N·(D + classes) floats).
 */
async function storedOutputs(
  runDir: string,
  data: ProbeData,
  scalar: string,
): Promise<{ logits: Float32Array; gradient: Float32Array } | null> {
  const salPath = join(runDir, RUN_FILES.salience), logPath = join(runDir, RUN_FILES.logits);
  const N = data.probe.count, classes = data.classes.length;
  const D = data.shape.channels * data.shape.height * data.shape.width;
  try {
    const meta = await readSidecar(salPath);
    const indices = "indices" in meta.probe ? meta.probe.indices : null;
    const probe = data.probe.indices;
    if (
      meta.scalar !== scalar || meta.pooling !== null || indices === null ||
      indices.length !== N || indices.some((v, i) => v !== probe[i])
    ) return null;
    const [sal, lo] = [await readNpy(salPath), await readNpy(logPath)];
    if (sal.shape.join() !== `${N},${D}` || lo.shape.join() !== `${N},${classes}`) return null;
    return { logits: lo.data, gradient: sal.data };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}
