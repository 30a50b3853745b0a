// Register-tiled NHWC convolutions for tfjs-backend-webgpu, for one model and for S models at once
// (a grouped convolution: images [S·B, H, W, C], filters [S, KH, KW, C, OC], model s's B images
// meet model s's filter only). On software adapters (lavapipe) a storage-buffer load costs tens
// of multiply-adds, so every invocation holds a tile of M pixels × N channels of accumulators and
// reuses each loaded value across the whole tile: per reduced channel it loads M input values and
// N weights and does M·N multiply-adds.
//
// - Forward (mode "forward"; per pixel in `directCode`, in blocks of rows × columns in
//   `blockCode`): out[n, oy, ox, oc] = Σ x[n, oy·sh − pt + kh, ox·sw − pl + kw, c] ·
//   w[s, kh, kw, c, oc] (+ bias, ReLU).
// - Input gradient (mode "input"): the same loop over dy, with the filter transposed to
//   [S, KH, KW, OC, C] so its loads stay contiguous: dx[n, iy, ix, c] = Σ dy[n, (iy + pt − kh)/sh,
//   (ix + pl − kw)/sw, oc] · w[s, kh, kw, c, oc] over taps that divide evenly.
// - Filter gradient (`filterGrad`): dw[s, kh, kw, c, oc] = Σ over model s's positions of x · dy,
//   each invocation owning an M (in-channel) × N (out-channel) tile of one tap and a chunk of at
//   most FILTER_CHUNK positions; the chunks' partial tiles are added by the backend's Sum. With
//   few output channels (≤ 8) and ≤ 9 taps (the default sweep's high-resolution layers) one
//   invocation owns every tap instead (`allTapsTile`), over ALL_TAPS_CHUNK positions, so each
//   position's dy and index arithmetic serve all taps. On textures, stride-1 columns and ≥ 2 tap
//   columns, invocations walk whole output rows instead (`rowsTile`, `filterCodeRows`): a
//   window of the KW x texels under the tap columns shifts by one column per step, so each x
//   texel serves every tap column and each dy texel every owned tap (1.4–2× the per-tap and
//   all-taps layouts at CNNSmall(8)'s layers).
//
// - Blocks, forward, any stride (`blockCode`): invocation (image, 7 × 7 target pixels at most,
//   4 output channels) fetches each tap's weights once per channel step and each source texel
//   under the block once, feeding it to every pixel and tap it meets (1.1–1.7× the row strips at
//   CNNSmall(8)'s and ResNetSmall(8)'s deeper layers, S = 4, batch 64). The stride-1 input
//   gradient with at least 4 input channels runs here too, as the forward convolution of dy with
//   the transposed filter rotated by 180° (`flippedGeometry`, `blockInputGrad`).
// - Row strips, strided or narrow input gradient (`stripCode`): invocation (image, row, column phase,
//   strip of M columns) loads each tap row's source texels once per channel step and reuses them
//   for all tap columns; a strided input gradient visits only the taps that divide evenly (one
//   row and column phase per invocation), and with fewer than 4 target channels it reads the
//   untransposed filter and holds one accumulator per target channel (`narrowInputGrad`). Weights
//   come from a texture (r32float where the target channels are not a multiple of 4), so
//   few-channel layers run on textures too.
//
// Every size but the batch is written into the shader as a constant (one pipeline per layer
// shape), so the loops over taps and channels have fixed bounds; the texture kernels read the
// batch from a uniform, so a new batch size (a last short batch, salience at another batch) reuses
// the pipeline. Loop iterations per invocation are asserted under
// Mesa's cap (LOOP_CAP) before every dispatch.
//
// Two ways to feed them: where the backend's internals allow it, the re-read operands (x or dy,
// and the filter or dy) are copied into textures and fetched texel by texel, dispatched by hand
// (_texture_conv.ts: texel fetches cost about a tenth of storage-buffer loads on lavapipe; the
// forward convolutions of CNNSmall(8) at batch 64 run 3.2× and the filter gradients 4.6× faster,
// the copies included) as the strips and the filter-gradient tiles; otherwise, and with
// `useTextureConvs(false)`, the per-pixel tiles and the filter-gradient tiles run as tfjs
// programs on storage buffers.
import * as tf from "@tensorflow/tfjs-core";
import { type KernelFunc, storedAsFloat32, type WebGpuBackend } from "./_webgpu_types.ts";
import { assertLoopBound, LOOP_CAP } from "../../kernels/gpu/mod.ts";
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

/** `g`'s sizes but the batch, joined: the pipeline key of a kernel that takes the batch as a uniform. */
function keyWithoutBatch(g: ConvGeometry): string {
  return Object.entries(g).filter(([k]) => k !== "batch").map(([, v]) => v).join("_");
}

function texturesFit(
  backend: WebGpuBackend,
  ops: [tf.TensorInfo, TexOperand["format"]][],
): boolean {
  const device = (backend as unknown as { device: GPUDevice }).device;
  return ops.every(([t, f]) => size(t) > 0 && fitsTexture(device, size(t), f, true));
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
 * WGSL lines loading model `s`'s bias for output channels oc0 … oc0 + 4·n4 − 1 as `bv0 … bv{n4−1}`
 * (vec4s; channels past the last, `oc` − 1, repeat it and are never stored).
 */
function biasLoads(n4: number, oc: number): string[] {
  return Array.from({ length: n4 }, (_, k) => {
    const at = (d: number) => `bias[s * ${oc} + min(oc0 + ${4 * k + d}, ${oc - 1})]`;
    return `  let bv${k} = vec4<f32>(${[0, 1, 2, 3].map(at).join(", ")});`;
  });
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
  assertLoopBound(`tiled conv ${mode}`, taps * (1 + C));
  const lines: string[] = [];
  const L = (s: string) => lines.push(s);
  L(`fn main(index : i32) {`);
  L(`  let t = i32(workgroupId.x) * ${WG} + i32(localIndex);`);
  L(`  if (t >= ${tilesPerGroup} || uniforms.zero != 0) { return; }`);
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
  L(`    }`);
  L(`  }`);
  if (bias) biasLoads(N4, OC).forEach(L);
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

/** Accumulators one strip invocation holds at most (16 and 64 measured slower on lavapipe). */
const STRIP_ACCUMULATORS = 32;

/** Output pixels one strip invocation holds for `n4` accumulators per pixel along a row of `tw`. */
export function stripWidth(tw: number, n4: number): number {
  const most = Math.min(16, Math.floor(STRIP_ACCUMULATORS / n4));
  return Math.ceil(tw / Math.ceil(tw / most));
}

/**
 * Whether the strip input gradient of `g` takes the narrow layout: fewer than 4 target (input)
 * channels, so each pixel accumulates one channel-vector per target channel against the
 * untransposed filter (contiguous along the reduced channels) instead of a vec4 of target channels
 * of which at most 3 are real.
 */
export function narrowInputGrad(g: ConvGeometry): boolean {
  return g.ci < 4;
}

/**
 * Input-gradient convolution in row strips, any stride: invocation (image, target row, column
 * phase, strip of M target columns, target-channel tile) loads, per tap row and reduced channel
 * step, the source (dy) texels its strip needs once and reuses each for every tap column, with
 * all index arithmetic done once per tap row. The batch is the uniform `uniforms.batch`.
 *
 * - Stride (sh, sw): target pixel (ty, tx) meets only the taps with
 *   ty + padTop − kh ≡ 0 (mod sh) and tx + padLeft − kw ≡ 0 (mod sw). An invocation holds one row
 *   (its tap rows kh ≡ ty + padTop mod sh, ⌈KH / sh⌉ of them) and M columns of one phase
 *   px = tx mod sw (its tap columns kw0 + sw·b, kw0 ≡ px + padLeft mod sw), so pixel j and tap
 *   column b read source column x0 + j − b: M + ⌈KW / sw⌉ − 1 loads serve every tap, and no
 *   invocation visits a tap that does not divide evenly. Stride 1 is one phase of all taps.
 * - Narrow input gradient ({@link narrowInputGrad}): with fewer than 4 target channels the
 *   weights come from the untransposed filter [S, KH, KW, CI, CO] and each pixel holds one
 *   accumulator per target channel (a vec4 over 4 reduced channels, added up at the end).
 *
 * The source comes from a texture; so do the weights (rgba where the target channels, or in the
 * narrow layout the reduced channels, are a multiple of 4).
 */
function stripCode(
  g: ConvGeometry,
  opts: { src: TexOperand; w: TexOperand; narrow: boolean },
): { code: string; outShape: number[]; dispatch: [number, number, number]; vec: boolean } {
  const { src, w, narrow } = opts;
  const SH = g.oh, SW = g.ow, C = g.co;
  const TH = g.h, TW = g.w, OC = g.ci;
  const src4 = src.format === "rgba32float";
  if (src4 && C % 4 !== 0) throw new TypeError(`Strip conv: rgba source needs C % 4 = 0.`);
  if (narrow && (OC >= 4 || w.format !== src.format)) {
    throw new TypeError(
      `Narrow strip conv needs < 4 target channels (got ${OC}) and weights in the source's format.`,
    );
  }
  const N = narrow ? OC : tileOf(OC).n;
  const N4 = N / 4;
  const A = narrow ? OC : N4; // accumulators per pixel
  const vec = !narrow && OC % 4 === 0;
  if (!narrow && (w.format === "rgba32float") !== vec) {
    throw new TypeError(`Strip conv needs rgba weights iff OC % 4 = 0 (got ${OC}).`);
  }
  const phases = g.sw;
  const cols = Math.ceil(TW / phases);
  const M = stripWidth(cols, A);
  const strips = Math.ceil(cols / M);
  const tilesPerGroup = g.batch * TH * phases * strips;
  const rowTaps = Math.ceil(g.kh / g.sh);
  const colTaps = Math.ceil(g.kw / g.sw);
  const cSteps = src4 ? C / 4 : C;
  assertLoopBound("strip conv input gradient", rowTaps * (1 + cSteps));
  const wGroup = g.kh * g.kw * C * OC;
  const lastW = g.groups * wGroup - 1;
  // Loaded source column u of pixel j and tap column b (x0 + u is the column).
  const uOf = (j: number, b: number) => j + colTaps - 1 - b;
  const used = [
    ...new Set(
      Array.from({ length: M * colTaps }, (_, i) => uOf(Math.floor(i / colTaps), i % colTaps)),
    ),
  ].sort((a, b) => a - b);
  // Tap column b's kw: a constant, or (strided input gradient) kw0 + sw·b, masked past KW.
  const kwRuntime = g.sw > 1;
  const kwOf = (b: number) => (kwRuntime ? `kc${b}` : String(b));
  const maskOf = (b: number) =>
    kwRuntime && g.sw * colTaps > g.kw && b === colTaps - 1 ? ` * wm${b}` : "";
  const lines: string[] = [];
  const L = (s: string) => lines.push(s);
  L(fetchFn("ldx", "xt", src));
  L(fetchFn("ldw", "wt", w));
  L(`fn main(index : i32) {`);
  L(`  let t = i32(workgroupId.x) * ${WG} + i32(localIndex);`);
  L(`  if (t >= uniforms.batch * ${tilesPerGroup / g.batch}) { return; }`);
  L(`  let oc0 = i32(workgroupId.y) * ${N};`);
  L(`  let s = i32(workgroupId.z);`);
  L(`  let strip = t % ${strips};`);
  L(`  let rest = t / ${strips};`);
  L(`  let px = rest % ${phases};`);
  L(`  let ty = (rest / ${phases}) % ${TH};`);
  L(`  let n = s * uniforms.batch + rest / ${phases * TH};`);
  L(`  let X = strip * ${M};`);
  L(`  let kw0 = (px + ${g.padLeft}) % ${g.sw};`);
  L(`  let x0 = (px + ${g.padLeft} - kw0) / ${g.sw} + X - ${colTaps - 1};`);
  if (kwRuntime) {
    for (let b = 0; b < colTaps; b++) {
      L(`  let kc${b} = min(kw0 + ${g.sw * b}, ${g.kw - 1});`);
      if (maskOf(b)) L(`  let wm${b} = select(0.0, 1.0, kw0 + ${g.sw * b} < ${g.kw});`);
    }
  }
  for (const u of used) {
    L(`  let cx${u} = x0 + ${u};`);
    L(`  let cok${u} = cx${u} >= 0 && cx${u} < ${SW};`);
  }
  const zero = narrow && !src4 ? "0.0" : "vec4<f32>(0.0)";
  for (let j = 0; j < M; j++) for (let k = 0; k < A; k++) L(`  var a${j}_${k} = ${zero};`);
  L(`  let kh0 = (ty + ${g.padTop}) % ${g.sh};`);
  L(`  for (var a = 0; a < ${rowTaps}; a = a + 1) {`);
  L(`    let kh = kh0 + ${g.sh} * a;`);
  if (g.sh * rowTaps > g.kh) L(`    if (kh >= ${g.kh}) { break; }`);
  L(`    let sy = (ty + ${g.padTop} - kh) / ${g.sh};`);
  L(`    let rok = sy >= 0 && sy < ${SH};`);
  L(`    let row = (n * ${SH} + clamp(sy, 0, ${SH - 1})) * ${SW};`);
  for (const u of used) {
    L(`    let m${u} = select(0.0, 1.0, rok && cok${u});`);
    const b = `(row + clamp(cx${u}, 0, ${SW - 1})) * ${C}`;
    L(`    let b${u} = ${src4 ? `${b} / 4` : b};`);
  }
  // Flat weight offset of tap row kh (untransposed [S, KH, KW, CI, CO] in the narrow layout,
  // else [S, KH, KW, C, OC]: tap column kw adds kw·C·OC).
  L(`    let f = s * ${wGroup} + kh * ${g.kw * C * OC}${narrow ? "" : " + oc0"};`);
  L(`    for (var c = 0; c < ${cSteps}; c = c + 1) {`);
  for (const u of used) L(`      let v${u} = m${u} * ldx(b${u} + c)${src4 ? "" : ".x"};`);
  for (let b = 0; b < colTaps; b++) {
    const fk = `f + ${kwOf(b)} * ${C * OC}`;
    if (narrow) {
      for (let q = 0; q < OC; q++) {
        const at = src4 ? `(${fk} + ${q * C}) / 4 + c` : `${fk} + ${q * C} + c`;
        L(`      let w${b}_${q} = ldw(${at})${src4 ? "" : ".x"}${maskOf(b)};`);
        for (let j = 0; j < M; j++) {
          L(`      a${j}_${q} = a${j}_${q} + v${uOf(j, b)} * w${b}_${q};`);
        }
      }
      continue;
    }
    for (let e = 0; e < (src4 ? 4 : 1); e++) {
      // c counts channel steps (4 channels each for an rgba source).
      const fo = `${fk} + ${src4 ? `(4 * c + ${e})` : "c"} * ${OC}`;
      for (let k = 0; k < N4; k++) {
        if (vec) L(`      let w${b}_${e}_${k} = ldw((${fo}) / 4 + ${k})${maskOf(b)};`);
        else {
          const at = (d: number) =>
            `select(0.0, ldw(min(${fo} + ${4 * k + d}, ${lastW})).x, oc0 + ${4 * k + d} < ${OC})`;
          L(`      let w${b}_${e}_${k} = vec4<f32>(${[0, 1, 2, 3].map(at).join(", ")})${
            maskOf(b)
          };`);
        }
      }
      for (let j = 0; j < M; j++) {
        const v = `v${uOf(j, b)}${src4 ? `[${e}]` : ""}`;
        for (let k = 0; k < N4; k++) {
          L(`      a${j}_${k} = a${j}_${k} + ${v} * w${b}_${e}_${k};`);
        }
      }
    }
  }
  L(`    }`);
  L(`  }`);
  L(`  let orow = (n * ${TH} + ty) * ${TW};`);
  for (let j = 0; j < M; j++) {
    L(`  let tx${j} = px + ${g.sw} * (X + ${j});`);
    L(`  if (tx${j} < ${TW}) {`);
    if (narrow) {
      for (let q = 0; q < OC; q++) {
        const v = src4 ? `dot(a${j}_${q}, vec4<f32>(1.0))` : `a${j}_${q}`;
        L(`    result[(orow + tx${j}) * ${OC} + ${q}] = ${v};`);
      }
      L(`  }`);
      continue;
    }
    for (let k = 0; k < A; k++) {
      const v = `a${j}_${k}`;
      if (vec) {
        L(`    if (oc0 + ${4 * k} < ${OC}) { result[((orow + tx${j}) * ${OC} + oc0 + ${
          4 * k
        }) / 4] = ${v}; }`);
      } else {
        L(`    { let r = ${v};`);
        for (let d = 0; d < 4; d++) {
          L(`      if (oc0 + ${4 * k + d} < ${OC}) { result[(orow + tx${j}) * ${OC} + oc0 + ${
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
    dispatch: [Math.ceil(tilesPerGroup / WG), narrow ? 1 : Math.ceil(OC / N), g.groups],
    vec,
  };
}

/** Block tile of {@link blockCode}: R target rows × M target columns × N output channels. */
export interface BlockTile {
  r: number;
  m: number;
  n: number;
}

/** Target rows and columns one block invocation holds at most (7 × 7 measured fastest). */
const BLOCK_SIDE = 7;

/**
 * The block tile of a forward convolution with a `th` × `tw` output: one vec4 of output
 * channels (so each source texel feeds 4 channels of every tap and pixel it meets) and at most
 * BLOCK_SIDE × BLOCK_SIDE pixels, balanced so the last row block and column strip are not
 * mostly empty.
 */
export function blockTile(th: number, tw: number): BlockTile {
  const side = (t: number) => Math.ceil(t / Math.ceil(t / BLOCK_SIDE));
  return { r: side(th), m: side(tw), n: 4 };
}

/**
 * Forward convolution in blocks of R target rows × M target columns (`blockCode`), any stride:
 * invocation (image, row block, column strip, out-channel tile) holds R·M·N/4 vec4 accumulators.
 * Per reduced channel step it fetches every tap's weights once (KH·KW·N/4 texels per channel,
 * kept in registers or on the stack) and each of the sh·(R − 1) + KH source rows' texels under
 * the block once, and feeds each source texel to every (target row, tap row) pair it meets and
 * every tap column: each fetched weight serves R·M pixels, each fetched source texel up to
 * ⌈KH / sh⌉·⌈KW / sw⌉ taps × N channels. The source and the weights come from textures.
 */
function blockCode(
  g: ConvGeometry,
  opts: { bias: boolean; relu: boolean; src: TexOperand; w: TexOperand; flip?: boolean },
): { code: string; outShape: number[]; dispatch: [number, number, number]; vec: boolean } {
  const { bias, relu, src, w, flip = false } = opts;
  // Filter offset of tap (kh, kw): as stored, or rotated by 180° (the input gradient's filter).
  const tapOf = (kh: number, kw: number) =>
    flip ? (g.kh - 1 - kh) * g.kw + (g.kw - 1 - kw) : kh * g.kw + kw;
  const { r: R, m: M, n: N } = blockTile(g.oh, g.ow);
  const SH = g.h, SW = g.w, C = g.ci, TH = g.oh, TW = g.ow, OC = g.co;
  const src4 = src.format === "rgba32float";
  if (src4 && C % 4 !== 0) throw new TypeError(`Block conv: rgba source needs C % 4 = 0.`);
  const N4 = N / 4;
  const vec = OC % 4 === 0;
  if ((w.format === "rgba32float") !== vec) {
    throw new TypeError(`Block conv needs rgba weights iff OC % 4 = 0 (got ${OC}).`);
  }
  const E = src4 ? 4 : 1;
  const blocks = Math.ceil(TH / R), strips = Math.ceil(TW / M);
  const perImage = blocks * strips;
  const cSteps = src4 ? C / 4 : C;
  assertLoopBound(flip ? "block conv input gradient" : "block conv forward", cSteps);
  const wGroup = g.kh * g.kw * C * OC;
  const lastW = g.groups * wGroup - 1;
  const rows = g.sh * (R - 1) + g.kh; // source rows under the block
  const cols = [
    ...new Set(
      Array.from({ length: M * g.kw }, (_, i) => g.sw * Math.floor(i / g.kw) + (i % g.kw)),
    ),
  ].sort((a, b) => a - b);
  const lines: string[] = [];
  const L = (s: string) => lines.push(s);
  L(fetchFn("ldx", "xt", src));
  L(fetchFn("ldw", "wt", w));
  L(`fn main(index : i32) {`);
  L(`  let t = i32(workgroupId.x) * ${WG} + i32(localIndex);`);
  L(`  if (t >= uniforms.batch * ${perImage}) { return; }`);
  L(`  let oc0 = i32(workgroupId.y) * ${N};`);
  L(`  let s = i32(workgroupId.z);`);
  L(`  let strip = t % ${strips};`);
  L(`  let blk = (t / ${strips}) % ${blocks};`);
  L(`  let n = s * uniforms.batch + t / ${perImage};`);
  L(`  let X = strip * ${M};`);
  L(`  let Y = blk * ${R};`);
  L(`  let x0 = X * ${g.sw} - ${g.padLeft};`);
  L(`  let y0 = Y * ${g.sh} - ${g.padTop};`);
  for (const u of cols) {
    L(`  let cx${u} = x0 + ${u};`);
    L(`  let cok${u} = cx${u} >= 0 && cx${u} < ${SW};`);
    L(`  let co${u} = clamp(cx${u}, 0, ${SW - 1}) * ${C / E};`);
  }
  for (let r = 0; r < rows; r++) {
    L(`  let ry${r} = y0 + ${r};`);
    L(`  let rok${r} = ry${r} >= 0 && ry${r} < ${SH};`);
    L(`  let ro${r} = (n * ${SH} + clamp(ry${r}, 0, ${SH - 1})) * ${SW * (C / E)};`);
  }
  for (let i = 0; i < R; i++) {
    for (let j = 0; j < M; j++) {
      for (let k = 0; k < N4; k++) L(`  var a${i}_${j}_${k} = vec4<f32>(0.0);`);
    }
  }
  L(`  let f0 = s * ${wGroup} + oc0;`);
  L(`  for (var c = 0; c < ${cSteps}; c = c + 1) {`);
  // Every tap's weights of this channel step.
  for (let kh = 0; kh < g.kh; kh++) {
    for (let kw = 0; kw < g.kw; kw++) {
      for (let e = 0; e < E; e++) {
        const fo = `f0 + ${tapOf(kh, kw) * C * OC} + ${src4 ? `(4 * c + ${e})` : "c"} * ${OC}`;
        for (let k = 0; k < N4; k++) {
          const name = `w${kh}_${kw}_${e}_${k}`;
          if (vec) L(`    let ${name} = ldw((${fo}) / 4 + ${k});`);
          else {
            const at = (d: number) =>
              `select(0.0, ldw(min(${fo} + ${4 * k + d}, ${lastW})).x, oc0 + ${4 * k + d} < ${OC})`;
            L(`    let ${name} = vec4<f32>(${[0, 1, 2, 3].map(at).join(", ")});`);
          }
        }
      }
    }
  }
  for (let r = 0; r < rows; r++) {
    // Target rows i meeting source row r: tap row kh = r − sh·i.
    const meets = Array.from({ length: R }, (_, i) => i).filter((i) => {
      const kh = r - g.sh * i;
      return kh >= 0 && kh < g.kh;
    });
    for (const u of cols) {
      L(`    let v${r}_${u} = select(vec4<f32>(0.0), ldx(ro${r} + co${u} + c), rok${r} && cok${u});`);
    }
    for (const i of meets) {
      const kh = r - g.sh * i;
      for (let kw = 0; kw < g.kw; kw++) {
        for (let e = 0; e < E; e++) {
          for (let j = 0; j < M; j++) {
            const v = `v${r}_${g.sw * j + kw}${src4 ? `[${e}]` : ".x"}`;
            for (let k = 0; k < N4; k++) {
              L(`    a${i}_${j}_${k} = a${i}_${j}_${k} + ${v} * w${kh}_${kw}_${e}_${k};`);
            }
          }
        }
      }
    }
  }
  L(`  }`);
  if (bias) biasLoads(N4, OC).forEach(L);
  for (let i = 0; i < R; i++) {
    L(`  if (Y + ${i} < ${TH}) {`);
    L(`    let orow${i} = (n * ${TH} + Y + ${i}) * ${TW};`);
    for (let j = 0; j < M; j++) {
      L(`    if (X + ${j} < ${TW}) {`);
      L(`      let o = (orow${i} + X + ${j}) * ${OC} + oc0;`);
      for (let k = 0; k < N4; k++) {
        let v = `a${i}_${j}_${k}`;
        if (bias) v = `(${v} + bv${k})`;
        if (relu) v = `max(${v}, vec4<f32>(0.0))`;
        if (vec) L(`      if (oc0 + ${4 * k} < ${OC}) { result[(o + ${4 * k}) / 4] = ${v}; }`);
        else {
          L(`      { let r = ${v};`);
          for (let d = 0; d < 4; d++) {
            L(`        if (oc0 + ${4 * k + d} < ${OC}) { result[o + ${4 * k + d}] = r[${d}]; }`);
          }
          L(`      }`);
        }
      }
      L(`    }`);
    }
    L(`  }`);
  }
  L(`}`);
  return {
    code: lines.join("\n"),
    outShape: [g.groups * g.batch, TH, TW, OC],
    dispatch: [Math.ceil((g.batch * perImage) / WG), Math.ceil(OC / N), g.groups],
    vec,
  };
}

/**
 * Whether the input gradient of `g` runs as a forward convolution in blocks ({@link blockCode}
 * over {@link flippedGeometry}): stride 1 and at least 4 target (input) channels; strided and
 * narrow ({@link narrowInputGrad}) input gradients run in row strips.
 */
export function blockInputGrad(g: ConvGeometry): boolean {
  return g.sh === 1 && g.sw === 1 && !narrowInputGrad(g);
}

/**
 * The stride-1 input gradient of `g` as a forward convolution: dx[n, iy, ix, ci] =
 * Σ dy[n, iy − (KH − 1 − pt) + ky, ix − (KW − 1 − pl) + kx, co] · w[KH − 1 − ky, KW − 1 − kx, ci, co],
 * so dy (OH × OW × CO) is the source, dx (H × W × CI) the target, the padding becomes
 * KH − 1 − pt and KW − 1 − pl (negative where pt > KH − 1: the bounds checks still hold), and
 * the filter, transposed to [S, KH, KW, CO, CI], is read rotated by 180° (`blockCode`'s `flip`).
 *
 * @throws {RangeError} for a strided `g` (its input gradient is not a forward convolution).
 */
export function flippedGeometry(g: ConvGeometry): ConvGeometry {
  if (g.sh !== 1 || g.sw !== 1) {
    throw new RangeError(
      `flippedGeometry needs stride 1, got ${g.sh}×${g.sw}; strided input gradients run in strips.`,
    );
  }
  return {
    ...g,
    h: g.oh,
    w: g.ow,
    ci: g.co,
    oh: g.h,
    ow: g.w,
    co: g.ci,
    padTop: g.kh - 1 - g.padTop,
    padLeft: g.kw - 1 - g.padLeft,
  };
}

/**
 * Runs the forward ("forward") or input-gradient ("input") tiled convolution of `g` on the WebGPU
 * backend. `src` is x (forward) or dy (input); `filter` the filter [S, KH, KW, CI, CO] (or
 * [KH, KW, CI, CO]) in both modes: the input gradient transposes it to [.., CO, CI] where its
 * layout needs that (everywhere but the narrow strips, {@link narrowInputGrad}).
 */
export function runDirect(
  backend: WebGpuBackend,
  g: ConvGeometry,
  mode: "forward" | "input",
  src: tf.TensorInfo,
  filter: tf.TensorInfo,
  bias?: tf.TensorInfo,
  relu = false,
): tf.TensorInfo {
  const fwd = mode === "forward";
  const C = fwd ? g.ci : g.co, OC = fwd ? g.co : g.ci;
  const srcFormat = C % 4 === 0 ? "rgba32float" : "r32float";
  const narrow = !fwd && narrowInputGrad(g);
  const wFormat = narrow ? srcFormat : OC % 4 === 0 ? "rgba32float" : "r32float";
  // The texture kernels take the batch as a uniform: one pipeline serves every batch size.
  const texKey = `${mode}_${bias !== undefined}_${relu}_${keyWithoutBatch(g)}`;
  if (
    textureConvs && canDispatchRaw(backend) &&
    [src, filter, ...(bias ? [bias] : [])].every((t) => storedAsFloat32(backend, t)) &&
    texturesFit(backend, [[src, srcFormat], [filter, wFormat]])
  ) {
    const srcOp = texLayout(size(src), srcFormat, true);
    const wOp = texLayout(size(filter), wFormat, true);
    const ints = { batch: g.batch };
    texDispatches++;
    // One texture-fed dispatch of generated code `d` over src and `weights` (+ bias).
    const dispatch = (
      kind: string,
      d: { code: string; outShape: number[]; dispatch: [number, number, number]; vec: boolean },
      weights: tf.TensorInfo,
    ) =>
      dispatchRaw(backend, {
        key: `${kind}_${texKey}_${srcOp.shift}_${wOp.shift}`,
        code: `${rawPrelude(d.vec, ["xt", "wt"], bias ? ["bias"] : [], WG, ["batch"])}\n${d.code}`,
        outShape: d.outShape,
        dispatch: d.dispatch,
        textures: [{ tensor: src, op: srcOp }, { tensor: weights, op: wOp }],
        buffers: bias ? [bias] : [],
        ints,
      });
    if (fwd) {
      const d = blockCode(g, { bias: bias !== undefined, relu, src: srcOp, w: wOp });
      return dispatch("salienceBlockConv", d, filter);
    }
    if (blockInputGrad(g)) {
      const d = blockCode(flippedGeometry(g), {
        bias: false,
        relu: false,
        src: srcOp,
        w: wOp,
        flip: true,
      });
      return withTransposed(backend, filter, (w) => dispatch("salienceBlockConv", d, w));
    }
    const d = stripCode(g, { src: srcOp, w: wOp, narrow });
    const run = (w: tf.TensorInfo) => dispatch("salienceStripConv", d, w);
    return narrow ? run(filter) : withTransposed(backend, filter, run);
  }
  // The per-pixel tiles read the input gradient's filter transposed.
  const run = (weights: tf.TensorInfo) => storageDirect(backend, g, mode, src, weights, bias, relu);
  return fwd ? run(filter) : withTransposed(backend, filter, run);
}

/** `use` of `filter` with its last two axes swapped ([.., CI, CO] → [.., CO, CI]), freed after. */
function withTransposed(
  backend: WebGpuBackend,
  filter: tf.TensorInfo,
  use: (ft: tf.TensorInfo) => tf.TensorInfo,
): tf.TensorInfo {
  const ft = transposeFilter(backend, filter);
  const out = use(ft);
  backend.disposeData(ft.dataId);
  return out;
}

/** The per-pixel tiles of {@link directCode} as a tfjs program on storage buffers. */
function storageDirect(
  backend: WebGpuBackend,
  g: ConvGeometry,
  mode: "forward" | "input",
  src: tf.TensorInfo,
  weights: tf.TensorInfo,
  bias?: tf.TensorInfo,
  relu = false,
): tf.TensorInfo {
  const shapeKey = `${mode}_${bias !== undefined}_${relu}_${Object.values(g).join("_")}`;
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
  const rows = tex ? rowsTile(g) : null;
  if (tex && rows) return filterCodeRows(g, rows, tex);
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
  const sz = batchTerms(g, tex !== undefined, FILTER_CHUNK, perPart);
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
  L(`  if (index >= ${sz.invocations}${tex ? "" : " || uniforms.zero != 0"}) { return; }`);
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
  L(`  let end = min(start + ${FILTER_CHUNK}, ${sz.positions});`);
  L(`  for (var q = start; q < end; q = q + 1) {`);
  L(`    let n = q / ${plane};`);
  L(`    let oy = (q % ${plane}) / ${g.ow};`);
  L(`    let ox = q % ${g.ow};`);
  L(`    let iy = oy * ${g.sh} - ${g.padTop} + kh;`);
  L(`    let ix = ox * ${g.sw} - ${g.padLeft} + kw;`);
  L(`    if (iy < 0 || iy >= ${g.h} || ix < 0 || ix >= ${g.w}) { continue; }`);
  L(`    let xb = (((s * ${sz.batch} + n) * ${g.h} + iy) * ${g.w} + ix) * ${g.ci};`);
  L(`    let db = (s * ${sz.positions} + q) * ${g.co} + co0;`);
  emitDyLoads(L, N4, tex !== undefined, vec, sz.lastDy);
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
 * The batch-dependent sizes of a filter-gradient shader as WGSL: from the uniform
 * `uniforms.batch` on textures (one pipeline for every batch), else constants. `chunk`: positions
 * per invocation; `perPart`: invocations per group and chunk.
 */
function batchTerms(g: ConvGeometry, uniform: boolean, chunk: number, perPart: number) {
  const plane = g.oh * g.ow;
  if (!uniform) {
    const positions = g.batch * plane;
    return {
      batch: String(g.batch),
      positions: String(positions),
      invocations: String(Math.ceil(positions / chunk) * g.groups * perPart),
      lastDy: String(g.groups * positions * g.co - 1),
    };
  }
  const positions = `(uniforms.batch * ${plane})`;
  return {
    batch: "uniforms.batch",
    positions,
    invocations: `((${positions} + ${chunk - 1}) / ${chunk}) * ${g.groups * perPart}`,
    lastDy: `${g.groups} * ${positions} * ${g.co} - 1`,
  };
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
  const sz = batchTerms(g, tex !== undefined, ALL_TAPS_CHUNK, ciTiles * coTiles);
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
  L(`  if (index >= ${sz.invocations}${tex ? "" : " || uniforms.zero != 0"}) { return; }`);
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
  L(`  let end = min(start + ${ALL_TAPS_CHUNK}, ${sz.positions});`);
  L(`  for (var q = start; q < end; q = q + 1) {`);
  L(`    let n = q / ${plane};`);
  L(`    let oy = (q % ${plane}) / ${g.ow};`);
  L(`    let ox = q % ${g.ow};`);
  L(`    let db = (s * ${sz.positions} + q) * ${g.co} + co0;`);
  emitDyLoads(L, N4, tex !== undefined, vec, sz.lastDy);
  L(`    let xn = (s * ${sz.batch} + n) * ${g.h};`);
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

/** One row-walk filter-gradient invocation's tile ({@link rowsTile}). */
export interface RowsTile {
  /** Tap rows owned (kh0 … kh0 + kr − 1); every tap column is owned. */
  kr: number;
  /** In-channels (a multiple of 4 where x is fetched as rgba texels). */
  m: number;
  /** Out-channels, a multiple of 4. */
  n: number;
  /** Output rows (image, oy) one invocation walks. */
  rows: number;
}

/**
 * Filter gradient, row-walk layout (stride-1 columns, textures): invocation (part p, group s,
 * tap-row group, in-channel tile, out-channel tile) walks `rows` output rows of group s from
 * row p·rows, column by column. The KW x texels under the tap columns are kept in a window that
 * shifts by one column per step, so each x texel is fetched once for all KW tap columns (not once
 * per tap) and each dy texel once for all KR·KW taps, and no per-position index division or
 * bounds test is left in the inner loop. Writes the same partial layout as the per-tap code
 * ([parts, S·K], K = KH·KW·CI·CO).
 */
function filterCodeRows(
  g: ConvGeometry,
  t: RowsTile,
  tex: { x: TexOperand; dy: TexOperand },
): { code: string; parts: number; invocations: number } {
  const { kr: KR, m: M, n: N } = t;
  const N4 = N / 4, KW = g.kw;
  const vec = g.co % 4 === 0;
  const x4 = tex.x.format === "rgba32float";
  if (
    g.sw !== 1 || g.kh % KR !== 0 || N % 4 !== 0 || (tex.dy.format === "rgba32float") !== vec ||
    (x4 && (g.ci % 4 !== 0 || M % 4 !== 0))
  ) {
    throw new TypeError(
      `Row-walk filter gradient got stride ${g.sw}, tile ${
        JSON.stringify(t)
      }, CI ${g.ci}, CO ${g.co}; expected stride-1 columns, KR | KH, rgba dy iff CO % 4 = 0 and rgba x only for 4 | CI, M.`,
    );
  }
  const ciTiles = Math.ceil(g.ci / M), coTiles = Math.ceil(g.co / N), khGroups = g.kh / KR;
  const perPart = ciTiles * coTiles * khGroups;
  const parts = Math.ceil((g.batch * g.oh) / t.rows);
  const invocations = parts * g.groups * perPart;
  // The row loop and the column loop inside it.
  assertLoopBound("tiled conv filter gradient (row walk)", t.rows * (1 + g.ow));
  const K = g.kh * g.kw * g.ci * g.co;
  const rowsTotal = `(uniforms.batch * ${g.oh})`;
  const lastDy = `${g.groups} * uniforms.batch * ${g.oh * g.ow * g.co} - 1`;
  const lines: string[] = [];
  const L = (s: string) => lines.push(s);
  L(fetchFn("ldx", "xt", tex.x));
  L(fetchFn("ldd", "dt", tex.dy));
  // Window entry of tap row j, column slot c: M/4 vec4 (rgba x) or M scalars.
  const XV = x4 ? M / 4 : M;
  const win = (j: number, c: number, e: number) => `w${j}_${c}_${e}`;
  const winVal = (j: number, c: number, i: number) =>
    x4 ? `${win(j, c, Math.floor(i / 4))}[${i % 4}]` : win(j, c, i);
  L(`fn main(index : i32) {`);
  L(`  if (index >= ((${rowsTotal} + ${t.rows - 1}) / ${t.rows}) * ${
    g.groups * perPart
  }) { return; }`);
  L(`  let cot = index % ${coTiles};`);
  L(`  var r = index / ${coTiles};`);
  L(`  let cit = r % ${ciTiles};`);
  L(`  r = r / ${ciTiles};`);
  L(`  let khg = r % ${khGroups};`);
  L(`  r = r / ${khGroups};`);
  L(`  let s = r % ${g.groups};`);
  L(`  let p = r / ${g.groups};`);
  L(`  let ci0 = cit * ${M};`);
  L(`  let co0 = cot * ${N};`);
  L(`  let kh0 = khg * ${KR};`);
  if (!x4) { for (let i = 0; i < M; i++) L(`  let c${i} = min(ci0 + ${i}, ${g.ci - 1});`); }
  for (let j = 0; j < KR; j++) {
    for (let kw = 0; kw < KW; kw++) {
      for (let i = 0; i < M; i++) {
        for (let k = 0; k < N4; k++) L(`  var a${j}_${kw}_${i}_${k} = vec4<f32>(0.0);`);
      }
    }
  }
  for (let j = 0; j < KR; j++) {
    for (let c = 0; c < KW; c++) {
      for (let e = 0; e < XV; e++) L(`  var ${win(j, c, e)} = ${x4 ? "vec4<f32>(0.0)" : "0.0"};`);
    }
  }
  L(`  let start = p * ${t.rows};`);
  L(`  let end = min(start + ${t.rows}, ${rowsTotal});`);
  L(`  for (var rr = start; rr < end; rr = rr + 1) {`);
  L(`    let n = rr / ${g.oh};`);
  L(`    let oy = rr % ${g.oh};`);
  L(`    let img = s * uniforms.batch + n;`);
  L(`    let drow = (img * ${g.oh} + oy) * ${g.ow};`);
  const rowOk: string[] = [];
  for (let j = 0; j < KR; j++) {
    L(`    let iy${j} = oy * ${g.sh} - ${g.padTop} + kh0 + ${j};`);
    L(`    let ry${j} = iy${j} >= 0 && iy${j} < ${g.h};`);
    L(`    let xr${j} = (img * ${g.h} + clamp(iy${j}, 0, ${g.h - 1})) * ${g.w};`);
    rowOk.push(`ry${j}`);
  }
  L(`    if (!(${rowOk.join(" || ")})) { continue; }`);
  // x of tap row j at column ix into window slot c (zero outside the image).
  const loadSlot = (j: number, c: number, ix: string) => {
    L(`    {`);
    L(`      let ok = ry${j} && ${ix} >= 0 && ${ix} < ${g.w};`);
    L(`      let xb = (xr${j} + clamp(${ix}, 0, ${g.w - 1})) * ${g.ci};`);
    for (let e = 0; e < XV; e++) {
      const v = x4 ? `ldx((xb + ci0) / 4 + ${e})` : `ldx(xb + c${e}).x`;
      L(`      ${win(j, c, e)} = select(${x4 ? "vec4<f32>(0.0)" : "0.0"}, ${v}, ok);`);
    }
    L(`    }`);
  };
  for (let j = 0; j < KR; j++) for (let c = 0; c < KW - 1; c++) loadSlot(j, c, `${c - g.padLeft}`);
  L(`    for (var ox = 0; ox < ${g.ow}; ox = ox + 1) {`);
  L(`      let ixn = ox + ${KW - 1 - g.padLeft};`);
  for (let j = 0; j < KR; j++) loadSlot(j, KW - 1, "ixn");
  L(`      let db = (drow + ox) * ${g.co} + co0;`);
  emitDyLoads(L, N4, true, vec, lastDy);
  for (let j = 0; j < KR; j++) {
    for (let kw = 0; kw < KW; kw++) {
      for (let i = 0; i < M; i++) {
        for (let k = 0; k < N4; k++) {
          L(`      a${j}_${kw}_${i}_${k} = a${j}_${kw}_${i}_${k} + ${winVal(j, kw, i)} * d${k};`);
        }
      }
    }
  }
  for (let j = 0; j < KR; j++) {
    for (let c = 0; c < KW - 1; c++) {
      for (let e = 0; e < XV; e++) L(`      ${win(j, c, e)} = ${win(j, c + 1, e)};`);
    }
  }
  L(`    }`);
  L(`  }`);
  L(`  let base = (p * ${g.groups} + s) * ${K};`);
  for (let j = 0; j < KR; j++) {
    for (let kw = 0; kw < KW; kw++) {
      L(`  let tb${j}_${kw} = base + ((kh0 + ${j}) * ${KW} + ${kw}) * ${g.ci * g.co};`);
      for (let i = 0; i < M; i++) {
        L(`  if (ci0 + ${i} < ${g.ci}) {`);
        for (let k = 0; k < N4; k++) {
          for (let e = 0; e < 4; e++) {
            const co = `co0 + ${4 * k + e}`;
            L(
              `    if (${co} < ${g.co}) { result[tb${j}_${kw} + (ci0 + ${i}) * ${g.co} + ${co}] = a${j}_${kw}_${i}_${k}[${e}]; }`,
            );
          }
        }
        L(`  }`);
      }
    }
  }
  L(`}`);
  return { code: lines.join("\n"), parts, invocations };
}

/** Positions one row-walk filter-gradient invocation adds at most (whole rows, at least one). */
export const ROWS_CHUNK = 4096;
/** ROWS_CHUNK's cap per tile (in-channel × out-channel × tap-row tile) of a chunk. */
const ROWS_CHUNK_PER_TILE = 1024;

/**
 * The row-walk layout of the filter gradient ({@link filterCodeRows}) for `g`, or null where the
 * per-tap or all-taps layouts serve (strided columns, a single tap column). One tap row × every
 * tap column × 4 in-channels × 16 out-channels (8 below 14 output columns), or every tap of each
 * in-channel where there are fewer than 4 (CNNSmall's first layer), over ROWS_CHUNK positions
 * (fewer where a chunk has few tiles).
 * Chosen by timing at CNNSmall(8)'s layers, S = 4, batch 64: 1.4–2× the per-tap and all-taps
 * layouts; 8 in-channels, or every tap row with 4 × 4 channels, ran slower.
 */
export function rowsTile(g: ConvGeometry): RowsTile | null {
  if (g.sw !== 1 || g.kw < 2 || 1 + g.ow > LOOP_CAP) return null;
  const n = Math.min(g.ow >= 14 ? 16 : 8, 4 * Math.ceil(g.co / 4));
  const m = Math.min(4, g.ci);
  const kr = g.ci < 4 && g.kh * g.kw * m * (n / 4) <= 32 ? g.kh : 1;
  // Few tiles per chunk (CNNSmall's first layer has one): shorter chunks keep both cores busy
  // (1,024 positions there: 2.9 ms against 3.8 at 2,048 and more beyond).
  const tiles = Math.ceil(g.ci / m) * Math.ceil(g.co / n) * (g.kh / kr);
  const positions = Math.min(ROWS_CHUNK, ROWS_CHUNK_PER_TILE * tiles);
  return { kr, m, n, rows: Math.max(1, Math.floor(positions / g.ow)) };
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
  const rows = rowsTile(g);
  const xFormat = rows
    ? (g.ci % 4 === 0 && rows.m % 4 === 0 ? "rgba32float" : "r32float")
    : !allTapsTile(g) && g.ci % 4 === 0 && Math.min(8, g.ci) % 4 === 0
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
    const ops = { x: texLayout(size(x), xFormat, true), dy: texLayout(size(dy), dyFormat, true) };
    const f = filterCode(g, ops);
    parts = f.parts;
    texDispatches++;
    partial = dispatchRaw(backend, {
      key: `salienceTexConvFilter${rows ? "Rows" : ""}_${
        keyWithoutBatch(g)
      }_${ops.x.shift}_${ops.dy.shift}`,
      code: `${rawPrelude(false, ["xt", "dt"], [], WG, ["batch"])}\n${f.code}`,
      ints: { batch: g.batch },
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

function transposeFilter(backend: WebGpuBackend, filter: tf.TensorInfo): tf.TensorInfo {
  const transpose = tf.getKernel("Transpose", "webgpu")!;
  const perm = filter.shape.length === 4 ? [0, 1, 3, 2] : [0, 1, 2, 4, 3];
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

/** Conv2DBackpropInput by the strip or tiled kernel ({@link runDirect}). */
export function tiledConv2DBackpropInput(orig: KernelFunc): KernelFunc {
  return (args) => {
    const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
    const attrs = args.attrs as unknown as ConvAttrs;
    if (attrs.dataFormat === "NCHW" || isDilated(attrs.dilations)) return orig(args);
    const backend = args.backend as WebGpuBackend;
    const g = convGeometry(attrs.inputShape!, filter.shape, attrs);
    return runDirect(backend, g, "input", dy, filter);
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
  last: number | string,
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
