// MaxPoolGrad for non-overlapping windows (stride = window, no padding: our CNN families' 2×2
// pools) for tfjs-backend-webgpu. tfjs computes every window's argmax into an int buffer, then
// loops, for each input pixel, over every window that could hold it. Here one invocation owns one
// window cell and 4 channels: it finds each channel's first maximum (the CPU backend's choice
// among ties) and writes dy there and zero elsewhere, so every input element is written exactly
// once (cells past the last whole window, when a side is not a multiple of the stride, get
// zeros). Channels go 4 to an invocation; where C is not a multiple of 4 the last group's loads
// are clamped into the tensor and its missing channels neither compared nor written. Loops: a
// fixed KH·KW iterations per invocation.
//
// MaxPool of the same windows likewise: one invocation per output pixel and 4 channels. Both read
// x and dy from textures where the backend allows raw dispatch (rgba texels, r32float where C is
// not a multiple of 4), as tfjs programs on storage buffers otherwise.
import * as tf from "@tensorflow/tfjs-core";
import { type KernelFunc, runFlat, storedAsFloat32, type WebGpuBackend } from "./_webgpu_types.ts";
import { assertLoopBound } from "../../kernels/gpu/mod.ts";
import { load4Fn, runFlatTextured, type Textures, texturesFor } from "./_texture_conv.ts";

// WGSL splitting `index` into a tile of 4 channels from `c0`, a cell (`col`, `row`) of a grid
// `cols` × `rows` per image, and the image `n` (channel tiles vary fastest).
const splitIndex = (col: string, row: string, cols: string, rows: string) =>
  `  let tiles = (uniforms.c + 3) / 4;
  let t = index % tiles;
  var r = index / tiles;
  let ${col} = r % ${cols};
  r = r / ${cols};
  let ${row} = r % ${rows};
  let n = r / ${rows};
  let c0 = t * 4;`;

// Loads past the last element (the last tile of a C not a multiple of 4) feed only channels that
// are neither compared into a written result nor written.
const shader = (kh: number, kw: number, tex: Textures = {}) =>
  `${load4Fn("x", tex.x)}${load4Fn("dy", tex.dy)}
fn main(index : i32) {
  if (index >= uniforms.invocations) { return; }
${splitIndex("cx", "cy", "uniforms.cellsW", "uniforms.cellsH")}
  let has = vec4<bool>(true, c0 + 1 < uniforms.c, c0 + 2 < uniforms.c, c0 + 3 < uniforms.c);
  let whole = cy < uniforms.oh && cx < uniforms.ow;
  var best = vec4<f32>(0.0);
  var at = vec4<i32>(-1);
  if (whole) {
    for (var k = 0; k < ${kh * kw}; k = k + 1) {
      let iy = cy * ${kh} + k / ${kw};
      let ix = cx * ${kw} + k % ${kw};
      let b = ((n * uniforms.h + iy) * uniforms.w + ix) * uniforms.c + c0;
      let v = load4_x(b);
      let better = v > best | at < vec4<i32>(0);
      best = select(best, v, better);
      at = select(at, vec4<i32>(k), better);
    }
  }
  let db = ((n * uniforms.oh + min(cy, uniforms.oh - 1)) * uniforms.ow + min(cx, uniforms.ow - 1)) * uniforms.c + c0;
  let d = select(vec4<f32>(0.0), load4_dy(db), vec4<bool>(whole));
  for (var k = 0; k < ${kh * kw}; k = k + 1) {
    let iy = cy * ${kh} + k / ${kw};
    let ix = cx * ${kw} + k % ${kw};
    if (iy < uniforms.h && ix < uniforms.w) {
      let o = select(vec4<f32>(0.0), d, at == vec4<i32>(k));
      let b = ((n * uniforms.h + iy) * uniforms.w + ix) * uniforms.c + c0;
      result[b] = o.x;
      if (has.y) { result[b + 1] = o.y; }
      if (has.z) { result[b + 2] = o.z; }
      if (has.w) { result[b + 3] = o.w; }
    }
  }
}
`;

/**
 * The pooling geometry of a float32 NHWC `x` under MaxPool's attributes, or null where our
 * kernels do not apply: windows that overlap, leave a gap or are padded (stride ≠ window), or an
 * input not rank 4 or not stored as float32.
 */
function windowPoolInfo(
  backend: WebGpuBackend,
  x: tf.TensorInfo,
  attrs: unknown,
): tf.backend_util.Conv2DInfo | null {
  if (x.shape.length !== 4 || !storedAsFloat32(backend, x)) return null;
  const a = attrs as {
    filterSize: number | [number, number];
    strides: number | [number, number];
    pad: "valid" | "same" | number;
    dimRoundingMode?: "floor" | "round" | "ceil";
  };
  const info = tf.backend_util.computePool2DInfo(
    x.shape as [number, number, number, number],
    a.filterSize,
    a.strides,
    1,
    a.pad,
    a.dimRoundingMode,
  );
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const p = info.padInfo;
  const windowed = kh === sh && kw === sw && !p.top && !p.left && !p.bottom && !p.right &&
    info.outHeight === Math.floor(info.inHeight / sh) &&
    info.outWidth === Math.floor(info.inWidth / sw);
  return windowed ? info : null;
}

/** MaxPoolGrad with our kernel for non-overlapping, unpadded windows (any channel count). */
export function windowMaxPoolGrad(orig: KernelFunc): KernelFunc {
  return (args) => {
    const { dy, input } = args.inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
    const backend = args.backend as WebGpuBackend;
    if (!storedAsFloat32(backend, dy)) return orig(args);
    const info = windowPoolInfo(backend, input, args.attrs);
    if (!info) return orig(args);
    const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
    assertLoopBound("window MaxPoolGrad", 2 * kh * kw);
    const cellsH = Math.ceil(info.inHeight / sh), cellsW = Math.ceil(info.inWidth / sw);
    const names = ["dy", "x"], inputs = [dy, input];
    const spec = (tex?: Textures) => ({
      key: `salienceWindowMaxPoolGrad_${kh}_${kw}`,
      code: shader(kh, kw, tex),
      names,
      outputShape: input.shape,
      invocations: info.batchSize * cellsH * cellsW * Math.ceil(info.inChannels / 4),
      ints: {
        n: info.batchSize,
        c: info.inChannels,
        h: info.inHeight,
        w: info.inWidth,
        oh: info.outHeight,
        ow: info.outWidth,
        cellsH,
        cellsW,
      },
    });
    const tex = texturesFor(backend, names, names, inputs, info.inChannels);
    return tex
      ? runFlatTextured(backend, spec(tex), inputs, tex)
      : runFlat(backend, spec(), inputs);
  };
}

const forwardShader = (kh: number, kw: number, tex: Textures = {}) =>
  `${load4Fn("x", tex.x)}
fn main(index : i32) {
  if (index >= uniforms.invocations) { return; }
${splitIndex("ox", "oy", "uniforms.ow", "uniforms.oh")}
  var best = load4_x(((n * uniforms.h + oy * ${kh}) * uniforms.w + ox * ${kw}) * uniforms.c + c0);
  for (var k = 1; k < ${kh * kw}; k = k + 1) {
    let iy = oy * ${kh} + k / ${kw};
    let ix = ox * ${kw} + k % ${kw};
    best = max(best, load4_x(((n * uniforms.h + iy) * uniforms.w + ix) * uniforms.c + c0));
  }
  let o = ((n * uniforms.oh + oy) * uniforms.ow + ox) * uniforms.c + c0;
  result[o] = best.x;
  if (c0 + 1 < uniforms.c) { result[o + 1] = best.y; }
  if (c0 + 2 < uniforms.c) { result[o + 2] = best.z; }
  if (c0 + 3 < uniforms.c) { result[o + 3] = best.w; }
}
`;

/** MaxPool with our kernel for non-overlapping, unpadded windows (any channel count). */
export function windowMaxPool(orig: KernelFunc): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const backend = args.backend as WebGpuBackend;
    const info = windowPoolInfo(backend, x, args.attrs);
    if (!info || info.outHeight * info.outWidth === 0) return orig(args);
    const { filterHeight: kh, filterWidth: kw } = info;
    assertLoopBound("window MaxPool", kh * kw);
    const spec = (tex?: Textures) => ({
      key: `salienceWindowMaxPool_${kh}_${kw}`,
      code: forwardShader(kh, kw, tex),
      names: ["x"],
      outputShape: [info.batchSize, info.outHeight, info.outWidth, info.inChannels],
      invocations: info.batchSize * info.outHeight * info.outWidth * Math.ceil(info.inChannels / 4),
      ints: {
        c: info.inChannels,
        h: info.inHeight,
        w: info.inWidth,
        oh: info.outHeight,
        ow: info.outWidth,
      },
    });
    const tex = texturesFor(backend, ["x"], ["x"], [x], info.inChannels);
    return tex ? runFlatTextured(backend, spec(tex), [x], tex) : runFlat(backend, spec(), [x]);
  };
}
