// Register-tiled NHWC convolutions for tfjs-backend-webgpu, for one model and for S models at once
// (a grouped convolution: images [S·B, H, W, C], filters [S, KH, KW, C, OC], model s's B images
// meet model s's filter only). On software adapters (lavapipe) a storage-buffer load costs tens
// of multiply-adds, so every invocation holds a tile of M pixels × N channels of accumulators and
// reuses each loaded value across the whole tile: per reduced channel it loads M input values and
// N weights and does M·N multiply-adds.
//
// - Forward (`direct`, mode "forward"): out[n, oy, ox, oc] = Σ x[n, oy·sh − pt + kh, ox·sw − pl +
//   kw, c] · w[s, kh, kw, c, oc] (+ bias, ReLU).
// - Input gradient (mode "input"): the same loop over dy, with the filter transposed to
//   [S, KH, KW, OC, C] so its loads stay contiguous: dx[n, iy, ix, c] = Σ dy[n, (iy + pt − kh)/sh,
//   (ix + pl − kw)/sw, oc] · w[s, kh, kw, c, oc] over taps that divide evenly.
// - Filter gradient (`filterGrad`): dw[s, kh, kw, c, oc] = Σ over model s's positions of x · dy,
//   each invocation owning an M (in-channel) × N (out-channel) tile of one tap and a chunk of at
//   most FILTER_CHUNK positions; the chunks' partial tiles are added by the backend's Sum. With
//   few output channels (≤ 8) and ≤ 9 taps (the default sweep's high-resolution layers) one
//   invocation owns every tap instead (`allTapsTile`), over ALL_TAPS_CHUNK positions, so each
//   position's dy and index arithmetic serve all taps.
//
// - Stride 1, both directions (`stripCode`): invocation (image, row, strip of M columns) loads each
//   tap row's M + KW − 1 source texels once per channel step and reuses them for all KW tap
//   columns; weights come from a texture (r32float where the target channels are not a multiple
//   of 4), so few-channel layers run on textures too.
//
// Every size is written into the shader as a constant (one pipeline per layer shape), so the loops
// over taps and channels have fixed bounds. Loop iterations per invocation are asserted under
// Mesa's cap (LOOP_CAP) before every dispatch.
//
// Two ways to feed them, one code generator: where the target channels are a multiple of 4 and
// the backend's internals allow it, the re-read operands (x or dy, and the filter or dy) are
// copied into textures and fetched texel by texel, dispatched by hand (_texture_conv.ts: texel
// fetches cost about a tenth of storage-buffer loads on lavapipe; the forward convolutions of
// CNNSmall(8) at batch 64 run 3.2× and the filter gradients 4.6× faster, the copies included);
// otherwise, and with `useTextureConvs(false)`, they are tfjs programs on storage buffers.
import * as tf from "@tensorflow/tfjs-core";
import { type KernelFunc, storedAsFloat32, type WebGpuBackend } from "./_webgpu_types.ts";
import { assertLoopBound } from "../../kernels/gpu/mod.ts";
import {
  canDispatchRaw,
  dispatchRaw,
  fetchFn,
  fitsTexture,
  rawPrelude,
  texLayout,
  type TexOperand,
  useFlatTextures,
} from "./_texture_conv.ts";

/** Positions one filter-gradient invocation adds (its loop length). */
export const FILTER_CHUNK = 512;

const WG = 64;
const ZERO = [{ type: "int32", data: [0] }];

/** The geometry of one (grouped) convolution, dilation 1. */
export interface ConvGeometry {
  /** Groups (models); 1 for one model. */
  groups: number;
  /** Images per group. */
  batch: number;
  h: number;
  w: number;
  ci: number;
  oh: number;
  ow: number;
  co: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  padTop: number;
  padLeft: number;
}

/** Geometry from tfjs's Conv2DInfo of one group's convolution. */
export function geometryOf(info: tf.backend_util.Conv2DInfo, groups: number): ConvGeometry {
  return {
    groups,
    batch: info.batchSize,
    h: info.inHeight,
    w: info.inWidth,
    ci: info.inChannels,
    oh: info.outHeight,
    ow: info.outWidth,
    co: info.outChannels,
    kh: info.filterHeight,
    kw: info.filterWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

let textureConvs = true;

/**
 * Whether the tiled convolutions read their re-read operands from textures, and batch norm and
 * the window max pools their inputs (default true; the storage-buffer path serves where raw
 * dispatch is unavailable). Returns the previous setting.
 */
export function useTextureConvs(on: boolean): boolean {
  const was = textureConvs;
  textureConvs = on;
  useFlatTextures(on);
  return was;
}

let texDispatches = 0;

/** How many tiled convolutions have run on textures so far (tests check the path ran). */
export function textureConvDispatches(): number {
  return texDispatches;
}

const size = (t: tf.TensorInfo) => t.shape.reduce((a, b) => a * b, 1);

function texturesFit(
  backend: WebGpuBackend,
  ops: [tf.TensorInfo, TexOperand["format"]][],
): boolean {
  const device = (backend as unknown as { device: GPUDevice }).device;
  return ops.every(([t, f]) => size(t) > 0 && fitsTexture(device, size(t), f));
}

/** Output-channel tile N (a multiple of 4) and pixel tile M for `channels` output channels. */
export function tileOf(channels: number): { m: number; n: number } {
  const n = Math.min(16, 4 * Math.ceil(channels / 4));
  return { m: n >= 16 ? 8 : 16, n };
}

function program(
  key: string,
  code: string,
  names: string[],
  outputShape: number[],
  dispatch: [number, number, number],
  components?: { inputs: number[]; output: number },
) {
  return {
    variableNames: names,
    outputShape,
    shaderKey: key,
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch,
    workgroupSize: [WG, 1, 1],
    // Every shader reads this (always 0), so the uniform binding tfjs always binds is in the layout.
    uniforms: "zero : i32,",
    ...(components
      ? { variableComponents: components.inputs, outputComponent: components.output }
      : {}),
    getUserCode: () => code,
  };
}

/**
 * Forward ("forward") or input-gradient ("input") convolution as one tiled loop. Source `x` is
 * [S·B, SH, SW, C] (x, or dy for "input"); weights [S, KH, KW, C, OC] (for "input": the filter
 * transposed to [S, KH, KW, OC, CI]); output [S·B, OH, OW, OC] (for "input": dx).
 */
function directCode(
  g: ConvGeometry,
  mode: "forward" | "input",
  bias: boolean,
  relu: boolean,
  tex?: { src: TexOperand; w: TexOperand },
): { code: string; outShape: number[]; dispatch: [number, number, number]; vec: boolean } {
  // Source (read) and target (written) planes.
  const fwd = mode === "forward";
  const SH = fwd ? g.h : g.oh, SW = fwd ? g.w : g.ow, C = fwd ? g.ci : g.co;
  const TH = fwd ? g.oh : g.h, TW = fwd ? g.ow : g.w, OC = fwd ? g.co : g.ci;
  const { m: M, n: N } = tileOf(OC);
  const N4 = N / 4;
  const vec = OC % 4 === 0;
  const plane = TH * TW;
  const tilesPerGroup = Math.ceil((g.batch * plane) / M);
  const ocTiles = Math.ceil(OC / N);
  const taps = g.kh * g.kw;
  const wGroup = taps * C * OC;
  // Texture-fed: the source in rgba texels (4 channels per fetch) when C is a multiple of 4.
  const src4 = tex?.src.format === "rgba32float";
  if (tex && (!vec || tex.w.format !== "rgba32float" || (src4 && C % 4 !== 0))) {
    throw new TypeError(`Texture conv ${mode} needs OC % 4 = 0 (got ${OC}) and matching formats.`);
  }
  const cSteps = src4 ? C / 4 : C;
  assertLoopBound(`tiled conv ${mode}`, taps * (1 + cSteps));
  const lines: string[] = [];
  const L = (s: string) => lines.push(s);
  if (tex) {
    L(fetchFn("ldx", "xt", tex.src));
    L(fetchFn("ldw", "wt", tex.w));
  }
  L(`fn main(index : i32) {`);
  L(`  let t = i32(workgroupId.x) * ${WG} + i32(localIndex);`);
  L(`  if (t >= ${tilesPerGroup}${tex ? "" : " || uniforms.zero != 0"}) { return; }`);
  L(`  let oc0 = i32(workgroupId.y) * ${N};`);
  L(`  let s = i32(workgroupId.z);`);
  for (let j = 0; j < M; j++) {
    L(`  let q${j} = t * ${M} + ${j};`);
    L(`  let in${j} = q${j} < ${g.batch * plane};`);
    L(`  let qc${j} = min(q${j}, ${g.batch * plane - 1});`);
    L(`  let n${j} = s * ${g.batch} + qc${j} / ${plane};`);
    L(`  let ty${j} = (qc${j} % ${plane}) / ${TW};`);
    L(`  let tx${j} = qc${j} % ${TW};`);
  }
  for (let j = 0; j < M; j++) for (let k = 0; k < N4; k++) L(`  var a${j}_${k} = vec4<f32>(0.0);`);
  L(`  for (var kh = 0; kh < ${g.kh}; kh = kh + 1) {`);
  L(`    for (var kw = 0; kw < ${g.kw}; kw = kw + 1) {`);
  for (let j = 0; j < M; j++) {
    if (fwd) {
      L(`      let sy${j} = ty${j} * ${g.sh} - ${g.padTop} + kh;`);
      L(`      let sx${j} = tx${j} * ${g.sw} - ${g.padLeft} + kw;`);
      L(
        `      let ok${j} = in${j} && sy${j} >= 0 && sy${j} < ${SH} && sx${j} >= 0 && sx${j} < ${SW};`,
      );
    } else {
      L(`      let uy${j} = ty${j} + ${g.padTop} - kh;`);
      L(`      let ux${j} = tx${j} + ${g.padLeft} - kw;`);
      L(`      let sy${j} = uy${j} / ${g.sh};`);
      L(`      let sx${j} = ux${j} / ${g.sw};`);
      L(
        `      let ok${j} = in${j} && uy${j} >= 0 && ux${j} >= 0 && uy${j} % ${g.sh} == 0 && ux${j} % ${g.sw} == 0 && sy${j} < ${SH} && sx${j} < ${SW};`,
      );
    }
    L(`      let m${j} = select(0.0, 1.0, ok${j});`);
    L(
      `      let b${j} = select(0, ((n${j} * ${SH} + sy${j}) * ${SW} + sx${j}) * ${C}, ok${j});`,
    );
  }
  L(`      var f = s * ${wGroup} + (kh * ${g.kw} + kw) * ${C * OC} + oc0;`);
  if (tex) texInner();
  else storageInner();
  L(`    }`);
  L(`  }`);
  function texInner() {
    // f counts floats; OC % 4 = 0 and oc0 % 4 = 0, so f / 4 is the weight texel of channel c.
    L(`      for (var c = 0; c < ${cSteps}; c = c + 1) {`);
    for (let j = 0; j < M; j++) {
      L(`        let v${j} = m${j} * ldx(${src4 ? `b${j} / 4 + c` : `b${j} + c`})${
        src4 ? "" : ".x"
      };`);
    }
    for (let e = 0; e < (src4 ? 4 : 1); e++) {
      for (let k = 0; k < N4; k++) L(`        let w${e}_${k} = ldw(f / 4 + ${k});`);
      for (let j = 0; j < M; j++) {
        const v = src4 ? `v${j}[${e}]` : `v${j}`;
        for (let k = 0; k < N4; k++) L(`        a${j}_${k} = a${j}_${k} + ${v} * w${e}_${k};`);
      }
      L(`        f = f + ${OC};`);
    }
    L(`      }`);
  }
  function storageInner() {
    L(`      for (var c = 0; c < ${C}; c = c + 1) {`);
    for (let k = 0; k < N4; k++) {
      if (vec) L(`        let w${k} = w[(f + ${4 * k}) / 4];`);
      else {
        const at = (d: number) => `w[min(f + ${4 * k + d}, ${g.groups * wGroup - 1})]`;
        L(`        let w${k} = vec4<f32>(${[0, 1, 2, 3].map(at).join(", ")});`);
      }
    }
    for (let j = 0; j < M; j++) {
      L(`        let v${j} = m${j} * x[b${j} + c];`);
      for (let k = 0; k < N4; k++) L(`        a${j}_${k} = a${j}_${k} + v${j} * w${k};`);
    }
    L(`        f = f + ${OC};`);
    L(`      }`);
  }
  if (bias) {
    for (let k = 0; k < N4; k++) {
      const at = (d: number) => `bias[s * ${OC} + min(oc0 + ${4 * k + d}, ${OC - 1})]`;
      L(`  let bv${k} = vec4<f32>(${[0, 1, 2, 3].map(at).join(", ")});`);
    }
  }
  for (let j = 0; j < M; j++) {
    L(`  if (in${j}) {`);
    L(`    let o${j} = qc${j} + s * ${g.batch * plane};`);
    for (let k = 0; k < N4; k++) {
      let v = `a${j}_${k}`;
      if (bias) v = `(${v} + bv${k})`;
      if (relu) v = `max(${v}, vec4<f32>(0.0))`;
      if (vec) {
        L(`    if (oc0 + ${4 * k} < ${OC}) { result[(o${j} * ${OC} + oc0 + ${
          4 * k
        }) / 4] = ${v}; }`);
      } else {
        L(`    { let r = ${v};`);
        for (let d = 0; d < 4; d++) {
          L(
            `      if (oc0 + ${4 * k + d} < ${OC}) { result[o${j} * ${OC} + oc0 + ${
              4 * k + d
            }] = r[${d}]; }`,
          );
        }
        L(`    }`);
      }
    }
    L(`  }`);
  }
  L(`}`);
  return {
    code: lines.join("\n"),
    outShape: [g.groups * g.batch, TH, TW, OC],
    dispatch: [Math.ceil(tilesPerGroup / WG), ocTiles, g.groups],
    vec,
  };
}

/** vec4 accumulators one strip invocation holds at most (16 and 64 measured slower on lavapipe). */
const STRIP_ACCUMULATORS = 32;

/** Output pixels one strip invocation holds for `n4` vec4 accumulators per pixel along a row of `tw`. */
export function stripWidth(tw: number, n4: number): number {
  const most = Math.min(16, Math.floor(STRIP_ACCUMULATORS / n4));
  return Math.ceil(tw / Math.ceil(tw / most));
}

/**
 * Whether {@link stripCode} serves `g` in `mode`: stride 1 in both directions (the source row
 * and column of tap (kh, kw) are the target's plus a constant).
 */
export function stripFits(g: ConvGeometry): boolean {
  return g.sh === 1 && g.sw === 1;
}

/**
 * Stride-1 forward ("forward") or input-gradient ("input") convolution in row strips: invocation
 * (image, target row, strip of M consecutive target columns, out-channel tile) loads, per tap row
 * and reduced channel step, the M + KW − 1 source texels its strip needs once and reuses each for
 * every tap column (the per-pixel layout loads M·KW), with all index arithmetic done once per tap
 * row. The source comes from a texture; the weights from a texture (target channels a multiple
 * of 4) or, uniform across the invocations of a workgroup, from a storage buffer.
 */
function stripCode(
  g: ConvGeometry,
  mode: "forward" | "input",
  bias: boolean,
  relu: boolean,
  src: TexOperand,
  w: TexOperand,
): { code: string; outShape: number[]; dispatch: [number, number, number]; vec: boolean } {
  const fwd = mode === "forward";
  const SH = fwd ? g.h : g.oh, SW = fwd ? g.w : g.ow, C = fwd ? g.ci : g.co;
  const TH = fwd ? g.oh : g.h, TW = fwd ? g.ow : g.w, OC = fwd ? g.co : g.ci;
  const N = tileOf(OC).n, N4 = N / 4;
  const M = stripWidth(TW, N4);
  const vec = OC % 4 === 0;
  if (!stripFits(g) || (w.format === "rgba32float") !== vec) {
    throw new TypeError(`Strip conv ${mode} needs stride 1 and rgba weights iff OC % 4 = 0.`);
  }
  const src4 = src.format === "rgba32float";
  if (src4 && C % 4 !== 0) throw new TypeError(`Strip conv ${mode}: rgba source needs C % 4 = 0.`);
  const strips = Math.ceil(TW / M);
  const tilesPerGroup = g.batch * TH * strips;
  const taps = g.kh * g.kw;
  const wGroup = taps * C * OC;
  const U = M + g.kw - 1;
  const cSteps = src4 ? C / 4 : C;
  assertLoopBound(`strip conv ${mode}`, g.kh * (1 + cSteps));
  // Source row of tap row kh: ty + rowOff; source column of tap column kw for pixel j: x0 + j + u(kw)
  // with x0 the strip's leftmost column reach.
  const colBase = fwd ? -g.padLeft : g.padLeft - (g.kw - 1);
  const uOf = (kw: number) => (fwd ? kw : g.kw - 1 - kw);
  const lines: string[] = [];
  const L = (s: string) => lines.push(s);
  L(fetchFn("ldx", "xt", src));
  L(fetchFn("ldw", "wt", w));
  const lastW = g.groups * wGroup - 1;
  L(`fn main(index : i32) {`);
  L(`  let t = i32(workgroupId.x) * ${WG} + i32(localIndex);`);
  L(`  if (t >= ${tilesPerGroup}) { return; }`);
  L(`  let oc0 = i32(workgroupId.y) * ${N};`);
  L(`  let s = i32(workgroupId.z);`);
  L(`  let strip = t % ${strips};`);
  L(`  let ty = (t / ${strips}) % ${TH};`);
  L(`  let n = s * ${g.batch} + t / ${strips * TH};`);
  L(`  let tx0 = strip * ${M};`);
  L(`  let x0 = tx0 + ${colBase};`);
  for (let u = 0; u < U; u++) {
    L(`  let cx${u} = x0 + ${u};`);
    L(`  let cok${u} = cx${u} >= 0 && cx${u} < ${SW};`);
  }
  for (let j = 0; j < M; j++) for (let k = 0; k < N4; k++) L(`  var a${j}_${k} = vec4<f32>(0.0);`);
  L(`  for (var kh = 0; kh < ${g.kh}; kh = kh + 1) {`);
  L(`    let sy = ty + ${fwd ? `kh - ${g.padTop}` : `${g.padTop} - kh`};`);
  L(`    let rok = sy >= 0 && sy < ${SH};`);
  L(`    let row = (n * ${SH} + clamp(sy, 0, ${SH - 1})) * ${SW};`);
  for (let u = 0; u < U; u++) {
    L(`    let m${u} = select(0.0, 1.0, rok && cok${u});`);
    const b = `(row + clamp(cx${u}, 0, ${SW - 1})) * ${C}`;
    L(`    let b${u} = ${src4 ? `${b} / 4` : b};`);
  }
  L(`    var f = s * ${wGroup} + kh * ${g.kw * C * OC} + oc0;`);
  L(`    for (var c = 0; c < ${cSteps}; c = c + 1) {`);
  for (let u = 0; u < U; u++) L(`      let v${u} = m${u} * ldx(b${u} + c)${src4 ? "" : ".x"};`);
  for (let kw = 0; kw < g.kw; kw++) {
    for (let e = 0; e < (src4 ? 4 : 1); e++) {
      const fo = `f + ${(kw * C + e) * OC}`;
      for (let k = 0; k < N4; k++) {
        if (vec) L(`      let w${kw}_${e}_${k} = ldw((${fo}) / 4 + ${k});`);
        else {
          const at = (d: number) =>
            `select(0.0, ldw(min(${fo} + ${4 * k + d}, ${lastW})).x, oc0 + ${4 * k + d} < ${OC})`;
          L(`      let w${kw}_${e}_${k} = vec4<f32>(${[0, 1, 2, 3].map(at).join(", ")});`);
        }
      }
      for (let j = 0; j < M; j++) {
        const v = `v${j + uOf(kw)}${src4 ? `[${e}]` : ""}`;
        for (let k = 0; k < N4; k++) {
          L(`      a${j}_${k} = a${j}_${k} + ${v} * w${kw}_${e}_${k};`);
        }
      }
    }
  }
  L(`      f = f + ${src4 ? 4 * OC : OC};`);
  L(`    }`);
  L(`  }`);
  if (bias) {
    for (let k = 0; k < N4; k++) {
      const at = (d: number) => `bias[s * ${OC} + min(oc0 + ${4 * k + d}, ${OC - 1})]`;
      L(`  let bv${k} = vec4<f32>(${[0, 1, 2, 3].map(at).join(", ")});`);
    }
  }
  L(`  let o = (n * ${TH} + ty) * ${TW} + tx0;`);
  for (let j = 0; j < M; j++) {
    L(`  if (tx0 + ${j} < ${TW}) {`);
    for (let k = 0; k < N4; k++) {
      let v = `a${j}_${k}`;
      if (bias) v = `(${v} + bv${k})`;
      if (relu) v = `max(${v}, vec4<f32>(0.0))`;
      if (vec) {
        L(`    if (oc0 + ${4 * k} < ${OC}) { result[((o + ${j}) * ${OC} + oc0 + ${
          4 * k
        }) / 4] = ${v}; }`);
      } else {
        L(`    { let r = ${v};`);
        for (let d = 0; d < 4; d++) {
          L(`      if (oc0 + ${4 * k + d} < ${OC}) { result[(o + ${j}) * ${OC} + oc0 + ${
            4 * k + d
          }] = r[${d}]; }`);
        }
        L(`    }`);
      }
    }
    L(`  }`);
  }
  L(`}`);
  return {
    code: lines.join("\n"),
    outShape: [g.groups * g.batch, TH, TW, OC],
    dispatch: [Math.ceil(tilesPerGroup / WG), Math.ceil(OC / N), g.groups],
    vec,
  };
}

/**
 * Runs the forward ("forward") or input-gradient ("input") tiled convolution of `g` on the WebGPU
 * backend. `src` is x (forward) or dy (input); `weights` the filter [S, KH, KW, CI, CO] (forward)
 * or its transpose [S, KH, KW, CO, CI] (input).
 */
export function runDirect(
  backend: WebGpuBackend,
  g: ConvGeometry,
  mode: "forward" | "input",
  src: tf.TensorInfo,
  weights: tf.TensorInfo,
  bias?: tf.TensorInfo,
  relu = false,
): tf.TensorInfo {
  const fwd = mode === "forward";
  const C = fwd ? g.ci : g.co, OC = fwd ? g.co : g.ci;
  const srcFormat = C % 4 === 0 ? "rgba32float" : "r32float";
  const shapeKey = `${mode}_${bias !== undefined}_${relu}_${Object.values(g).join("_")}`;
  const vecOut = OC % 4 === 0;
  if (
    textureConvs && stripFits(g) && canDispatchRaw(backend) &&
    [src, weights, ...(bias ? [bias] : [])].every((t) => storedAsFloat32(backend, t)) &&
    texturesFit(backend, [
      [src, srcFormat],
      [weights, vecOut ? "rgba32float" : "r32float"],
    ])
  ) {
    const srcOp = texLayout(size(src), srcFormat);
    const wOp = texLayout(size(weights), vecOut ? "rgba32float" : "r32float");
    const d = stripCode(g, mode, bias !== undefined, relu, srcOp, wOp);
    texDispatches++;
    return dispatchRaw(backend, {
      key: `salienceStripConv_${shapeKey}_${srcOp.shift}_${wOp.shift}`,
      code: `${rawPrelude(vecOut, ["xt", "wt"], bias ? ["bias"] : [], WG)}\n${d.code}`,
      outShape: d.outShape,
      dispatch: d.dispatch,
      textures: [{ tensor: src, op: srcOp }, { tensor: weights, op: wOp }],
      buffers: bias ? [bias] : [],
    });
  }
  if (
    textureConvs && OC % 4 === 0 && canDispatchRaw(backend) &&
    [src, weights, ...(bias ? [bias] : [])].every((t) => storedAsFloat32(backend, t)) &&
    texturesFit(backend, [[src, srcFormat], [weights, "rgba32float"]])
  ) {
    const ops = {
      src: texLayout(size(src), srcFormat),
      w: texLayout(size(weights), "rgba32float"),
    };
    const d = directCode(g, mode, bias !== undefined, relu, ops);
    texDispatches++;
    return dispatchRaw(backend, {
      key: `salienceTexConv_${shapeKey}_${ops.src.shift}_${ops.w.shift}`,
      code: `${rawPrelude(true, ["xt", "wt"], bias ? ["bias"] : [], WG)}\n${d.code}`,
      outShape: d.outShape,
      dispatch: d.dispatch,
      textures: [{ tensor: src, op: ops.src }, { tensor: weights, op: ops.w }],
      buffers: bias ? [bias] : [],
    });
  }
  const d = directCode(g, mode, bias !== undefined, relu);
  const key = `salienceTiledConv_${shapeKey}`;
  const names = bias ? ["x", "w", "bias"] : ["x", "w"];
  const inputs = bias ? [src, weights, bias] : [src, weights];
  const comps = d.vec ? { inputs: bias ? [1, 4, 1] : [1, 4], output: 4 } : undefined;
  return backend.runWebGPUProgram(
    program(key, d.code, names, d.outShape, d.dispatch, comps),
    inputs,
    "float32",
    ZERO,
  );
}

/** Accumulators (vec4) one all-taps filter-gradient invocation holds at most. */
const ALL_TAPS_ACCUMULATORS = 18;

/**
 * The all-taps layout of the filter gradient: for few output channels (N ≤ 8) and at most 9
 * taps, one invocation owns every tap of an M-in-channel × N-out-channel tile, so each position's
 * dy is loaded once for all taps (not once per tap) and its index arithmetic is shared; null
 * where the per-tap layout serves.
 */
export function allTapsTile(g: ConvGeometry): { m: number; n: number } | null {
  const taps = g.kh * g.kw, n = tileOf(g.co).n;
  if (taps > 9 || n > 8) return null;
  const m = Math.max(1, Math.min(g.ci, Math.floor(ALL_TAPS_ACCUMULATORS / (taps * (n / 4)))));
  return { m, n };
}

/** Positions one all-taps filter-gradient invocation adds. */
export const ALL_TAPS_CHUNK = 256;

function filterCode(
  g: ConvGeometry,
  tex?: { x: TexOperand; dy: TexOperand },
): { code: string; parts: number; invocations: number } {
  const all = allTapsTile(g);
  if (all) return filterCodeAllTaps(g, all, tex);
  const N = tileOf(g.co).n;
  const M = Math.min(8, g.ci);
  const N4 = N / 4;
  const vec = g.co % 4 === 0;
  const positions = g.batch * g.oh * g.ow;
  const parts = Math.ceil(positions / FILTER_CHUNK);
  const ciTiles = Math.ceil(g.ci / M), coTiles = Math.ceil(g.co / N);
  const taps = g.kh * g.kw;
  const perPart = taps * ciTiles * coTiles;
  const invocations = parts * g.groups * perPart;
  assertLoopBound("tiled conv filter gradient", FILTER_CHUNK);
  const K = taps * g.ci * g.co;
  const plane = g.oh * g.ow;
  // Texture-fed: x in rgba texels (4 in-channels per fetch) when CI and M are multiples of 4.
  const x4 = tex?.x.format === "rgba32float";
  if (
    tex && ((tex.dy.format === "rgba32float") !== vec || (x4 && (g.ci % 4 !== 0 || M % 4 !== 0)))
  ) {
    throw new TypeError(`Texture conv filter gradient needs rgba dy iff CO % 4 = 0 (got ${g.co}).`);
  }
  const lines: string[] = [];
  const L = (s: string) => lines.push(s);
  if (tex) {
    L(fetchFn("ldx", "xt", tex.x));
    L(fetchFn("ldd", "dt", tex.dy));
  }
  L(`fn main(index : i32) {`);
  L(`  if (index >= ${invocations}${tex ? "" : " || uniforms.zero != 0"}) { return; }`);
  L(`  let cot = index % ${coTiles};`);
  L(`  var r = index / ${coTiles};`);
  L(`  let cit = r % ${ciTiles};`);
  L(`  r = r / ${ciTiles};`);
  L(`  let tap = r % ${taps};`);
  L(`  r = r / ${taps};`);
  L(`  let s = r % ${g.groups};`);
  L(`  let p = r / ${g.groups};`);
  L(`  let kh = tap / ${g.kw};`);
  L(`  let kw = tap % ${g.kw};`);
  L(`  let ci0 = cit * ${M};`);
  L(`  let co0 = cot * ${N};`);
  for (let i = 0; i < M; i++) L(`  let c${i} = min(ci0 + ${i}, ${g.ci - 1});`);
  for (let i = 0; i < M; i++) for (let k = 0; k < N4; k++) L(`  var a${i}_${k} = vec4<f32>(0.0);`);
  L(`  let start = p * ${FILTER_CHUNK};`);
  L(`  let end = min(start + ${FILTER_CHUNK}, ${positions});`);
  L(`  for (var q = start; q < end; q = q + 1) {`);
  L(`    let n = q / ${plane};`);
  L(`    let oy = (q % ${plane}) / ${g.ow};`);
  L(`    let ox = q % ${g.ow};`);
  L(`    let iy = oy * ${g.sh} - ${g.padTop} + kh;`);
  L(`    let ix = ox * ${g.sw} - ${g.padLeft} + kw;`);
  L(`    if (iy < 0 || iy >= ${g.h} || ix < 0 || ix >= ${g.w}) { continue; }`);
  L(`    let xb = (((s * ${g.batch} + n) * ${g.h} + iy) * ${g.w} + ix) * ${g.ci};`);
  L(`    let db = (s * ${positions} + q) * ${g.co} + co0;`);
  emitDyLoads(L, N4, tex !== undefined, vec, g.groups * positions * g.co - 1);
  if (x4) {
    // c0, c4, … are multiples of 4 (clamped to the last whole texel of the pixel).
    for (let i = 0; i < M; i += 4) L(`    let x${i} = ldx((xb + c${i}) / 4);`);
  }
  for (let i = 0; i < M; i++) {
    if (x4) L(`    let v${i} = x${i - (i % 4)}[${i % 4}];`);
    else if (tex) L(`    let v${i} = ldx(xb + c${i}).x;`);
    else L(`    let v${i} = x[xb + c${i}];`);
    for (let k = 0; k < N4; k++) L(`    a${i}_${k} = a${i}_${k} + v${i} * d${k};`);
  }
  L(`  }`);
  L(`  let base = (p * ${g.groups} + s) * ${K} + tap * ${g.ci * g.co};`);
  for (let i = 0; i < M; i++) {
    L(`  if (ci0 + ${i} < ${g.ci}) {`);
    for (let k = 0; k < N4; k++) {
      for (let e = 0; e < 4; e++) {
        const co = `co0 + ${4 * k + e}`;
        L(
          `    if (${co} < ${g.co}) { result[base + (ci0 + ${i}) * ${g.co} + ${co}] = a${i}_${k}[${e}]; }`,
        );
      }
    }
    L(`  }`);
  }
  L(`}`);
  return { code: lines.join("\n"), parts, invocations };
}

/**
 * Filter gradient, all-taps layout ({@link allTapsTile}): invocation (part p, group s, in-channel
 * tile, out-channel tile) adds positions p·ALL_TAPS_CHUNK … of group s for every tap, writing
 * the same partial layout as the per-tap code ([parts, S·K], K = KH·KW·CI·CO).
 */
function filterCodeAllTaps(
  g: ConvGeometry,
  tile: { m: number; n: number },
  tex?: { x: TexOperand; dy: TexOperand },
): { code: string; parts: number; invocations: number } {
  const { m: M, n: N } = tile;
  const N4 = N / 4;
  const vec = g.co % 4 === 0;
  const positions = g.batch * g.oh * g.ow;
  const parts = Math.ceil(positions / ALL_TAPS_CHUNK);
  const ciTiles = Math.ceil(g.ci / M), coTiles = Math.ceil(g.co / N);
  const taps = g.kh * g.kw;
  const invocations = parts * g.groups * ciTiles * coTiles;
  assertLoopBound("tiled conv filter gradient (all taps)", ALL_TAPS_CHUNK);
  const K = taps * g.ci * g.co;
  const plane = g.oh * g.ow;
  if (tex && ((tex.dy.format === "rgba32float") !== vec || tex.x.format !== "r32float")) {
    throw new TypeError(
      `Texture all-taps filter gradient needs rgba dy iff CO % 4 = 0 (got ${g.co}).`,
    );
  }
  const lines: string[] = [];
  const L = (s: string) => lines.push(s);
  if (tex) {
    L(fetchFn("ldx", "xt", tex.x));
    L(fetchFn("ldd", "dt", tex.dy));
  }
  const lastX = g.groups * g.batch * g.h * g.w * g.ci - 1;
  L(`fn main(index : i32) {`);
  L(`  if (index >= ${invocations}${tex ? "" : " || uniforms.zero != 0"}) { return; }`);
  L(`  let cot = index % ${coTiles};`);
  L(`  var r = index / ${coTiles};`);
  L(`  let cit = r % ${ciTiles};`);
  L(`  r = r / ${ciTiles};`);
  L(`  let s = r % ${g.groups};`);
  L(`  let p = r / ${g.groups};`);
  L(`  let ci0 = cit * ${M};`);
  L(`  let co0 = cot * ${N};`);
  for (let i = 0; i < M; i++) L(`  let c${i} = min(ci0 + ${i}, ${g.ci - 1});`);
  for (let t = 0; t < taps; t++) {
    for (let i = 0; i < M; i++) {
      for (let k = 0; k < N4; k++) L(`  var a${t}_${i}_${k} = vec4<f32>(0.0);`);
    }
  }
  L(`  let start = p * ${ALL_TAPS_CHUNK};`);
  L(`  let end = min(start + ${ALL_TAPS_CHUNK}, ${positions});`);
  L(`  for (var q = start; q < end; q = q + 1) {`);
  L(`    let n = q / ${plane};`);
  L(`    let oy = (q % ${plane}) / ${g.ow};`);
  L(`    let ox = q % ${g.ow};`);
  L(`    let db = (s * ${positions} + q) * ${g.co} + co0;`);
  emitDyLoads(L, N4, tex !== undefined, vec, g.groups * positions * g.co - 1);
  L(`    let xn = (s * ${g.batch} + n) * ${g.h};`);
  for (let kh = 0; kh < g.kh; kh++) {
    L(`    let iy${kh} = oy * ${g.sh} - ${g.padTop} + ${kh};`);
  }
  for (let kw = 0; kw < g.kw; kw++) {
    L(`    let ix${kw} = ox * ${g.sw} - ${g.padLeft} + ${kw};`);
  }
  for (let kh = 0; kh < g.kh; kh++) {
    for (let kw = 0; kw < g.kw; kw++) {
      const t = kh * g.kw + kw;
      L(`    let ok${t} = iy${kh} >= 0 && iy${kh} < ${g.h} && ix${kw} >= 0 && ix${kw} < ${g.w};`);
      L(`    let m${t} = select(0.0, 1.0, ok${t});`);
      L(`    let xb${t} = select(0, ((xn + iy${kh}) * ${g.w} + ix${kw}) * ${g.ci}, ok${t});`);
      for (let i = 0; i < M; i++) {
        const load = tex ? `ldx(xb${t} + c${i}).x` : `x[min(xb${t} + c${i}, ${lastX})]`;
        L(`    let v${t}_${i} = m${t} * ${load};`);
        for (let k = 0; k < N4; k++) {
          L(`    a${t}_${i}_${k} = a${t}_${i}_${k} + v${t}_${i} * d${k};`);
        }
      }
    }
  }
  L(`  }`);
  L(`  let base = (p * ${g.groups} + s) * ${K};`);
  for (let t = 0; t < taps; t++) {
    for (let i = 0; i < M; i++) {
      L(`  if (ci0 + ${i} < ${g.ci}) {`);
      for (let k = 0; k < N4; k++) {
        for (let e = 0; e < 4; e++) {
          const co = `co0 + ${4 * k + e}`;
          L(
            `    if (${co} < ${g.co}) { result[base + ${
              t * g.ci * g.co
            } + (ci0 + ${i}) * ${g.co} + ${co}] = a${t}_${i}_${k}[${e}]; }`,
          );
        }
      }
      L(`  }`);
    }
  }
  L(`}`);
  return { code: lines.join("\n"), parts, invocations };
}

/**
 * Filter gradient [S, KH, KW, CI, CO] of the grouped convolution `g` from x [S·B, H, W, CI] and
 * dy [S·B, OH, OW, CO]. `sum` is the backend's Sum kernel (adds the chunks' partial tiles).
 */
export function runFilterGrad(
  backend: WebGpuBackend,
  g: ConvGeometry,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  sum: KernelFunc,
): tf.TensorInfo {
  const K = g.kh * g.kw * g.ci * g.co;
  const vec = g.co % 4 === 0;
  const shapeKey = Object.values(g).join("_");
  const xFormat = !allTapsTile(g) && g.ci % 4 === 0 && Math.min(8, g.ci) % 4 === 0
    ? "rgba32float"
    : "r32float";
  let partial: tf.TensorInfo;
  let parts: number;
  const dyFormat = vec ? "rgba32float" : "r32float";
  if (
    textureConvs && canDispatchRaw(backend) &&
    storedAsFloat32(backend, x) && storedAsFloat32(backend, dy) &&
    texturesFit(backend, [[x, xFormat], [dy, dyFormat]])
  ) {
    const ops = { x: texLayout(size(x), xFormat), dy: texLayout(size(dy), dyFormat) };
    const f = filterCode(g, ops);
    parts = f.parts;
    texDispatches++;
    partial = dispatchRaw(backend, {
      key: `salienceTexConvFilter_${shapeKey}_${ops.x.shift}_${ops.dy.shift}`,
      code: `${rawPrelude(false, ["xt", "dt"], [], WG)}\n${f.code}`,
      outShape: [f.parts, g.groups * K],
      dispatch: [Math.ceil(f.invocations / WG), 1, 1],
      textures: [{ tensor: x, op: ops.x }, { tensor: dy, op: ops.dy }],
      buffers: [],
    });
  } else {
    const f = filterCode(g);
    parts = f.parts;
    const prog = program(
      `salienceTiledConvFilter_${shapeKey}`,
      f.code,
      ["x", "dy"],
      [f.parts, g.groups * K],
      [Math.ceil(f.invocations / WG), 1, 1],
      vec ? { inputs: [1, 4], output: 1 } : undefined,
    );
    partial = backend.runWebGPUProgram(prog, [x, dy], "float32", ZERO);
  }
  const shape = [g.groups, g.kh, g.kw, g.ci, g.co];
  if (parts === 1) return { dataId: partial.dataId, shape, dtype: "float32" } as tf.TensorInfo;
  const out = sum({
    inputs: { x: partial },
    backend,
    attrs: { axis: [0], keepDims: false },
  }) as tf.TensorInfo;
  backend.disposeData(partial.dataId);
  return { dataId: out.dataId, shape, dtype: "float32" } as tf.TensorInfo;
}

type ConvAttrs = {
  strides: number | [number, number];
  pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
  dataFormat?: "NHWC" | "NCHW";
  dilations?: number | [number, number];
  dimRoundingMode?: "floor" | "round" | "ceil";
  activation?: string;
  inputShape?: [number, number, number, number];
  filterShape?: [number, number, number, number];
};

function isDilated(d: ConvAttrs["dilations"]): boolean {
  return d !== undefined && (Array.isArray(d) ? d.some((v) => v !== 1) : d !== 1);
}

/** tfjs's geometry of one group's NHWC convolution (dilation 1). */
export function convGeometry(
  xShape: readonly number[],
  filterShape: readonly number[],
  attrs: Pick<ConvAttrs, "strides" | "pad" | "dimRoundingMode">,
  groups = 1,
): ConvGeometry {
  const [n, h, w, c] = xShape as [number, number, number, number];
  if (n % groups !== 0) {
    throw new RangeError(
      `A grouped convolution of ${groups} groups got ${n} images, not a multiple; pass S·B images.`,
    );
  }
  const info = tf.backend_util.computeConv2DInfo(
    [n / groups, h, w, c],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    "channelsLast",
  );
  return geometryOf(info, groups);
}

function transposeFilter(
  backend: WebGpuBackend,
  filter: tf.TensorInfo,
  rank: 4 | 5,
): tf.TensorInfo {
  const transpose = tf.getKernel("Transpose", "webgpu")!;
  const perm = rank === 4 ? [0, 1, 3, 2] : [0, 1, 2, 4, 3];
  return transpose.kernelFunc({ inputs: { x: filter }, backend, attrs: { perm } }) as tf.TensorInfo;
}

/** Conv2D / FusedConv2D (bias, linear or ReLU) by the tiled kernel; others go to `orig`. */
export function tiledConv2D(orig: KernelFunc, fused: boolean): KernelFunc {
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
      (act !== "linear" && act !== "relu") || inp.x.dtype !== "float32" ||
      (inp.bias !== undefined && inp.bias.shape.length !== 1)
    ) return orig(args);
    const g = convGeometry(inp.x.shape, inp.filter.shape, attrs);
    const bias = fused ? inp.bias : undefined;
    return runDirect(
      args.backend as WebGpuBackend,
      g,
      "forward",
      inp.x,
      inp.filter,
      bias,
      fused && act === "relu",
    );
  };
}

/** Conv2DBackpropInput by the tiled kernel over the transposed filter. */
export function tiledConv2DBackpropInput(orig: KernelFunc): KernelFunc {
  return (args) => {
    const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
    const attrs = args.attrs as unknown as ConvAttrs;
    if (attrs.dataFormat === "NCHW" || isDilated(attrs.dilations)) return orig(args);
    const backend = args.backend as WebGpuBackend;
    const g = convGeometry(attrs.inputShape!, filter.shape, attrs);
    const ft = transposeFilter(backend, filter, 4);
    const out = runDirect(backend, g, "input", dy, ft);
    backend.disposeData(ft.dataId);
    return out;
  };
}

/** Conv2DBackpropFilter by the tiled kernel; `sum` adds the chunks' partial tiles. */
export function tiledConv2DBackpropFilter(orig: KernelFunc): KernelFunc {
  return (args) => {
    const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
    const attrs = args.attrs as unknown as ConvAttrs;
    if (attrs.dataFormat === "NCHW" || isDilated(attrs.dilations)) return orig(args);
    const backend = args.backend as WebGpuBackend;
    const g = convGeometry(x.shape, attrs.filterShape!, attrs);
    const sum = tf.getKernel("Sum", "webgpu")!.kernelFunc;
    const out = runFilterGrad(backend, g, x, dy, sum);
    return { ...out, shape: attrs.filterShape! } as tf.TensorInfo;
  };
}

/**
 * Emits `d0 … d{n4-1}`: 4 output channels each of dy at flat offset `db`, from the dy texture
 * (`tex`), as vec4 loads (`vec`: channel count a multiple of 4) or element by element, clamped to
 * `last`, the last element of dy.
 */
function emitDyLoads(
  L: (line: string) => void,
  n4: number,
  tex: boolean,
  vec: boolean,
  last: number,
): void {
  for (let k = 0; k < n4; k++) {
    if (tex && vec) L(`    let d${k} = ldd(db / 4 + ${k});`);
    else if (tex) {
      // r32float texels; channels past CO read the next position's and are never written.
      const at = (e: number) => `ldd(min(db + ${4 * k + e}, ${last})).x`;
      L(`    let d${k} = vec4<f32>(${[0, 1, 2, 3].map(at).join(", ")});`);
    } else if (vec) L(`    let d${k} = dy[(db + ${4 * k}) / 4];`);
    else {
      const at = (e: number) => `dy[min(db + ${4 * k + e}, ${last})]`;
      L(`    let d${k} = vec4<f32>(${[0, 1, 2, 3].map(at).join(", ")});`);
    }
  }
}
