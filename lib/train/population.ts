// Population training: S models of one family and width trained in the same dispatches, each
// with its own initialisation, data order, batch-norm statistics, loss and SGD update, so each
// ends as it would trained alone by train() (within f32 rounding). Checkpoints are per model, in
// train()'s format, so runs stay individually resumable, by either path.
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { modelDims } from "../models/mod.ts";
import { Rng } from "./_rng.ts";
import { stackable, StackedModel } from "./_stacked.ts";
import { type CheckpointState, type EpochRecord, saveCheckpoint } from "./checkpoint.ts";
import {
  architectureOf,
  checkSplit,
  evaluate,
  gatherSamples,
  learningRateAt,
  type Recipe,
  recipeOf,
  resumeCheckpoint,
  setLearningRate,
  type Split,
  type TrainOptions,
  type TrainProgress,
  type TrainResult,
} from "./train.ts";

/** One member of a population: its model, data-order seed and checkpoint folder. */
export interface PopulationMember {
  model: tfl.LayersModel;
  /** Seed of this model's data order (train()'s `seed`). */
  seed: number;
  /** This model's checkpoint folder (train()'s `checkpointDir`). */
  checkpointDir?: string;
}

/** Options of {@link trainPopulation}: train()'s, less what is per member. */
export interface PopulationOptions
  extends Omit<TrainOptions, "seed" | "checkpointDir" | "onEpoch" | "optimizer" | "onProgress"> {
  /** Progress of the population (loss: the members' mean). */
  onProgress?: (p: TrainProgress) => void;
  /** Called after each member's epoch record is made (and its checkpoint written). */
  onEpoch?: (member: number, r: EpochRecord) => void;
  /**
   * Called once per epoch of the population with the wall seconds, after its training steps, of
   * its test evaluation (0 without `test`) and of writing its members' checkpoints (0 without
   * checkpoint folders), so that callers can report them apart from training.
   */
  onEpochTimes?: (
    t: { epoch: number; evaluationSeconds: number; checkpointSeconds: number },
  ) => void;
}

/**
 * Whether {@link trainPopulation} can train these models together: every layer has a stacked
 * implementation (the CNN, ResNet and MLP families; ViT's layers do not).
 *
 * @example
 * ```ts
 * import { createModel } from "../models/mod.ts";
 * import { canTrainTogether } from "./mod.ts";
 * const m = createModel({ family: "CNNSmall", k: 1, seed: 0, shape: { channels: 1, height: 8, width: 8 }, classes: 2 });
 * if (!canTrainTogether(m)) throw new Error("CNNSmall stacks");
 * m.dispose();
 * ```
 */
export function canTrainTogether(model: tfl.LayersModel): boolean {
  return stackable(model);
}

/**
 * Whether `models` gain from one stacked pass: more than one, all stackable
 * ({@link canTrainTogether}) and of one architecture.
 */
export function stackTogether(models: readonly tfl.LayersModel[]): boolean {
  const arch = (m: tfl.LayersModel) =>
    m.layers.map((l) => l.weights.map((w) => w.shape.join("x"))).join();
  return models.length > 1 && models.every(canTrainTogether) &&
    models.every((m) => arch(m) === arch(models[0]!));
}

/**
 * One SGD step of a stacked population on a batch of S·B images (model s's B images at rows
 * s·B …): the objective is the sum over models of each model's mean softmax cross-entropy, so
 * each model's gradient is its own loss's. Returns the per-model losses [S] (caller disposes).
 * Cost: one forward and backward pass of the S·B images.
 */
export function populationStep(
  stacked: StackedModel,
  optimizer: tf.Optimizer,
  batch: { images: Float32Array; labels: Int32Array },
): tf.Tensor1D {
  const { h, w, c, classes } = modelDims(stacked.members[0]!);
  const S = stacked.size;
  return tf.tidy(() => {
    const n = batch.labels.length;
    const xs = tf.tensor4d(batch.images, [n, h, w, c]);
    const ys = tf.oneHot(tf.tensor1d(batch.labels, "int32"), classes);
    let perModel: tf.Tensor1D | null = null;
    optimizer.minimize(
      () => {
        const logits = stacked.forward(xs, true);
        const ce = tf.losses.softmaxCrossEntropy(
          ys,
          logits,
          undefined,
          undefined,
          tf.Reduction.NONE,
        );
        const per = tf.mean(tf.reshape(ce, [S, n / S]), 1) as tf.Tensor1D;
        perModel = tf.keep(per);
        return tf.sum(per) as tf.Scalar;
      },
      false,
      stacked.trainableVariables(),
    );
    return perModel!;
  });
}

/**
 * Images per model in each stacked forward pass (test evaluation, the sweep's probe logits and
 * the attack's forward passes; gradient passes use lib/salience's `GRADIENT_BATCH`): one batch
 * shape for all of them, so that each architecture compiles its inference pipelines once (a
 * software adapter compiles a pipeline per batch size, hundreds of milliseconds each). A last,
 * shorter batch is padded to it ({@link paddedBatches}).
 */
export const STACKED_BATCH = 128;

/**
 * The batches of a pass over `count` images at `batchSize` per model: each `[from, to)` and the
 * rows it is run with, `rows` = min(batchSize, count) for every batch, so that a shorter last
 * batch is padded to the shape of the others (its extra rows are discarded) instead of being a
 * new shape to compile. A pass that fits one batch runs at its own size.
 *
 * @example
 * ```ts
 * import { paddedBatches } from "./population.ts";
 * const b = paddedBatches(300, 128);
 * if (b.map((x) => `${x.from}-${x.to}/${x.rows}`).join() !== "0-128/128,128-256/128,256-300/128") throw new Error();
 * if (paddedBatches(5, 128)[0]!.rows !== 5) throw new Error();
 * ```
 */
export function paddedBatches(
  count: number,
  batchSize: number,
): { from: number; to: number; rows: number }[] {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batchSize = ${batchSize} must be a positive integer.`);
  }
  const rows = Math.min(batchSize, count);
  const out = [];
  for (let from = 0; from < count; from += rows) {
    out.push({ from, to: Math.min(count, from + rows), rows });
  }
  return out;
}

/**
 * Test loss and accuracy of each model of a stacked population on `split`, in inference mode,
 * from one stacked forward pass per batch (`batchSize` images per model, default
 * {@link STACKED_BATCH}; a shorter last batch padded to it): what `evaluate()` gives for each
 * member, within f32 rounding. Inference treats every image alone, so the padding rows change
 * nothing; they are left out of the sums.
 */
async function evaluateStacked(
  stacked: StackedModel,
  split: Split,
  batchSize = STACKED_BATCH,
): Promise<{ loss: number; accuracy: number }[]> {
  const { h, w, c, classes } = modelDims(stacked.members[0]!);
  const per = h * w * c, S = stacked.size;
  const loss = new Float64Array(S), hits = new Float64Array(S);
  const batches = paddedBatches(split.count, batchSize);
  const rows = batches[0]?.rows ?? 0; // no batches for an empty split
  // One buffer for every batch; a short last batch leaves zeros in its padding rows.
  const images = new Float32Array(S * rows * per);
  for (const { from, to } of batches) {
    const n = to - from;
    if (n < rows) images.fill(0);
    const labels = new Int32Array(S * n);
    for (let j = 0; j < S; j++) {
      images.set(split.images.subarray(from * per, to * per), j * rows * per);
      labels.set(split.labels.subarray(from, to), j * n);
    }
    const both = tf.tidy(() => {
      const ys = tf.tensor1d(labels, "int32");
      const all = stacked.forward(tf.tensor4d(images, [S * rows, h, w, c]), false);
      const logits = n === rows ? all : tf.reshape(
        tf.slice(tf.reshape(all, [S, rows, classes]), [0, 0, 0], [S, n, classes]),
        [S * n, classes],
      );
      const ce = tf.losses.softmaxCrossEntropy(
        tf.oneHot(ys, classes),
        logits,
        undefined,
        undefined,
        tf.Reduction.NONE,
      );
      const hit = tf.cast(tf.equal(tf.argMax(logits, 1), ys), "float32");
      return tf.sum(tf.reshape(tf.stack([ce, hit]), [2, S, n]), 2);
    });
    const v = await both.data();
    both.dispose();
    for (let j = 0; j < S; j++) {
      loss[j] = loss[j]! + v[j]!;
      hits[j] = hits[j]! + v[S + j]!;
    }
  }
  return Array.from(loss, (l, j) => ({ loss: l / split.count, accuracy: hits[j]! / split.count }));
}

/**
 * Test loss and accuracy of each of `models` on `split` in inference mode, as `evaluate()` gives
 * for each one, from one stacked pass per batch when the models stack (more than one, all of one
 * architecture that {@link canTrainTogether}), else one model at a time.
 * Cost: one forward pass of S·batchSize images per batch (batchSize per model, default
 * {@link STACKED_BATCH}; a shorter last batch padded to it).
 *
 * @throws what `evaluate()` throws for a split that does not fit the models.
 * @example
 * ```ts
 * import { createModel } from "../models/mod.ts";
 * import { initTf } from "../tf/mod.ts";
 * import { evaluatePopulation } from "./mod.ts";
 * await initTf({ backend: "cpu" });
 * const shape = { channels: 1, height: 4, width: 4 };
 * const ms = [0, 1].map((seed) => createModel({ family: "CNNSmall", k: 1, seed, shape, classes: 2 }));
 * const split = { images: new Float32Array(48).map((_, i) => Math.sin(i)), labels: new Int32Array([0, 1, 1]), count: 3 };
 * const r = await evaluatePopulation(ms, split);
 * if (r.length !== 2 || !(r[0]!.accuracy >= 0)) throw new Error(JSON.stringify(r));
 * ms.forEach((m) => m.dispose());
 * ```
 */
export async function evaluatePopulation(
  models: tfl.LayersModel[],
  split: Split,
  options: { batchSize?: number } = {},
): Promise<{ loss: number; accuracy: number }[]> {
  if (!stackTogether(models)) {
    const out = [];
    for (const m of models) out.push(await evaluate(m, split, { batchSize: options.batchSize }));
    return out;
  }
  const { h, w, c, classes } = modelDims(models[0]!);
  checkSplit(split, h * w * c, classes, "evaluate");
  const stacked = StackedModel.from(models);
  try {
    return await evaluateStacked(stacked, split, options.batchSize);
  } finally {
    stacked.dispose();
  }
}

interface MemberState {
  member: PopulationMember;
  rng: Rng;
  history: EpochRecord[];
  epochsDone: number;
  step: number;
  resumedFrom: number | null;
}

/**
 * Trains S models of one architecture together with train()'s recipe (plain SGD,
 * lr/√(epoch+1) or constant, softmax cross-entropy on logits): in each step model s sees
 * exactly the batch train() would give it with `seed` = its member seed, and gets its own
 * loss's gradient, batch-norm moments and running statistics, and update. After every epoch the
 * stacked weights are written back into each member's LayersModel, evaluated on `test` and
 * checkpointed in its own folder (train()'s format: a member can resume with train() and vice
 * versa). Members resumed at different epochs are brought level first (the lagging ones train
 * together until they catch up).
 *
 * Cost: per epoch, one forward and backward pass of S·count images in count/batchSize steps, and
 * a test pass per member.
 *
 * @throws {TypeError} when the members differ in architecture or have a layer without a stacked
 *   implementation ({@link canTrainTogether}); otherwise what train() throws.
 * @example
 * ```ts
 * import { createModel } from "../models/mod.ts";
 * import { initTf } from "../tf/mod.ts";
 * import { trainPopulation } from "./mod.ts";
 * await initTf({ backend: "cpu" });
 * const shape = { channels: 1, height: 2, width: 2 };
 * const ms = [0, 1].map((seed) => createModel({ family: "MLP", k: 1, seed, shape, classes: 2 }));
 * const images = new Float32Array([1, 1, 1, 1, -1, -1, -1, -1]);
 * const data = { images, labels: new Int32Array([0, 1]), count: 2 };
 * const r = await trainPopulation(ms.map((model, seed) => ({ model, seed })), data, { epochs: 2, batchSize: 2 });
 * if (r.length !== 2 || r[1]!.history.length !== 2) throw new Error("expected two epochs each");
 * ms.forEach((m) => m.dispose());
 * ```
 */
export async function trainPopulation(
  members: PopulationMember[],
  data: Split,
  options: PopulationOptions = {},
): Promise<TrainResult[]> {
  if (members.length < 1) throw new RangeError("trainPopulation() needs at least one member.");
  const recipe = recipeOf(members[0]!.model, data, options);
  const { epochs, batchSize, learningRate, schedule } = recipe;
  const configOf = (seed: number, model: tfl.LayersModel) => ({
    batchSize,
    learningRate,
    schedule,
    optimizer: "sgd",
    seed,
    count: data.count,
    architecture: architectureOf(model),
  });
  const states: MemberState[] = [];
  for (const member of members) {
    const st: MemberState = {
      member,
      rng: new Rng(member.seed),
      history: [],
      epochsDone: 0,
      step: 0,
      resumedFrom: null,
    };
    if (member.checkpointDir) {
      const r = await resumeCheckpoint(
        member.checkpointDir,
        member.model,
        configOf(member.seed, member.model),
      );
      if (r) {
        st.history = r.history;
        st.epochsDone = st.resumedFrom = r.epochsDone;
        st.step = r.optimizerStep;
        st.rng.state = r.rngState;
      }
    }
    states.push(st);
  }
  // Fails early, before any training, on mixed architectures or unsupported layers.
  StackedModel.from(members.map((m) => m.model)).dispose();
  const stopAt = Math.min(epochs, options.stopAfterEpoch ?? Infinity);
  for (;;) {
    const open = states.filter((s) => s.epochsDone < stopAt);
    if (open.length === 0) break;
    const epoch = Math.min(...open.map((s) => s.epochsDone));
    await populationEpoch(open.filter((s) => s.epochsDone === epoch), data, {
      ...recipe,
      epoch,
      options,
      configOf,
      index: (s) => states.indexOf(s),
    });
  }
  return states.map((s) => ({
    epochsDone: s.epochsDone,
    history: s.history,
    optimizerStep: s.step,
    resumedFrom: s.resumedFrom,
    stopped: s.epochsDone < epochs,
  }));
}

async function populationEpoch(
  group: MemberState[],
  data: Split,
  o: Recipe & {
    epoch: number;
    options: PopulationOptions;
    configOf: (seed: number, m: tfl.LayersModel) => Record<string, unknown>;
    index: (s: MemberState) => number;
  },
): Promise<void> {
  const S = group.length;
  const batches = Math.ceil(data.count / o.batchSize);
  // The rate of the epoch's b-th step, as train() gives it.
  const lrAt = (b: number) =>
    learningRateAt(o.epoch, o.learningRate, o.schedule, o.epoch * batches + b, o.epochs * batches);
  const lr = lrAt(0);
  const stacked = StackedModel.from(group.map((s) => s.member.model));
  const optimizer = tf.train.sgd(lr);
  const orders = group.map((s) => s.rng.permutation(data.count));
  const t0 = performance.now();
  let lossSum: tf.Tensor = tf.zeros([S]);
  let seen = 0;
  try {
    for (let b = 0; b < batches; b++) {
      if (o.options.signal?.aborted) {
        throw o.options.signal.reason ?? new DOMException("Training aborted.", "AbortError");
      }
      const from = b * o.batchSize, to = Math.min(data.count, from + o.batchSize);
      const n = to - from;
      const images = new Float32Array(S * n * o.per);
      const labels = new Int32Array(S * n);
      orders.forEach((order, s) => {
        const part = gatherSamples(data, order, from, to, o.per);
        images.set(part.images, s * n * o.per);
        labels.set(part.labels, s * n);
      });
      if (o.schedule === "linear" && b > 0) setLearningRate(optimizer, lrAt(b));
      const loss = populationStep(stacked, optimizer, { images, labels });
      const prev = lossSum;
      lossSum = tf.tidy(() => tf.add(prev, tf.mul(loss, n)));
      prev.dispose();
      loss.dispose();
      seen += n;
      for (const s of group) s.step++;
      if (o.options.onProgress && ((b + 1) % o.progressEvery === 0 || b + 1 === batches)) {
        const l = (await lossSum.data()) as Float32Array;
        o.options.onProgress({
          epoch: o.epoch,
          epochs: o.epochs,
          batch: b + 1,
          batches,
          loss: l.reduce((a: number, v: number) => a + v, 0) / (S * seen),
          samplesPerSecond: (S * seen) / ((performance.now() - t0) / 1000),
        });
      }
    }
    const losses = await lossSum.data();
    const seconds = (performance.now() - t0) / 1000;
    stacked.writeBack();
    const tEval = performance.now();
    const evs = o.options.test ? await evaluateStacked(stacked, o.options.test) : null;
    const evaluationSeconds = evs ? (performance.now() - tEval) / 1000 : 0;
    let checkpointSeconds = 0;
    for (const [i, s] of group.entries()) {
      const model = s.member.model;
      const ev = evs?.[i] ?? null;
      const rec: EpochRecord = {
        epoch: o.epoch,
        learningRate: lr,
        trainLoss: losses[i]! / seen,
        testLoss: ev?.loss ?? null,
        testAccuracy: ev?.accuracy ?? null,
        samplesPerSecond: seen / seconds,
        seconds,
      };
      s.history = [...s.history, rec];
      s.epochsDone++;
      if (s.member.checkpointDir) {
        const state: CheckpointState = {
          format: "salience-train-checkpoint",
          version: 1,
          epochsDone: s.epochsDone,
          history: s.history,
          optimizerStep: s.step,
          rngState: s.rng.state,
          config: o.configOf(s.member.seed, model),
        };
        // SGD's only optimiser weight is its step count, as train() saves it.
        const iter = tf.scalar(s.step, "int32");
        const tSave = performance.now();
        try {
          await saveCheckpoint(s.member.checkpointDir, model, {
            state,
            optimizerWeights: [{ name: "iter", tensor: iter }],
          });
        } finally {
          iter.dispose();
          checkpointSeconds += (performance.now() - tSave) / 1000;
        }
      }
      o.options.onEpoch?.(o.index(s), rec);
    }
    o.options.onEpochTimes?.({ epoch: o.epoch, evaluationSeconds, checkpointSeconds });
  } finally {
    lossSum.dispose();
    optimizer.dispose();
    stacked.dispose();
  }
}
