/**
 * Pairwise similarity on the GPU: the M×M matrix of Σ_x cos(u_i(x), u_j(x)) accumulated over
 * sample batches, with per-pair counts, and optional per-sample cosines and histograms.
 */
import {
  assertLoopBound,
  BufferSet,
  grid2d,
  loadShader,
  packSamples,
  runUnit,
} from "../gpu/dispatch.ts";
import { deviceLimit, type Gpu, LOOP_CAP } from "../gpu/gpu.ts";
import { allPairs, checkBatch, checkCount, checkPairs, cosineBin } from "../gpu/checks.ts";
import {
  addCounts,
  gramSums,
  pairCosines as referencePairCosines,
  type PairwiseOptions,
  type PairwiseResult,
} from "./_reference.ts";

/** Invocations per workgroup side of the tiled Gram kernel (the workgroup is WG × WG). */
export const GRAM_WG = 16;
/** Output tile width of the tiled Gram kernel: each invocation computes a 4×4 block. */
export const GRAM_TILE = 4 * GRAM_WG;
/** Columns staged in workgroup memory per step: TILE·KS = 4·WG² (four loads per invocation). */
export const GRAM_KS = (4 * GRAM_WG * GRAM_WG) / GRAM_TILE;
/**
 * Register-blocked Gram kernel: each invocation computes an R×R block of dot products (unrolled;
 * rows are padded to a multiple of R), so its output tile is R wide. R is GRAM_REG_R_LARGE from
 * GRAM_REG_LARGE_FROM models on (each loaded vec4 then feeds 16 dot products), else
 * GRAM_REG_R (less padding for few models).
 */
export const GRAM_REG_R = 8;
/** Register-blocked Gram kernel: the block side for many models. */
export const GRAM_REG_R_LARGE = 16;
/** Register-blocked Gram kernel: fewest models that use GRAM_REG_R_LARGE. */
export const GRAM_REG_LARGE_FROM = 64;
/**
 * Register-blocked Gram kernel: invocations per workgroup, the lanes that split a span (the
 * SIMD width of lavapipe on AVX2, 8).
 */
export const GRAM_REG_WG = 8;
/** Register-blocked Gram kernel: workgroups aimed at per dispatch (a few per CPU thread). */
const GRAM_REG_WORKGROUPS = 128;

/** The register kernel's block side for `models` models. */
export function registerBlock(models: number): number {
  return models >= GRAM_REG_LARGE_FROM ? GRAM_REG_R_LARGE : GRAM_REG_R;
}

/**
 * The unrolled body of the register kernel for blocks of `r`×`r`: accumulator declarations,
 * the 2r vec4 loads of one step, the r² dot-product updates, and the stores.
 */
export function registerKernelBody(
  r: number,
): { DECLARE: string; LOAD: string; FMA: string; STORE: string } {
  const ids = Array.from({ length: r }, (_, i) => i);
  const pairs = ids.flatMap((i) => ids.map((j) => [i, j] as const));
  const row = (
    base: string,
    i: number,
  ) => (i === 0 ? `${base} + k` : `${base} + ${i}u * stride + k`);
  return {
    DECLARE: pairs.map(([i, j]) => `  var c${i}_${j} = 0.0;`).join("\n"),
    LOAD: [
      ...ids.map((i) => `    let x${i} = units[${row("a", i)}];`),
      ...ids.map((j) => `    let y${j} = units[${row("b", j)}];`),
    ].join("\n"),
    FMA: pairs.map(([i, j]) => `    c${i}_${j} += dot(x${i}, y${j});`).join("\n"),
    STORE: pairs.map(([i, j]) => `  partial[out + ${i * r + j}u] = c${i}_${j};`).join("\n"),
  };
}
/** Invocations per workgroup of the span-sum pass. */
export const SPAN_SUM_WG = 64;
/** Invocations per workgroup of the per-sample pair-cosine kernel (a power of two). */
export const COSINE_WG = 64;

/**
 * The Gram kernel versions: "tiled" stages K-slices in workgroup memory (for GPUs);
 * "registers" reads vec4 rows straight from storage with no barriers, each invocation an R×R
 * block (for software adapters, where loads are gathered lane by lane and barriers are costly).
 * Both give the same sums within f32 rounding.
 */
export type GramKernel = "tiled" | "registers";

/** Every Gram kernel version. */
export const GRAM_KERNELS: readonly GramKernel[] = ["tiled", "registers"];

const GRAM_URL = new URL("./pairwise_similarity.wgsl", import.meta.url);
const GRAM_REG_URL = new URL("./pairwise_registers.wgsl", import.meta.url);
const COSINE_URL = new URL("./pair_cosines.wgsl", import.meta.url);
const SPAN_SUM_URL = new URL("./span_sums.wgsl", import.meta.url);

/**
 * Loop iterations of one Gram invocation for a span of `span` columns (values; the register
 * kernel walks them as vec4).
 */
export function gramLoopBound(span: number, kernel: GramKernel = "tiled"): number {
  return kernel === "tiled"
    ? Math.ceil(span / GRAM_KS) * (GRAM_KS + 1) + 1
    : Math.ceil(span / 4 / GRAM_REG_WG) + 1;
}

/** Loop iterations of one pair-cosine invocation for vectors of `dim` values. */
export function cosineLoopBound(dim: number): number {
  return Math.ceil(dim / COSINE_WG) + Math.log2(COSINE_WG);
}

/** Longest span (values) one Gram invocation may walk under the loop cap. */
function maxSpan(kernel: GramKernel): number {
  return kernel === "tiled"
    ? Math.floor((LOOP_CAP - 1) / (GRAM_KS + 1)) * GRAM_KS
    : (LOOP_CAP - 1) * 4 * GRAM_REG_WG;
}

/** How a batch is cut into storage bindings: sample ranges, or (x, dim-range) pieces. */
interface Chunk {
  x0: number;
  x1: number;
  d0: number;
  d1: number;
}

function planChunks(
  M: number,
  N: number,
  D: number,
  maxBytes: number,
  maxSamples = Infinity,
): Chunk[] {
  checkCount("models", M);
  checkCount("samples", N);
  checkCount("dim", D);
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 16) {
    throw new RangeError(`maxBindingBytes is ${maxBytes}; expected an integer of at least 16.`);
  }
  if (!(maxSamples >= 1)) {
    throw new RangeError(`samples per chunk is ${maxSamples}; expected at least 1.`);
  }
  const chunks: Chunk[] = [];
  const perSample = 4 * M * D;
  if (perSample <= maxBytes) {
    const step = Math.max(1, Math.min(maxSamples, Math.floor(maxBytes / perSample)));
    for (let x0 = 0; x0 < N; x0 += step) {
      chunks.push({ x0, x1: Math.min(N, x0 + step), d0: 0, d1: D });
    }
    return chunks;
  }
  const dims = Math.floor(maxBytes / (4 * M));
  if (dims < 1) {
    throw new RangeError(
      `maxBindingBytes is ${maxBytes}; expected at least 4 × models = ${4 * M} bytes.`,
    );
  }
  for (let x = 0; x < N; x++) {
    for (let d0 = 0; d0 < D; d0 += dims) {
      chunks.push({ x0: x, x1: x + 1, d0, d1: Math.min(D, d0 + dims) });
    }
  }
  return chunks;
}

/** Copies the chunk's values of every model into one model-major array (no copy if whole). */
function packChunk(units: Float32Array, M: number, N: number, D: number, c: Chunk): Float32Array {
  const n = c.x1 - c.x0, d = c.d1 - c.d0;
  if (d === D) return packSamples(units, M, N, D, c.x0, c.x1);
  const out = new Float32Array(M * n * d);
  for (let m = 0; m < M; m++) {
    for (let x = 0; x < n; x++) {
      const from = (m * N + c.x0 + x) * D + c.d0;
      out.set(units.subarray(from, from + d), (m * n + x) * d);
    }
  }
  return out;
}

/** Tile width of a Gram kernel version for `models` models. */
function tileOf(kernel: GramKernel, models: number): number {
  return kernel === "tiled" ? GRAM_TILE : registerBlock(models);
}

/** Values a Gram kernel steps by, and a sample's columns as that kernel sees them (padded). */
function stepOf(kernel: GramKernel): number {
  return kernel === "tiled" ? GRAM_KS : 4;
}

/** Spans per sample when every partial tile must hold one sample's dot products. */
function spansPerSample(kernel: GramKernel, dim: number): number {
  const padded = Math.ceil(dim / stepOf(kernel)) * stepOf(kernel);
  return Math.ceil(padded / maxSpan(kernel));
}

/**
 * For the register kernel: each sample's values padded with zeros to a multiple of 4, and zero
 * rows (models) added up to a multiple of the block side `r` (a copy only when either is needed).
 */
function padSamples(
  data: Float32Array,
  M: number,
  n: number,
  dim: number,
  r: number,
): Float32Array {
  const dim4 = Math.ceil(dim / 4) * 4;
  const rows = Math.ceil(M / r) * r;
  if (dim4 === dim && rows === M) return data;
  const out = new Float32Array(rows * n * dim4);
  if (dim4 === dim) {
    out.set(data);
    return out;
  }
  for (let k = 0; k < M * n; k++) out.set(data.subarray(k * dim, (k + 1) * dim), k * dim4);
  return out;
}

/** The register kernel's shader source for blocks of `r`×`r` (WG, R and the body written in). */
function registerKernelSource(r: number): Promise<string> {
  return loadShader(GRAM_REG_URL, { WG: GRAM_REG_WG, R: r, ...registerKernelBody(r) });
}

/** What one Gram chunk adds: the batch's f64 sums, and per-sample dots of chosen pairs. */
interface GramSink {
  /** M×M f64 sums (upper triangle filled). */
  sum: Float64Array;
  /** Present to collect per-sample dot products: slot[i·M + j] (i ≤ j) = output row, or −1. */
  slot?: Int32Array;
  /** Output `[rows][samples]` for the slots; written at columns x0 … x0+n−1. */
  dots?: Float32Array;
  /** Samples of the whole batch (the row length of `dots`), and this chunk's first sample. */
  samples?: number;
  x0?: number;
}

/**
 * Adds U Uᵀ of one chunk (`n` samples × `dim` values per model, model-major) into
 * `sink.sum`; with `sink.slot`, spans stop at sample boundaries and the per-sample dot
 * products of the slotted pairs go to `sink.dots`.
 */
async function gramChunk(
  gpu: Gpu,
  device: GPUDevice,
  chunk: Float32Array,
  shape: { M: number; n: number; dim: number },
  kernel: GramKernel,
  sink: GramSink,
): Promise<void> {
  const buffers = new BufferSet(device);
  try {
    await gramChunkOn(gpu, device, buffers, chunk, shape, kernel, sink);
  } finally {
    buffers.destroy();
  }
}

async function gramChunkOn(
  gpu: Gpu,
  device: GPUDevice,
  buffers: BufferSet,
  chunk: Float32Array,
  shape: { M: number; n: number; dim: number },
  kernel: GramKernel,
  sink: GramSink,
): Promise<void> {
  const { M, n } = shape;
  checkCount("models", M);
  checkCount("chunk samples", n);
  checkCount("chunk dim", shape.dim);
  if (chunk.length !== M * n * shape.dim) {
    throw new TypeError(
      `pairwise gram: the chunk has ${chunk.length} values; expected ${M} × ${n} × ${shape.dim}.`,
    );
  }
  const TILE = tileOf(kernel, M);
  const data = kernel === "registers" ? padSamples(chunk, M, n, shape.dim, TILE) : chunk;
  const dim = kernel === "registers" ? Math.ceil(shape.dim / 4) * 4 : shape.dim;
  const cols = n * dim;
  const code = kernel === "tiled"
    ? await loadShader(GRAM_URL, { WG: GRAM_WG, TILE: GRAM_TILE, KS: GRAM_KS })
    : await registerKernelSource(TILE);
  const pipeline = gpu.pipeline(
    device,
    kernel === "tiled"
      ? `pairwise gram tiled WG${GRAM_WG} TILE${GRAM_TILE} KS${GRAM_KS}`
      : `pairwise gram registers WG${GRAM_REG_WG} R${TILE}`,
    code,
  );
  const step = stepOf(kernel);
  const nb = Math.ceil(M / TILE);
  const tilePairs: number[] = [];
  for (let bi = 0; bi < nb; bi++) for (let bj = bi; bj < nb; bj++) tilePairs.push((bi << 16) | bj);
  const tileBytes = TILE * TILE * 4;
  const lanes = kernel === "registers" ? GRAM_REG_WG : 1;
  // Outputs are bounded by the device's own limit (maxBindingBytes splits the inputs).
  const maxBytes = deviceLimit(device, "maxStorageBufferBindingSize");
  let segment: number, spp: number, span: number;
  if (sink.slot) {
    // one segment per sample, cut into as few spans as the loop cap allows
    segment = dim;
    spp = spansPerSample(kernel, shape.dim);
    span = Math.ceil(dim / spp / step) * step;
  } else {
    // Enough workgroups to fill the device (a GPU: thousands; a CPU adapter: a few hundred),
    // each walking at most maxSpan columns.
    const target = kernel === "registers" ? GRAM_REG_WORKGROUPS : gpu.isSoftware ? 256 : 4096;
    const wantSpans = Math.max(1, Math.ceil(target / tilePairs.length));
    span = Math.ceil(cols / wantSpans / step) * step;
    span = Math.min(maxSpan(kernel), Math.max(step * 8 * lanes, span));
    segment = cols;
    spp = Math.ceil(cols / span);
  }
  const spans = sink.slot ? n * spp : spp;
  assertLoopBound(`pairwise gram (${kernel})`, gramLoopBound(span, kernel));
  // Partial tiles per tile pair: one per span, times the lanes of the register kernel.
  const parts = spans * lanes;
  if (tileBytes * parts > maxBytes) {
    throw new RangeError(
      `pairwise gram: ${parts} partial tiles of ${tileBytes} bytes exceed the device's maxStorageBufferBindingSize = ${maxBytes}; use smaller batches.`,
    );
  }
  const group = Math.max(1, Math.floor(maxBytes / (tileBytes * parts)));
  const input = await gpu.uploadShared(device, "pairwise units", data);
  const unit = kernel === "tiled" ? 1 : 4; // the register kernel counts columns in vec4
  const { sum, slot, dots } = sink;
  const samples = sink.samples ?? n, x0 = sink.x0 ?? 0;
  for (let g0 = 0; g0 < tilePairs.length; g0 += group) {
    const list = new Uint32Array(tilePairs.slice(g0, g0 + group));
    const tp = list.length;
    // One workgroup per (tile pair, span).
    const grid = grid2d(device, tp * spans);
    const rows = kernel === "tiled" ? M : nb * TILE;
    const params = buffers.uniform(
      "pairwise params",
      new Uint32Array([rows, cols / unit, span / unit, tp, spans, grid.x, segment / unit, spp]),
    );
    const pairBuf = buffers.storage("pairwise tile pairs", list);
    const partialBytes = parts * tp * tileBytes;
    const partial = buffers.storage("pairwise partial tiles", partialBytes, true);
    const encoder = device.createCommandEncoder({ label: "pairwise gram" });
    const pass = encoder.beginComputePass({ label: "pairwise gram" });
    pass.setPipeline(pipeline);
    pass.setBindGroup(
      0,
      buffers.bind("pairwise gram", pipeline, [params, input, pairBuf, partial]),
    );
    pass.dispatchWorkgroups(grid.x, grid.y);
    // Add the partial tiles of each segment on the GPU (f32 over spp·lanes of them), so only
    // one tile set per segment comes back.
    const segments = sink.slot ? n : 1;
    const tileValues = tp * TILE * TILE;
    const per = spp * lanes;
    let result = partial;
    if (per > 1) {
      assertLoopBound("pairwise span sums", per);
      const sumCode = await loadShader(SPAN_SUM_URL, { WG: SPAN_SUM_WG });
      const sumPipe = gpu.pipeline(device, `pairwise span sums WG${SPAN_SUM_WG}`, sumCode);
      const sumGrid = grid2d(device, Math.ceil((segments * tileValues) / SPAN_SUM_WG));
      result = buffers.storage("pairwise segment tiles", segments * tileValues * 4, true);
      pass.setPipeline(sumPipe);
      pass.setBindGroup(
        0,
        buffers.bind("pairwise span sums", sumPipe, [
          buffers.uniform(
            "pairwise span-sum params",
            new Uint32Array([segments, per, tileValues, sumGrid.x]),
          ),
          partial,
          result,
        ]),
      );
      pass.dispatchWorkgroups(sumGrid.x, sumGrid.y);
    }
    pass.end();
    const [out] = await buffers.submitAndRead(encoder, [[result, segments * tileValues * 4]]);
    const tiles = new Float32Array(out!);
    for (let x = 0; x < segments; x++) {
      for (let t = 0; t < tp; t++) {
        const packed = list[t]!;
        const r0 = (packed >>> 16) * TILE, c0 = (packed & 0xffff) * TILE;
        const base = (x * tp + t) * TILE * TILE;
        for (let r = 0; r < TILE && r0 + r < M; r++) {
          const i = r0 + r;
          for (let c = 0; c < TILE && c0 + c < M; c++) {
            const j = c0 + c;
            if (j < i) continue;
            const v = tiles[base + r * TILE + c]!;
            sum[i * M + j]! += v;
            if (slot) {
              const q = slot[i * M + j]!;
              if (q >= 0) dots![q * samples + x0 + x] = v;
            }
          }
        }
      }
    }
  }
}

/**
 * Per-sample cosines (and, with bins > 0, histograms) of the pairs in `pairList` for one chunk
 * of unit vectors `[M][n][D]` with its zero mask `[M][n]` (u32), on `device`. Used by the
 * accumulator and by the group-means kernel for cosines between mean directions.
 */
export async function pairCosinesOnDevice(
  gpu: Gpu,
  device: GPUDevice,
  data: Float32Array,
  zero: Uint32Array,
  shape: { M: number; n: number; D: number; bins: number; pairList: Uint32Array },
): Promise<{ cosines: Float32Array; hist: Uint32Array }> {
  const buffers = new BufferSet(device);
  try {
    return await cosineChunkOn(gpu, device, buffers, data, zero, shape);
  } finally {
    buffers.destroy();
  }
}

async function cosineChunkOn(
  gpu: Gpu,
  device: GPUDevice,
  buffers: BufferSet,
  data: Float32Array,
  zero: Uint32Array,
  shape: { M: number; n: number; D: number; bins: number; pairList: Uint32Array },
): Promise<{ cosines: Float32Array; hist: Uint32Array }> {
  const { M, n, D, bins, pairList } = shape;
  const P = pairList.length / 2;
  assertLoopBound("pair cosines", cosineLoopBound(D));
  const code = await loadShader(COSINE_URL, { WG: COSINE_WG });
  const pipeline = gpu.pipeline(device, `pair cosines WG${COSINE_WG}`, code);
  const input = buffers.storage("pair-cosine units", data);
  const zeroBuf = buffers.storage("pair-cosine zero mask", zero);
  const cosines = new Float32Array(P * n);
  const hist = new Uint32Array(P * Math.max(bins, 1));
  // Cut the pairs so that the cosine output of one dispatch fits in a binding.
  const group = Math.max(1, Math.floor(gpu.maxBindingBytes / (4 * n)));
  for (let p0 = 0; p0 < P; p0 += group) {
    const pn = Math.min(group, P - p0);
    const grid = grid2d(device, pn * n);
    const params = buffers.uniform(
      "pair-cosine params",
      new Uint32Array([M, n, D, pn, bins, grid.x, 0, 0]),
    );
    const pairBuf = buffers.storage("pair-cosine pairs", pairList.subarray(2 * p0, 2 * (p0 + pn)));
    const outBuf = buffers.storage("pair cosines", pn * n * 4, true);
    const histBuf = buffers.storage("pair-cosine histograms", pn * Math.max(bins, 1) * 4, true);
    const encoder = device.createCommandEncoder({ label: "pair cosines" });
    const pass = encoder.beginComputePass({ label: "pair cosines" });
    pass.setPipeline(pipeline);
    pass.setBindGroup(
      0,
      buffers.bind("pair cosines", pipeline, [params, input, zeroBuf, pairBuf, outBuf, histBuf]),
    );
    pass.dispatchWorkgroups(grid.x, grid.y);
    pass.end();
    const [c, h] = await buffers.submitAndRead(encoder, [
      [outBuf, pn * n * 4],
      [histBuf, pn * Math.max(bins, 1) * 4],
    ]);
    cosines.set(new Float32Array(c!), p0 * n);
    hist.set(new Uint32Array(h!), p0 * Math.max(bins, 1));
  }
  return { cosines, hist };
}

interface BatchOut {
  sum: Float64Array;
  cosines?: Float32Array;
  hist?: Uint32Array;
}

/**
 * Accumulates pairwise similarity over sample batches: `add()` each batch of unit vectors (as
 * {@linkcode normalizeRows} returns them), then `result()`: `sum[i·M + j]` = Σ_x cos(u_i(x),
 * u_j(x)) and `count[i·M + j]` = samples where both gradients are non-zero (p_ind =
 * sum/count). Only output tiles i ≤ j are computed (the Gram matrix is symmetric), in 64×64
 * tiles staged through workgroup memory on GPUs ("tiled") or 8×8 (16×16 from 64 models on)
 * register-blocked tiles on software adapters ("registers", chosen automatically when
 * `gpu.isSoftware`: there every storage load is fetched lane by lane, so each loaded vec4 must
 * feed as many multiply-adds as possible, and barriers are costly); long reductions are cut into spans under the loop cap, the
 * spans' f32 partial tiles are added on the GPU (span_sums.wgsl), and chunks and batches are
 * added in f64 on the CPU. A batch's sums match the f64 reference
 * within 1e-5 per sample (observed ~1e-7). With `histogramBins` or `cosines`, the spans stop
 * at sample boundaries so the same pass yields every chosen pair's per-sample cosine (f32,
 * clamped to [−1, 1]; NaN where either gradient is zero), binned on [−1, 1] on the CPU.
 * A batch whose device is lost is redone in full; sums change only when a batch completes.
 *
 * Cost per batch: about M²·N·D/2 multiply-adds on the GPU (plus tile padding when M is not a
 * multiple of the tile), the upload of the batch, and O(M²·N/32) on the CPU for the counts
 * (O(M²·N) with per-pair outputs).
 *
 * @example
 * ```ts
 * import { PairwiseSimilarity, requestGpu } from "../mod.ts";
 * const gpu = await requestGpu({ forceCpu: true });
 * const acc = new PairwiseSimilarity(gpu, { models: 2, dim: 2 });
 * await acc.add(new Float32Array([1, 0, 0, 1]), new Uint8Array(2)); // one sample
 * await acc.add(new Float32Array([1, 0, 1, 0]), new Uint8Array(2)); // another
 * const r = acc.result();
 * if (r.sum[1] !== 1 || r.count[1] !== 2) throw new Error("wrong");
 * ```
 */
export class PairwiseSimilarity {
  /** The options the accumulator was made with. */
  readonly options: PairwiseOptions;
  readonly #gpu: Gpu;
  readonly #sum: Float64Array;
  readonly #count: Uint32Array;
  readonly #pairs: Array<[number, number]> | null;
  readonly #pairList: Uint32Array | null;
  readonly #bins: number;
  readonly #hist: Uint32Array | null;
  #cosines: Float32Array[] = [];
  #samples = 0;
  #queue: Promise<void> = Promise.resolve();

  /**
   * An empty accumulator for `options.models` models of `options.dim` values per sample.
   *
   * @throws {RangeError} when models, dim or histogramBins is not a positive integer, a pair
   * names a model out of range, or kernel is not a Gram kernel version.
   */
  constructor(gpu: Gpu, options: PairwiseOptions) {
    checkCount("models", options.models);
    checkCount("dim", options.dim);
    if (options.histogramBins !== undefined) checkCount("histogramBins", options.histogramBins);
    if (options.kernel !== undefined && !GRAM_KERNELS.includes(options.kernel)) {
      // e.g. a `kernel` field of some other options object (a convolution's kernel size) spread
      // into these: every size computed for an unknown version would be wrong.
      throw new RangeError(
        `kernel is ${
          JSON.stringify(options.kernel)
        }; expected "tiled", "registers" or undefined (the adapter's default).`,
      );
    }
    this.#gpu = gpu;
    this.options = { ...options };
    const M = options.models;
    this.#sum = new Float64Array(M * M);
    this.#count = new Uint32Array(M * M);
    this.#bins = options.histogramBins ?? 0;
    const wantPairs = this.#bins > 0 || options.cosines === true;
    this.#pairs = wantPairs
      ? (options.pairs ?? allPairs(M)).map(([i, j]) => [i, j] as [number, number])
      : null;
    this.#pairList = this.#pairs ? checkPairs(this.#pairs, M) : null;
    this.#hist = this.#bins > 0 ? new Uint32Array(this.#pairs!.length * this.#bins) : null;
  }

  /** Samples added so far. */
  get samples(): number {
    return this.#samples;
  }

  /**
   * Adds one batch: `units` is `[models][samples][dim]` unit vectors (zero rows for zero
   * gradients) and `zero` is `[models][samples]` with 1 where the gradient is zero. Batches are
   * applied in call order; the sums change only once a batch has completed in full.
   *
   * @throws {TypeError} when the lengths do not match models × samples × dim.
   */
  add(units: Float32Array, zero: Uint8Array): Promise<void> {
    const M = this.options.models, D = this.options.dim;
    const N = checkBatch(units, zero, M, D);
    const run = async () => {
      const out = await runUnit<BatchOut>(
        this.#gpu,
        "pairwise similarity",
        (device) => this.#onGpu(device, units, zero, N),
        () => this.#onCpu(units, zero),
      );
      for (let i = 0; i < M; i++) {
        for (let j = i; j < M; j++) {
          const v = out.sum[i * M + j]!;
          this.#sum[i * M + j]! += v;
          if (i !== j) this.#sum[j * M + i]! += v;
        }
      }
      addCounts(zero, M, this.#count);
      if (this.#hist && out.hist) {
        for (let k = 0; k < this.#hist.length; k++) this.#hist[k]! += out.hist[k]!;
      }
      if (this.options.cosines && out.cosines) this.#cosines.push(out.cosines);
      this.#samples += N;
    };
    const next = this.#queue.then(run);
    this.#queue = next.catch(() => {});
    return next;
  }

  /** The sums so far (copies). Await every `add()` first. */
  result(): PairwiseResult {
    const M = this.options.models;
    const result: PairwiseResult = {
      models: M,
      samples: this.#samples,
      sum: this.#sum.slice(),
      count: this.#count.slice(),
    };
    if (this.#hist && this.#pairs) {
      result.histograms = { bins: this.#bins, pairs: this.#pairs, counts: this.#hist.slice() };
    }
    if (this.options.cosines && this.#pairs) {
      const P = this.#pairs.length, N = this.#samples;
      const values = new Float32Array(P * N);
      let x0 = 0;
      for (const batch of this.#cosines) {
        const n = batch.length / P;
        for (let p = 0; p < P; p++) values.set(batch.subarray(p * n, (p + 1) * n), p * N + x0);
        x0 += n;
      }
      result.cosines = { pairs: this.#pairs, values };
    }
    return result;
  }

  #onCpu(units: Float32Array, zero: Uint8Array): BatchOut {
    const M = this.options.models, D = this.options.dim;
    const out: BatchOut = { sum: gramSums(units, M, zero.length / M, D) };
    if (this.#pairs) {
      const extra = referencePairCosines(units, zero, {
        models: M,
        dim: D,
        pairs: this.#pairs,
        histogramBins: this.#bins || undefined,
        cosines: true,
      });
      out.cosines = extra.cosines!.values;
      if (extra.histograms) out.hist = extra.histograms.counts;
    }
    return out;
  }

  async #onGpu(
    device: GPUDevice,
    units: Float32Array,
    zero: Uint8Array,
    N: number,
  ): Promise<BatchOut> {
    const M = this.options.models, D = this.options.dim;
    const sum = new Float64Array(M * M);
    const kernel = this.options.kernel ?? (this.#gpu.isSoftware ? "registers" : "tiled");
    const pairs = this.#pairs;
    // Per-sample dot products come out of the same Gram pass: its spans then stop at sample
    // boundaries, and a chunk holds as many samples as its partial tiles allow.
    let maxSamples = Infinity;
    if (pairs) {
      const tile = tileOf(kernel, M);
      const lanes = kernel === "registers" ? GRAM_REG_WG : 1;
      maxSamples = Math.max(
        1,
        Math.floor(
          deviceLimit(device, "maxStorageBufferBindingSize") /
            (tile * tile * 4 * spansPerSample(kernel, D) * lanes * Math.ceil(M / tile) ** 2),
        ),
      );
    }
    const chunks = planChunks(M, N, D, this.#gpu.maxBindingBytes, maxSamples);
    if (pairs && chunks.some((c) => c.d1 - c.d0 < D)) {
      throw new RangeError(
        `pairwise similarity: one sample of all ${M} models (${
          4 * M * D
        } bytes) exceeds maxBindingBytes = ${this.#gpu.maxBindingBytes}; per-sample cosines need it whole.`,
      );
    }
    let slot: Int32Array | undefined;
    let dots: Float32Array | undefined;
    const duplicates: Array<[number, number]> = [];
    if (pairs) {
      slot = new Int32Array(M * M).fill(-1);
      dots = new Float32Array(pairs.length * N);
      pairs.forEach(([i, j], p) => {
        const k = Math.min(i, j) * M + Math.max(i, j);
        if (slot![k]! < 0) slot![k] = p;
        else duplicates.push([slot![k]!, p]);
      });
    }
    for (const chunk of chunks) {
      await gramChunk(
        this.#gpu,
        device,
        packChunk(units, M, N, D, chunk),
        { M, n: chunk.x1 - chunk.x0, dim: chunk.d1 - chunk.d0 },
        kernel,
        { sum, slot, dots, samples: N, x0: chunk.x0 },
      );
    }
    const out: BatchOut = { sum };
    if (pairs && dots) {
      for (const [from, to] of duplicates) dots.copyWithin(to * N, from * N, (from + 1) * N);
      const bins = this.#bins;
      const hist = new Uint32Array(pairs.length * Math.max(bins, 1));
      pairs.forEach(([i, j], p) => {
        for (let x = 0; x < N; x++) {
          if (zero[i * N + x] || zero[j * N + x]) {
            dots[p * N + x] = NaN;
            continue;
          }
          const c = Math.fround(Math.max(-1, Math.min(1, dots[p * N + x]!)));
          dots[p * N + x] = c;
          if (bins) hist[p * bins + cosineBin(c, bins)]!++;
        }
      });
      out.cosines = dots;
      if (bins) out.hist = hist;
    }
    return out;
  }
}
