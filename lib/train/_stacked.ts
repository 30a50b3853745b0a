// A population of S models of one architecture as one stacked model: every weight of the S
// models stacked along a new leading axis ([S, ...]), activations of all models in one batch
// ([S·B, ...], model s owning rows s·B … (s+1)·B − 1), and a functional forward that mirrors the
// tfjs-layers graph layer by layer with per-model weights, per-model batch-norm moments and
// per-model running statistics. Only the layers our convolutional families and the MLP use are
// supported; `stackable()` says whether a model qualifies.
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import {
  addRelu,
  batchNormTraining,
  globalMaxPool,
  groupedConv2d,
  type GroupedPad,
  hasGroupedConv,
} from "../tf/mod.ts";

/** Layer classes the stacked forward implements. */
const SUPPORTED = new Set([
  "InputLayer",
  "Conv2D",
  "ZeroPadding2D",
  "BatchNormalization",
  "ReLU",
  "MaxPooling2D",
  "GlobalMaxPooling2D",
  "GlobalAveragePooling2D",
  "Dense",
  "Add",
  "Flatten",
]);

type Layer = tfl.layers.Layer;
type Cfg = Record<string, unknown>;

/** Whether every layer of `model` has a stacked implementation (CNN, ResNet and MLP families). */
export function stackable(model: tfl.LayersModel): boolean {
  return model.layers.every((l) => {
    if (!SUPPORTED.has(l.getClassName())) return false;
    const c = l.getConfig() as Cfg;
    if (l.getClassName() === "Conv2D") {
      const d = c.dilationRate as number | number[] | undefined;
      const dil = Array.isArray(d) ? d : [d ?? 1];
      return dil.every((v) => v === 1) && (c.activation ?? "linear") === "linear" &&
        (c.dataFormat ?? "channelsLast") === "channelsLast";
    }
    if (l.getClassName() === "Dense") {
      return ["linear", "relu"].includes((c.activation as string) ?? "linear");
    }
    if (l.getClassName() === "BatchNormalization") {
      return c.axis === -1 || c.axis === 3 || (Array.isArray(c.axis) && c.axis[0] === -1);
    }
    return true;
  });
}

const pair = (v: unknown): [number, number] =>
  Array.isArray(v) ? [v[0] as number, (v[1] ?? v[0]) as number] : [v as number, v as number];

/**
 * Convolution of S models at once: x [S·B, H, W, Cin], filters [S, kh, kw, Cin, Cout], with the
 * per-model `bias` [S, Cout] where given. Model s's rows meet model s's filter only: one grouped
 * kernel per direction where the backend has it (our WebGPU kernels, the bias added inside the
 * forward one), one convolution per model otherwise.
 */
export function stackedConv2d(
  x: tf.Tensor4D,
  filters: tf.Tensor,
  strides: [number, number],
  pad: GroupedPad,
  bias?: tf.Tensor,
): tf.Tensor4D {
  return groupedConv2d(x, filters, strides, pad, bias);
}

/** Adds a per-model vector v [S, C] to activations [S·B, …, C]. */
function addPerModel(x: tf.Tensor, v: tf.Tensor, S: number): tf.Tensor {
  const shape = x.shape;
  const inner = shape.slice(1, -1).map(() => 1);
  const y = tf.reshape(x, [S, shape[0]! / S, ...shape.slice(1)]);
  const vb = tf.reshape(v, [S, 1, ...inner, shape.at(-1)!]);
  return tf.reshape(tf.add(y, vb), shape);
}

/** One stacked weight: the variable [S, ...] and the members' LayerVariables it came from. */
interface Stacked {
  variable: tf.Variable;
  sources: tfl.LayerVariable[];
}

/**
 * S models of one architecture, stacked. Create with {@link StackedModel.from}; call
 * {@link StackedModel.forward} inside a gradient tape; {@link StackedModel.writeBack} copies the
 * stacked weights (trainable and running statistics) into each member's LayersModel.
 */
export class StackedModel {
  readonly size: number;
  readonly members: tfl.LayersModel[];
  readonly #weights = new Map<string, Stacked[]>();
  readonly #fused: boolean;
  /** ReLU layers whose input batch norm applies them itself (its only consumer), by name. */
  readonly #fusedRelu = new Set<string>();
  /**
   * Convolutions whose only consumer is a batch norm that reads nothing else: in inference that
   * batch norm's scale and shift fold into the convolution (conv name → batch-norm layer).
   */
  readonly #foldedBn = new Map<string, Layer>();
  /**
   * 'valid' convolutions whose input is a ZeroPadding2D read by nothing else: the padding goes
   * into the convolution as explicit zero rows and columns (conv name → padding), so no padded
   * copy is written in the forward pass nor sliced back in the backward one.
   */
  readonly #padInto = new Map<string, [[number, number], [number, number]]>();
  /** The ZeroPadding2D layers of {@link #padInto}, which the forward passes through. */
  readonly #foldedPads = new Set<string>();
  /**
   * Two-input Adds read only by a plain ReLU (a residual block's end), by the ReLU's name: the
   * Add computes relu(a + b) in one pass ({@link addRelu}) and the ReLU passes it through.
   */
  readonly #addRelu = new Set<string>();

  private constructor(members: tfl.LayersModel[], fused: boolean) {
    this.members = members;
    this.size = members.length;
    this.#fused = fused;
    for (const layer of members[0]!.layers) {
      const next = layer.outboundNodes.map((n) => n.outboundLayer);
      if (
        layer.getClassName() === "BatchNormalization" && next.length === 1 &&
        next[0]!.getClassName() === "ReLU" && isPlainRelu(next[0]!)
      ) this.#fusedRelu.add(next[0]!.name);
      if (
        layer.getClassName() === "Conv2D" && next.length === 1 &&
        next[0]!.getClassName() === "BatchNormalization" &&
        next[0]!.inboundNodes.length === 1 && next[0]!.inboundNodes[0]!.inboundLayers.length === 1
      ) this.#foldedBn.set(layer.name, next[0]!);
      if (
        layer.getClassName() === "Add" && next.length === 1 &&
        layer.inboundNodes[0]?.inboundLayers.length === 2 &&
        next[0]!.getClassName() === "ReLU" && isPlainRelu(next[0]!)
      ) this.#addRelu.add(next[0]!.name);
      if (
        layer.getClassName() === "ZeroPadding2D" && next.length === 1 &&
        next[0]!.getClassName() === "Conv2D" &&
        (next[0]!.getConfig() as Cfg).padding === "valid"
      ) {
        const p = (layer.getConfig() as Cfg).padding as [[number, number], [number, number]];
        this.#padInto.set(next[0]!.name, [[p[0][0], p[0][1]], [p[1][0], p[1][1]]]);
        this.#foldedPads.add(layer.name);
      }
    }
    const layers = members[0]!.layers;
    layers.forEach((layer, i) => {
      const list: Stacked[] = layer.weights.map((w, j) => {
        const sources = members.map((m) => m.layers[i]!.weights[j]!);
        const value = tf.tidy(() => tf.stack(sources.map((s) => s.read())));
        const variable = tf.variable(value, w.trainable, `${w.name}_stacked_${nextId++}`);
        value.dispose();
        return { variable, sources };
      });
      this.#weights.set(layer.name, list);
    });
  }

  /**
   * Stacks `members` (at least one, all of one architecture with the same layer names).
   * `fusedBatchNorm` (default true) runs training-mode batch norm, and a ReLU that follows it, as
   * our fused kernels where the backend has them (`batchNormTraining` in lib/tf); false keeps
   * tfjs's ops, the reference.
   *
   * @throws {TypeError} when the members differ in architecture or a layer is unsupported.
   */
  static from(
    members: tfl.LayersModel[],
    options: { fusedBatchNorm?: boolean } = {},
  ): StackedModel {
    if (members.length < 1) throw new RangeError("A population needs at least one model.");
    const arch = (m: tfl.LayersModel) =>
      m.layers.map((l) => `${l.name}:${l.weights.map((w) => w.shape.join("x"))}`).join(",");
    const a0 = arch(members[0]!);
    for (const m of members) {
      if (arch(m) !== a0) {
        throw new TypeError(
          `Model ${m.name} differs in architecture from ${
            members[0]!.name
          }; a population holds one family and width.`,
        );
      }
      if (!stackable(m)) {
        throw new TypeError(
          `Model ${m.name} has layers without a stacked implementation; train it alone.`,
        );
      }
    }
    return new StackedModel(members, options.fusedBatchNorm ?? true);
  }

  /** The trainable stacked variables (what the optimiser updates). */
  trainableVariables(): tf.Variable[] {
    return [...this.#weights.values()].flat().filter((s) => s.variable.trainable).map((s) =>
      s.variable
    );
  }

  #w(layer: Layer, j: number): tf.Variable {
    return this.#weights.get(layer.name)![j]!.variable;
  }

  /**
   * Logits [S·B, classes] of images [S·B, H, W, C]. With `training`, batch norm normalises by
   * each model's batch moments and updates each model's running statistics (tfjs-layers'
   * rule: r ← r − (r − batch)·(1 − momentum), biased variance).
   */
  forward(x: tf.Tensor4D, training: boolean): tf.Tensor2D {
    const S = this.size;
    const out = new Map<string, tf.Tensor>();
    /** Batch norms already applied by the convolution before them (inference only). */
    const folded = new Set<string>();
    /** Batch norms whose input left out its convolution's bias (training only): name → bias. */
    const shifted = new Map<string, tf.Tensor>();
    for (const layer of this.members[0]!.layers) {
      const cls = layer.getClassName();
      const c = layer.getConfig() as Cfg;
      const ins = (layer.inboundNodes[0]?.inboundLayers ?? []).map((l) => out.get(l.name)!);
      const a = ins[0]!;
      let y: tf.Tensor;
      switch (cls) {
        case "InputLayer":
          y = x;
          break;
        case "Conv2D": {
          const bn = training ? undefined : this.#foldedBn.get(layer.name);
          if (bn) {
            y = this.#convWithBatchNorm(layer, bn, a as tf.Tensor4D, c);
            folded.add(bn.name);
            break;
          }
          // In training, a bias before a batch norm that normalises by the batch's moments
          // cancels exactly (it shifts every value and the mean alike), so its gradient is zero
          // in exact arithmetic: leave it out of the pass (no bias add, no Σ of dy for its
          // gradient) and add it to the batch mean where the running mean is updated instead.
          const cancelled = training && c.useBias === true && this.#foldedBn.has(layer.name);
          if (cancelled) shifted.set(this.#foldedBn.get(layer.name)!.name, this.#w(layer, 1));
          y = stackedConv2d(
            a as tf.Tensor4D,
            this.#w(layer, 0),
            pair(c.strides),
            this.#padOf(layer, c),
            c.useBias && !cancelled ? this.#w(layer, 1) : undefined,
          );
          break;
        }
        case "ZeroPadding2D": {
          if (this.#foldedPads.has(layer.name)) {
            y = a; // the convolution after it pads (#padInto)
            break;
          }
          const p = c.padding as [[number, number], [number, number]];
          y = tf.pad(a, [[0, 0], p[0], p[1], [0, 0]]);
          break;
        }
        case "BatchNormalization":
          y = folded.has(layer.name)
            ? a
            : this.#batchNorm(layer, a, training, c, shifted.get(layer.name));
          break;
        case "ReLU":
          y = (training && this.#fused && this.#fusedRelu.has(layer.name)) ||
              this.#addRelu.has(layer.name)
            ? a
            : tf.relu(a);
          break;
        case "MaxPooling2D":
          y = tf.maxPool(
            a as tf.Tensor4D,
            pair(c.poolSize),
            pair(c.strides ?? c.poolSize),
            c.padding as "same" | "valid",
          );
          break;
        case "GlobalMaxPooling2D":
          y = globalMaxPool(a as tf.Tensor4D);
          break;
        case "GlobalAveragePooling2D":
          y = tf.mean(a, [1, 2]);
          break;
        case "Flatten":
          y = tf.reshape(a, [a.shape[0]!, -1]);
          break;
        case "Dense": {
          const [n, f] = a.shape as [number, number];
          const k = this.#w(layer, 0);
          const units = k.shape[2]!;
          if (hasGroupedConv()) {
            // As a grouped 1×1 convolution: our texture-fed kernels each way, the bias added
            // inside the forward one (tfjs's batched matMul of these thin shapes ran slower).
            y = tf.reshape(
              groupedConv2d(
                tf.reshape(a, [n, 1, 1, f]),
                tf.reshape(k, [S, 1, 1, f, units]),
                [1, 1],
                "valid",
                c.useBias ? this.#w(layer, 1) : undefined,
              ),
              [n, units],
            );
          } else {
            y = tf.reshape(tf.matMul(tf.reshape(a, [S, n / S, f]), k as tf.Tensor3D), [n, -1]);
            if (c.useBias) y = addPerModel(y, this.#w(layer, 1), S);
          }
          if (c.activation === "relu") y = tf.relu(y);
          break;
        }
        case "Add": {
          const next = layer.outboundNodes[0]?.outboundLayer.name;
          y = ins.length !== 2
            ? tf.addN(ins)
            : next !== undefined && this.#addRelu.has(next)
            ? addRelu(ins[0]!, ins[1]!)
            : tf.add(ins[0]!, ins[1]!);
          break;
        }
        default:
          throw new TypeError(`Layer ${layer.name} (${cls}) has no stacked implementation.`);
      }
      out.set(layer.name, y);
    }
    return out.get(this.members[0]!.layers.at(-1)!.name) as tf.Tensor2D;
  }

  /**
   * `bias` [S, C]: the convolution bias the input left out (see the Conv2D case of
   * {@link forward}); the running mean then follows the batch mean plus it, as it would have.
   */
  #batchNorm(
    layer: Layer,
    a: tf.Tensor,
    training: boolean,
    c: Cfg,
    bias?: tf.Tensor,
  ): tf.Tensor {
    const S = this.size;
    const shape = a.shape;
    const C = shape.at(-1)!;
    const eps = c.epsilon as number;
    const [gamma, beta, movingMean, movingVar] = [0, 1, 2, 3].map((j) => this.#w(layer, j));
    if (training) {
      // Fused with the ReLU that follows where the forward skips that ReLU (see the constructor).
      const relu = this.#fused && layer.outboundNodes.length === 1 &&
        this.#fusedRelu.has(layer.outboundNodes[0]!.outboundLayer.name);
      const r = batchNormTraining(a, gamma!, beta!, {
        groups: S,
        epsilon: eps,
        relu,
        fused: this.#fused,
      });
      const decay = 1 - (c.momentum as number);
      const update = (v: tf.Variable, value: tf.Tensor) =>
        v.assign(tf.sub(v, tf.mul(tf.sub(v, value), decay)));
      update(movingMean!, bias === undefined ? r.mean : tf.add(r.mean, bias));
      update(movingVar!, r.variance);
      return r.y;
    }
    // Inference: the running statistics fold into one scale and shift per model and channel
    // ([S, C], cheap), so the activations see two elementwise passes instead of four.
    const { scale, shift } = this.#inferenceScaleShift(layer, eps);
    const y = tf.mul(tf.reshape(a, [S, -1, C]), tf.reshape(scale, [S, 1, C]));
    return tf.reshape(tf.add(y, tf.reshape(shift, [S, 1, C])), shape);
  }

  /**
   * Inference batch norm as `y = x·scale + shift` per model and channel ([S, C] each):
   * `scale = γ/√(running variance + ε)`, `shift = β − running mean·scale`.
   */
  #inferenceScaleShift(layer: Layer, eps: number): { scale: tf.Tensor; shift: tf.Tensor } {
    const [gamma, beta, movingMean, movingVar] = [0, 1, 2, 3].map((j) => this.#w(layer, j));
    const scale = tf.mul(tf.rsqrt(tf.add(movingVar!, eps)), gamma!);
    return { scale, shift: tf.sub(beta!, tf.mul(movingMean!, scale)) };
  }

  /**
   * Inference convolution followed by its batch norm, folded: `conv(x, W·scale) + (b·scale +
   * shift)` with the per-output-channel scale and shift of {@link #inferenceScaleShift} (b = 0
   * without a bias). Equal to the convolution, bias add and batch norm one after the other within
   * f32 rounding; the folded bias goes into the convolution as its own does, so the activations
   * see no elementwise pass instead of two. The filters' product is [S, kh, kw, Cin, Cout], small.
   */
  #convWithBatchNorm(conv: Layer, bn: Layer, x: tf.Tensor4D, c: Cfg): tf.Tensor {
    const S = this.size;
    const { scale, shift } = this.#inferenceScaleShift(
      bn,
      (bn.getConfig() as Cfg).epsilon as number,
    );
    const filters = this.#w(conv, 0);
    const co = filters.shape.at(-1)!;
    const w = tf.mul(filters, tf.reshape(scale, [S, 1, 1, 1, co]));
    const bias = c.useBias ? tf.add(tf.mul(this.#w(conv, 1), scale), shift) : shift;
    return stackedConv2d(x, w, pair(c.strides), this.#padOf(conv, c), bias);
  }

  /** A convolution's padding: its own, or the folded ZeroPadding2D's before it (#padInto). */
  #padOf(conv: Layer, c: Cfg): GroupedPad {
    return this.#padInto.get(conv.name) ?? (c.padding as "same" | "valid");
  }

  /** Copies every stacked weight (running statistics included) into each member's model. */
  writeBack(): void {
    for (const list of this.#weights.values()) {
      for (const { variable, sources } of list) {
        tf.tidy(() => {
          const parts = tf.unstack(variable, 0);
          sources.forEach((s, i) => s.write(parts[i]!));
        });
      }
    }
  }

  /** Frees the stacked variables (the members are untouched). */
  dispose(): void {
    for (const list of this.#weights.values()) for (const s of list) s.variable.dispose();
    this.#weights.clear();
  }
}

let nextId = 0;

/** A ReLU layer without a cap, slope or threshold (what tf.relu computes). */
function isPlainRelu(layer: Layer): boolean {
  const c = layer.getConfig() as Cfg;
  return (c.maxValue ?? null) === null && !c.negativeSlope && !c.threshold;
}
