// The correspondence between our tfjs-layers families and the PyTorch modules of
// lib/torch/families.py: PyTorch's parameter name of every weight, and the layout conversions
// (OIHW ↔ HWIO for convolutions, [out, in] ↔ [in, out] for linear layers, NCHW ↔ NHWC flatten
// order where a flatten feeds a linear layer). Weighted layers are matched kind by kind in the
// order the builders create them (their names' numeric suffixes).
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { type Family, type InputShape, type ModelSpec, modelSpec } from "../models/mod.ts";
import type { StateDict, StateTensor } from "./state_dict.ts";

/** How a weight's PyTorch layout relates to ours. */
export type Layout =
  | { kind: "same" }
  | { kind: "conv" } // PyTorch OIHW, ours HWIO
  | { kind: "linear" } // PyTorch [out, in], ours [in, out]
  | { kind: "flatten-linear"; input: InputShape }; // as linear, PyTorch's inputs in C·H·W order

/** One weight of one of our models, under its PyTorch name. */
export interface TorchParam {
  /** PyTorch's state-dict key. */
  name: string;
  /** The shape PyTorch holds it in. */
  torchShape: number[];
  /** Our variable. */
  variable: tfl.LayerVariable;
  layout: Layout;
}

type Kind = "conv" | "bn" | "dense" | "ln" | "clspos" | "mhsa";

const CLASS_KIND: Record<string, Kind> = {
  Conv2D: "conv",
  BatchNormalization: "bn",
  Dense: "dense",
  LayerNormalization: "ln",
  SalienceClassTokenPosition: "clspos",
  SalienceMultiHeadSelfAttention: "mhsa",
};

/** Our weight name (after the layer's "/") → PyTorch's suffix and layout, per kind. */
const WEIGHTS: Record<Kind, Record<string, [string, "same" | "conv" | "linear"]>> = {
  conv: { kernel: ["weight", "conv"], bias: ["bias", "same"] },
  bn: {
    gamma: ["weight", "same"],
    beta: ["bias", "same"],
    moving_mean: ["running_mean", "same"],
    moving_variance: ["running_var", "same"],
  },
  dense: { kernel: ["weight", "linear"], bias: ["bias", "same"] },
  ln: { gamma: ["weight", "same"], beta: ["bias", "same"] },
  clspos: { cls: ["cls_token", "same"], pos: ["pos_embed", "same"] },
  mhsa: {
    qkv_kernel: ["qkv.weight", "linear"],
    qkv_bias: ["qkv.bias", "same"],
    proj_kernel: ["proj.weight", "linear"],
    proj_bias: ["proj.bias", "same"],
  },
};

/** The PyTorch module names of a family's weighted layers, per kind, in creation order. */
function moduleNames(family: Family): Record<Kind, string[]> {
  const n: Record<Kind, string[]> = { conv: [], bn: [], dense: [], ln: [], clspos: [], mhsa: [] };
  switch (family) {
    case "CNNSmall":
    case "CNNLarge":
      for (let s = 0; s < 4; s++) {
        for (let j = 0; j < (family === "CNNLarge" ? 2 : 1); j++) {
          n.conv.push(`stages.${s}.${j}.conv`);
          n.bn.push(`stages.${s}.${j}.bn`);
        }
      }
      n.dense.push("fc");
      break;
    case "ResNetSmall":
    case "ResNetLarge":
      n.conv.push("conv1");
      n.bn.push("bn1");
      for (let s = 0; s < 4; s++) {
        const blocks = family === "ResNetLarge" || s === 0 ? 2 : 1;
        for (let j = 0; j < blocks; j++) {
          const p = `layer${s + 1}.${j}`;
          n.conv.push(`${p}.conv1`, `${p}.conv2`);
          n.bn.push(`${p}.bn1`, `${p}.bn2`);
          if (s > 0 && j === 0) {
            n.conv.push(`${p}.downsample.0`);
            n.bn.push(`${p}.downsample.1`);
          }
        }
      }
      n.dense.push("fc");
      break;
    case "MLP":
      n.dense.push("fc1", "fc2", "fc3");
      break;
    case "ViT":
      n.conv.push("patch_embed");
      n.clspos.push("");
      for (let i = 0; i < 6; i++) {
        n.mhsa.push(`blocks.${i}.attn`);
        n.ln.push(`blocks.${i}.norm1`, `blocks.${i}.norm2`);
        n.dense.push(`blocks.${i}.mlp.fc1`, `blocks.${i}.mlp.fc2`);
      }
      n.ln.push("norm");
      n.dense.push("head");
      break;
  }
  return n;
}

function suffixNumber(name: string): number {
  const m = /_(\d+)$/.exec(name);
  return m ? Number(m[1]) : -1;
}

function torchShapeOf(shape: number[], layout: Layout): number[] {
  switch (layout.kind) {
    case "same":
      return shape;
    case "conv":
      return [shape[3]!, shape[2]!, shape[0]!, shape[1]!];
    case "linear":
    case "flatten-linear":
      return [shape[1]!, shape[0]!];
  }
}

/**
 * Every weight of one of our models (built by lib/models' `createModel`) with its PyTorch name,
 * PyTorch shape and layout, in our layers' order. Cost: O(weights).
 *
 * @throws {TypeError} when the model is not one of our families (no recorded spec).
 */
export function torchParams(model: tfl.LayersModel): TorchParam[] {
  const spec = modelSpec(model);
  if (!spec) {
    throw new TypeError(
      `Model ${model.name} has no family spec; build it with createModel() or loadTorchModel().`,
    );
  }
  const names = moduleNames(spec.family);
  const byKind = new Map<Kind, tfl.layers.Layer[]>();
  for (const layer of model.layers) {
    const kind = CLASS_KIND[layer.getClassName()];
    if (kind === undefined || layer.weights.length === 0) continue;
    byKind.set(kind, [...(byKind.get(kind) ?? []), layer]);
  }
  const out: TorchParam[] = [];
  for (const [kind, layers] of byKind) {
    layers.sort((a, b) => suffixNumber(a.name) - suffixNumber(b.name));
    const modules = names[kind];
    if (modules.length !== layers.length) {
      throw new Error(
        `${spec.family} has ${layers.length} ${kind} layers but the PyTorch mapping names ${modules.length}; lib/torch/mapping.ts is out of date with lib/models.`,
      );
    }
    layers.forEach((layer, i) => {
      const prefix = modules[i]!;
      const flatten = spec.family === "MLP" && kind === "dense" && i === 0;
      for (const variable of layer.weights) {
        const own = variable.originalName.slice(variable.originalName.lastIndexOf("/") + 1);
        const entry = WEIGHTS[kind][own];
        if (!entry) {
          throw new Error(`${spec.family}: weight ${variable.originalName} has no PyTorch name.`);
        }
        const layout: Layout = flatten && entry[1] === "linear"
          ? { kind: "flatten-linear", input: spec.shape }
          : { kind: entry[1] };
        const shape = variable.shape as number[];
        out.push({
          name: prefix === "" ? entry[0] : `${prefix}.${entry[0]}`,
          torchShape: torchShapeOf(shape, layout),
          variable,
          layout,
        });
      }
    });
  }
  return out;
}

/**
 * Converts values between PyTorch's layout and ours. `shape` is our (tfjs) shape; `toTorch`
 * chooses the direction. Cost: O(size).
 */
export function convertLayout(
  values: Float32Array,
  shape: number[],
  layout: Layout,
  toTorch: boolean,
): Float32Array {
  const out = new Float32Array(values.length);
  switch (layout.kind) {
    case "same":
      out.set(values);
      return out;
    case "conv": {
      const [h, w, i, o] = shape as [number, number, number, number];
      for (let a = 0; a < h; a++) {
        for (let b = 0; b < w; b++) {
          for (let c = 0; c < i; c++) {
            for (let d = 0; d < o; d++) {
              const ours = ((a * w + b) * i + c) * o + d, theirs = ((d * i + c) * h + a) * w + b;
              if (toTorch) out[theirs] = values[ours]!;
              else out[ours] = values[theirs]!;
            }
          }
        }
      }
      return out;
    }
    case "linear":
    case "flatten-linear": {
      const [inDim, outDim] = shape as [number, number];
      const row = layout.kind === "linear" ? (r: number) => r : flattenRow(layout.input);
      for (let r = 0; r < inDim; r++) {
        const t = row(r);
        for (let c = 0; c < outDim; c++) {
          if (toTorch) out[c * inDim + t] = values[r * outDim + c]!;
          else out[r * outDim + c] = values[c * inDim + t]!;
        }
      }
      return out;
    }
  }
}

/** Maps our NHWC flatten index (h, w, c) to PyTorch's NCHW one (c, h, w). */
function flattenRow(s: InputShape): (r: number) => number {
  return (r) => {
    const c = r % s.channels, hw = (r - c) / s.channels;
    const w = hw % s.width, h = (hw - w) / s.width;
    return (c * s.height + h) * s.width + w;
  };
}

function describe(spec: ModelSpec): string {
  const { channels: c, height: h, width: w } = spec.shape;
  return `${spec.family}(${spec.k}) with ${c}×${h}×${w} input and ${spec.classes} classes`;
}

const fmtShape = (s: number[]) => `[${s.join(", ")}]`;

function checkKeys(sd: StateDict, params: TorchParam[], spec: ModelSpec, label: string): void {
  const expected = new Set(params.map((p) => p.name));
  const missing = params.filter((p) => !sd.has(p.name));
  if (missing.length > 0) {
    const p = missing[0]!;
    throw new TypeError(
      `${label} lacks "${p.name}" (float ${fmtShape(p.torchShape)}) that ${describe(spec)} needs${
        missing.length > 1 ? `, and ${missing.length - 1} more keys` : ""
      }; is it a checkpoint of this family (lib/torch/families.py's parameter names)?`,
    );
  }
  const bnPrefixes = new Set(
    params.filter((p) => p.name.endsWith(".running_var")).map((p) =>
      p.name.slice(0, -".running_var".length)
    ),
  );
  const extra = [...sd.keys()].filter((k) => {
    if (expected.has(k)) return false;
    const m = /^(.*)\.num_batches_tracked$/.exec(k);
    return !(m && bnPrefixes.has(m[1]!));
  });
  if (extra.length > 0) {
    throw new TypeError(
      `${label} has the unexpected key "${extra[0]}"${
        extra.length > 1 ? ` and ${extra.length - 1} more` : ""
      }, which ${describe(spec)} does not have; check the family and k.`,
    );
  }
}

function checkTensor(t: StateTensor, p: TorchParam, spec: ModelSpec, label: string): Float32Array {
  if (!(t.values instanceof Float32Array)) {
    throw new TypeError(
      `${label}: "${p.name}" is ${t.dtype}, expected a floating-point tensor for ${
        describe(spec)
      }.`,
    );
  }
  const same = t.shape.length === p.torchShape.length &&
    t.shape.every((s, i) => s === p.torchShape[i]);
  if (!same) {
    throw new TypeError(
      `${label}: "${p.name}" has shape ${fmtShape(t.shape)}, but ${describe(spec)} expects ${
        fmtShape(p.torchShape)
      }; check k, the input shape and the class count.`,
    );
  }
  return t.values;
}

/**
 * Sets every weight of one of our models (batch-norm running statistics included) from a
 * PyTorch state dict with lib/torch/families.py's names. Everything is checked before anything
 * is written. `label` names the source in errors. Cost: O(parameters).
 *
 * @throws {TypeError} naming the first missing or unexpected key, a shape that does not match
 *   the family at that k and input shape, or an integer tensor where floats belong.
 */
export function loadStateDict(model: tfl.LayersModel, sd: StateDict, label = "state dict"): void {
  const params = torchParams(model);
  const spec = modelSpec(model)!;
  checkKeys(sd, params, spec, label);
  const values = params.map((p) => checkTensor(sd.get(p.name)!, p, spec, label));
  params.forEach((p, i) => {
    const shape = p.variable.shape as number[];
    const t = tf.tensor(convertLayout(values[i]!, shape, p.layout, false), shape, "float32");
    p.variable.write(t);
    t.dispose();
  });
}

/**
 * One of our models' weights as a PyTorch state dict (lib/torch/families.py's names and
 * layouts, float32). Cost: one read-back of every weight.
 */
export async function toStateDict(model: tfl.LayersModel): Promise<StateDict> {
  const sd: StateDict = new Map();
  for (const p of torchParams(model)) {
    const ours = await p.variable.read().data() as Float32Array;
    sd.set(p.name, {
      shape: p.torchShape,
      dtype: "float32",
      values: convertLayout(ours, p.variable.shape as number[], p.layout, true),
    });
  }
  return sd;
}
