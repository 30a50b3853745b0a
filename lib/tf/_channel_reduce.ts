// Sum and Mean over every axis but the last (per-channel reductions of NHWC activations: batch
// norm statistics and their gradients, bias gradients) for tfjs-backend-webgpu. tfjs transposes
// and reduces with one workgroup per channel; here each invocation adds 4 channels (a vec4) over
// at most ROWS_PER_INVOCATION rows, writing partial sums that the same shader adds again until
// one row is left. Every invocation loops at most ROWS_PER_INVOCATION times.
import type * as tf from "@tensorflow/tfjs-core";
import type { KernelFunc, WebGpuBackend } from "./_webgpu_types.ts";

/** Rows one invocation adds (its loop length). */
export const ROWS_PER_INVOCATION = 256;
const WORKGROUP = 64;

const SHADER = `
fn main(index : i32) {
  if (index >= uniforms.invocations) { return; }
  let tiles = (uniforms.channels + 3) / 4;
  let t = index % tiles;
  let part = index / tiles;
  let c0 = t * 4;
  let start = part * uniforms.rowsPer;
  let end = min(start + uniforms.rowsPer, uniforms.rows);
  var acc = vec4<f32>(0.0);
  for (var r = start; r < end; r = r + 1) {
    let b = r * uniforms.channels + c0;
    acc = acc + vec4<f32>(x[b], x[b + 1], x[b + 2], x[b + 3]);
  }
  acc = acc * uniforms.scale;
  let o = part * uniforms.channels + c0;
  if (c0 < uniforms.channels) { result[o] = acc.x; }
  if (c0 + 1 < uniforms.channels) { result[o + 1] = acc.y; }
  if (c0 + 2 < uniforms.channels) { result[o + 2] = acc.z; }
  if (c0 + 3 < uniforms.channels) { result[o + 3] = acc.w; }
}
`;

function pass(
  backend: WebGpuBackend,
  x: tf.TensorInfo,
  rows: number,
  channels: number,
  scale: number,
): tf.TensorInfo {
  const parts = Math.ceil(rows / ROWS_PER_INVOCATION);
  const invocations = parts * Math.ceil(channels / 4);
  const program = {
    variableNames: ["x"],
    outputShape: [parts, channels],
    shaderKey: "salienceChannelReduce",
    dispatchLayout: { x: [0, 1] },
    dispatch: [Math.ceil(invocations / WORKGROUP), 1, 1],
    workgroupSize: [WORKGROUP, 1, 1],
    uniforms: "invocations : i32, rows : i32, rowsPer : i32, channels : i32, scale : f32,",
    getUserCode: () => SHADER,
  };
  return backend.runWebGPUProgram(program, [x], "float32", [
    { type: "int32", data: [invocations] },
    { type: "int32", data: [rows] },
    { type: "int32", data: [ROWS_PER_INVOCATION] },
    { type: "int32", data: [channels] },
    { type: "float32", data: [scale] },
  ]);
}

/** Sum (or Mean) over all axes but the last; other reductions go to `orig`. */
export function channelReduce(orig: KernelFunc, mean: boolean): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as {
      axis: number | number[];
      keepDims: boolean;
    };
    const rank = x.shape.length;
    const axes = (Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a)).sort((
      a,
      b,
    ) => a - b);
    const leading = rank >= 2 && axes.length === rank - 1 && axes.every((a, i) => a === i);
    if (!leading || x.dtype !== "float32") return orig(args);
    const backend = args.backend as WebGpuBackend;
    const channels = x.shape[rank - 1]!;
    let rows = x.shape.slice(0, -1).reduce((a, b) => a * b, 1);
    if (rows === 0 || channels === 0) return orig(args);
    const scale = mean ? 1 / rows : 1;
    let cur = pass(backend, x, rows, channels, 1);
    rows = cur.shape[0]!;
    while (rows > 1) {
      const next = pass(backend, cur, rows, channels, 1);
      backend.disposeData(cur.dataId);
      cur = next;
      rows = cur.shape[0]!;
    }
    const shape = keepDims ? [...Array(rank - 1).fill(1), channels] : [channels];
    if (scale !== 1) {
      const scaled = pass(backend, cur, 1, channels, scale);
      backend.disposeData(cur.dataId);
      cur = scaled;
    }
    return { dataId: cur.dataId, shape, dtype: "float32" } as tf.TensorInfo;
  };
}
