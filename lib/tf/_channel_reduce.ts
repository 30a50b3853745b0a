// Sum and Mean over every axis but the last (per-channel reductions of NHWC activations: batch
// norm statistics and their gradients, bias gradients), or over every axis but the first and the
// last (the same per model of a stacked population, [S, …, C] → [S, C]), for tfjs-backend-webgpu.
// tfjs transposes and reduces with one workgroup per channel; here each invocation adds 4
// channels (a vec4) over at most ROWS_PER_INVOCATION rows of one group, writing partial sums that
// the same shader adds again until one row per group is left. Every invocation loops at most
// ROWS_PER_INVOCATION times. Max takes the same shapes (global max pooling, [N, H, W, C] → [N, C],
// which tfjs ran about 40× slower through a transpose): each invocation starts from its first row.
import type * as tf from "@tensorflow/tfjs-core";
import { type KernelFunc, runFlat, storedAsFloat32, type WebGpuBackend } from "./_webgpu_types.ts";

/** Rows one invocation adds (its loop length). */
export const ROWS_PER_INVOCATION = 256;

/** How rows combine: a sum (Sum, and Mean, scaled by the last pass) or a maximum (Max). */
type Op = "sum" | "max";

/**
 * Index prologue of the per-channel kernels (reductions here, batch norm): invocation → (group g,
 * part of its rows [start, end), first channel c0 of a 4-channel tile).
 */
export const CHANNEL_TILE_PROLOGUE = `
  if (index >= uniforms.invocations) { return; }
  let tiles = (uniforms.channels + 3) / 4;
  let t = index % tiles;
  let rest = index / tiles;
  let part = rest % uniforms.parts;
  let g = rest / uniforms.parts;
  let c0 = t * 4;
  let start = part * uniforms.rowsPer;
  let end = min(start + uniforms.rowsPer, uniforms.rows);
`;

const shader = (op: Op) => `
fn main(index : i32) {${CHANNEL_TILE_PROLOGUE}  let base = g * uniforms.rows;
  let b0 = (base + start) * uniforms.channels + c0;
  var acc = ${
  op === "max" ? "vec4<f32>(x[b0], x[b0 + 1], x[b0 + 2], x[b0 + 3])" : "vec4<f32>(0.0)"
};
  for (var r = start${op === "max" ? " + 1" : ""}; r < end; r = r + 1) {
    let b = (base + r) * uniforms.channels + c0;
    let v = vec4<f32>(x[b], x[b + 1], x[b + 2], x[b + 3]);
    acc = ${op === "max" ? "max(acc, v)" : "acc + v"};
  }
  acc = acc * uniforms.scale;
  let o = (g * uniforms.parts + part) * uniforms.channels + c0;
  if (c0 < uniforms.channels) { result[o] = acc.x; }
  if (c0 + 1 < uniforms.channels) { result[o + 1] = acc.y; }
  if (c0 + 2 < uniforms.channels) { result[o + 2] = acc.z; }
  if (c0 + 3 < uniforms.channels) { result[o + 3] = acc.w; }
}
`;

/** One pass: `groups` groups of `rows` rows each → groups × ⌈rows / ROWS_PER_INVOCATION⌉ rows. */
function pass(
  backend: WebGpuBackend,
  x: tf.TensorInfo,
  groups: number,
  rows: number,
  channels: number,
  scale: number,
  op: Op,
): tf.TensorInfo {
  const parts = Math.ceil(rows / ROWS_PER_INVOCATION);
  return runFlat(backend, {
    key: `salienceChannelReduceGroups_${op}`,
    code: shader(op),
    names: ["x"],
    outputShape: [groups * parts, channels],
    invocations: groups * parts * Math.ceil(channels / 4),
    ints: { rows, parts, rowsPer: ROWS_PER_INVOCATION, channels },
    floats: { scale },
  }, [x]);
}

/**
 * Sum, Mean or Max over all axes but the last (or but the first and last); others go to `orig`.
 */
export function channelReduce(orig: KernelFunc, kind: "sum" | "mean" | "max"): KernelFunc {
  const op: Op = kind === "max" ? "max" : "sum", mean = kind === "mean";
  return (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { axis: a0, reductionIndices, keepDims } = args.attrs as unknown as {
      axis?: number | number[];
      reductionIndices?: number | number[];
      keepDims: boolean;
    };
    const axis = a0 ?? reductionIndices ?? [];
    const rank = x.shape.length;
    const axes = (Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a)).sort((
      a,
      b,
    ) => a - b);
    const leading = rank >= 2 && axes.length === rank - 1 && axes.every((a, i) => a === i);
    const inner = rank >= 3 && axes.length === rank - 2 && axes.every((a, i) => a === i + 1);
    const backend = args.backend as WebGpuBackend;
    if (!(leading || inner) || !storedAsFloat32(backend, x)) return orig(args);
    const channels = x.shape[rank - 1]!;
    const groups = inner ? x.shape[0]! : 1;
    const total = x.shape.slice(inner ? 1 : 0, -1).reduce((a, b) => a * b, 1);
    if (total === 0 || channels === 0 || groups === 0) return orig(args);
    // Each pass adds ROWS_PER_INVOCATION rows; the last one (a single part) also scales the mean.
    let cur = x, rows = total;
    do {
      const last = rows <= ROWS_PER_INVOCATION;
      const next = pass(backend, cur, groups, rows, channels, last && mean ? 1 / total : 1, op);
      if (cur !== x) backend.disposeData(cur.dataId);
      cur = next;
      rows = cur.shape[0]! / groups;
    } while (rows > 1);
    const ones = Array(axes.length).fill(1);
    const shape = inner
      ? (keepDims ? [groups, ...ones, channels] : [groups, channels])
      : (keepDims ? [...ones, channels] : [channels]);
    return { dataId: cur.dataId, shape, dtype: "float32" } as tf.TensorInfo;
  };
}
