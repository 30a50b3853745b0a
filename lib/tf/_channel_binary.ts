// Elementwise Add, Sub, Multiply and RealDiv of an activation [..., C] with a per-channel vector
// ([C] or [1, …, 1, C], on either side), or of a stacked population's activations [S, …, C] with
// per-model vectors [S, 1, …, 1, C], for tfjs-backend-webgpu. tfjs's broadcasting shaders
// recover every element's coordinates with a chain of divisions; here one invocation handles 4
// consecutive elements with one modulo (C a multiple of 4), or, for other channel counts up to 16
// (3 and 6 in CNNSmall(3)'s bias adds), one pixel's C channels. Other shapes go to tfjs's kernels.
import type * as tf from "@tensorflow/tfjs-core";
import { type KernelFunc, runFlat, storedAsFloat32, type WebGpuBackend } from "./_webgpu_types.ts";

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
  let c = (e / uniforms.groupSize) * uniforms.channels + e % uniforms.channels;
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

// Any C: one invocation per pixel, its C channels unrolled (C is written into the shader), one
// division for the group.
const shaderAnyC = (op: string, smallFirst: boolean, channels: number) => `
fn main(index : i32) {
  if (index >= uniforms.invocations) { return; }
  let e = index * ${channels};
  let c = (e / uniforms.groupSize) * ${channels};
${
  Array.from({ length: channels }, (_, j) =>
    `  {
    let big = a[e + ${j}];
    let small = b[c + ${j}];
    let p = ${smallFirst ? "small" : "big"};
    let q = ${smallFirst ? "big" : "small"};
    result[e + ${j}] = ${op};
  }`).join("\n")
}
}
`;

const size = (s: readonly number[]) => s.reduce((x, y) => x * y, 1);

/** Groups G when `small` is a per-channel vector (G = 1) or per-group vectors [G, 1, …, 1, C]. */
function channelGroups(small: tf.TensorInfo, big: tf.TensorInfo): number {
  const c = big.shape[big.shape.length - 1];
  if (c === undefined || c < 1 || small.shape.length > big.shape.length) return 0;
  if (small.shape[small.shape.length - 1] !== c || size(big.shape) <= size(small.shape)) return 0;
  if (size(small.shape) === c) return 1;
  const g = small.shape[0]!;
  const grouped = small.shape.length === big.shape.length && g > 1 && big.shape[0] === g &&
    size(small.shape) === g * c;
  return grouped ? g : 0;
}

/** The kernel `name` (Add, Sub, Multiply, RealDiv) with the per-channel fast path. */
export function channelBinary(name: string, orig: KernelFunc): KernelFunc {
  const op = OPS[name];
  if (op === undefined) throw new TypeError(`channelBinary: unsupported kernel ${name}.`);
  return (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const backend = args.backend as WebGpuBackend;
    if (!storedAsFloat32(backend, a) || !storedAsFloat32(backend, b)) return orig(args);
    let big: tf.TensorInfo, small: tf.TensorInfo, smallFirst: boolean, groups: number;
    if ((groups = channelGroups(b, a)) > 0) [big, small, smallFirst] = [a, b, false];
    else if ((groups = channelGroups(a, b)) > 0) [big, small, smallFirst] = [b, a, true];
    else return orig(args);
    const channels = big.shape[big.shape.length - 1]!, total = size(big.shape);
    const vec = channels % 4 === 0;
    if (!vec && channels > 16) return orig(args);
    return runFlat(backend, {
      key: `salienceChannelBinaryGroups_${name}_${smallFirst}_${vec ? "vec4" : channels}`,
      code: vec ? shader(op, smallFirst) : shaderAnyC(op, smallFirst, channels),
      names: ["a", "b"],
      outputShape: big.shape,
      invocations: total / (vec ? 4 : channels),
      ints: { channels, groupSize: total / groups },
    }, [big, small]);
  };
}
