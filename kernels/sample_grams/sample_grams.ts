/**
 * Normalise and per-sample Grams on the device: for a batch `[models][samples][dim]` of
 * gradients, two programs in one compute pass and one submit per chunk of samples —
 * `row_scales.wgsl` (each row's largest magnitude, zero and NaN/Inf rows flagged) and
 * `sample_grams.wgsl` (register-tiled Grams of the scaled rows), both fetching the batch from
 * one rgba32float texture — then only the M×M Grams and
 * the row flags are read back and finished into cosines (shared with the f64 reference).
 */
import { type BufferSet, packSamples, runUnit, TEX_SHIFT, TEX_WIDTH } from "../gpu/dispatch.ts";
import type { Gpu } from "../gpu/gpu.ts";
import { deviceLimit, LOOP_CAP } from "../gpu/gpu.ts";
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
 * Lanes per workgroup of the row-scale program (a power of two): one SIMD row of lavapipe's
 * 256-bit vectors, so the tree reduction's barriers stay within one.
 */
export const ROW_SCALE_WG = 8;
/** Lanes per workgroup of the Gram program (lavapipe's SIMD width on AVX2): samples of one tile pair. */
export const GRAM_WG = 8;

/**
 * The Gram tile for `models` models: T models per A and B tile, so each fetched vec4 feeds T
 * multiply-adds. Larger tiles waste work on padding when M is small. On lavapipe the texel
 * fetches, not the T² accumulators (which spill), bound a step: fewer accumulators (8 × 8,
 * 16 × 8) ran slower, 32 × 32 faster. The analysis bench, side by side in one run (load 7.5–7.9):
 * 32 × 32 against 16 × 16 gave 69.3 against 40.6 samples/s at M = 256 and 545 against 482 at
 * M = 64 (D = 784; CPU seconds 1.16× and 1.03× fewer). The 32 × 32 shader takes about 2.5 s to
 * compile; 64 × 32 did not compile within minutes.
 */
export function gramTile(models: number): number {
  return models <= 4 ? 4 : models <= 8 ? 8 : models < GRAM_TILE_32_FROM ? 16 : 32;
}

/** The smallest model count whose Gram runs 32 × 32 tiles. */
export const GRAM_TILE_32_FROM = 64;

/** Loop iterations of one row-scale invocation for rows of `cols4` vec4, `lanes` lanes per row. */
export function rowScaleLoopBound(cols4: number, lanes = ROW_SCALE_WG): number {
  return Math.ceil(cols4 / lanes) + 1 + Math.log2(lanes) + 1;
}

/**
 * Lanes per row of the row-scale program for rows of `cols4` vec4: 1 (a row per invocation,
 * {@linkcode ROW_SCALE_WG} rows per workgroup) when one invocation's walk of a row stays under
 * the loop cap, else {@linkcode ROW_SCALE_WG} (a workgroup per row). On lavapipe, at M = 16 ×
 * 1,024 samples × D = 784, a workgroup per row made the row-scale dispatch cost about as much
 * as the Gram's: the per-workgroup overhead of 16,384 workgroups.
 */
export function rowScaleLanes(cols4: number): number {
  return rowScaleLoopBound(cols4, 1) <= LOOP_CAP ? 1 : ROW_SCALE_WG;
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
 * The unrolled body of the Gram program for `t` × `t` chains: row offsets and scales, the
 * fetches of one step, the multiply-adds and the stores. The one place the shader's source
 * varies. A `diagonal` body serves tile pairs whose A and B tiles are one tile: it fetches the
 * T rows once and runs only the T(T+1)/2 chains of the upper triangle (i ≤ j), where the general
 * body fetches 2T rows and runs T² chains.
 */
export function gramKernelBody(
  t: number,
  diagonal = false,
): { T: number; DECLARE: string; LOAD: string; FMA: string; STORE: string } {
  const rs = Array.from({ length: t }, (_, i) => i);
  const chains = rs.flatMap((r) => rs.map((j) => [r, j] as const)).filter(([r, j]) =>
    !diagonal || r <= j
  );
  const b = diagonal ? "a" : "b";
  const row = (side: "a" | "b", r: number) => {
    const first = side === "a" ? "i0" : "j0";
    return [
      `  let ${side}r${r} = (min(${first} + ${r}u, last) * n + x);`,
      `  let ${side}s${r} = scales[${side}r${r}];`,
      `  let ${side}t${r} = ${side}r${r} * cols4 + params.k0;`,
    ];
  };
  return {
    T: t,
    DECLARE: [
      ...rs.flatMap((r) => row("a", r)),
      ...(diagonal ? [] : rs.flatMap((r) => row("b", r))),
      ...chains.map(([r, j]) => `  var c${r}_${j} = 0.0;`),
    ].join("\n"),
    LOAD: [
      ...rs.map((r) => `    let a${r} = texel(at${r} + k) * as${r};`),
      ...(diagonal ? [] : rs.map((j) => `    let b${j} = texel(bt${j} + k) * bs${j};`)),
    ].join("\n"),
    FMA: chains.map(([r, j]) => `    c${r}_${j} += dot(a${r}, ${b}${j});`).join("\n"),
    STORE: chains.map(([r, j]) =>
      `  store(x, i0 + ${r}u, j0 + ${j}u, select(0.0, c${r}_${j}, as${r} > 0.0 && ${b}s${j} > 0.0));`
    ).join("\n"),
  };
}

/** The row-scale program with `lanes` lanes per row (see {@linkcode rowScaleLanes}): each row's scale and status. */
export function rowScalesProgram(lanes: number): Program {
  return {
    label: `row scales ${lanes}`,
    shader: { file: "sample_grams/row_scales.wgsl", text: ROW_SCALES_WGSL },
    constants: { WG: ROW_SCALE_WG, LANES: lanes, TEX_SHIFT },
    params: ["rows", "cols4", "gridX"],
    bindings: ["grads", "scales", "status"],
  };
}

/**
 * The per-sample Gram program for tiles of `t` models: for tile pairs with A < B, or (`diagonal`)
 * for those with A = B (see {@linkcode gramKernelBody}).
 */
export function sampleGramsProgram(t: number, diagonal = false): Program {
  return {
    label: `sample grams ${t}x${t}${diagonal ? " diagonal" : ""}`,
    shader: { file: "sample_grams/sample_grams.wgsl", text: SAMPLE_GRAMS_WGSL },
    source: gramKernelBody(t, diagonal),
    constants: { WG: GRAM_WG, TEX_SHIFT },
    params: ["models", "cols4", "samples", "tilePairs", "k0", "kn", "gridX"],
    bindings: ["grads", "scales", "tiles", "grams"],
  };
}

/** Tile pairs (A tile ≤ B tile) of `t`-model tiles: those that touch the upper triangle. */
export function tilePairs(models: number, t: number = gramTile(models)): Uint32Array {
  const out: number[] = [];
  const tiles = Math.ceil(models / t);
  for (let a = 0; a < tiles; a++) {
    for (let b = a; b < tiles; b++) out.push((a << 16) | b);
  }
  return Uint32Array.from(out);
}

/** The longest row the row-scale pass takes under the loop cap (about 2.1 M values). */
export function maxDim(): number {
  let cols4 = (LOOP_CAP - Math.log2(ROW_SCALE_WG) - 2) * ROW_SCALE_WG;
  while (rowScaleLoopBound(cols4) > LOOP_CAP) cols4 -= ROW_SCALE_WG;
  return cols4 * 4;
}

/**
 * Options of {@linkcode sampleGrams}: the batch's shape, and the Gram tile (default
 * {@linkcode gramTile} of the model count; the benchmark compares others).
 */
export type SampleGramsOptions = BatchShape & { tile?: number };

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
 * Uploads one chunk `[M][n][cols4·4]` as a texture and plans its row-scale and Gram dispatches
 * (the Gram split over column ranges of at most {@linkcode GRAM_COLUMNS} vec4).
 */
export function gramStage(
  gpu: Gpu,
  device: GPUDevice,
  buffers: BufferSet,
  input: Float32Array,
  shape: { models: number; samples: number; cols4: number; tile?: number },
): GramStage {
  const { models: m, samples: n, cols4 } = shape;
  const tile = shape.tile ?? gramTile(m);
  const tiles = tilePairs(m, tile);
  // Diagonal tile pairs (A = B) run the program that fetches their rows once.
  const kinds = [true, false].map((diagonal) => {
    const list = tiles.filter((p) => ((p >> 16) === (p & 0xffff)) === diagonal);
    return { program: sampleGramsProgram(tile, diagonal), list };
  }).filter((k) => k.list.length > 0);
  const texture = gpu.uploadTexture(device, "sample grams input", input, TEX_WIDTH);
  const grads = buffers.view(texture, "sample grams input");
  const scales = buffers.storage("row scales", m * n * 4);
  const status = buffers.storage("row status", m * n * 4, true);
  const grams = buffers.storage("sample grams", n * m * m * 4, true);
  const tileBuffers = kinds.map((k) => buffers.storage("tile pairs", k.list));
  const lanes = rowScaleLanes(cols4);
  const dispatches: Dispatch[] = [
    {
      program: rowScalesProgram(lanes),
      params: { rows: m * n, cols4 },
      bindings: { grads, scales, status },
      workgroups: Math.ceil((m * n * lanes) / ROW_SCALE_WG),
      loopBound: rowScaleLoopBound(cols4, lanes),
    },
    ...columnChunks(cols4).flatMap(([k0, kn]) =>
      kinds.map(({ program, list }, i): Dispatch => ({
        program,
        params: { models: m, cols4, samples: n, tilePairs: list.length, k0, kn },
        bindings: { grads, scales, tiles: tileBuffers[i]!, grams },
        workgroups: Math.ceil((n * list.length) / GRAM_WG),
        loopBound: gramLoopBound(kn),
      }))
    ),
  ];
  return { dispatches, grams, status };
}

/** Per-sample bytes of the Gram stage's largest binding (input texels, Grams). */
export function gramStageBytes(models: number, cols4: number): number {
  return Math.max(models * cols4 * 16, models * models * 4);
}

/**
 * The most bytes one chunk's bindings may take on `gpu`: its storage-binding limit, and the
 * input texture's capacity ({@linkcode TEX_WIDTH} texels × `maxTextureDimension2D` rows).
 */
export function gramStageMaxBytes(gpu: Gpu): number {
  const device = gpu.device;
  const rows = device ? deviceLimit(device, "maxTextureDimension2D") : 8192;
  return Math.min(gpu.maxBindingBytes, TEX_WIDTH * 16 * rows);
}

async function sampleGramsOnDevice(
  gpu: Gpu,
  grads: Float32Array,
  shape: SampleGramsOptions,
  cols4: number,
): Promise<SampleGrams> {
  const { models: m, samples: s } = shape;
  const raw = new Float32Array(s * m * m);
  const status = new Uint8Array(m * s);
  const step = chunkSamples(shape, gramStageBytes(m, cols4), gramStageMaxBytes(gpu));
  for (let x0 = 0; x0 < s; x0 += step) {
    const x1 = Math.min(s, x0 + step), n = x1 - x0;
    const input = chunkInput(grads, shape, cols4, x0, x1);
    const part = await runUnit(gpu, "sample grams", async (device, buffers) => {
      const stage = gramStage(gpu, device, buffers, input, {
        models: m,
        samples: n,
        cols4,
        tile: shape.tile,
      });
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
