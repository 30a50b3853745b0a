// Input gradients (salience) of a chosen scalar with respect to the normalised input, batched,
// in inference mode; logits; ensembles; streaming to a float32 .npy with its JSON sidecar.
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import {
  createNpyRowWriter,
  type ModelRef,
  type ProbeSet,
  SALIENCE_SCALARS,
  type SalienceScalar,
} from "../npy/mod.ts";
import { modelDims } from "../models/mod.ts";
import {
  canTrainTogether,
  evaluate,
  paddedBatches,
  STACKED_BATCH,
  StackedModel,
} from "../train/mod.ts";

export { SALIENCE_SCALARS };
export type { SalienceScalar };

/** Images and labels: NHWC normalised floats (count·H·W·C) and count labels. */
export interface LabelledImages {
  images: Float32Array;
  labels: Int32Array;
}

/**
 * Images shared by a population's models and their labels: one label array for all models, or
 * one per model (in the models' order), such as each model's own predicted classes.
 */
export interface PopulationLabelledImages {
  images: Float32Array;
  labels: Int32Array | readonly Int32Array[];
}

/**
 * Images per model in each stacked gradient pass unless a caller says otherwise (the sweep's
 * salience and the attack's gradients alike, so they share one compiled shape). Smaller than
 * lib/train's `STACKED_BATCH` for the forward passes: on a software adapter the first pass of a
 * larger shape compiles for longer than the larger batches save on a probe set of hundreds.
 */
export const GRADIENT_BATCH = 64;

/** Options of {@link inputGradients}. */
export interface GradientOptions {
  /** What to differentiate (default "true-class-logit"). */
  scalar?: SalienceScalar;
  /** "chw" (default): each sample's gradient as C×H×W; "hwc": as the input's H×W×C. */
  layout?: "chw" | "hwc";
  /** Samples per forward/backward pass (default 128). */
  batchSize?: number;
}

type Model = tfl.LayersModel;

function countOf(images: Float32Array, per: number): number {
  if (images.length % per !== 0 || images.length === 0) {
    throw new TypeError(
      `images hold ${images.length} floats, expected a positive multiple of H·W·C = ${per}; pass NHWC images matching the model input.`,
    );
  }
  return images.length / per;
}

function checkScalar(s: string): asserts s is SalienceScalar {
  if (!(SALIENCE_SCALARS as readonly string[]).includes(s)) {
    throw new RangeError(
      `Unknown salience scalar "${s}"; expected one of ${SALIENCE_SCALARS.join(", ")}.`,
    );
  }
}

/** Sum over the batch of each sample's scalar (so the gradient of the sum is per-sample). */
function scalarOf(
  logits: tf.Tensor2D,
  labels: tf.Tensor1D,
  classes: number,
  scalar: SalienceScalar,
): tf.Scalar {
  switch (scalar) {
    case "true-class-logit":
      return tf.sum(tf.mul(logits, tf.oneHot(labels, classes)));
    case "predicted-class-logit":
      return tf.sum(tf.mul(logits, tf.oneHot(tf.argMax(logits, 1), classes)));
    case "true-class-probability":
      return tf.sum(tf.mul(tf.softmax(logits), tf.oneHot(labels, classes)));
    case "loss":
      return tf.sum(
        tf.losses.softmaxCrossEntropy(
          tf.oneHot(labels, classes),
          logits,
          undefined,
          undefined,
          tf.Reduction.NONE,
        ),
      );
  }
}

function meanLogits(models: Model[], x: tf.Tensor4D): tf.Tensor2D {
  const outs = models.map((m) => m.apply(x, { training: false }) as tf.Tensor2D);
  return outs.length === 1 ? outs[0]! : tf.div(tf.addN(outs), outs.length);
}

function sameInput(models: Model[]): ReturnType<typeof modelDims> {
  if (models.length === 0) throw new RangeError("No models given; pass at least one.");
  const d = modelDims(models[0]!);
  for (const m of models) {
    const e = modelDims(m);
    if (e.h !== d.h || e.w !== d.w || e.c !== d.c || e.classes !== d.classes) {
      throw new TypeError(
        `Model ${m.name} takes ${e.h}×${e.w}×${e.c} → ${e.classes}, not ${d.h}×${d.w}×${d.c} → ${d.classes} like the first; ensemble models of one input shape and class count.`,
      );
    }
  }
  return d;
}

/**
 * Logits of the average of `models`' logits (one model: its logits), batched, inference mode
 * (batch norm uses running statistics). Returns a [N, classes] row-major Float32Array.
 * Cost: one forward pass per model over the images.
 *
 * @throws {TypeError} when the images do not match the input shape or the models disagree.
 */
export async function ensembleLogits(
  models: Model[],
  images: Float32Array,
  options: { batchSize?: number } = {},
): Promise<Float32Array> {
  const d = sameInput(models);
  const per = d.h * d.w * d.c, n = countOf(images, per), bs = options.batchSize ?? 256;
  const out = new Float32Array(n * d.classes);
  for (let s = 0; s < n; s += bs) {
    const e = Math.min(n, s + bs);
    const t = tf.tidy(() =>
      meanLogits(models, tf.tensor4d(images.subarray(s * per, e * per), [e - s, d.h, d.w, d.c]))
    );
    out.set(await t.data(), s * d.classes);
    t.dispose();
  }
  return out;
}

/**
 * Logits of one model, batched, in inference mode. Returns [N, classes] row-major.
 *
 * @example
 * ```ts
 * import { createModel } from "../models/mod.ts";
 * import { initTf } from "../tf/mod.ts";
 * import { predictLogits } from "./mod.ts";
 * await initTf({ backend: "cpu" });
 * const m = createModel({ family: "MLP", k: 1, seed: 0, shape: { channels: 1, height: 2, width: 2 }, classes: 3 });
 * const logits = await predictLogits(m, new Float32Array(8));
 * if (logits.length !== 6) throw new Error("expected 2 × 3 logits");
 * m.dispose();
 * ```
 */
export function predictLogits(
  model: Model,
  images: Float32Array,
  options: { batchSize?: number } = {},
): Promise<Float32Array> {
  return ensembleLogits([model], images, options);
}

/**
 * Input gradients of the ensemble's scalar (computed on the average of the members' logits)
 * with respect to the normalised input, per sample, in inference mode. Rows are C×H×W
 * (`layout: "chw"`, default) or H×W×C. The scalar of sample i depends only on sample i, so the
 * gradient of the batch sum is each sample's own gradient.
 * Cost: one forward and one backward pass per model per batch.
 *
 * @throws {TypeError} for mismatched shapes, {RangeError} for an unknown scalar or bad label.
 */
export async function ensembleInputGradients(
  models: Model[],
  data: LabelledImages,
  options: GradientOptions = {},
): Promise<Float32Array> {
  const d = sameInput(models);
  const scalar = options.scalar ?? "true-class-logit";
  checkScalar(scalar);
  const per = d.h * d.w * d.c, n = countOf(data.images, per), bs = options.batchSize ?? 128;
  checkLabels(data.labels, n, d.classes);
  const chw = (options.layout ?? "chw") === "chw";
  const out = new Float32Array(n * per);
  for (let s = 0; s < n; s += bs) {
    const e = Math.min(n, s + bs);
    const g = tf.tidy(() => {
      const x = tf.tensor4d(data.images.subarray(s * per, e * per), [e - s, d.h, d.w, d.c]);
      const y = tf.tensor1d(data.labels.subarray(s, e), "int32");
      const grad = tf.grad((xx: tf.Tensor) =>
        scalarOf(meanLogits(models, xx as tf.Tensor4D), y, d.classes, scalar)
      )(x);
      return chw ? tf.transpose(grad, [0, 3, 1, 2]) : grad;
    });
    out.set(await g.data(), s * per);
    g.dispose();
  }
  return out;
}

/**
 * Input gradients of one model's scalar (see {@link ensembleInputGradients}); FGSM attacks use
 * `scalar: "true-class-probability", layout: "hwc"`.
 *
 * @example
 * ```ts
 * import { createModel } from "../models/mod.ts";
 * import { initTf } from "../tf/mod.ts";
 * import { inputGradients } from "./mod.ts";
 * await initTf({ backend: "cpu" });
 * const m = createModel({ family: "MLP", k: 1, seed: 0, shape: { channels: 2, height: 2, width: 2 }, classes: 3 });
 * const g = await inputGradients(m, { images: new Float32Array(16), labels: new Int32Array([0, 2]) });
 * if (g.length !== 16) throw new Error("expected 2 × 8 floats");
 * m.dispose();
 * ```
 */
export function inputGradients(
  model: Model,
  data: LabelledImages,
  options: GradientOptions = {},
): Promise<Float32Array> {
  return ensembleInputGradients([model], data, options);
}

/**
 * Whether `models` can share one stacked pass: more than one model, all of one architecture
 * whose every layer has a stacked implementation (lib/train's `StackedModel`).
 */
function stacks(models: Model[]): boolean {
  if (models.length < 2 || !models.every(canTrainTogether)) return false;
  const arch = (m: Model) => m.layers.map((l) => l.weights.map((w) => w.shape.join("x"))).join();
  return models.every((m) => arch(m) === arch(models[0]!));
}

/**
 * Runs `fn` over `images` in batches of `bs` through one stacked model of `models`: model s's
 * rows of each batch ([S·rows, H, W, C], model s at rows s·rows …, with model s's labels) are its
 * own images (`images[s]` when one array per model is given) or a copy of the shared ones, and
 * model s's rows of each result (row width `width`) go into `outs[s]`. A shorter last batch is
 * padded to the others' shape (lib/train's `paddedBatches`: zero images, label 0), so the pass
 * compiles one shape; `fn` treats every image alone (inference), so the padding rows, dropped
 * from the results, change nothing.
 */
async function stackedPasses(
  models: Model[],
  data: {
    images: Float32Array | readonly Float32Array[];
    labels?: PopulationLabelledImages["labels"];
  },
  o: { bs: number; width: number },
  fn: (stacked: StackedModel, x: tf.Tensor4D, labels: Int32Array, rows: number) => tf.Tensor,
): Promise<Float32Array[]> {
  const d = modelDims(models[0]!);
  const S = models.length;
  const per = d.h * d.w * d.c;
  const own = perModelImages(data.images, S, per);
  const n = own[0]!.length / per;
  const outs = models.map(() => new Float32Array(n * o.width));
  const batches = paddedBatches(n, o.bs);
  const rows = batches[0]?.rows ?? 0; // no batches for no images
  // One buffer for every batch; a short last batch leaves zeros in its padding rows.
  const images = new Float32Array(S * rows * per);
  const labels = new Int32Array(S * rows);
  const stacked = StackedModel.from(models);
  try {
    for (const { from, to } of batches) {
      const m = to - from;
      if (m < rows) (images.fill(0), labels.fill(0));
      for (let j = 0; j < S; j++) {
        images.set(own[j]!.subarray(from * per, to * per), j * rows * per);
        if (data.labels) labels.set(labelsOf(data.labels, j).subarray(from, to), j * rows);
      }
      const t = tf.tidy(() =>
        fn(stacked, tf.tensor4d(images, [S * rows, d.h, d.w, d.c]), labels, rows)
      );
      const v = (await t.data()) as Float32Array;
      t.dispose();
      for (let j = 0; j < S; j++) {
        outs[j]!.set(v.subarray(j * rows * o.width, (j * rows + m) * o.width), from * o.width);
      }
    }
  } finally {
    stacked.dispose();
  }
  return outs;
}

/**
 * The images of each of S models: the shared array S times, or the given one per model after
 * checking there are S of them, each a whole number of the same count of images.
 */
function perModelImages(
  images: Float32Array | readonly Float32Array[],
  S: number,
  per: number,
): readonly Float32Array[] {
  if (images instanceof Float32Array) {
    countOf(images, per);
    return Array.from({ length: S }, () => images);
  }
  if (images.length !== S) {
    throw new TypeError(
      `${images.length} image arrays given for ${S} models; pass one array per model, or one for all.`,
    );
  }
  const n = countOf(images[0]!, per);
  for (const x of images) {
    if (countOf(x, per) !== n) {
      throw new TypeError(
        `the models' image arrays hold ${
          x.length / per
        } and ${n} images; give every model the same count.`,
      );
    }
  }
  return images;
}

/**
 * Logits of each of S models of one architecture (a population's members) on the same images,
 * or on images of its own (`images` one array per model, each the same count: an attack's
 * adversarial images per target, say), in inference mode, from one stacked pass per batch
 * (lib/train's `StackedModel`: each model's own weights and running statistics) instead of one
 * pass per model; models that cannot stack (one model, ViT, mixed architectures) run one by one
 * through {@link predictLogits}. Returns one [N, classes] row-major array per model, equal to
 * {@link predictLogits} of that model on its images within f32 rounding.
 * Cost: one forward pass of S·batchSize images per batch (`batchSize` images per model, default
 * lib/train's `STACKED_BATCH`, the shape of the test evaluation; a shorter last batch padded).
 *
 * @throws {TypeError} when the images do not match the input shape, the models disagree, or
 *   the per-model arrays are not one per model of one count.
 * @example
 * ```ts
 * import { createModel } from "../models/mod.ts";
 * import { initTf } from "../tf/mod.ts";
 * import { populationLogits } from "./mod.ts";
 * await initTf({ backend: "cpu" });
 * const shape = { channels: 1, height: 4, width: 4 };
 * const ms = [0, 1].map((seed) => createModel({ family: "CNNSmall", k: 1, seed, shape, classes: 3 }));
 * const [a, b] = await populationLogits(ms, new Float32Array(32).map((_, i) => Math.sin(i)));
 * if (a!.length !== 6 || b!.length !== 6) throw new Error("expected 2 × 3 logits per model");
 * ms.forEach((m) => m.dispose());
 * ```
 */
export async function populationLogits(
  models: Model[],
  images: Float32Array | readonly Float32Array[],
  options: { batchSize?: number } = {},
): Promise<Float32Array[]> {
  const d = sameInput(models);
  const own = perModelImages(images, models.length, d.h * d.w * d.c);
  if (!stacks(models)) {
    const out: Float32Array[] = [];
    for (const [j, m] of models.entries()) out.push(await predictLogits(m, own[j]!, options));
    return out;
  }
  return await stackedPasses(
    models,
    { images },
    { bs: options.batchSize ?? STACKED_BATCH, width: d.classes },
    (stacked, x) => stacked.forward(x, false),
  );
}

/**
 * Input gradients of each of S models of one architecture (a population's members) on the same
 * images, with labels shared by all models or one array per model (e.g. each model's own
 * predicted classes): what {@link inputGradients} gives for each model, from one stacked forward and
 * backward pass per batch (each batch repeated once per model; lib/train's `StackedModel`, so
 * each model keeps its own weights and running statistics) instead of one pass per model. Models
 * that cannot stack (one model, ViT, mixed architectures) run one by one. Returns one [N, D]
 * array per model (rows C×H×W or H×W×C as `layout` says), equal to the per-model gradients
 * within f32 rounding. `batchSize` counts images per model (default {@link GRADIENT_BATCH}; a
 * shorter last batch padded).
 * Cost: one forward and one backward pass of S·batchSize images per batch.
 *
 * @throws {TypeError} for mismatched shapes or label counts, {RangeError} for an unknown scalar
 *   or bad label.
 * @example
 * ```ts
 * import { createModel } from "../models/mod.ts";
 * import { initTf } from "../tf/mod.ts";
 * import { populationInputGradients } from "./mod.ts";
 * await initTf({ backend: "cpu" });
 * const shape = { channels: 1, height: 4, width: 4 };
 * const ms = [0, 1].map((seed) => createModel({ family: "CNNSmall", k: 1, seed, shape, classes: 3 }));
 * const images = new Float32Array(32).map((_, i) => Math.cos(i));
 * const g = await populationInputGradients(ms, { images, labels: new Int32Array([0, 2]) });
 * if (g.length !== 2 || g[0]!.length !== 32) throw new Error("expected 2 × 16 floats per model");
 * ms.forEach((m) => m.dispose());
 * ```
 */
export async function populationInputGradients(
  models: Model[],
  data: PopulationLabelledImages,
  options: GradientOptions = {},
): Promise<Float32Array[]> {
  const d = sameInput(models);
  const scalar = options.scalar ?? "true-class-logit";
  checkScalar(scalar);
  const per = d.h * d.w * d.c, n = countOf(data.images, per);
  if (!(data.labels instanceof Int32Array) && data.labels.length !== models.length) {
    throw new TypeError(
      `labels hold ${data.labels.length} arrays for ${models.length} models; pass one Int32Array for all models or one per model.`,
    );
  }
  models.forEach((_, j) => checkLabels(labelsOf(data.labels, j), n, d.classes));
  if (!stacks(models)) {
    const out: Float32Array[] = [];
    for (const [j, m] of models.entries()) {
      out.push(
        await inputGradients(m, { images: data.images, labels: labelsOf(data.labels, j) }, options),
      );
    }
    return out;
  }
  const chw = (options.layout ?? "chw") === "chw";
  return await stackedPasses(
    models,
    data,
    { bs: options.batchSize ?? GRADIENT_BATCH, width: per },
    (stacked, x, labels) => {
      const y = tf.tensor1d(labels, "int32");
      const grad = tf.grad((xx: tf.Tensor) =>
        scalarOf(stacked.forward(xx as tf.Tensor4D, false), y, d.classes, scalar)
      )(x);
      return chw ? tf.transpose(grad, [0, 3, 1, 2]) : grad;
    },
  );
}

/** Options of {@link writeSalience}. */
export interface WriteSalienceOptions {
  /** Destination `.npy` path; the sidecar goes beside it (same stem, `.json`). */
  path: string;
  /** The model, as the sidecar names it. */
  model: ModelRef;
  /** The probe set, as the sidecar names it. */
  probe: ProbeSet;
  scalar?: SalienceScalar;
  batchSize?: number;
  /** Refuse (RangeError) when the probe accuracy is below this fraction (default 0: report only). */
  minAccuracy?: number;
  /** Free text for the sidecar. */
  note?: string;
}

/**
 * Checks the model's accuracy on the probe set, then streams its per-sample input gradients
 * (C×H×W rows) to a float32 `.npy` [N, D] with a JSON sidecar (scalar, input shape, model,
 * probe), both written atomically by lib/npy's writer. Returns the accuracy and the shape.
 * Cost: one evaluation pass plus one forward/backward pass over the probe set.
 *
 * @throws {RangeError} when the accuracy is below `minAccuracy` (salience of an untrained or
 *   broken model is not trustworthy).
 */
export async function writeSalience(
  model: Model,
  probe: LabelledImages & { count: number },
  options: WriteSalienceOptions,
): Promise<{ accuracy: number; loss: number; shape: [number, number] }> {
  const d = modelDims(model);
  const per = d.h * d.w * d.c;
  const scalar = options.scalar ?? "true-class-logit";
  checkScalar(scalar);
  const ev = await evaluate(model, probe);
  const min = options.minAccuracy ?? 0;
  if (ev.accuracy < min) {
    throw new RangeError(
      `Model ${options.model.family}(${options.model.k}) seed ${options.model.seed} has probe accuracy ${
        ev.accuracy.toFixed(4)
      }, below the required ${min}; train longer or lower minAccuracy before trusting its salience.`,
    );
  }
  const writer = await createNpyRowWriter(options.path, {
    dim: per,
    meta: {
      format: "salience-gradients",
      version: 1,
      scalar,
      pooling: null,
      input: { channels: d.c, height: d.h, width: d.w },
      models: [options.model],
      probe: options.probe,
      note: options.note ?? `probe accuracy ${ev.accuracy.toFixed(4)}`,
    },
  });
  try {
    const bs = options.batchSize ?? 128;
    for (let s = 0; s < probe.count; s += bs) {
      const e = Math.min(probe.count, s + bs);
      const g = await inputGradients(model, {
        images: probe.images.subarray(s * per, e * per),
        labels: probe.labels.subarray(s, e),
      }, { scalar, batchSize: bs });
      await writer.append(g);
    }
    const { shape } = await writer.close();
    return { accuracy: ev.accuracy, loss: ev.loss, shape };
  } catch (e) {
    await writer.abort();
    throw e;
  }
}

/** Model j's labels: the shared array, or the j-th of one array per model. */
function labelsOf(labels: PopulationLabelledImages["labels"], j: number): Int32Array {
  return labels instanceof Int32Array ? labels : labels[j]!;
}

/** One label per image, each a class index. */
function checkLabels(labels: ArrayLike<number>, n: number, classes: number): void {
  if (labels.length !== n) {
    throw new TypeError(`labels hold ${labels.length} entries, expected one per image (${n}).`);
  }
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (l < 0 || l >= classes) {
      throw new RangeError(`label ${l} is outside 0 … ${classes - 1}.`);
    }
  }
}
