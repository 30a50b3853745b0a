// Direct NHWC convolution shaders for tfjs-backend-webgpu: forward (Conv2D and FusedConv2D with
// bias and linear/ReLU activation) and input gradient (Conv2DBackpropInput). Each invocation
// computes 4 channels of one pixel as a vec4, looping over the kernel taps and the reduced
// channels (KH·(1 + KW·(1 + C)) iterations: far under Mesa's 65,535 cap for C ≤ 2,000). On
// software adapters these replace tfjs's tiled-matmul convolutions, which are several times slower
// there. Dilation, NCHW and other activations fall back to tfjs's kernels.
import * as tf from "@tensorflow/tfjs-core";

const WORKGROUP = 64;

const FORWARD = (bias: boolean, relu: boolean) => `
fn main(index : i32) {
  if (index >= uniforms.invocations) { return; }
  let cot = index % uniforms.tiles;
  var r = index / uniforms.tiles;
  let ox = r % uniforms.ow;
  r = r / uniforms.ow;
  let oy = r % uniforms.oh;
  let n = r / uniforms.oh;
  let co0 = cot * 4;
  var acc = vec4<f32>(0.0);
  for (var kh = 0; kh < uniforms.kh; kh = kh + 1) {
    let iy = oy * uniforms.strideH - uniforms.padTop + kh;
    if (iy < 0 || iy >= uniforms.h) { continue; }
    for (var kw = 0; kw < uniforms.kw; kw = kw + 1) {
      let ix = ox * uniforms.strideW - uniforms.padLeft + kw;
      if (ix < 0 || ix >= uniforms.w) { continue; }
      let xb = ((n * uniforms.h + iy) * uniforms.w + ix) * uniforms.ci;
      var fo = (kh * uniforms.kw + kw) * uniforms.ci * uniforms.co + co0;
      for (var c = 0; c < uniforms.ci; c = c + 1) {
        acc = acc + x[xb + c] * vec4<f32>(w[fo], w[fo + 1], w[fo + 2], w[fo + 3]);
        fo = fo + uniforms.co;
      }
    }
  }
  ${bias ? "acc = acc + vec4<f32>(bias[co0], bias[co0 + 1], bias[co0 + 2], bias[co0 + 3]);" : ""}
  ${relu ? "acc = max(acc, vec4<f32>(0.0));" : ""}
  let ob = ((n * uniforms.oh + oy) * uniforms.ow + ox) * uniforms.co + co0;
  if (co0 < uniforms.co) { result[ob] = acc.x; }
  if (co0 + 1 < uniforms.co) { result[ob + 1] = acc.y; }
  if (co0 + 2 < uniforms.co) { result[ob + 2] = acc.z; }
  if (co0 + 3 < uniforms.co) { result[ob + 3] = acc.w; }
}
`;

const BACKWARD_INPUT = `
fn main(index : i32) {
  if (index >= uniforms.invocations) { return; }
  let cit = index % uniforms.tiles;
  var r = index / uniforms.tiles;
  let ix = r % uniforms.w;
  r = r / uniforms.w;
  let iy = r % uniforms.h;
  let n = r / uniforms.h;
  let ci0 = cit * 4;
  let co = uniforms.co;
  var acc = vec4<f32>(0.0);
  for (var kh = 0; kh < uniforms.kh; kh = kh + 1) {
    let ty = iy + uniforms.padTop - kh;
    if (ty < 0 || ty % uniforms.strideH != 0) { continue; }
    let oy = ty / uniforms.strideH;
    if (oy >= uniforms.oh) { continue; }
    for (var kw = 0; kw < uniforms.kw; kw = kw + 1) {
      let tx = ix + uniforms.padLeft - kw;
      if (tx < 0 || tx % uniforms.strideW != 0) { continue; }
      let ox = tx / uniforms.strideW;
      if (ox >= uniforms.ow) { continue; }
      let db = ((n * uniforms.oh + oy) * uniforms.ow + ox) * co;
      let fb = ((kh * uniforms.kw + kw) * uniforms.ci + ci0) * co;
      for (var c = 0; c < co; c = c + 1) {
        let f = fb + c;
        acc = acc + dy[db + c] * vec4<f32>(w[f], w[f + co], w[f + 2 * co], w[f + 3 * co]);
      }
    }
  }
  let ob = ((n * uniforms.h + iy) * uniforms.w + ix) * uniforms.ci + ci0;
  if (ci0 < uniforms.ci) { result[ob] = acc.x; }
  if (ci0 + 1 < uniforms.ci) { result[ob + 1] = acc.y; }
  if (ci0 + 2 < uniforms.ci) { result[ob + 2] = acc.z; }
  if (ci0 + 3 < uniforms.ci) { result[ob + 3] = acc.w; }
}
`;

const UNIFORMS =
  "invocations : i32, tiles : i32, h : i32, w : i32, ci : i32, oh : i32, ow : i32, " +
  "co : i32, kh : i32, kw : i32, strideH : i32, strideW : i32, padTop : i32, padLeft : i32,";

type KernelFunc = tf.KernelConfig["kernelFunc"];
type WebGpuBackend = tf.KernelBackend & {
  runWebGPUProgram(
    program: unknown,
    inputs: tf.TensorInfo[],
    dtype: tf.DataType,
    uniforms?: { type: string; data: number[] }[],
  ): tf.TensorInfo;
};
type ConvAttrs = {
  strides: number | [number, number];
  pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
  dataFormat?: "NHWC" | "NCHW";
  dilations?: number | [number, number];
  dimRoundingMode?: "floor" | "round" | "ceil";
  activation?: string;
  inputShape?: [number, number, number, number];
};

function isDilated(d: ConvAttrs["dilations"]): boolean {
  return d !== undefined && (Array.isArray(d) ? d.some((v) => v !== 1) : d !== 1);
}

function run(
  backend: WebGpuBackend,
  key: string,
  code: string,
  names: string[],
  inputs: tf.TensorInfo[],
  outputShape: number[],
  info: tf.backend_util.Conv2DInfo,
  tiles: number,
): tf.TensorInfo {
  const pixels = outputShape[0]! * outputShape[1]! * outputShape[2]!;
  const invocations = pixels * tiles;
  const program = {
    variableNames: names,
    outputShape,
    shaderKey: key,
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [Math.ceil(invocations / WORKGROUP), 1, 1],
    workgroupSize: [WORKGROUP, 1, 1],
    uniforms: UNIFORMS,
    getUserCode: () => code,
  };
  const u = [
    invocations,
    tiles,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    info.outChannels,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.padInfo.top,
    info.padInfo.left,
  ].map((v) => ({ type: "int32", data: [v] }));
  return backend.runWebGPUProgram(program, inputs, "float32", u);
}

/** Conv2D / FusedConv2D (bias, linear or ReLU) by direct convolution; others go to `orig`. */
export function directConv2D(orig: KernelFunc, fused: boolean): KernelFunc {
  return (args) => {
    const inp = args.inputs as {
      x: tf.TensorInfo;
      filter: tf.TensorInfo;
      bias?: tf.TensorInfo;
      preluActivationWeights?: tf.TensorInfo;
    };
    const attrs = args.attrs as unknown as ConvAttrs;
    const act = attrs.activation ?? "linear";
    if (
      attrs.dataFormat === "NCHW" || isDilated(attrs.dilations) || inp.preluActivationWeights ||
      (act !== "linear" && act !== "relu") || inp.x.dtype !== "float32"
    ) return orig(args);
    const info = tf.backend_util.computeConv2DInfo(
      inp.x.shape as [number, number, number, number],
      inp.filter.shape as [number, number, number, number],
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
      false,
      "channelsLast",
    );
    const bias = fused && inp.bias !== undefined;
    const relu = fused && act === "relu";
    const names = bias ? ["x", "w", "bias"] : ["x", "w"];
    const inputs = bias ? [inp.x, inp.filter, inp.bias!] : [inp.x, inp.filter];
    return run(
      args.backend as WebGpuBackend,
      `salienceDirectConv_${bias}_${relu}`,
      FORWARD(bias, relu),
      names,
      inputs,
      [info.batchSize, info.outHeight, info.outWidth, info.outChannels],
      info,
      Math.ceil(info.outChannels / 4),
    );
  };
}

/** Conv2DBackpropInput by direct summation over the taps that reach each input pixel. */
export function directConv2DBackpropInput(orig: KernelFunc): KernelFunc {
  return (args) => {
    const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
    const attrs = args.attrs as unknown as ConvAttrs;
    if (attrs.dataFormat === "NCHW") return orig(args);
    const info = tf.backend_util.computeConv2DInfo(
      attrs.inputShape!,
      filter.shape as [number, number, number, number],
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
      false,
      "channelsLast",
    );
    return run(
      args.backend as WebGpuBackend,
      "salienceDirectConvBackpropInput",
      BACKWARD_INPUT,
      ["dy", "w"],
      [dy, filter],
      attrs.inputShape!,
      info,
      Math.ceil(info.inChannels / 4),
    );
  };
}
