// Bounded replacements for tfjs-backend-webgpu kernels whose shaders loop over a whole reduction
// in one invocation. Mesa's software adapters stop every invocation after 65,535 loop
// iterations, so these wrappers split the reduction into chunks that stay under the cap and add
// the partial results. Each wrapper calls the backend's own kernel on every chunk.
import * as tf from "@tensorflow/tfjs-core";
import {
  tiledConv2D,
  tiledConv2DBackpropFilter,
  tiledConv2DBackpropInput,
  useTextureConvs,
} from "./_tiled_conv.ts";
import { windowMaxPool, windowMaxPoolGrad } from "./_pool_grad.ts";
import { channelTile } from "./_tile.ts";
import { registerGroupedKernels, unregisterGroupedKernels } from "./_grouped.ts";
import { registerBatchNormKernels, unregisterBatchNormKernels } from "./_batch_norm.ts";
import { registerAddReluKernels, unregisterAddReluKernels } from "./_add_relu.ts";
import { channelReduce } from "./_channel_reduce.ts";
import { channelBinary } from "./_channel_binary.ts";
import type { KernelFunc } from "./_webgpu_types.ts";
import { LOOP_CAP } from "../../kernels/gpu/mod.ts";

type Backend = tf.KernelBackend & { disposeData(id: object): boolean };

const installed = new Map<string, KernelFunc>();

function kernel(name: string, backend: string): KernelFunc {
  const k = tf.getKernel(name, backend);
  if (!k) throw new TypeError(`Kernel ${name} is not registered for backend ${backend}.`);
  return k.kernelFunc;
}

/**
 * Largest batch chunk b whose Conv2DBackpropFilter invocation stays under `cap` loop iterations,
 * counted conservatively as b·(oH + 2)·(oW + 2): the exact count b·(1 + oH·(1 + oW)) is not
 * enough on llvmpipe (b = 80 at 28×28 gives 65,040 by that count and still comes out wrong;
 * b = 72 is exact), since skipped padding positions cost iterations too.
 *
 * @example
 * ```ts
 * import { filterGradChunk } from "./mod.ts";
 * if (filterGradChunk(28, 28) !== 72) throw new Error("unexpected chunk");
 * ```
 */
export function filterGradChunk(outHeight: number, outWidth: number, cap = LOOP_CAP): number {
  return Math.max(1, Math.floor(cap / ((outHeight + 2) * (outWidth + 2))));
}

function boundedConv2DBackpropFilter(
  orig: KernelFunc,
  backendName: string,
  cap: number,
): KernelFunc {
  const slice = kernel("Slice", backendName);
  const add = kernel("Add", backendName);
  return (args) => {
    const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
    const backend = args.backend as Backend;
    const [n, oh, ow] = dy.shape as [number, number, number, number];
    const chunk = filterGradChunk(oh, ow, cap);
    if (n <= chunk) return orig(args);
    let acc: tf.TensorInfo | null = null;
    for (let start = 0; start < n; start += chunk) {
      const len = Math.min(chunk, n - start);
      const batch = (t: tf.TensorInfo) =>
        slice({
          inputs: { x: t },
          backend,
          attrs: { begin: [start, 0, 0, 0], size: [len, -1, -1, -1] },
        }) as tf.TensorInfo;
      const xs = batch(x), ds = batch(dy);
      const part = orig({ ...args, inputs: { x: xs, dy: ds } }) as tf.TensorInfo;
      backend.disposeData(xs.dataId);
      backend.disposeData(ds.dataId);
      if (acc === null) acc = part;
      else {
        const sum = add({ inputs: { a: acc, b: part }, backend, attrs: {} }) as tf.TensorInfo;
        backend.disposeData(acc.dataId);
        backend.disposeData(part.dataId);
        acc = sum;
      }
    }
    return acc!;
  };
}

/** Which replacement {@link installBoundedKernels} installs. */
export type BoundedMode = "tiled" | "chunked";

/**
 * Replaces the backend's convolution kernels with loop-bounded ones. "tiled" (default) installs
 * our own shaders: register-tiled NHWC Conv2D, FusedConv2D (bias, linear/ReLU),
 * Conv2DBackpropInput and Conv2DBackpropFilter (see `_tiled_conv.ts`: up to 16 pixels × 16
 * channels of accumulators per invocation, the filter gradient over at most FILTER_CHUNK
 * positions per invocation with partial tiles summed), per-channel Sum/Mean/Max over the leading
 * axes, Add/Sub/Multiply/RealDiv of an activation with a per-channel (or per-model) vector,
 * Tile of a per-channel vector, MaxPool and MaxPoolGrad of non-overlapping windows, and the fused
 * training-mode batch norm that {@link batchNormTraining} runs (`_batch_norm.ts`) — each several
 * times faster than tfjs's own on software adapters. "chunked" only wraps tfjs's Conv2DBackpropFilter in batch chunks that
 * stay under `cap`. `textures` (default true): the tiled convolutions copy the operands they
 * re-read into textures and fetch texels (3–5× faster on lavapipe than storage-buffer loads, the
 * copy included); false keeps them on storage buffers. Replaces any earlier replacement. Returns
 * the names of the kernels replaced.
 */
export function installBoundedKernels(
  backendName: string,
  options: { mode?: BoundedMode; cap?: number; textures?: boolean } = {},
): string[] {
  uninstallBoundedKernels(backendName);
  useTextureConvs(options.textures ?? true);
  const mode = options.mode ?? "tiled";
  const replace = (name: string, make: (orig: KernelFunc) => KernelFunc) => {
    const orig = kernel(name, backendName);
    tf.unregisterKernel(name, backendName);
    tf.registerKernel({ kernelName: name, backendName, kernelFunc: make(orig) });
    installed.set(`${name}@${backendName}`, orig);
    return name;
  };
  if (mode === "chunked") {
    return [
      replace(
        "Conv2DBackpropFilter",
        (o) => boundedConv2DBackpropFilter(o, backendName, options.cap ?? LOOP_CAP),
      ),
    ];
  }
  return [
    replace("Conv2DBackpropFilter", (o) => tiledConv2DBackpropFilter(o)),
    replace("Conv2D", (o) => tiledConv2D(o, false)),
    replace("FusedConv2D", (o) => tiledConv2D(o, true)),
    replace("Conv2DBackpropInput", (o) => tiledConv2DBackpropInput(o)),
    replace("Sum", (o) => channelReduce(o, "sum")),
    replace("Mean", (o) => channelReduce(o, "mean")),
    replace("Max", (o) => channelReduce(o, "max")),
    ...["Add", "Sub", "Multiply", "RealDiv"].map((n) => replace(n, (o) => channelBinary(n, o))),
    replace("MaxPool", (o) => windowMaxPool(o)),
    replace("MaxPoolGrad", (o) => windowMaxPoolGrad(o)),
    replace("Tile", (o) => channelTile(o)),
    ...registerGroupedKernels(backendName),
    ...registerBatchNormKernels(backendName),
    ...registerAddReluKernels(backendName),
  ];
}

/** Restores the original kernels replaced by {@link installBoundedKernels}. */
export function uninstallBoundedKernels(backendName: string): void {
  unregisterGroupedKernels(backendName);
  unregisterBatchNormKernels(backendName);
  unregisterAddReluKernels(backendName);
  for (const [key, orig] of installed) {
    const [name, b] = key.split("@") as [string, string];
    if (b !== backendName) continue;
    tf.unregisterKernel(name, b);
    tf.registerKernel({ kernelName: name, backendName: b, kernelFunc: orig });
    installed.delete(key);
  }
}
