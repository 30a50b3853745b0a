// The training loop: seeded data order, SGD with 1/√(epoch+1) decay, softmax cross-entropy on
// logits, per-epoch test evaluation and checkpoints, abort and exact resume.
import "@tensorflow/tfjs-backend-cpu"; // a backend is always registered; lib/tf chooses the one used
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { modelDims } from "../models/mod.ts";
import { Rng } from "./_rng.ts";
import {
  type CheckpointState,
  type EpochRecord,
  loadLatestCheckpoint,
  saveCheckpoint,
} from "./checkpoint.ts";

/** A split of images: NHWC normalised floats, labels, count (lib/data's `ImageSplit`). */
export interface Split {
  images: Float32Array;
  labels: Int32Array;
  count: number;
}

/** Optimisers the loop can use. */
export type OptimizerKind = "sgd" | "momentum" | "adam";

/** Progress of one batch, for progress bars. */
export interface TrainProgress {
  epoch: number;
  epochs: number;
  /** Batches done in this epoch, and the epoch's total. */
  batch: number;
  batches: number;
  /** Mean training loss over this epoch so far. */
  loss: number;
  /** Training samples per second over this epoch so far. */
  samplesPerSecond: number;
}

/** Options of {@link train}. */
export interface TrainOptions {
  /** Total epochs to reach (default 1). Resuming counts completed epochs towards it. */
  epochs?: number;
  /** Batch size (default 128; see `defaultBatchSize` for software adapters). */
  batchSize?: number;
  /** Base learning rate (default 0.1). */
  learningRate?: number;
  /** "inverse-sqrt": lr/√(epoch+1) (default, the paper's); "constant"; "linear": lr·(1 − t/T)
   * at step t of the T = epochs × batches-per-epoch steps of the whole training. */
  schedule?: Schedule;
  /** Default "sgd" (no momentum, no weight decay); "momentum" uses 0.9. */
  optimizer?: OptimizerKind;
  /** Seed of the data order (default 0). */
  seed?: number;
  /** Test split evaluated after each epoch in inference mode. */
  test?: Split;
  /** Folder for per-epoch checkpoints; training resumes from its latest one. */
  checkpointDir?: string;
  /** Stops between batches; the last completed epoch's checkpoint stays. */
  signal?: AbortSignal;
  /** Stops cleanly after this many completed epochs (counted from 0, like `epochs`). */
  stopAfterEpoch?: number;
  /** Called every `progressEvery` batches and at each epoch's end. */
  onProgress?: (p: TrainProgress) => void;
  /** Batches between progress calls (default 10); each call reads the loss back (a sync). */
  progressEvery?: number;
  /** Called after each epoch's record is made (and its checkpoint written). */
  onEpoch?: (r: EpochRecord) => void;
}

/** What {@link train} did. */
export interface TrainResult {
  /** Completed epochs in total (including resumed ones). */
  epochsDone: number;
  history: EpochRecord[];
  optimizerStep: number;
  /** Completed epochs found in the checkpoint folder at the start, or null. */
  resumedFrom: number | null;
  /** True when `signal` or `stopAfterEpoch` stopped it before `epochs`. */
  stopped: boolean;
}

/**
 * Creates an optimiser: "sgd" (plain), "momentum" (0.9) or "adam".
 *
 * @example
 * ```ts
 * import { createOptimizer } from "./mod.ts";
 * const o = createOptimizer("sgd", 0.1);
 * o.dispose();
 * ```
 */
export function createOptimizer(kind: OptimizerKind, learningRate: number): tf.Optimizer {
  if (!(learningRate > 0)) {
    throw new RangeError(`learningRate = ${learningRate} must be positive; pass e.g. 0.1.`);
  }
  switch (kind) {
    case "sgd":
      return tf.train.sgd(learningRate);
    case "momentum":
      return tf.train.momentum(learningRate, 0.9);
    case "adam":
      return tf.train.adam(learningRate);
    default:
      throw new RangeError(`Unknown optimizer "${kind}"; expected sgd, momentum or adam.`);
  }
}

/** Sets an optimiser's learning rate (tfjs optimisers read it on every step). */
export function setLearningRate(opt: tf.Optimizer, lr: number): void {
  (opt as unknown as { setLearningRate?: (lr: number) => void }).setLearningRate?.(lr);
  (opt as unknown as { learningRate: number }).learningRate = lr;
}

/** A learning-rate schedule (`TrainOptions.schedule`). */
export type Schedule = "inverse-sqrt" | "constant" | "linear";

/**
 * The learning rate of a step: lr/√(epoch+1) and constant hold for a whole epoch; "linear"
 * decays lr·(1 − step/steps) over the whole training (`step` counted from 0 over all epochs,
 * `steps` = epochs × batches per epoch), so the last step's rate is lr/steps.
 *
 * @example
 * ```ts
 * import { learningRateAt } from "./mod.ts";
 * if (learningRateAt(0, 0.2, "linear", 30, 40) !== 0.05) throw new Error();
 * ```
 */
export function learningRateAt(
  epoch: number,
  base: number,
  schedule: Schedule,
  step = 0,
  steps = 1,
): number {
  if (schedule === "constant") return base;
  if (schedule === "linear") return base * (1 - step / steps);
  return base / Math.sqrt(epoch + 1);
}

/** The weight names' shapes, which identify an architecture independently of its seed. */
export function architectureOf(model: tfl.LayersModel): string {
  return model.weights.map((w) => w.shape.join("x")).join(",");
}

/** Copies samples `idx[from … to)` of a split into one NHWC batch. */
export function gatherSamples(
  split: Split,
  idx: ArrayLike<number>,
  from: number,
  to: number,
  per: number,
): { images: Float32Array; labels: Int32Array } {
  const n = to - from;
  const images = new Float32Array(n * per);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const j = idx[from + i]!;
    images.set(split.images.subarray(j * per, (j + 1) * per), i * per);
    labels[i] = split.labels[j]!;
  }
  return { images, labels };
}

/** Checks a split's sizes and labels against a model's input size and class count. */
export function checkSplit(split: Split, per: number, classes: number, name: string): void {
  if (split.count < 1) {
    throw new RangeError(`${name} split has ${split.count} images; pass at least one.`);
  }
  if (split.images.length !== split.count * per) {
    throw new TypeError(
      `${name} images hold ${split.images.length} floats, expected count·H·W·C = ${
        split.count * per
      }; pass NHWC images matching the model input.`,
    );
  }
  if (split.labels.length !== split.count) {
    throw new TypeError(
      `${name} labels hold ${split.labels.length} entries, expected ${split.count}.`,
    );
  }
  for (const l of split.labels) {
    if (l < 0 || l >= classes) {
      throw new RangeError(
        `${name} label ${l} is outside 0 … ${classes - 1}; the model has ${classes} classes.`,
      );
    }
  }
}

/**
 * One optimiser step on a batch: softmax cross-entropy of the logits (training mode, so batch
 * norm uses batch statistics and updates its running statistics). Returns the loss tensor
 * (caller disposes) so callers can read it without forcing a sync.
 * Cost: one forward and backward pass of the batch.
 */
export function trainStep(
  model: tfl.LayersModel,
  optimizer: tf.Optimizer,
  batch: { images: Float32Array | tf.Tensor4D; labels: Int32Array | tf.Tensor1D },
): tf.Scalar {
  const { h, w, c, classes } = modelDims(model);
  return tf.tidy(() => {
    const xs = batch.images instanceof tf.Tensor
      ? batch.images
      : tf.tensor4d(batch.images, [batch.images.length / (h * w * c), h, w, c]);
    const ys = tf.oneHot(
      batch.labels instanceof tf.Tensor ? batch.labels : tf.tensor1d(batch.labels, "int32"),
      classes,
    );
    const vars = model.trainableWeights.map((v) => v.read() as tf.Variable);
    return optimizer.minimize(
      () => {
        const logits = model.apply(xs, { training: true }) as tf.Tensor;
        return tf.losses.softmaxCrossEntropy(ys, logits) as tf.Scalar;
      },
      true,
      vars,
    )!;
  });
}

/**
 * Mean softmax cross-entropy and accuracy of a model on a split in inference mode (batch norm
 * uses running statistics). Cost: one forward pass over the split.
 *
 * @throws {RangeError} for an empty split.
 */
export async function evaluate(
  model: tfl.LayersModel,
  split: Split,
  options: { batchSize?: number } = {},
): Promise<{ loss: number; accuracy: number }> {
  const { h, w, c, classes } = modelDims(model);
  const per = h * w * c;
  checkSplit(split, per, classes, "evaluate");
  const bs = options.batchSize ?? 256;
  let lossSum = 0, correct = 0;
  for (let s = 0; s < split.count; s += bs) {
    const e = Math.min(split.count, s + bs);
    const [l, k] = tf.tidy(() => {
      const xs = tf.tensor4d(split.images.subarray(s * per, e * per), [e - s, h, w, c]);
      const ys = tf.tensor1d(split.labels.subarray(s, e), "int32");
      const logits = model.apply(xs, { training: false }) as tf.Tensor2D;
      const loss = tf.sum(
        tf.losses.softmaxCrossEntropy(
          tf.oneHot(ys, classes),
          logits,
          undefined,
          undefined,
          tf.Reduction.NONE,
        ),
      );
      const hits = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), ys), "float32"));
      return [loss, hits];
    });
    lossSum += (await l.data())[0]!;
    correct += (await k.data())[0]!;
    l.dispose();
    k.dispose();
  }
  return { loss: lossSum / split.count, accuracy: correct / split.count };
}

/** What {@link resumeCheckpoint} restored besides the weights. */
export type ResumePoint = Pick<
  CheckpointState,
  "epochsDone" | "history" | "optimizerStep" | "rngState"
>;

/**
 * Loads the latest checkpoint in `dir` into `model` (and `optimizer`'s slots when given), after
 * checking that it was trained with `config`; null when there is none.
 *
 * @throws {Error} when the checkpoint's settings differ from `config`.
 */
export async function resumeCheckpoint(
  dir: string,
  model: tfl.LayersModel,
  config: Record<string, unknown>,
  optimizer?: tf.Optimizer,
): Promise<ResumePoint | null> {
  const ck = await loadLatestCheckpoint(dir);
  if (!ck) return null;
  try {
    for (const [k, v] of Object.entries(config)) {
      if (JSON.stringify(ck.state.config[k]) !== JSON.stringify(v)) {
        throw new Error(
          `Checkpoint ${ck.path} was trained with ${k} = ${
            JSON.stringify(ck.state.config[k])
          }, not ${JSON.stringify(v)}; use another checkpointDir or the same settings.`,
        );
      }
    }
    model.loadWeights(ck.weights, true);
    if (optimizer && ck.optimizerWeights.length) await optimizer.setWeights(ck.optimizerWeights);
  } finally {
    tf.dispose(Object.values(ck.weights));
    tf.dispose(ck.optimizerWeights.map((x) => x.tensor));
  }
  const { epochsDone, history, optimizerStep, rngState } = ck.state;
  return { epochsDone, history, optimizerStep, rngState };
}

/** The settings train() and trainPopulation() share, defaults filled in ({@link recipeOf}). */
export interface Recipe {
  epochs: number;
  batchSize: number;
  learningRate: number;
  schedule: Schedule;
  progressEvery: number;
  /** Floats per image: H·W·C of the model's input. */
  per: number;
}

/**
 * The settings train() and trainPopulation() share, with the paper's defaults (1 epoch, batch
 * 128, learning rate 0.1, the inverse-sqrt schedule, progress every 10 batches), after checking
 * the training split and `options.test` against `model`'s input size and class count.
 *
 * @throws {RangeError} when `epochs`, `batchSize` or `progressEvery` is not a positive integer,
 *   and what {@link checkSplit} throws.
 */
export function recipeOf(
  model: tfl.LayersModel,
  data: Split,
  options: Pick<
    TrainOptions,
    "epochs" | "batchSize" | "learningRate" | "schedule" | "progressEvery" | "test"
  >,
): Recipe {
  const { h, w, c, classes } = modelDims(model);
  const per = h * w * c;
  checkSplit(data, per, classes, "training");
  if (options.test) checkSplit(options.test, per, classes, "test");
  const recipe: Recipe = {
    epochs: options.epochs ?? 1,
    batchSize: options.batchSize ?? 128,
    learningRate: options.learningRate ?? 0.1,
    schedule: options.schedule ?? "inverse-sqrt",
    progressEvery: options.progressEvery ?? 10,
    per,
  };
  for (const n of ["epochs", "batchSize", "progressEvery"] as const) {
    const v = recipe[n];
    if (!Number.isInteger(v) || v < 1) {
      throw new RangeError(`${n} = ${v} must be a positive integer.`);
    }
  }
  return recipe;
}

/**
 * Trains a model with the paper's recipe by default: plain SGD, lr 0.1/√(epoch+1), batch 128,
 * softmax cross-entropy on logits, seeded data order (a Fisher–Yates shuffle per epoch from one
 * generator whose position is checkpointed). With `checkpointDir`, a checkpoint is written after
 * every epoch and training resumes from the latest one (weights, batch-norm statistics,
 * optimiser slots and step, data-order position, history), so an interrupted run ends with the
 * same weights as an uninterrupted one on a deterministic backend.
 *
 * Cost: epochs × (forward + backward over the split) + a test pass per epoch.
 *
 * @throws {RangeError} for bad sizes or labels, {TypeError} for mismatched shapes, and
 *   {Error} when a checkpoint's settings differ from these options.
 * @example
 * ```ts
 * import { createModel } from "../models/mod.ts";
 * import { initTf } from "../tf/mod.ts";
 * import { train } from "./mod.ts";
 * await initTf({ backend: "cpu" });
 * const m = createModel({ family: "MLP", k: 1, seed: 0, shape: { channels: 1, height: 2, width: 2 }, classes: 2 });
 * const images = new Float32Array([1, 1, 1, 1, -1, -1, -1, -1]);
 * const r = await train(m, { images, labels: new Int32Array([0, 1]), count: 2 }, { epochs: 2, batchSize: 2 });
 * if (r.history.length !== 2) throw new Error("expected two epochs");
 * m.dispose();
 * ```
 */
export async function train(
  model: tfl.LayersModel,
  data: Split,
  options: TrainOptions = {},
): Promise<TrainResult> {
  const { epochs, batchSize, learningRate: baseLr, schedule, progressEvery: every, per } = recipeOf(
    model,
    data,
    options,
  );
  const kind = options.optimizer ?? "sgd";
  const seed = options.seed ?? 0;
  const config = {
    batchSize,
    learningRate: baseLr,
    schedule,
    optimizer: kind,
    seed,
    count: data.count,
    architecture: architectureOf(model),
  };
  const optimizer = createOptimizer(kind, learningRateAt(0, baseLr, schedule));
  const rng = new Rng(seed);
  let history: EpochRecord[] = [];
  let epochsDone = 0, step = 0;
  let resumedFrom: number | null = null;
  try {
    if (options.checkpointDir) {
      const r = await resumeCheckpoint(options.checkpointDir, model, config, optimizer);
      if (r) {
        history = r.history;
        epochsDone = resumedFrom = r.epochsDone;
        step = r.optimizerStep;
        rng.state = r.rngState;
      }
    }
    const stopAt = Math.min(epochs, options.stopAfterEpoch ?? Infinity);
    const batches = Math.ceil(data.count / batchSize);
    while (epochsDone < stopAt) {
      const epoch = epochsDone;
      const lr = learningRateAt(epoch, baseLr, schedule, epoch * batches, epochs * batches);
      setLearningRate(optimizer, lr);
      const order = rng.permutation(data.count);
      const t0 = performance.now();
      let lossSum: tf.Tensor = tf.keep(tf.scalar(0));
      let seen = 0;
      for (let b = 0; b < batches; b++) {
        if (options.signal?.aborted) {
          throw options.signal.reason ?? new DOMException("Training aborted.", "AbortError");
        }
        const from = b * batchSize, to = Math.min(data.count, from + batchSize);
        const batch = gatherSamples(data, order, from, to, per);
        if (schedule === "linear" && b > 0) {
          setLearningRate(
            optimizer,
            learningRateAt(epoch, baseLr, schedule, epoch * batches + b, epochs * batches),
          );
        }
        const loss = trainStep(model, optimizer, batch);
        const prev = lossSum;
        const next = tf.tidy(() => tf.add(prev, tf.mul(loss, to - from)));
        loss.dispose();
        lossSum.dispose();
        lossSum = next;
        seen += to - from;
        step++;
        if (options.onProgress && ((b + 1) % every === 0 || b + 1 === batches)) {
          const l = (await lossSum.data())[0]! / seen;
          const sec = (performance.now() - t0) / 1000;
          options.onProgress({
            epoch,
            epochs,
            batch: b + 1,
            batches,
            loss: l,
            samplesPerSecond: seen / sec,
          });
        }
      }
      const trainLoss = (await lossSum.data())[0]! / seen;
      lossSum.dispose();
      const seconds = (performance.now() - t0) / 1000;
      const ev = options.test ? await evaluate(model, options.test) : null;
      const rec: EpochRecord = {
        epoch,
        learningRate: lr,
        trainLoss,
        testLoss: ev?.loss ?? null,
        testAccuracy: ev?.accuracy ?? null,
        samplesPerSecond: seen / seconds,
        seconds,
      };
      history = [...history, rec];
      epochsDone++;
      if (options.checkpointDir) {
        const ow = await optimizer.getWeights();
        try {
          const state: CheckpointState = {
            format: "salience-train-checkpoint",
            version: 1,
            epochsDone,
            history,
            optimizerStep: step,
            rngState: rng.state,
            config,
          };
          await saveCheckpoint(options.checkpointDir, model, { state, optimizerWeights: ow });
        } finally {
          tf.dispose(ow.map((x) => x.tensor));
        }
      }
      options.onEpoch?.(rec);
    }
    return { epochsDone, history, optimizerStep: step, resumedFrom, stopped: epochsDone < epochs };
  } finally {
    optimizer.dispose();
  }
}

/**
 * The default batch size for a run: 128 (the paper's), but 64 on a software adapter (where
 * tfjs-backend-webgpu's conv filter gradient must keep batch × H × W under 65,535 loop
 * iterations; 64 × 28 × 28 = 50,176), and never above a conformance report's `maxBatch`.
 *
 * @example
 * ```ts
 * import { defaultBatchSize } from "./mod.ts";
 * if (defaultBatchSize({ backend: "webgpu", software: true, maxBatch: null }) !== 64) throw new Error();
 * ```
 */
export function defaultBatchSize(
  report: { backend: string; software: boolean; maxBatch: number | null },
): number {
  let b = report.backend === "webgpu" && report.software ? 64 : 128;
  if (report.maxBatch !== null) b = Math.min(b, report.maxBatch);
  return b;
}
