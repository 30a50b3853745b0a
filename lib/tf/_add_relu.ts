// A residual block's end, relu(a + b), as one pass instead of tfjs's Add then Relu, and its
// gradient dy · [y > 0] (for both inputs) as one pass instead of Step then Multiply, for
// tfjs-backend-webgpu. One invocation handles 4 consecutive elements; a, b, y and dy come from
// textures where the backend allows raw dispatch (rgba texels when the size is a multiple of 4,
// r32float otherwise), from storage buffers otherwise. The gradient of a global max pool (the
// CNN families' last pooling) likewise: one pass writing dy where x holds its channel's maximum,
// instead of tfjs's Equal, Cast and Multiply over the whole activation. Loops: none.
import * as tf from "@tensorflow/tfjs-core";
import { type KernelFunc, runFlat, storedAsFloat32, type WebGpuBackend } from "./_webgpu_types.ts";
import { load4Fn, runFlatTextured, type Textures, texturesFor } from "./_texture_conv.ts";

/**
 * Kernel names: relu(a + b), its gradient from dy and the forward's output y, and the gradient
 * of a global max pool over H × W (dy where x equals its channel's maximum).
 */
export const ADD_RELU_KERNELS = [
  "SalienceAddRelu",
  "SalienceAddReluGrad",
  "SalienceGlobalMaxGrad",
] as const;

const size = (t: tf.TensorInfo) => t.shape.reduce((x, y) => x * y, 1);

// The last invocation's loads past the end (size not a multiple of 4) are clamped by the texel
// fetch or read the buffer's padding; they feed only elements that are not written.
const shader = (p: string, q: string, body: string, tex: Textures = {}) =>
  `${load4Fn(p, tex[p])}${load4Fn(q, tex[q])}
fn main(index : i32) {
  if (index >= uniforms.invocations) { return; }
  let e = index * 4;
  let u = load4_${p}(e);
  let v = load4_${q}(e);
  let r = ${body};
  result[e] = r.x;
  if (e + 1 < uniforms.size) { result[e + 1] = r.y; }
  if (e + 2 < uniforms.size) { result[e + 2] = r.z; }
  if (e + 3 < uniforms.size) { result[e + 3] = r.w; }
}
`;

/** Runs `body` over u (input `p`) and v (input `q`) elementwise, 4 elements per invocation. */
function elementwise(
  backend: WebGpuBackend,
  key: string,
  names: [string, string],
  inputs: [tf.TensorInfo, tf.TensorInfo],
  body: string,
): tf.TensorInfo {
  const n = size(inputs[0]);
  const spec = (tex?: Textures) => ({
    key,
    code: shader(names[0], names[1], body, tex),
    names,
    outputShape: inputs[0].shape,
    invocations: Math.ceil(n / 4),
    ints: { size: n },
  });
  const tex = n % 4 === 0 ? texturesFor(backend, names, names, inputs, 4) : null;
  return tex ? runFlatTextured(backend, spec(tex), inputs, tex) : runFlat(backend, spec(), inputs);
}

/** A kernel running `body` over its two inputs `names` (u, v), one output of their shape. */
const kernelOf = (key: string, names: [string, string], body: string): KernelFunc => (args) => {
  const ins = args.inputs as Record<string, tf.TensorInfo>;
  return elementwise(
    args.backend as WebGpuBackend,
    key,
    names,
    [ins[names[0]]!, ins[names[1]]!],
    body,
  );
};

const forward = kernelOf("salienceAddRelu", ["a", "b"], "max(u + v, vec4<f32>(0.0))");
const backward = kernelOf(
  "salienceAddReluGrad",
  ["dy", "y"],
  "select(vec4<f32>(0.0), u, v > vec4<f32>(0.0))",
);

// x [N, H, W, C] (C a multiple of 4) against y and dy [N, C]: every tied maximum gets dy, as
// tfjs's Max gradient (dy · [x = max]) gives.
const globalMaxGradShader = (tex: Textures = {}) =>
  `${load4Fn("x", tex.x)}${load4Fn("y", tex.y)}${load4Fn("dy", tex.dy)}
fn main(index : i32) {
  if (index >= uniforms.invocations) { return; }
  let e = index * 4;
  let m = (e / uniforms.plane) * uniforms.c + e % uniforms.c;
  let r = select(vec4<f32>(0.0), load4_dy(m), load4_x(e) == load4_y(m));
  result[e] = r.x;
  result[e + 1] = r.y;
  result[e + 2] = r.z;
  result[e + 3] = r.w;
}
`;

const globalMaxGrad: KernelFunc = (args) => {
  const { x, y, dy } = args.inputs as { x: tf.TensorInfo; y: tf.TensorInfo; dy: tf.TensorInfo };
  const backend = args.backend as WebGpuBackend;
  const [, h, w, c] = x.shape as [number, number, number, number];
  const names = ["x", "y", "dy"], inputs = [x, y, dy];
  const spec = (tex?: Textures) => ({
    key: "salienceGlobalMaxGrad",
    code: globalMaxGradShader(tex),
    names,
    outputShape: x.shape,
    invocations: size(x) / 4,
    ints: { c, plane: h * w * c },
  });
  const tex = texturesFor(backend, names, names, inputs, c);
  return tex ? runFlatTextured(backend, spec(tex), inputs, tex) : runFlat(backend, spec(), inputs);
};

/** Registers the add-relu and global-max-gradient kernels for `backendName` (a WebGPU backend). */
export function registerAddReluKernels(backendName: string): string[] {
  unregisterAddReluKernels(backendName);
  [forward, backward, globalMaxGrad].forEach((kernelFunc, i) =>
    tf.registerKernel({ kernelName: ADD_RELU_KERNELS[i]!, backendName, kernelFunc })
  );
  return [...ADD_RELU_KERNELS];
}

/** Removes what {@link registerAddReluKernels} registered. */
export function unregisterAddReluKernels(backendName: string): void {
  for (const name of ADD_RELU_KERNELS) {
    if (tf.getKernel(name, backendName)) tf.unregisterKernel(name, backendName);
  }
}

/**
 * relu(a + b) for two float32 tensors of one shape (a residual block's sum and ReLU),
 * differentiable in both: one kernel each way where {@link registerAddReluKernels} registered
 * them for the active backend, tfjs's add and relu otherwise (the same values: the fused pass
 * rounds a + b once, as Add does).
 *
 * @throws {RangeError} when the shapes differ.
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { addRelu } from "./mod.ts";
 * const y = addRelu(tf.tensor1d([1, -3]), tf.tensor1d([1, 1]));
 * if ((await y.data()).join() !== "2,0") throw new Error("wrong values");
 * ```
 */
export function addRelu(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (a.shape.join() !== b.shape.join()) {
    throw new RangeError(
      `addRelu needs two tensors of one shape; got [${a.shape}] and [${b.shape}].`,
    );
  }
  const backend = tf.backend() as unknown as WebGpuBackend;
  const ours = tf.getKernel(ADD_RELU_KERNELS[0], tf.getBackend()) !== undefined &&
    a.dtype === "float32" && b.dtype === "float32" &&
    storedAsFloat32(backend, a) && storedAsFloat32(backend, b);
  if (!ours) return tf.relu(tf.add(a, b));
  return tf.engine().runKernel(ADD_RELU_KERNELS[0], { a, b }) as tf.Tensor;
}

// Both inputs receive the same gradient; each gets its own tensor (the second a clone sharing
// the data), since the tape may add one into another gradient and dispose it.
tf.registerGradient({
  kernelName: ADD_RELU_KERNELS[0],
  outputsToSave: [true],
  gradFunc: (dy, saved) => {
    const [y] = saved as [tf.Tensor];
    const d = (Array.isArray(dy) ? dy[0] : dy)!;
    let g: tf.Tensor | undefined;
    const grad = () => g ??= tf.engine().runKernel(ADD_RELU_KERNELS[1], { dy: d, y }) as tf.Tensor;
    return { a: () => grad(), b: () => tf.clone(grad()) };
  },
});

/**
 * The maximum over H and W of x [N, H, W, C] → [N, C] (a global max pool), differentiable: its
 * gradient, dy at every position holding its channel's maximum (ties each get it, as tfjs's Max
 * gradient gives), is one kernel where {@link registerAddReluKernels} registered it and C is a
 * multiple of 4; tfjs's max and its gradient (Equal, Cast, Multiply) otherwise.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { globalMaxPool } from "./mod.ts";
 * const y = globalMaxPool(tf.tensor4d([1, 5, 3, 2], [1, 2, 2, 1]));
 * if ((await y.data())[0] !== 5) throw new Error("wrong maximum");
 * ```
 */
export function globalMaxPool(x: tf.Tensor4D): tf.Tensor2D {
  const ours = tf.getKernel(ADD_RELU_KERNELS[2], tf.getBackend()) !== undefined &&
    x.dtype === "float32" && x.shape[3] % 4 === 0 &&
    storedAsFloat32(tf.backend() as unknown as WebGpuBackend, x);
  if (!ours) return tf.max(x, [1, 2]);
  const f = tf.customGrad((a, save) => {
    const y = tf.max(a as tf.Tensor4D, [1, 2]) as tf.Tensor2D;
    (save as tf.GradSaveFunc)([a as tf.Tensor, y]);
    return {
      value: y,
      gradFunc: (dy, saved) => {
        const [xs, ys] = saved as [tf.Tensor, tf.Tensor];
        return tf.engine().runKernel(ADD_RELU_KERNELS[2], { x: xs, y: ys, dy }) as tf.Tensor;
      },
    };
  });
  return f(x) as tf.Tensor2D;
}
