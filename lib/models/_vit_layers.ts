// Custom tfjs-layers layers for the ViT family: class token + learned position embedding,
// multi-head self-attention, and class-token selection. Each is registered for serialisation so
// checkpoints in the TensorFlow.js layers format load back with `tfl.loadLayersModel`.
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";

type LayerArgs = NonNullable<ConstructorParameters<typeof tfl.layers.Layer>[0]>;
type Shape = (number | null)[];

function one(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  return Array.isArray(inputs) ? inputs[0]! : inputs;
}

function oneShape(s: Shape | Shape[]): Shape {
  return Array.isArray(s[0]) ? (s[0] as Shape) : (s as Shape);
}

/** Prepends a learned class token to a [B, T, E] sequence and adds a learned [T+1, E] position embedding. */
export class ClassTokenPosition extends tfl.layers.Layer {
  static className = "SalienceClassTokenPosition";
  readonly seed: number;
  private cls?: tfl.LayerVariable;
  private pos?: tfl.LayerVariable;
  constructor(args: LayerArgs & { seed?: number }) {
    super(args);
    this.seed = args.seed ?? 0;
  }
  override build(inputShape: Shape | Shape[]): void {
    const s = oneShape(inputShape);
    const t = s[1]!, e = s[2]!;
    const init = (seed: number) => tfl.initializers.truncatedNormal({ stddev: 0.02, seed });
    this.cls = this.addWeight("cls", [1, 1, e], "float32", init(this.seed));
    this.pos = this.addWeight("pos", [1, t + 1, e], "float32", init(this.seed + 1));
    this.built = true;
  }
  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = oneShape(inputShape);
    return [s[0]!, s[1]! + 1, s[2]!];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = one(inputs);
      const cls = tf.tile(this.cls!.read(), [x.shape[0]!, 1, 1]);
      return tf.add(tf.concat([cls, x], 1), this.pos!.read());
    });
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), seed: this.seed };
  }
}

/** Multi-head self-attention on [B, T, E]: fused qkv projection, scaled dot product, output projection. */
export class MultiHeadSelfAttention extends tfl.layers.Layer {
  static className = "SalienceMultiHeadSelfAttention";
  readonly heads: number;
  readonly seed: number;
  private qkvKernel?: tfl.LayerVariable;
  private qkvBias?: tfl.LayerVariable;
  private projKernel?: tfl.LayerVariable;
  private projBias?: tfl.LayerVariable;
  constructor(args: LayerArgs & { heads: number; seed?: number }) {
    super(args);
    this.heads = args.heads;
    this.seed = args.seed ?? 0;
  }
  override build(inputShape: Shape | Shape[]): void {
    const e = oneShape(inputShape)[2]!;
    if (e % this.heads !== 0) {
      throw new RangeError(
        `MultiHeadSelfAttention embedding ${e} is not divisible by heads ${this.heads}; choose heads dividing the embedding.`,
      );
    }
    const k = (seed: number) =>
      tfl.initializers.varianceScaling({
        scale: 1 / 3,
        mode: "fanIn",
        distribution: "uniform",
        seed,
      });
    const b = (seed: number) =>
      tfl.initializers.randomUniform({ minval: -1 / Math.sqrt(e), maxval: 1 / Math.sqrt(e), seed });
    this.qkvKernel = this.addWeight("qkv_kernel", [e, 3 * e], "float32", k(this.seed));
    this.qkvBias = this.addWeight("qkv_bias", [3 * e], "float32", b(this.seed + 1));
    this.projKernel = this.addWeight("proj_kernel", [e, e], "float32", k(this.seed + 2));
    this.projBias = this.addWeight("proj_bias", [e], "float32", b(this.seed + 3));
    this.built = true;
  }
  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return oneShape(inputShape);
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = one(inputs);
      const [bsz, t, e] = x.shape as [number, number, number];
      const h = this.heads, d = e / h;
      const x2 = tf.reshape(x, [bsz * t, e]);
      const qkv = tf.add(tf.matMul(x2, this.qkvKernel!.read()), this.qkvBias!.read());
      // [B, T, 3, H, D] -> [3, B, H, T, D]
      const split = tf.transpose(tf.reshape(qkv, [bsz, t, 3, h, d]), [2, 0, 3, 1, 4]);
      const [q, kk, v] = tf.unstack(split, 0).map((z) => tf.reshape(z, [bsz * h, t, d])) as [
        tf.Tensor3D,
        tf.Tensor3D,
        tf.Tensor3D,
      ];
      const scores = tf.mul(tf.matMul(q, kk, false, true), 1 / Math.sqrt(d));
      const att = tf.matMul(tf.softmax(scores), v); // [B*H, T, D]
      const merged = tf.reshape(tf.transpose(tf.reshape(att, [bsz, h, t, d]), [0, 2, 1, 3]), [
        bsz * t,
        e,
      ]);
      const out = tf.add(tf.matMul(merged, this.projKernel!.read()), this.projBias!.read());
      return tf.reshape(out, [bsz, t, e]);
    });
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), heads: this.heads, seed: this.seed };
  }
}

/** Selects token 0 (the class token) of a [B, T, E] sequence: [B, E]. */
export class ClassTokenSelect extends tfl.layers.Layer {
  static className = "SalienceClassTokenSelect";
  constructor(args?: LayerArgs) {
    super(args ?? {});
  }
  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = oneShape(inputShape);
    return [s[0]!, s[2]!];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = one(inputs);
      return tf.reshape(tf.slice(x, [0, 0, 0], [x.shape[0]!, 1, x.shape[2]!]), [
        x.shape[0]!,
        x.shape[2]!,
      ]);
    });
  }
}

tf.serialization.registerClass(ClassTokenPosition);
tf.serialization.registerClass(MultiHeadSelfAttention);
tf.serialization.registerClass(ClassTokenSelect);
