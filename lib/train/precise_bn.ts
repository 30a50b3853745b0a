// Precise batch norm: recompute every batch-norm layer's running statistics with the final
// weights, as the plain average of the batch moments over a fixed number of training batches,
// instead of the exponential average that lagged behind the weights during training.
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { modelDims } from "../models/mod.ts";
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
  const batches = options.batches ?? 16;
  const batchSize = options.batchSize ?? 64;
  for (const [n, v] of [["batches", batches], ["batchSize", batchSize]] as const) {
    if (!Number.isInteger(v) || v < 1) {
      throw new RangeError(`preciseBatchNorm ${n} = ${v} must be a positive integer.`);
    }
  }
  const { h, w, c, classes } = modelDims(model);
  const per = h * w * c;
  checkSplit(data, per, classes, "precise-BN");
  const bns = model.layers.filter((l) =>
    l.getClassName() === "BatchNormalization"
  ) as (tfl.layers.Layer & { momentum: number })[];
  if (bns.length === 0) return 0;
  const saved = bns.map((l) => l.momentum);
  const order = Int32Array.from({ length: data.count }, (_, i) => i);
  const used = Math.min(batches, Math.floor(data.count / batchSize) || 1);
  try {
    // Zeroed first, so that the first batch's moments replace them exactly (momentum 0 blends
    // as old − (old − new)·1, which rounds unless old is 0): recalibrating an already
    // recalibrated model then gives the same statistics bit for bit.
    for (const l of bns) {
      for (const v of l.weights) {
        if (/moving_(mean|variance)/.test(v.name)) {
          tf.tidy(() => void v.write(tf.zerosLike(v.read())));
        }
      }
    }
    for (let i = 0; i < used; i++) {
      for (const l of bns) l.momentum = i / (i + 1);
      const from = i * batchSize, to = Math.min(data.count, from + batchSize);
      const b = gatherSamples(data, order, from, to, per);
      const out = tf.tidy(() =>
        model.apply(tf.tensor4d(b.images, [to - from, h, w, c]), { training: true }) as tf.Tensor
      );
      await out.data(); // one batch at a time: bounded memory, and progress is real
      out.dispose();
    }
  } finally {
    bns.forEach((l, i) => (l.momentum = saved[i]!));
  }
  return used;
}
