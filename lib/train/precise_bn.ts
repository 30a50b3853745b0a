// Precise batch norm: recompute every batch-norm layer's running statistics with the final
// weights, as the plain average of the batch moments over a fixed number of training batches,
// instead of the exponential average that lagged behind the weights during training.
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { modelDims } from "../models/mod.ts";
import { StackedModel } from "./_stacked.ts";
import { stackTogether } from "./population.ts";
import { checkSplit, gatherSamples, type Split } from "./train.ts";

/** Options of {@link preciseBatchNorm}. */
export interface PreciseBnOptions {
  /** Training batches averaged (default 16; fewer when the split has fewer). */
  batches?: number;
  /** Batch size (default 64). */
  batchSize?: number;
}

/**
 * Recomputes the running mean and variance of every BatchNormalization layer of `model` with
 * its current weights: the model runs forward in training mode over the first `batches` batches
 * of `data` (in order, so the result is deterministic) while each layer's momentum is set so
 * that its running statistics become the plain mean of the batch statistics seen (momentum
 * i/(i+1) at batch i, from statistics set to zero first, so the result depends only on the
 * trainable weights and the data, bit for bit); momenta are restored afterwards. Trainable
 * weights are not touched.
 * Models without batch norm are left as they are. Returns the number of batches used.
 *
 * Cost: `batches` forward passes in training mode.
 *
 * @throws {RangeError} for non-positive `batches`/`batchSize`, and what checkSplit throws.
 * @example
 * ```ts
 * import { createModel } from "../models/mod.ts";
 * import { initTf } from "../tf/mod.ts";
 * import { preciseBatchNorm } from "./mod.ts";
 * await initTf({ backend: "cpu" });
 * const m = createModel({ family: "CNNSmall", k: 1, seed: 0, shape: { channels: 1, height: 4, width: 4 }, classes: 2 });
 * const images = new Float32Array(64).map((_, i) => Math.sin(i));
 * const used = await preciseBatchNorm(m, { images, labels: new Int32Array(4), count: 4 }, { batches: 2, batchSize: 2 });
 * if (used !== 2) throw new Error("expected two batches");
 * m.dispose();
 * ```
 */
export async function preciseBatchNorm(
  model: tfl.LayersModel,
  data: Split,
  options: PreciseBnOptions = {},
): Promise<number> {
  const o = checkOptions(options);
  return await recalibrate(
    [model],
    data,
    o,
    () => (b, shape) => model.apply(tf.tensor4d(b, shape), { training: true }) as tf.Tensor,
  );
}

type BnLayer = tfl.layers.Layer & { momentum: number };

function checkOptions(options: PreciseBnOptions): { batches: number; batchSize: number } {
  const batches = options.batches ?? 16;
  const batchSize = options.batchSize ?? 64;
  for (const [n, v] of [["batches", batches], ["batchSize", batchSize]] as const) {
    if (!Number.isInteger(v) || v < 1) {
      throw new RangeError(`preciseBatchNorm ${n} = ${v} must be a positive integer.`);
    }
  }
  return { batches, batchSize };
}

/**
 * The recalibration of {@link preciseBatchNorm} for `models` (one, or the members of one
 * stacked pass): zero their running statistics, then run the forward pass `makeForward()` gives
 * (made after the zeroing) in training mode over the first batches, with the momenta of
 * `models[0]`'s batch-norm layers (those the stacked pass reads) at i/(i+1). Returns the batches
 * used (0 without batch norm).
 */
async function recalibrate(
  models: readonly tfl.LayersModel[],
  data: Split,
  o: { batches: number; batchSize: number },
  makeForward: () => (images: Float32Array, shape: [number, number, number, number]) => tf.Tensor,
): Promise<number> {
  const { h, w, c, classes } = modelDims(models[0]!);
  const per = h * w * c;
  checkSplit(data, per, classes, "precise-BN");
  const bnsOf = (m: tfl.LayersModel) =>
    m.layers.filter((l) => l.getClassName() === "BatchNormalization") as BnLayer[];
  const bns = bnsOf(models[0]!);
  if (bns.length === 0) return 0;
  const saved = bns.map((l) => l.momentum);
  const order = Int32Array.from({ length: data.count }, (_, i) => i);
  const used = Math.min(o.batches, Math.floor(data.count / o.batchSize) || 1);
  try {
    // Zeroed first, so that the first batch's moments replace them exactly (momentum 0 blends
    // as old − (old − new)·1, which rounds unless old is 0): recalibrating an already
    // recalibrated model then gives the same statistics bit for bit.
    for (const l of models.flatMap(bnsOf)) {
      for (const v of l.weights) {
        if (/moving_(mean|variance)/.test(v.name)) {
          tf.tidy(() => void v.write(tf.zerosLike(v.read())));
        }
      }
    }
    const forward = makeForward();
    for (let i = 0; i < used; i++) {
      for (const l of bns) l.momentum = i / (i + 1);
      const from = i * o.batchSize, to = Math.min(data.count, from + o.batchSize);
      const b = gatherSamples(data, order, from, to, per);
      const out = tf.tidy(() => forward(b.images, [to - from, h, w, c]));
      await out.data(); // one batch at a time: bounded memory, and progress is real
      out.dispose();
    }
    return used;
  } finally {
    bns.forEach((l, i) => (l.momentum = saved[i]!));
  }
}

/**
 * {@link preciseBatchNorm} of each of `models` (a population's members, of one architecture)
 * over the same batches, in one stacked forward pass per batch (lib/train's `StackedModel`: each
 * model's own weights, batch moments and running statistics, written back into each model)
 * instead of one pass per model; equal to each model's own within f32 rounding. Models that
 * cannot stack (one model, ViT, mixed architectures) run one by one. Returns the batches used per
 * model (0 for a model without batch norm).
 * Cost: `batches` forward passes of S·batchSize images in training mode.
 *
 * @throws what {@link preciseBatchNorm} throws.
 * @example
 * ```ts
 * import { createModel } from "../models/mod.ts";
 * import { initTf } from "../tf/mod.ts";
 * import { populationPreciseBatchNorm } from "./mod.ts";
 * await initTf({ backend: "cpu" });
 * const shape = { channels: 1, height: 4, width: 4 };
 * const ms = [0, 1].map((seed) => createModel({ family: "CNNSmall", k: 1, seed, shape, classes: 2 }));
 * const images = new Float32Array(64).map((_, i) => Math.sin(i));
 * const used = await populationPreciseBatchNorm(ms, { images, labels: new Int32Array(4), count: 4 }, { batches: 2, batchSize: 2 });
 * if (used.join() !== "2,2") throw new Error("expected two batches each");
 * ms.forEach((m) => m.dispose());
 * ```
 */
export async function populationPreciseBatchNorm(
  models: tfl.LayersModel[],
  data: Split,
  options: PreciseBnOptions = {},
): Promise<number[]> {
  const o = checkOptions(options);
  if (!stackTogether(models)) {
    const out: number[] = [];
    for (const m of models) out.push(await preciseBatchNorm(m, data, o));
    return out;
  }
  const S = models.length;
  let stacked: StackedModel | null = null;
  try {
    const used = await recalibrate(models, data, o, () => {
      const st = stacked = StackedModel.from(models);
      return (b, [n, h, w, c]) => {
        const images = new Float32Array(S * b.length);
        for (let j = 0; j < S; j++) images.set(b, j * b.length);
        return st.forward(tf.tensor4d(images, [S * n, h, w, c]), true);
      };
    });
    (stacked as StackedModel | null)?.writeBack();
    return models.map(() => used);
  } finally {
    (stacked as StackedModel | null)?.dispose();
  }
}
