/**
 * Normalise and per-sample Grams on the device: for a batch `[models][samples][dim]` of
 * gradients, two programs in one compute pass and one submit per chunk of samples —
 * `row_scales.wgsl` (each row's largest magnitude, zero and NaN/Inf rows flagged) and
 * `sample_grams.wgsl` (register-tiled Grams of the scaled rows) — then only the M×M Grams and
 * the row flags are read back and finished into cosines (shared with the f64 reference).
 */
import { type BufferSet, packSamples, runUnit } from "../gpu/dispatch.ts";
import type { Gpu } from "../gpu/gpu.ts";
import { LOOP_CAP } from "../gpu/gpu.ts";
import type { Dispatch, Program } from "../gpu/program.ts";
import { runPrograms } from "../gpu/program.ts";
import { checkCount } from "../gpu/checks.ts";
import {
  type BatchShape,
  finishGrams,
  type SampleGrams,
  sampleGramsReference,
} from "./_reference.ts";
import ROW_SCALES_WGSL from "./row_scales.wgsl" with { type: "text" };
import SAMPLE_GRAMS_WGSL from "./sample_grams.wgsl" with { type: "text" };

/**
 * Lanes per workgroup of the row-scale program (a power of two: it is also TREE_WG). 16 beat 64
 * on lavapipe (fewer barriers per row).
 */
export const ROW_SCALE_WG = 16;
/** Lanes per workgroup of the Gram program (lavapipe's SIMD width on AVX2). */
export const GRAM_WG = 8;

/** One Gram tiling: RA A models per lane (A tile WG·RA), RB shared B models per block. */
export interface GramTiling {
  ra: number;
  rb: number;
}

/**
 * The tiling for `models` models: larger tiles feed more chains per lane-varying load but waste
 * work on padding when M is small (measured on lavapipe at M = 64: 8×16 gives 4.7 GFLOP/s, 4×16 4.1, 2×8 3.6).
 */
export function gramTiling(models: number): GramTiling {
  if (models >= 128) return { ra: 8, rb: 16 };
  if (models > 16) return { ra: 4, rb: 16 };
  return { ra: 2, rb: 8 };
}

/** Models padded to whole A tiles and B blocks of `t`. */
export function paddedModels(models: number, t: GramTiling): number {
  const unit = Math.max(GRAM_WG * t.ra, t.rb);
  return Math.ceil(models / unit) * unit;
}

/** Loop iterations of one row-scale invocation for rows of `cols4` vec4. */
export function rowScaleLoopBound(cols4: number): number {
  return 2 * (Math.ceil(cols4 / ROW_SCALE_WG) + 1) + 2 * (Math.log2(ROW_SCALE_WG) + 1);
}

/** Loop iterations of one Gram invocation over `kn` vec4 columns. */
export function gramLoopBound(kn: number): number {
  return kn + 1;
}

/** The most vec4 columns one Gram dispatch walks: longer rows are split into several. */
export const GRAM_COLUMNS = LOOP_CAP - 1;

/** The column ranges [k0, k0 + kn) of the Gram dispatches over rows of `cols4` vec4. */
export function columnChunks(cols4: number, most = GRAM_COLUMNS): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let k0 = 0; k0 < cols4; k0 += most) out.push([k0, Math.min(most, cols4 - k0)]);
  return out;
}

/**
 * The unrolled body of the Gram program for `ra` × `rb` chains: row bases and scales, the loads
 * of one step, the multiply-adds and the stores. The one place the shader's source varies.
 */
export function gramKernelBody(
  ra: number,
  rb: number,
): { RA: number; RB: number; DECLARE: string; LOAD: string; FMA: string; STORE: string } {
  const as = Array.from({ length: ra }, (_, i) => i);
  const bs = Array.from({ length: rb }, (_, j) => j);
  const chains = as.flatMap((r) => bs.map((j) => [r, j] as const));
  const aRow = (r: number) => (r === 0 ? "i0" : `i0 + ${r}u * WG`);
  const bRow = (j: number) => (j === 0 ? "j0" : `j0 + ${j}u`);
  return {
    RA: ra,
    RB: rb,
    DECLARE: chains.map(([r, j]) => `  var c${r}_${j} = 0.0;`).join("\n"),
    LOAD: [
      ...as.map((r) => `    let x${r} = scaled[o + ${aRow(r)}];`),
      ...bs.map((j) => `    let y${j} = scaled[o + ${bRow(j)}];`),
    ].join("\n"),
    FMA: chains.map(([r, j]) => `    c${r}_${j} += dot(x${r}, y${j});`).join("\n"),
    STORE: chains.map(([r, j]) => `  store(x, ${aRow(r)}, ${bRow(j)}, c${r}_${j});`).join("\n"),
  };
}

/** The row-scale program: flags and scaled, model-interleaved rows. */
export const ROW_SCALES: Program = {
  label: "row scales",
  shader: { file: "sample_grams/row_scales.wgsl", text: ROW_SCALES_WGSL },
  constants: { WG: ROW_SCALE_WG, TREE_WG: ROW_SCALE_WG },
  params: ["rows", "samples", "cols4", "mpad", "gridX"],
  bindings: ["grads", "scaled", "status"],
};

/** The per-sample Gram program for tiling `t`. */
export function sampleGramsProgram(t: GramTiling): Program {
  return {
    label: `sample grams ${t.ra}x${t.rb}`,
    shader: { file: "sample_grams/sample_grams.wgsl", text: SAMPLE_GRAMS_WGSL },
    source: gramKernelBody(t.ra, t.rb),
    constants: { WG: GRAM_WG },
    params: ["models", "mpad", "cols4", "samples", "tilePairs", "k0", "kn", "gridX"],
    bindings: ["scaled", "tiles", "grams"],
  };
}

/** Tile pairs (A tile, B block) of tiling `t` that touch the upper triangle of an M×M Gram. */
export function tilePairs(models: number, t: GramTiling = gramTiling(models)): Uint32Array {
  const out: number[] = [];
  const aTile = GRAM_WG * t.ra;
  const nA = Math.ceil(models / aTile), nB = Math.ceil(models / t.rb);
  for (let a = 0; a < nA; a++) {
    for (let b = 0; b < nB; b++) {
      if (a * aTile <= b * t.rb + t.rb - 1) out.push((a << 16) | b);
    }
  }
  return Uint32Array.from(out);
}

/** The longest row the row-scale pass takes under the loop cap (about 2.1 M values). */
export function maxDim(): number {
  let cols4 = Math.floor((LOOP_CAP - 2 * (Math.log2(ROW_SCALE_WG) + 2)) / 2) * ROW_SCALE_WG;
  while (rowScaleLoopBound(cols4) > LOOP_CAP) cols4 -= ROW_SCALE_WG;
  return cols4 * 4;
}

/** Options of {@linkcode sampleGrams}: the batch's shape. */
export type SampleGramsOptions = BatchShape;

/** Checks a batch's shape and row length before any work. */
export function checkShape(grads: Float32Array, shape: BatchShape): void {
  checkCount("models", shape.models);
  checkCount("samples", shape.samples);
  checkCount("dim", shape.dim);
  if (shape.models > 2 ** 16) {
    throw new RangeError(`models is ${shape.models}; expected at most ${2 ** 16}.`);
  }
  if (shape.dim > maxDim()) {
    throw new RangeError(
      `dim is ${shape.dim}; one row-scale invocation walks 1/${ROW_SCALE_WG} of a row, so dim may be at most ${maxDim()} (pool the gradients first).`,
    );
  }
  const want = shape.models * shape.samples * shape.dim;
  if (grads.length !== want) {
    throw new TypeError(
      `gradients hold ${grads.length} values; expected models × samples × dim = ${shape.models} × ${shape.samples} × ${shape.dim} = ${want}.`,
    );
  }
}

/**
 * Samples per chunk: each binding's `perSample` bytes per sample fit one binding, and no chunk
 * holds more than LOOP_CAP − 1 samples (a per-block loop walks a chunk's samples).
 */
export function chunkSamples(shape: BatchShape, perSample: number, maxBytes: number): number {
  const n = Math.min(Math.floor(maxBytes / perSample), LOOP_CAP - 1);
  if (n < 1) {
    throw new RangeError(
      `one sample's ${shape.models} × ${shape.dim} gradients (or its ${shape.models}² Gram) exceed the ${maxBytes}-byte storage binding; pass fewer models per call.`,
    );
  }
  return Math.min(shape.samples, n);
}

/** Samples x0 … x1−1 of `[M][S][D]` as `[M][x1−x0][cols4·4]`, zero-padded (no copy if unneeded). */
export function chunkInput(
  grads: Float32Array,
  shape: BatchShape,
  cols4: number,
  x0: number,
  x1: number,
): Float32Array {
  const { models: m, samples: s, dim } = shape;
  if (cols4 * 4 === dim) return packSamples(grads, m, s, dim, x0, x1);
  const n = x1 - x0, width = cols4 * 4;
  const out = new Float32Array(m * n * width);
  for (let i = 0; i < m; i++) {
    for (let x = 0; x < n; x++) {
      const src = (i * s + x0 + x) * dim;
      out.set(grads.subarray(src, src + dim), (i * n + x) * width);
    }
  }
  return out;
}

/**
 * The per-sample cosine matrices of a gradient batch `[models][samples][dim]` (float32,
 * model-major): rows normalised with scaled norms (zero and NaN/±Inf rows flagged and left
 * out), then cos(u_i(x), u_j(x)) for every sample and pair. On the device: one submit per chunk
 * of samples that fits a storage binding (`maxBindingBytes` lowers it to force splits), reading
 * back only the M×M Grams and the row flags; on the CPU path the float64 reference.
 *
 * Precision: f32 products summed in f32 per sample: cosines within 1e-5 of the f64 reference
 * at D = 70,000 (tests). Cost: O(S·M²·D) multiply-adds; one upload of the batch.
 *
 * @throws {TypeError} when `grads` is not models × samples × dim long.
 * Rows of any length: the Gram walks at most {@linkcode GRAM_COLUMNS} vec4 per dispatch and
 * adds the partial sums of longer rows; the row-scale pass takes rows up to
 * {@linkcode maxDim} values.
 *
 * @throws {RangeError} on a non-positive size, a row longer than {@linkcode maxDim}, or one
 * sample too large for a storage binding.
 *
 * @example
 * ```ts
 * import { requestGpu, sampleGrams } from "../mod.ts";
 * const gpu = await requestGpu({ forceCpu: true });
 * // 2 models × 1 sample × 2 values: (3, 4) and (4, 3)
 * const r = await sampleGrams(gpu, Float32Array.from([3, 4, 4, 3]), { models: 2, samples: 1, dim: 2 });
 * if (Math.abs(r.grams[1]! - 24 / 25) > 1e-12) throw new Error(`cos ${r.grams[1]}`);
 * ```
 */
export function sampleGrams(
  gpu: Gpu,
  grads: Float32Array,
  shape: SampleGramsOptions,
): Promise<SampleGrams> {
  checkShape(grads, shape);
  const cols4 = Math.ceil(shape.dim / 4);
  if (gpu.backend === "cpu") return Promise.resolve(sampleGramsReference(grads, shape));
  return sampleGramsOnDevice(gpu, grads, shape, cols4);
}

/** The dispatches of the Gram stage for one chunk, and the buffers they leave. */
export interface GramStage {
  dispatches: Dispatch[];
  /** Scaled Grams `[n][M][M]` f32. */
  grams: GPUBuffer;
  /** Row status `[M][n]` u32. */
  status: GPUBuffer;
}

/**
 * Uploads one chunk `[M][n][cols4·4]` and plans its row-scale and Gram dispatches (the Gram
 * split over column ranges of at most {@linkcode GRAM_COLUMNS} vec4).
 */
export async function gramStage(
  gpu: Gpu,
  device: GPUDevice,
  buffers: BufferSet,
  input: Float32Array,
  shape: { models: number; samples: number; cols4: number },
): Promise<GramStage> {
  const { models: m, samples: n, cols4 } = shape;
  const tiling = gramTiling(m);
  const mpad = paddedModels(m, tiling);
  const tiles = tilePairs(m, tiling);
  const gramProgram = sampleGramsProgram(tiling);
  const data = await gpu.uploadShared(device, "sample grams input", input);
  const scaled = buffers.storage("scaled rows", n * cols4 * mpad * 16);
  const status = buffers.storage("row status", m * n * 4, true);
  const grams = buffers.storage("sample grams", n * m * m * 4, true);
  const tileBuffer = buffers.storage("tile pairs", tiles);
  const dispatches: Dispatch[] = [
    {
      program: ROW_SCALES,
      params: { rows: m * n, samples: n, cols4, mpad },
      bindings: { grads: data, scaled, status },
      workgroups: m * n,
      loopBound: rowScaleLoopBound(cols4),
    },
    ...columnChunks(cols4).map(([k0, kn]): Dispatch => ({
      program: gramProgram,
      params: { models: m, mpad, cols4, samples: n, tilePairs: tiles.length, k0, kn },
      bindings: { scaled, tiles: tileBuffer, grams },
      workgroups: n * tiles.length,
      loopBound: gramLoopBound(kn),
    })),
  ];
  return { dispatches, grams, status };
}

/** Per-sample bytes of the Gram stage's largest binding (input rows, scaled rows, Grams). */
export function gramStageBytes(models: number, cols4: number): number {
  const mpad = paddedModels(models, gramTiling(models));
  return Math.max(mpad * cols4 * 16, models * models * 4);
}

async function sampleGramsOnDevice(
  gpu: Gpu,
  grads: Float32Array,
  shape: BatchShape,
  cols4: number,
): Promise<SampleGrams> {
  const { models: m, samples: s } = shape;
  const raw = new Float32Array(s * m * m);
  const status = new Uint8Array(m * s);
  const step = chunkSamples(shape, gramStageBytes(m, cols4), gpu.maxBindingBytes);
  for (let x0 = 0; x0 < s; x0 += step) {
    const x1 = Math.min(s, x0 + step), n = x1 - x0;
    const input = chunkInput(grads, shape, cols4, x0, x1);
    const part = await runUnit(gpu, "sample grams", async (device, buffers) => {
      const stage = await gramStage(gpu, device, buffers, input, { models: m, samples: n, cols4 });
      const [g, f] = await runPrograms(gpu, device, buffers, stage.dispatches, [
        [stage.grams, n * m * m * 4],
        [stage.status, m * n * 4],
      ]);
      return { raw: new Float32Array(g!), status: new Uint32Array(f!) };
    }, () => null);
    if (part === null) return sampleGramsReference(grads, shape); // the device was lost for good
    raw.set(part.raw, x0 * m * m);
    for (let i = 0; i < m; i++) {
      for (let x = 0; x < n; x++) status[i * s + x0 + x] = part.status[i * n + x]!;
    }
  }
  return finishGrams(raw, status, shape);
}
