// Types shared by our tfjs-backend-webgpu kernels: the kernel function signature and the part of
// the WebGPU backend they call (its program runner), which tfjs-core's KernelBackend type lacks.
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
