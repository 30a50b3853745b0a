// Types and the one dispatch helper shared by our tfjs-backend-webgpu kernels: the kernel function
// signature, the part of the WebGPU backend they call (its program runner), which tfjs-core's
// KernelBackend type lacks, and a runner for flat 1-D programs.
import type * as tf from "@tensorflow/tfjs-core";

/** A tfjs kernel function, as registered with `tf.registerKernel`. */
export type KernelFunc = tf.KernelConfig["kernelFunc"];

/** tfjs-backend-webgpu's backend, seen through the one method our kernels call on it. */
export type WebGpuBackend = tf.KernelBackend & {
  runWebGPUProgram(
    program: unknown,
    inputs: tf.TensorInfo[],
    dtype: tf.DataType,
    uniforms?: { type: string; data: number[] }[],
  ): tf.TensorInfo;
};

const WORKGROUP = 64;

/**
 * Whether `t` is float32 as the backend stores it: the backend declares a shader's input arrays by
 * the stored dtype, which a cast may leave int32 or bool under a float32 TensorInfo.
 */
export function storedAsFloat32(backend: WebGpuBackend, t: tf.TensorInfo): boolean {
  const map = (backend as unknown as { tensorMap?: { get(id: object): { dtype: string } } })
    .tensorMap;
  return t.dtype === "float32" && (map?.get(t.dataId)?.dtype ?? "float32") === "float32";
}

/**
 * One flat-dispatched program: its WGSL `code` (reading the `names` inputs and `uniforms.*`),
 * `invocations` threads over `outputShape`, and the integer and float uniforms it declares.
 */
export interface FlatSpec {
  key: string;
  code: string;
  names: string[];
  outputShape: number[];
  invocations: number;
  ints: Record<string, number>;
  floats?: Record<string, number>;
}

/**
 * Runs a WGSL `fn main(index : i32)` once per index below `invocations` (1-D workgroups of 64;
 * the shader returns early past the end, reading `uniforms.invocations`). `ints` and `floats`
 * are its other uniforms, declared in that order as i32 and f32. Returns the float32 output.
 */
export function runFlat(
  backend: WebGpuBackend,
  spec: FlatSpec,
  inputs: tf.TensorInfo[],
): tf.TensorInfo {
  const ints = { invocations: spec.invocations, ...spec.ints };
  const floats = spec.floats ?? {};
  const declare = (o: Record<string, number>, type: string) =>
    Object.keys(o).map((n) => `${n} : ${type},`).join(" ");
  const program = {
    variableNames: spec.names,
    outputShape: spec.outputShape,
    shaderKey: spec.key,
    dispatchLayout: { x: spec.outputShape.map((_, i) => i) },
    dispatch: [Math.ceil(spec.invocations / WORKGROUP), 1, 1],
    workgroupSize: [WORKGROUP, 1, 1],
    uniforms: `${declare(ints, "i32")} ${declare(floats, "f32")}`,
    getUserCode: () => spec.code,
  };
  const values = [
    ...Object.values(ints).map((v) => ({ type: "int32", data: [v] })),
    ...Object.values(floats).map((v) => ({ type: "float32", data: [v] })),
  ];
  return backend.runWebGPUProgram(program, inputs, "float32", values);
}
