// A tiled, loop-bounded Conv2DBackpropFilter for tfjs-backend-webgpu (NHWC, any stride and
// padding, dilation 1). tfjs's own shader gives one invocation per filter element and loops over
// the whole batch × output plane (B·oH·oW iterations, which Mesa cuts at 65,535 and which leaves
// most lanes idle on small filters). Here each invocation owns a 4 (in-channel) × 4
// (out-channel) tile of one kernel tap (kh, kw) and a chunk of at most `chunk` output positions,
// accumulating 4 vec4 FMAs per position (positions taken as whole output rows, so the
// index arithmetic divides once per row); a second pass (the backend's Sum kernel) adds the
// chunks' partial tiles. Every invocation runs at most `chunk` loop iterations.
import type * as tf from "@tensorflow/tfjs-core";
import { type ConvAttrs, nhwcConvInfo } from "./_conv.ts";
import { type KernelFunc, runFlat, type WebGpuBackend } from "./_webgpu_types.ts";

/** Output positions per invocation (its loop length): far under Mesa's 65,535 cap. */
export const FILTER_GRAD_CHUNK = 1024;

const SHADER = `
fn storeTile(base : i32, ci : i32, co : i32, v : f32) {
  if (ci < uniforms.ci && co < uniforms.co) {
    result[base + ci * uniforms.co + co] = v;
  }
}

fn main(index : i32) {
  if (index >= uniforms.invocations) { return; }
  let cot = index % uniforms.coTiles;
  var r = index / uniforms.coTiles;
  let cit = r % uniforms.ciTiles;
  r = r / uniforms.ciTiles;
  let kw = r % uniforms.kw;
  r = r / uniforms.kw;
  let kh = r % uniforms.kh;
  let p = r / uniforms.kh;
  let ci0 = cit * 4;
  let co0 = cot * 4;
  var a0 = vec4<f32>(0.0);
  var a1 = vec4<f32>(0.0);
  var a2 = vec4<f32>(0.0);
  var a3 = vec4<f32>(0.0);
  let rowStart = p * uniforms.chunk;
  let rowEnd = min(rowStart + uniforms.chunk, uniforms.positions);
  for (var row = rowStart; row < rowEnd; row = row + 1) {
    let oy = row % uniforms.oh;
    let n = row / uniforms.oh;
    let iy = oy * uniforms.strideH - uniforms.padTop + kh;
    if (iy < 0 || iy >= uniforms.h) { continue; }
    let xRow = (n * uniforms.h + iy) * uniforms.w;
    let dRow = row * uniforms.ow;
    for (var ox = 0; ox < uniforms.ow; ox = ox + 1) {
      let ix = ox * uniforms.strideW - uniforms.padLeft + kw;
      if (ix >= 0 && ix < uniforms.w) {
        let xb = (xRow + ix) * uniforms.ci + ci0;
        let db = (dRow + ox) * uniforms.co + co0;
        let dv = vec4<f32>(dy[db], dy[db + 1], dy[db + 2], dy[db + 3]);
        a0 = a0 + x[xb] * dv;
        a1 = a1 + x[xb + 1] * dv;
        a2 = a2 + x[xb + 2] * dv;
        a3 = a3 + x[xb + 3] * dv;
      }
    }
  }
  let base = ((p * uniforms.kh + kh) * uniforms.kw + kw) * uniforms.ci * uniforms.co;
  storeTile(base, ci0, co0, a0.x); storeTile(base, ci0, co0 + 1, a0.y);
  storeTile(base, ci0, co0 + 2, a0.z); storeTile(base, ci0, co0 + 3, a0.w);
  storeTile(base, ci0 + 1, co0, a1.x); storeTile(base, ci0 + 1, co0 + 1, a1.y);
  storeTile(base, ci0 + 1, co0 + 2, a1.z); storeTile(base, ci0 + 1, co0 + 3, a1.w);
  storeTile(base, ci0 + 2, co0, a2.x); storeTile(base, ci0 + 2, co0 + 1, a2.y);
  storeTile(base, ci0 + 2, co0 + 2, a2.z); storeTile(base, ci0 + 2, co0 + 3, a2.w);
  storeTile(base, ci0 + 3, co0, a3.x); storeTile(base, ci0 + 3, co0 + 1, a3.y);
  storeTile(base, ci0 + 3, co0 + 2, a3.z); storeTile(base, ci0 + 3, co0 + 3, a3.w);
}
`;

/**
 * Builds the tiled filter-gradient kernel function for the WebGPU backend; `sum` is the
 * backend's Sum kernel (adds the chunks' partial tiles). Falls back to `orig` for NCHW or
 * dilated convolutions.
 */
export function tiledConv2DBackpropFilter(
  orig: KernelFunc,
  sum: KernelFunc,
  chunk = FILTER_GRAD_CHUNK,
): KernelFunc {
  return (args) => {
    const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
    const attrs = args.attrs as unknown as ConvAttrs & {
      filterShape: [number, number, number, number];
    };
    if (attrs.dataFormat === "NCHW") return orig(args);
    const backend = args.backend as WebGpuBackend;
    const info = nhwcConvInfo(x.shape, attrs.filterShape, attrs);
    const [kh, kw, ci, co] = attrs.filterShape;
    // Each invocation takes whole output rows: at most `chunk` positions (and ≥ 1 row).
    const rows = info.batchSize * info.outHeight;
    const rowsPerPart = Math.max(1, Math.floor(chunk / info.outWidth));
    const parts = Math.ceil(rows / rowsPerPart);
    const ciTiles = Math.ceil(ci / 4), coTiles = Math.ceil(co / 4);
    const partial = runFlat(backend, {
      key: "salienceConv2DDerFilterRows",
      code: SHADER,
      names: ["x", "dy"],
      outputShape: [parts, kh, kw, ci, co],
      invocations: parts * kh * kw * ciTiles * coTiles,
      ints: {
        positions: rows,
        chunk: rowsPerPart,
        h: info.inHeight,
        w: info.inWidth,
        ci,
        oh: info.outHeight,
        ow: info.outWidth,
        co,
        kh,
        kw,
        strideH: info.strideHeight,
        strideW: info.strideWidth,
        padTop: info.padInfo.top,
        padLeft: info.padInfo.left,
        ciTiles,
        coTiles,
      },
    }, [x, dy]);
    if (parts === 1) {
      return {
        dataId: partial.dataId,
        shape: attrs.filterShape,
        dtype: "float32",
      } as tf.TensorInfo;
    }
    const out = sum({
      inputs: { x: partial },
      backend,
      attrs: { axis: [0], keepDims: false },
    }) as tf.TensorInfo;
    backend.disposeData(partial.dataId);
    return out;
  };
}
