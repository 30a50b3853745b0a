// Builders for the six model families, each a tfjs-layers functional model taking NHWC input
// and returning logits. Widths, layouts and initialisation follow the PyTorch definitions.
import "@tensorflow/tfjs-backend-cpu"; // a backend is always registered; lib/tf chooses the one used
import * as tfl from "@tensorflow/tfjs-layers";
import { SeedStream, torchBiasInit, torchKernelInit } from "./_init.ts";
import { ClassTokenPosition, ClassTokenSelect, MultiHeadSelfAttention } from "./_vit_layers.ts";

/** The model families of the study. */
export type Family = "CNNSmall" | "CNNLarge" | "ResNetSmall" | "ResNetLarge" | "MLP" | "ViT";

/** Every family, in the order tables list them. */
export const FAMILIES: readonly Family[] = [
  "CNNSmall",
  "CNNLarge",
  "ResNetSmall",
  "ResNetLarge",
  "MLP",
  "ViT",
];

/** Image shape in channels × height × width. */
export interface InputShape {
  channels: number;
  height: number;
  width: number;
}

/** Everything that determines a model: family, width k, seed, input shape and class count. */
export interface ModelSpec {
  family: Family;
  k: number;
  seed: number;
  shape: InputShape;
  classes: number;
}

/** Batch-norm settings shared by every family: tfjs momentum 0.9 (PyTorch's 0.1), ε 1e-5. */
export const BATCH_NORM = { momentum: 0.9, epsilon: 1e-5 } as const;

type Sym = tfl.SymbolicTensor;

class Builder {
  readonly seeds: SeedStream;
  #n = 0;
  constructor(seed: number) {
    this.seeds = new SeedStream(seed);
  }
  name(base: string): string {
    return `${base}_${++this.#n}`;
  }
  conv(
    x: Sym,
    filters: number,
    opts: { kernel?: number; strides?: number; bias?: boolean; padding?: number | "same" },
  ): Sym {
    const kernel = opts.kernel ?? 3;
    const strides = opts.strides ?? 1;
    const bias = opts.bias ?? true;
    const pad = opts.padding ?? "same";
    const cin = x.shape[3]!;
    let y = x;
    if (typeof pad === "number" && pad > 0) {
      y = tfl.layers.zeroPadding2d({ padding: pad, name: this.name("pad") }).apply(y) as Sym;
    }
    return tfl.layers.conv2d({
      filters,
      kernelSize: kernel,
      strides,
      padding: pad === "same" ? "same" : "valid",
      useBias: bias,
      kernelInitializer: torchKernelInit(this.seeds),
      biasInitializer: bias ? torchBiasInit(kernel * kernel * cin, this.seeds) : "zeros",
      name: this.name("conv"),
    }).apply(y) as Sym;
  }
  bn(x: Sym): Sym {
    return tfl.layers.batchNormalization({
      axis: -1,
      momentum: BATCH_NORM.momentum,
      epsilon: BATCH_NORM.epsilon,
      name: this.name("bn"),
    }).apply(x) as Sym;
  }
  relu(x: Sym): Sym {
    return tfl.layers.reLU({ name: this.name("relu") }).apply(x) as Sym;
  }
  dense(x: Sym, units: number, activation?: "relu" | "gelu"): Sym {
    const fanIn = x.shape[x.shape.length - 1]!;
    return tfl.layers.dense({
      units,
      activation,
      kernelInitializer: torchKernelInit(this.seeds),
      biasInitializer: torchBiasInit(fanIn, this.seeds),
      name: this.name("dense"),
    }).apply(x) as Sym;
  }
  convBnRelu(x: Sym, filters: number): Sym {
    return this.relu(this.bn(this.conv(x, filters, {})));
  }
  maxPool(x: Sym): Sym {
    return tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, name: this.name("pool") }).apply(
      x,
    ) as Sym;
  }
  /** ResNet basic block; stride-2 3×3 convs pad 1 explicitly, as PyTorch does. */
  basicBlock(x: Sym, filters: number, stride: number): Sym {
    const cin = x.shape[3]!;
    const conv1 = stride === 1
      ? this.conv(x, filters, { bias: false })
      : this.conv(x, filters, { bias: false, strides: stride, padding: 1 });
    const y = this.bn(this.conv(this.relu(this.bn(conv1)), filters, { bias: false }));
    const shortcut = stride !== 1 || cin !== filters
      ? this.bn(this.conv(x, filters, { kernel: 1, strides: stride, bias: false, padding: 0 }))
      : x;
    const sum = tfl.layers.add({ name: this.name("add") }).apply([y, shortcut]) as Sym;
    return this.relu(sum);
  }
}

function cnn(b: Builder, x: Sym, k: number, doubled: boolean, classes: number): Sym {
  const stages = [[k], [2 * k], "pool", [4 * k], "pool", [8 * k]] as const;
  for (const s of stages) {
    if (s === "pool") {
      x = b.maxPool(x);
      continue;
    }
    for (const f of s) {
      x = b.convBnRelu(x, f);
      if (doubled) x = b.convBnRelu(x, f);
    }
  }
  x = tfl.layers.globalMaxPooling2d({ name: b.name("gmp") }).apply(x) as Sym;
  return b.dense(x, classes);
}

function resnet(b: Builder, x: Sym, k: number, large: boolean, classes: number): Sym {
  x = b.relu(b.bn(b.conv(x, k, { kernel: 7, strides: 2, bias: false, padding: 3 })));
  const widths = [k, 2 * k, 4 * k, 8 * k];
  widths.forEach((w, i) => {
    const blocks = large || i === 0 ? 2 : 1;
    for (let j = 0; j < blocks; j++) x = b.basicBlock(x, w, i > 0 && j === 0 ? 2 : 1);
  });
  x = tfl.layers.globalAveragePooling2d({ name: b.name("gap") }).apply(x) as Sym;
  return b.dense(x, classes);
}

function mlp(b: Builder, x: Sym, k: number, classes: number): Sym {
  x = tfl.layers.flatten({ name: b.name("flatten") }).apply(x) as Sym;
  x = b.dense(x, 16 * k, "relu");
  x = b.dense(x, 16 * k, "relu");
  return b.dense(x, classes);
}

function vit(b: Builder, x: Sym, k: number, shape: InputShape, classes: number): Sym {
  const patch = 4, embed = 4 * k, heads = k / 2, depth = 6;
  if (!Number.isInteger(heads) || heads < 1) {
    throw new RangeError(`ViT width k = ${k} gives ${heads} heads; use an even k ≥ 2.`);
  }
  if (shape.height % patch !== 0 || shape.width % patch !== 0) {
    throw new RangeError(
      `ViT input ${shape.height}×${shape.width} is not divisible by patch ${patch}; use sides that are multiples of 4.`,
    );
  }
  const tokens = (shape.height / patch) * (shape.width / patch);
  x = b.conv(x, embed, { kernel: patch, strides: patch, padding: 0 });
  x = tfl.layers.reshape({ targetShape: [tokens, embed], name: b.name("tokens") }).apply(x) as Sym;
  x = new ClassTokenPosition({ seed: b.seeds.next(), name: b.name("cls_pos") }).apply(x) as Sym;
  const ln = (z: Sym) =>
    tfl.layers.layerNormalization({ epsilon: 1e-5, name: b.name("ln") }).apply(z) as Sym;
  const add = (p: Sym, q: Sym) => tfl.layers.add({ name: b.name("add") }).apply([p, q]) as Sym;
  for (let i = 0; i < depth; i++) {
    const att = new MultiHeadSelfAttention({ heads, seed: b.seeds.next(), name: b.name("mhsa") })
      .apply(ln(x)) as Sym;
    x = add(x, att);
    const h = b.dense(b.dense(ln(x), 2 * embed, "gelu"), embed);
    x = add(x, h);
  }
  x = new ClassTokenSelect({ name: b.name("cls_select") }).apply(ln(x)) as Sym;
  return b.dense(x, classes);
}

/**
 * Builds one model of a family at width k with seeded initialisation (every initialiser gets
 * its own seed derived from `spec.seed`, so the same spec gives the same weights on any backend).
 * Input is NHWC `[batch, height, width, channels]`, output is logits `[batch, classes]`.
 * Initialisation is PyTorch's default for Conv/Linear (U(±1/√fan_in)); batch norm starts at
 * γ = 1, β = 0 with momentum 0.9 (tfjs convention) and ε 1e-5.
 *
 * Cost: allocates the model's weights (parameter count × 4 bytes) on the current backend.
 *
 * @throws {RangeError} when k, classes or the shape are not positive integers, or ViT's k is odd.
 * @example
 * ```ts
 * import { createModel, countParams } from "./mod.ts";
 * const m = createModel({ family: "CNNSmall", k: 10, seed: 0, shape: { channels: 3, height: 32, width: 32 }, classes: 10 });
 * if (countParams(m) !== 39330) throw new Error("unexpected count");
 * m.dispose();
 * ```
 */
export function createModel(spec: ModelSpec): tfl.LayersModel {
  const { family, k, shape, classes } = spec;
  for (const [name, v] of Object.entries({ k, classes, ...shape })) {
    if (!Number.isInteger(v) || v < 1) {
      throw new RangeError(
        `Model ${name} = ${v} is not a positive integer; pass a whole number ≥ 1.`,
      );
    }
  }
  if (!Number.isInteger(spec.seed)) {
    throw new RangeError(`Model seed = ${spec.seed} is not an integer; pass a whole number.`);
  }
  if (!FAMILIES.includes(family)) {
    throw new RangeError(`Unknown family "${family}"; expected one of ${FAMILIES.join(", ")}.`);
  }
  const b = new Builder(spec.seed);
  const input = tfl.input({ shape: [shape.height, shape.width, shape.channels], name: "image" });
  let out: Sym;
  switch (family) {
    case "CNNSmall":
      out = cnn(b, input, k, false, classes);
      break;
    case "CNNLarge":
      out = cnn(b, input, k, true, classes);
      break;
    case "ResNetSmall":
      out = resnet(b, input, k, false, classes);
      break;
    case "ResNetLarge":
      out = resnet(b, input, k, true, classes);
      break;
    case "MLP":
      out = mlp(b, input, k, classes);
      break;
    case "ViT":
      out = vit(b, input, k, shape, classes);
      break;
  }
  const model = tfl.model({ inputs: input, outputs: out, name: `${family}_k${k}_s${spec.seed}` });
  setModelSpec(model, spec);
  return model;
}

const SPECS = new WeakMap<tfl.LayersModel, ModelSpec>();

/**
 * The spec a model was created (or loaded) with, or undefined for foreign models.
 *
 * @example
 * ```ts
 * import { createModel, modelSpec } from "./mod.ts";
 * const m = createModel({ family: "MLP", k: 1, seed: 3, shape: { channels: 1, height: 4, width: 4 }, classes: 2 });
 * if (modelSpec(m)?.seed !== 3) throw new Error("spec lost");
 * m.dispose();
 * ```
 */
export function modelSpec(model: tfl.LayersModel): ModelSpec | undefined {
  return SPECS.get(model);
}

/** Records the spec of a model rebuilt elsewhere (e.g. loaded from a checkpoint). */
export function setModelSpec(model: tfl.LayersModel, spec: ModelSpec): void {
  SPECS.set(model, { ...spec, shape: { ...spec.shape } });
}

/**
 * Number of trainable parameters (batch-norm γ and β count; running statistics do not),
 * which is what PyTorch's `sum(p.numel() for p in model.parameters() if p.requires_grad)` gives.
 *
 * Cost: O(number of weight tensors).
 *
 * @example
 * ```ts
 * import { createModel, countParams } from "./mod.ts";
 * const m = createModel({ family: "MLP", k: 1, seed: 0, shape: { channels: 1, height: 2, width: 2 }, classes: 2 });
 * // 4·16+16 + 16·16+16 + 16·2+2
 * if (countParams(m) !== 386) throw new Error("unexpected count");
 * m.dispose();
 * ```
 */
export function countParams(model: tfl.LayersModel): number {
  let n = 0;
  for (const w of model.trainableWeights) n += w.shape.reduce((a: number, b) => a * (b ?? 1), 1);
  return n;
}

/**
 * A model's input size (NHWC: height h, width w, channels c) and class count, read from its
 * input and output shapes (so it works for foreign models too). Cost: O(1).
 *
 * @example
 * ```ts
 * import { createModel, modelDims } from "./mod.ts";
 * const m = createModel({ family: "MLP", k: 1, seed: 0, shape: { channels: 1, height: 2, width: 3 }, classes: 4 });
 * const d = modelDims(m);
 * if (d.h !== 2 || d.w !== 3 || d.c !== 1 || d.classes !== 4) throw new Error("wrong dims");
 * m.dispose();
 * ```
 */
export function modelDims(
  model: tfl.LayersModel,
): { h: number; w: number; c: number; classes: number } {
  const s = model.inputs[0]!.shape, o = model.outputs[0]!.shape;
  return { h: s[1]!, w: s[2]!, c: s[3]!, classes: o[o.length - 1]! };
}
