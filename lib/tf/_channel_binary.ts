// Elementwise Add, Sub, Multiply and RealDiv of an activation [..., C] with a per-channel vector
// ([C] or [1, …, 1, C], on either side) for tfjs-backend-webgpu. tfjs's broadcasting shaders
// recover every element's coordinates with a chain of divisions; here one invocation handles 4
// consecutive elements with one modulo (C a multiple of 4). Other shapes go to tfjs's kernels.
import type * as tf from "@tensorflow/tfjs-core";
import { type KernelFunc, runFlat, type WebGpuBackend } from "./_webgpu_types.ts";

const OPS: Record<string, string> = {
  Add: "p + q",
  Sub: "p - q",
  Multiply: "p * q",
  RealDiv: "p / q",
};

const shader = (op: string, smallFirst: boolean) => `
fn main(index : i32) {
  if (index >= uniforms.invocations) { return; }
  let e = index * 4;
  let c = e % uniforms.channels;
  let big = vec4<f32>(a[e], a[e + 1], a[e + 2], a[e + 3]);
  let small = vec4<f32>(b[c], b[c + 1], b[c + 2], b[c + 3]);
  let p = ${smallFirst ? "small" : "big"};
  let q = ${smallFirst ? "big" : "small"};
  let r = ${op};
  result[e] = r.x;
  result[e + 1] = r.y;
  result[e + 2] = r.z;
  result[e + 3] = r.w;
}
`;

const size = (s: readonly number[]) => s.reduce((x, y) => x * y, 1);

function isChannelVector(small: tf.TensorInfo, big: tf.TensorInfo): boolean {
  const c = big.shape[big.shape.length - 1];
  if (c === undefined || c % 4 !== 0 || small.shape.length > big.shape.length) return false;
  return small.shape[small.shape.length - 1] === c && size(small.shape) === c &&
    size(big.shape) > c;
}

/** The kernel `name` (Add, Sub, Multiply, RealDiv) with the per-channel fast path. */
export function channelBinary(name: string, orig: KernelFunc): KernelFunc {
  const op = OPS[name];
  if (op === undefined) throw new TypeError(`channelBinary: unsupported kernel ${name}.`);
  return (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    if (a.dtype !== "float32" || b.dtype !== "float32") return orig(args);
    let big: tf.TensorInfo, small: tf.TensorInfo, smallFirst: boolean;
    if (isChannelVector(b, a)) [big, small, smallFirst] = [a, b, false];
    else if (isChannelVector(a, b)) [big, small, smallFirst] = [b, a, true];
    else return orig(args);
    return runFlat(args.backend as WebGpuBackend, {
      key: `salienceChannelBinary_${name}_${smallFirst}`,
      code: shader(op, smallFirst),
      names: ["a", "b"],
      outputShape: big.shape,
      invocations: size(big.shape) / 4,
      ints: { channels: big.shape[big.shape.length - 1]! },
    }, [big, small]);
  };
}
