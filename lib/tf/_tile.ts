// Tile of a per-channel vector ([1, …, 1, C] repeated over every axis but the last: the batch-norm
// gradient's broadcast of 1/√(σ² + ε)) for tfjs-backend-webgpu. tfjs's Tile recovers every output
// element's coordinates with a chain of divisions; here each invocation writes 4 consecutive
// elements from one modulo. Other tilings go to tfjs's kernel.
import type * as tf from "@tensorflow/tfjs-core";
import { type KernelFunc, runFlat, storedAsFloat32, type WebGpuBackend } from "./_webgpu_types.ts";

const SHADER = `
fn main(index : i32) {
  if (index >= uniforms.invocations) { return; }
  let e = index * 4;
  let c = e % uniforms.channels;
  result[e] = x[c];
  result[e + 1] = x[c + 1];
  result[e + 2] = x[c + 2];
  result[e + 3] = x[c + 3];
}
`;

/** Tile with the per-channel fast path (C a multiple of 4). */
export function channelTile(orig: KernelFunc): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { reps } = args.attrs as unknown as { reps: number[] };
    const backend = args.backend as WebGpuBackend;
    const c = x.shape[x.shape.length - 1];
    const vector = c !== undefined && c % 4 === 0 && reps.length === x.shape.length &&
      reps[reps.length - 1] === 1 && x.shape.slice(0, -1).every((d) => d === 1);
    if (!vector || !storedAsFloat32(backend, x)) return orig(args);
    const outputShape = x.shape.map((d, i) => d * reps[i]!);
    const size = outputShape.reduce((a, b) => a * b, 1);
    if (size === 0) return orig(args);
    return runFlat(backend, {
      key: "salienceChannelTile",
      code: SHADER,
      names: ["x"],
      outputShape,
      invocations: size / 4,
      ints: { channels: c },
    }, [x]);
  };
}
