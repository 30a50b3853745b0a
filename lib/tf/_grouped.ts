// Grouped convolution for stacked populations: S models' images [S·B, H, W, C] and filters
// [S, KH, KW, C, OC], model s's B images meeting model s's filter only, as one dispatch per
// direction (forward, input gradient, filter gradient) with the tiled kernels of _tiled_conv.ts.
// Registered as three WebGPU kernels; `groupedConv2d` runs them as one custom op with its gradient
// where they are registered for the active backend, and splits per model otherwise.
import * as tf from "@tensorflow/tfjs-core";
import { convGeometry, runDirect, runFilterGrad } from "./_tiled_conv.ts";
import type { KernelFunc, WebGpuBackend } from "./_webgpu_types.ts";

/** Kernel names of the grouped convolution (forward, input gradient, filter gradient). */
export const GROUPED_KERNELS = [
  "SalienceGroupedConv2D",
  "SalienceGroupedConv2DBackpropInput",
  "SalienceGroupedConv2DBackpropFilter",
] as const;

/**
 * A grouped convolution's padding: tfjs's "same" or "valid", or explicit zero rows and columns
 * (top, bottom), (left, right): a ZeroPadding2D folded into the convolution after it.
 */
export type GroupedPad = "same" | "valid" | [[number, number], [number, number]];

/** The padding as tfjs's conv ops and Conv2DInfo take it (explicit: NHWC, 4 pairs). */
export function tfPad(
  pad: GroupedPad,
): "same" | "valid" | [[0, 0], [number, number], [number, number], [0, 0]] {
  return typeof pad === "string" ? pad : [[0, 0], pad[0], pad[1], [0, 0]];
}

type Attrs = { strides: [number, number]; pad: ReturnType<typeof tfPad> };

const forward: KernelFunc = (args) => {
  const { x, filter, bias } = args.inputs as {
    x: tf.TensorInfo;
    filter: tf.TensorInfo;
    bias?: tf.TensorInfo;
  };
  const attrs = args.attrs as unknown as Attrs;
  const S = filter.shape[0]!;
  const g = convGeometry(x.shape, filter.shape.slice(1), attrs, S);
  return runDirect(args.backend as WebGpuBackend, g, "forward", x, filter, bias);
};

const inputGrad: KernelFunc = (args) => {
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = args.attrs as unknown as Attrs & { inputShape: number[] };
  const backend = args.backend as WebGpuBackend;
  const S = filter.shape[0]!;
  const g = convGeometry(attrs.inputShape, filter.shape.slice(1), attrs, S);
  return runDirect(backend, g, "input", dy, filter);
};

const filterGrad: KernelFunc = (args) => {
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as Attrs & { filterShape: number[] };
  const S = attrs.filterShape[0]!;
  const g = convGeometry(x.shape, attrs.filterShape.slice(1), attrs, S);
  const sum = tf.getKernel("Sum", "webgpu")!.kernelFunc;
  return runFilterGrad(args.backend as WebGpuBackend, g, x, dy, sum);
};

/** Registers the grouped-convolution kernels for `backendName` (a WebGPU backend). */
export function registerGroupedKernels(backendName: string): string[] {
  unregisterGroupedKernels(backendName);
  [forward, inputGrad, filterGrad].forEach((kernelFunc, i) =>
    tf.registerKernel({ kernelName: GROUPED_KERNELS[i]!, backendName, kernelFunc })
  );
  return [...GROUPED_KERNELS];
}

/** Removes what {@link registerGroupedKernels} registered. */
export function unregisterGroupedKernels(backendName: string): void {
  for (const name of GROUPED_KERNELS) {
    if (tf.getKernel(name, backendName)) tf.unregisterKernel(name, backendName);
  }
}

/** Whether the active backend runs {@link groupedConv2d} as one grouped kernel. */
export function hasGroupedConv(): boolean {
  return tf.getKernel(GROUPED_KERNELS[0], tf.getBackend()) !== undefined;
}

/**
 * Convolution of S models at once: x [S·B, H, W, Cin], filters [S, kh, kw, Cin, Cout] → [S·B,
 * oH, oW, Cout]; model s's rows meet model s's filter only, plus model s's `bias` [S, Cout] where
 * given (added inside the forward kernel, not as a separate pass). Differentiable in every input.
 * `grouped` is the padding: "same", "valid" or explicit zero rows and columns ({@link GroupedPad}).
 * One dispatch per direction where {@link hasGroupedConv}; otherwise one tf.conv2d per model.
 *
 * @throws {RangeError} when x's batch is not a multiple of S.
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { groupedConv2d } from "./mod.ts";
 * const y = groupedConv2d(tf.ones([4, 5, 5, 1]), tf.ones([2, 3, 3, 1, 2]), [1, 1], "same");
 * if (y.shape.join() !== "4,5,5,2") throw new Error("wrong shape");
 * ```
 */
export function groupedConv2d(
  x: tf.Tensor4D,
  filters: tf.Tensor,
  strides: [number, number],
  grouped: GroupedPad,
  bias?: tf.Tensor,
): tf.Tensor4D {
  const S = filters.shape[0]!;
  const pad = tfPad(grouped);
  if (bias !== undefined && bias.size !== S * filters.shape[4]!) {
    throw new RangeError(
      `groupedConv2d needs bias [S, Cout] = [${S}, ${filters.shape[4]}]; got [${bias.shape}].`,
    );
  }
  if (filters.rank !== 5 || x.shape[0] % S !== 0) {
    throw new RangeError(
      `groupedConv2d needs filters [S, kh, kw, Cin, Cout] and S·B images; got filters [${filters.shape}] and ${
        x.shape[0]
      } images.`,
    );
  }
  const [, kh, kw, ci, co] = filters.shape as number[];
  const withBias = (y: tf.Tensor4D) => {
    if (bias === undefined) return y;
    const [n, h, w] = y.shape;
    const b = tf.reshape(bias, [S, 1, 1, 1, co!]);
    return tf.reshape(tf.add(tf.reshape(y, [S, n / S, h, w, co!]), b), y.shape) as tf.Tensor4D;
  };
  if (S === 1) {
    return withBias(tf.conv2d(x, tf.reshape(filters, [kh!, kw!, ci!, co!]), strides, pad));
  }
  if (!hasGroupedConv()) {
    // tfjs's unstack gradient fails for a single output, hence S > 1 here.
    const f = tf.unstack(filters, 0) as tf.Tensor4D[];
    const xs = tf.split(x, S, 0) as tf.Tensor4D[];
    return withBias(tf.concat(xs.map((xi, i) => tf.conv2d(xi, f[i]!, strides, pad)), 0));
  }
  return tf.engine().runKernel(
    GROUPED_KERNELS[0],
    bias === undefined ? { x, filter: filters } : { x, filter: filters, bias },
    { strides, pad } as unknown as tf.NamedAttrMap,
  ) as tf.Tensor4D;
}

// The gradient is registered for the kernel (not a customGrad around it) so that each direction
// is a closure the tape calls only where it leads to a variable: a network's first convolution,
// whose input is the image, skips its input gradient (in ResNetSmall's stem, 7×7 stride 2 into
// one channel, it was half of a population step).
tf.registerGradient({
  kernelName: GROUPED_KERNELS[0],
  inputsToSave: ["x", "filter"],
  gradFunc: (dy, saved, attrs) => {
    const [x, filter] = saved as [tf.Tensor4D, tf.Tensor];
    const d = (Array.isArray(dy) ? dy[0] : dy)!;
    const a = attrs as unknown as Attrs;
    return {
      x: () =>
        tf.engine().runKernel(
          GROUPED_KERNELS[1],
          { dy: d, filter },
          { ...a, inputShape: x.shape } as unknown as tf.NamedAttrMap,
        ) as tf.Tensor,
      filter: () =>
        tf.engine().runKernel(
          GROUPED_KERNELS[2],
          { x, dy: d },
          { ...a, filterShape: filter.shape } as unknown as tf.NamedAttrMap,
        ) as tf.Tensor,
      // Only called where the forward had a bias: Σ of dy over each model's rows.
      bias: () => {
        const S = filter.shape[0]!, C = filter.shape[4]!;
        return tf.sum(tf.reshape(d, [S, -1, C]), 1);
      },
    };
  },
});
