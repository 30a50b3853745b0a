// Bridge to lib/salience: the one place the executor asks for the probe-set gradients.
// TEMPORARY until lib/salience lands: true-class logit only, no pooling.
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import type { Dataset } from "../data/mod.ts";
import type { SalienceConfig } from "../store/mod.ts";

export async function computeSalience(
  model: tfl.LayersModel,
  probe: Dataset["probe"],
  options: SalienceConfig & { shape: Dataset["shape"] },
): Promise<Float32Array> {
  const { height: H, width: W, channels: C } = options.shape;
  if (options.scalar !== "true-class-logit" || options.pool !== null) {
    throw new RangeError(
      `salience ${options.scalar} with pool ${options.pool} is not available yet`,
    );
  }
  const per = H * W * C;
  const out = new Float32Array(probe.count * per);
  const batch = 32;
  for (let s = 0; s < probe.count; s += batch) {
    const n = Math.min(batch, probe.count - s);
    const g = tf.tidy(() => {
      const x = tf.tensor4d(probe.images.subarray(s * per, (s + n) * per), [n, H, W, C]);
      const y = tf.oneHot(
        tf.tensor1d(probe.labels.subarray(s, s + n), "int32"),
        model.outputs[0]!.shape[1]!,
      );
      const f = (xx: tf.Tensor) =>
        tf.sum(tf.mul(model.apply(xx, { training: false }) as tf.Tensor, y));
      return tf.transpose(tf.grad(f)(x), [0, 3, 1, 2]);
    });
    out.set(await g.data() as Float32Array, s * per);
    g.dispose();
  }
  return out;
}
