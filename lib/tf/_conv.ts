// Direct NHWC convolution shaders for tfjs-backend-webgpu: forward (Conv2D and FusedConv2D with
// bias and linear/ReLU activation) and input gradient (Conv2DBackpropInput). Each invocation
// computes 4 channels of one pixel as a vec4, looping over the kernel taps and the reduced
// channels (KH·(1 + KW·(1 + C)) iterations: far under Mesa's 65,535 cap for C ≤ 2,000). On
// software adapters these replace tfjs's tiled-matmul convolutions, which are several times slower
// there. Dilation, NCHW and other activations fall back to tfjs's kernels.
import * as tf from "@tensorflow/tfjs-core";
import { type KernelFunc, runFlat, type WebGpuBackend } from "./_webgpu_types.ts";

/** Output pixels along the width computed by one forward invocation (they share filter loads). */
export const FORWARD_PIXELS = 4;

const FORWARD = (bias: boolean, relu: boolean) => `
fn main(index : i32) {
  if (index >= uniforms.invocations) { return; }
  let owTiles = (uniforms.ow + 3) / 4;
  let cot = index % uniforms.tiles;
  var r = index / uniforms.tiles;
  let oxt = r % owTiles;
  r = r / owTiles;
  let oy = r % uniforms.oh;
  let n = r / uniforms.oh;
  let co0 = cot * 4;
  let ox0 = oxt * 4;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var kh = 0; kh < uniforms.kh; kh = kh + 1) {
    let iy = oy * uniforms.strideH - uniforms.padTop + kh;
    if (iy < 0 || iy >= uniforms.h) { continue; }
    let rowBase = (n * uniforms.h + iy) * uniforms.w;
    for (var kw = 0; kw < uniforms.kw; kw = kw + 1) {
      let ix0 = ox0 * uniforms.strideW - uniforms.padLeft + kw;
      let ix1 = ix0 + uniforms.strideW;
      let ix2 = ix1 + uniforms.strideW;
      let ix3 = ix2 + uniforms.strideW;
      let m0 = select(0.0, 1.0, ix0 >= 0 && ix0 < uniforms.w);
      let m1 = select(0.0, 1.0, ix1 >= 0 && ix1 < uniforms.w);
      let m2 = select(0.0, 1.0, ix2 >= 0 && ix2 < uniforms.w);
      let m3 = select(0.0, 1.0, ix3 >= 0 && ix3 < uniforms.w);
      let b0 = (rowBase + clamp(ix0, 0, uniforms.w - 1)) * uniforms.ci;
      let b1 = (rowBase + clamp(ix1, 0, uniforms.w - 1)) * uniforms.ci;
      let b2 = (rowBase + clamp(ix2, 0, uniforms.w - 1)) * uniforms.ci;
      let b3 = (rowBase + clamp(ix3, 0, uniforms.w - 1)) * uniforms.ci;
      var fo = (kh * uniforms.kw + kw) * uniforms.ci * uniforms.co + co0;
      for (var c = 0; c < uniforms.ci; c = c + 1) {
        let wv = vec4<f32>(w[fo], w[fo + 1], w[fo + 2], w[fo + 3]);
        acc0 = acc0 + (m0 * x[b0 + c]) * wv;
        acc1 = acc1 + (m1 * x[b1 + c]) * wv;
        acc2 = acc2 + (m2 * x[b2 + c]) * wv;
        acc3 = acc3 + (m3 * x[b3 + c]) * wv;
        fo = fo + uniforms.co;
      }
    }
  }
  ${
  bias
    ? `let bv = vec4<f32>(bias[co0], bias[co0 + 1], bias[co0 + 2], bias[co0 + 3]);
  acc0 = acc0 + bv; acc1 = acc1 + bv; acc2 = acc2 + bv; acc3 = acc3 + bv;`
    : ""
}
  ${
  relu
    ? `acc0 = max(acc0, vec4<f32>(0.0)); acc1 = max(acc1, vec4<f32>(0.0));
  acc2 = max(acc2, vec4<f32>(0.0)); acc3 = max(acc3, vec4<f32>(0.0));`
    : ""
}
  let rowOut = (n * uniforms.oh + oy) * uniforms.ow;
  storePixel(rowOut, ox0, co0, acc0);
  storePixel(rowOut, ox0 + 1, co0, acc1);
  storePixel(rowOut, ox0 + 2, co0, acc2);
  storePixel(rowOut, ox0 + 3, co0, acc3);
}

fn storePixel(rowOut : i32, ox : i32, co0 : i32, v : vec4<f32>) {
  if (ox >= uniforms.ow) { return; }
  let ob = (rowOut + ox) * uniforms.co + co0;
  if (co0 < uniforms.co) { result[ob] = v.x; }
  if (co0 + 1 < uniforms.co) { result[ob + 1] = v.y; }
  if (co0 + 2 < uniforms.co) { result[ob + 2] = v.z; }
  if (co0 + 3 < uniforms.co) { result[ob + 3] = v.w; }
}
`;

const BACKWARD_INPUT = `
fn tapBase(n : i32, oy : i32, tx : i32) -> i32 {
  let ox = tx / uniforms.strideW;
  return ((n * uniforms.oh + oy) * uniforms.ow + clamp(ox, 0, uniforms.ow - 1)) * uniforms.co;
}

fn tapMask(tx : i32) -> f32 {
  let ok = tx >= 0 && tx % uniforms.strideW == 0 && tx / uniforms.strideW < uniforms.ow;
  return select(0.0, 1.0, ok);
}

fn main(index : i32) {
  if (index >= uniforms.invocations) { return; }
  let wTiles = (uniforms.w + 3) / 4;
  let cit = index % uniforms.tiles;
  var r = index / uniforms.tiles;
  let ixt = r % wTiles;
  r = r / wTiles;
  let iy = r % uniforms.h;
  let n = r / uniforms.h;
  let ci0 = cit * 4;
  let ix0 = ixt * 4;
  let co = uniforms.co;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var kh = 0; kh < uniforms.kh; kh = kh + 1) {
    let ty = iy + uniforms.padTop - kh;
    if (ty < 0 || ty % uniforms.strideH != 0) { continue; }
    let oy = ty / uniforms.strideH;
    if (oy >= uniforms.oh) { continue; }
    for (var kw = 0; kw < uniforms.kw; kw = kw + 1) {
      let tx0 = ix0 + uniforms.padLeft - kw;
      let m0 = tapMask(tx0);
      let m1 = tapMask(tx0 + 1);
      let m2 = tapMask(tx0 + 2);
      let m3 = tapMask(tx0 + 3);
      let d0 = tapBase(n, oy, max(tx0, 0));
      let d1 = tapBase(n, oy, max(tx0 + 1, 0));
      let d2 = tapBase(n, oy, max(tx0 + 2, 0));
      let d3 = tapBase(n, oy, max(tx0 + 3, 0));
      let fb = ((kh * uniforms.kw + kw) * uniforms.ci + ci0) * co;
      for (var c = 0; c < co; c = c + 1) {
        let f = fb + c;
        let wv = vec4<f32>(w[f], w[f + co], w[f + 2 * co], w[f + 3 * co]);
        acc0 = acc0 + (m0 * dy[d0 + c]) * wv;
        acc1 = acc1 + (m1 * dy[d1 + c]) * wv;
        acc2 = acc2 + (m2 * dy[d2 + c]) * wv;
        acc3 = acc3 + (m3 * dy[d3 + c]) * wv;
      }
    }
  }
  let row = (n * uniforms.h + iy) * uniforms.w;
  storeIn(row, ix0, ci0, acc0);
  storeIn(row, ix0 + 1, ci0, acc1);
  storeIn(row, ix0 + 2, ci0, acc2);
  storeIn(row, ix0 + 3, ci0, acc3);
}

fn storeIn(row : i32, ix : i32, ci0 : i32, v : vec4<f32>) {
  if (ix >= uniforms.w) { return; }
  let ob = (row + ix) * uniforms.ci + ci0;
  if (ci0 < uniforms.ci) { result[ob] = v.x; }
  if (ci0 + 1 < uniforms.ci) { result[ob + 1] = v.y; }
  if (ci0 + 2 < uniforms.ci) { result[ob + 2] = v.z; }
  if (ci0 + 3 < uniforms.ci) { result[ob + 3] = v.w; }
}
`;

/** The attributes of tfjs's convolution kernels that ours read. */
export type ConvAttrs = {
  strides: number | [number, number];
  pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
  dataFormat?: "NHWC" | "NCHW";
  dilations?: number | [number, number];
  dimRoundingMode?: "floor" | "round" | "ceil";
  activation?: string;
  inputShape?: [number, number, number, number];
};

/** tfjs's geometry of an NHWC convolution of dilation 1 with `attrs`' strides, padding, rounding. */
export function nhwcConvInfo(
  xShape: readonly number[],
  filterShape: readonly number[],
  attrs: Pick<ConvAttrs, "strides" | "pad" | "dimRoundingMode">,
): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    "channelsLast",
  );
}

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
  pixelsPerInvocation = 1,
): tf.TensorInfo {
  const pixels = outputShape[0]! * outputShape[1]! *
    Math.ceil(outputShape[2]! / pixelsPerInvocation);
  return runFlat(backend, {
    key,
    code,
    names,
    outputShape,
    invocations: pixels * tiles,
    ints: {
      tiles,
      h: info.inHeight,
      w: info.inWidth,
      ci: info.inChannels,
      oh: info.outHeight,
      ow: info.outWidth,
      co: info.outChannels,
      kh: info.filterHeight,
      kw: info.filterWidth,
      strideH: info.strideHeight,
      strideW: info.strideWidth,
      padTop: info.padInfo.top,
      padLeft: info.padInfo.left,
    },
  }, inputs);
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
    const info = nhwcConvInfo(inp.x.shape, inp.filter.shape, attrs);
    const bias = fused && inp.bias !== undefined;
    const relu = fused && act === "relu";
    const names = bias ? ["x", "w", "bias"] : ["x", "w"];
    const inputs = bias ? [inp.x, inp.filter, inp.bias!] : [inp.x, inp.filter];
    return run(
      args.backend as WebGpuBackend,
      `salienceDirectConv4_${bias}_${relu}`,
      FORWARD(bias, relu),
      names,
      inputs,
      [info.batchSize, info.outHeight, info.outWidth, info.outChannels],
      info,
      Math.ceil(info.outChannels / 4),
      FORWARD_PIXELS,
    );
  };
}

/** Conv2DBackpropInput by direct summation over the taps that reach each input pixel. */
export function directConv2DBackpropInput(orig: KernelFunc): KernelFunc {
  return (args) => {
    const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
    const attrs = args.attrs as unknown as ConvAttrs;
    if (attrs.dataFormat === "NCHW") return orig(args);
    const info = nhwcConvInfo(attrs.inputShape!, filter.shape, attrs);
    return run(
      args.backend as WebGpuBackend,
      "salienceDirectConvBackpropInput4",
      BACKWARD_INPUT,
      ["dy", "w"],
      [dy, filter],
      attrs.inputShape!,
      info,
      Math.ceil(info.inChannels / 4),
      FORWARD_PIXELS,
    );
  };
}
