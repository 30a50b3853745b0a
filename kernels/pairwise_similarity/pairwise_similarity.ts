/**
 * Pairwise similarity on the GPU: the M×M matrix of Σ_x cos(u_i(x), u_j(x)) accumulated over
 * sample batches, with per-pair counts, and optional per-sample cosines and histograms.
 */
import { assertLoopBound, BufferSet, grid2d, loadShader, runUnit } from "../gpu/dispatch.ts";
import { type Gpu, LOOP_CAP } from "../gpu/gpu.ts";
import { allPairs, checkBatch, checkCount, checkPairs } from "../gpu/checks.ts";
import {
  addCounts,
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
/** Register-blocked Gram kernel: each invocation computes an R×R block (R = 4, unrolled). */
export const GRAM_REG_R = 4;
/** Register-blocked Gram kernel: workgroup side. */
export const GRAM_REG_WG = 8;
/** Register-blocked Gram kernel: output tile width WG·R. */
export const GRAM_REG_TILE = GRAM_REG_WG * GRAM_REG_R;
/** Invocations per workgroup of the per-sample pair-cosine kernel (a power of two). */
export const COSINE_WG = 64;

/**
 * The Gram kernel versions: "tiled" stages K-slices in workgroup memory (for GPUs);
 * "registers" reads vec4 rows straight from storage with no barriers (for software adapters,
 * where barriers are costly). Both give the same sums within f32 rounding.
 */
export type GramKernel = "tiled" | "registers";

const GRAM_URL = new URL("./pairwise_similarity.wgsl", import.meta.url);
const GRAM_REG_URL = new URL("./pairwise_registers.wgsl", import.meta.url);
const COSINE_URL = new URL("./pair_cosines.wgsl", import.meta.url);

/**
 * Loop iterations of one Gram invocation for a span of `span` columns (values; the register
 * kernel walks them as vec4).
 */
export function gramLoopBound(span: number, kernel: GramKernel = "tiled"): number {
  return kernel === "tiled"
    ? Math.ceil(span / GRAM_KS) * (GRAM_KS + 1) + 1
    : Math.ceil(span / 4) + 1;
}

/** Loop iterations of one pair-cosine invocation for vectors of `dim` values. */
export function cosineLoopBound(dim: number): number {
  return Math.ceil(dim / COSINE_WG) + Math.log2(COSINE_WG);
}

/** Longest span (values) one Gram invocation may walk under the loop cap. */
function maxSpan(kernel: GramKernel): number {
  return kernel === "tiled"
    ? Math.floor((LOOP_CAP - 1) / (GRAM_KS + 1)) * GRAM_KS
    : (LOOP_CAP - 1) * 4;
}

/** How a batch is cut into storage bindings: sample ranges, or (x, dim-range) pieces. */
interface Chunk {
  x0: number;
  x1: number;
  d0: number;
  d1: number;
}

function planChunks(M: number, N: number, D: number, maxBytes: number): Chunk[] {
  const chunks: Chunk[] = [];
  const perSample = 4 * M * D;
  if (perSample <= maxBytes) {
    const step = Math.max(1, Math.floor(maxBytes / perSample));
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
  if (c.x0 === 0 && c.x1 === N && c.d0 === 0 && c.d1 === D) return units;
  const n = c.x1 - c.x0, d = c.d1 - c.d0;
  const out = new Float32Array(M * n * d);
  for (let m = 0; m < M; m++) {
    if (d === D) {
      out.set(units.subarray((m * N + c.x0) * D, (m * N + c.x1) * D), m * n * D);
    } else {
      for (let x = 0; x < n; x++) {
        const from = (m * N + c.x0 + x) * D + c.d0;
        out.set(units.subarray(from, from + d), (m * n + x) * d);
      }
    }
  }
  return out;
}

/** Adds U Uᵀ of one chunk (M × cols, model-major) into `sum` (f64, upper triangle). */
async function gramChunk(
  gpu: Gpu,
  device: GPUDevice,
  data: Float32Array,
  M: number,
  sum: Float64Array,
  kernel: GramKernel,
): Promise<void> {
  const buffers = new BufferSet(device);
  try {
    await gramChunkOn(gpu, device, buffers, data, M, sum, kernel);
  } finally {
    buffers.destroy();
  }
}

/** Rows of `data` (M × cols) padded with zeros to a multiple of 4 columns. */
function padRows(
  data: Float32Array,
  M: number,
  cols: number,
): { data: Float32Array; cols: number } {
  const cols4 = Math.ceil(cols / 4) * 4;
  if (cols4 === cols) return { data, cols };
  const out = new Float32Array(M * cols4);
  for (let m = 0; m < M; m++) out.set(data.subarray(m * cols, (m + 1) * cols), m * cols4);
  return { data: out, cols: cols4 };
}

async function gramChunkOn(
  gpu: Gpu,
  device: GPUDevice,
  buffers: BufferSet,
  chunk: Float32Array,
  M: number,
  sum: Float64Array,
  kernel: GramKernel,
): Promise<void> {
  const { data, cols } = kernel === "registers"
    ? padRows(chunk, M, chunk.length / M)
    : { data: chunk, cols: chunk.length / M };
  const code = kernel === "tiled"
    ? await loadShader(GRAM_URL, { WG: GRAM_WG, TILE: GRAM_TILE, KS: GRAM_KS })
    : await loadShader(GRAM_REG_URL, { WG: GRAM_REG_WG, TILE: GRAM_REG_TILE, R: GRAM_REG_R });
  const pipeline = gpu.pipeline(
    device,
    kernel === "tiled"
      ? `pairwise gram tiled WG${GRAM_WG} TILE${GRAM_TILE} KS${GRAM_KS}`
      : `pairwise gram registers WG${GRAM_REG_WG} TILE${GRAM_REG_TILE} R${GRAM_REG_R}`,
    code,
  );
  const TILE = kernel === "tiled" ? GRAM_TILE : GRAM_REG_TILE;
  const nb = Math.ceil(M / TILE);
  const tilePairs: number[] = [];
  for (let bi = 0; bi < nb; bi++) for (let bj = bi; bj < nb; bj++) tilePairs.push((bi << 16) | bj);
  const tileBytes = TILE * TILE * 4;
  // Outputs are bounded by the device's own limit (maxBindingBytes splits the inputs).
  const maxBytes = device.limits.maxStorageBufferBindingSize;
  // Enough workgroups to fill the device (a GPU: thousands; a CPU adapter: a few dozen), each
  // walking at most maxSpan columns.
  const target = gpu.isSoftware ? 256 : 4096;
  const wantSpans = Math.max(1, Math.ceil(target / tilePairs.length));
  const step = kernel === "tiled" ? GRAM_KS : 4;
  let span = Math.ceil(cols / wantSpans / step) * step;
  span = Math.min(maxSpan(kernel), Math.max(step * 8, span));
  const spans = Math.ceil(cols / span);
  assertLoopBound(`pairwise gram (${kernel})`, gramLoopBound(span, kernel));
  const group = Math.max(1, Math.floor(maxBytes / (tileBytes * spans)));
  if (tileBytes * spans > maxBytes) {
    throw new RangeError(
      `pairwise gram: ${spans} partial tiles of ${tileBytes} bytes exceed the device's maxStorageBufferBindingSize = ${maxBytes}; use smaller batches.`,
    );
  }
  const input = buffers.storage("pairwise units", data);
  const unit = kernel === "tiled" ? 1 : 4; // the register kernel counts columns in vec4
  for (let g0 = 0; g0 < tilePairs.length; g0 += group) {
    const list = new Uint32Array(tilePairs.slice(g0, g0 + group));
    const tp = list.length;
    const grid = grid2d(device, tp * spans);
    const params = buffers.uniform(
      "pairwise params",
      new Uint32Array([M, cols / unit, span / unit, tp, spans, grid.x, 0, 0]),
    );
    const pairBuf = buffers.storage("pairwise tile pairs", list);
    const partialBytes = spans * tp * tileBytes;
    const partial = buffers.storage("pairwise partial tiles", partialBytes, true);
    const encoder = device.createCommandEncoder({ label: "pairwise gram" });
    const pass = encoder.beginComputePass({ label: "pairwise gram" });
    pass.setPipeline(pipeline);
    pass.setBindGroup(
      0,
      buffers.bind("pairwise gram", pipeline, [params, input, pairBuf, partial]),
    );
    pass.dispatchWorkgroups(grid.x, grid.y);
    pass.end();
    const [out] = await buffers.submitAndRead(encoder, [[partial, partialBytes]]);
    const tiles = new Float32Array(out!);
    for (let s = 0; s < spans; s++) {
      for (let t = 0; t < tp; t++) {
        const packed = list[t]!;
        const r0 = (packed >>> 16) * TILE, c0 = (packed & 0xffff) * TILE;
        const base = (s * tp + t) * TILE * TILE;
        for (let r = 0; r < TILE && r0 + r < M; r++) {
          const i = r0 + r;
          for (let c = 0; c < TILE && c0 + c < M; c++) {
            const j = c0 + c;
            if (j >= i) sum[i * M + j]! += tiles[base + r * TILE + c]!;
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
 * {@linkcode normalizeRows} returns them), then `result()`. Sums are kept in f64 on the CPU;
 * each batch's GPU partial sums are f32 over at most ~56,000 products each, so a batch's sums
 * match the f64 reference within about 1e-6·(samples in the batch) absolute (tests use
 * 2e-5·samples). Only tiles i ≤ j are computed. A batch whose device is lost is redone.
 *
 * Cost per batch: M²·N·D multiply-adds on the GPU (half, by symmetry, plus tile padding), the
 * upload of the batch, and O(M²·N/32) on the CPU for the counts.
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
   * @throws {RangeError} when models, dim or histogramBins is not a positive integer, or a pair
   * names a model out of range.
   */
  constructor(gpu: Gpu, options: PairwiseOptions) {
    checkCount("models", options.models);
    checkCount("dim", options.dim);
    if (options.histogramBins !== undefined) checkCount("histogramBins", options.histogramBins);
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
    const N = zero.length / M;
    const sum = new Float64Array(M * M);
    for (let i = 0; i < M; i++) {
      for (let j = i; j < M; j++) {
        let s = 0;
        for (let x = 0; x < N; x++) {
          const a = (i * N + x) * D, b = (j * N + x) * D;
          for (let d = 0; d < D; d++) s += units[a + d]! * units[b + d]!;
        }
        sum[i * M + j] = s;
      }
    }
    const out: BatchOut = { sum };
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
    const chunks = planChunks(M, N, D, this.#gpu.maxBindingBytes);
    if (this.#pairList && chunks.some((c) => c.d1 - c.d0 < D)) {
      throw new RangeError(
        `pairwise similarity: one sample of all ${M} models (${
          4 * M * D
        } bytes) exceeds maxBindingBytes = ${this.#gpu.maxBindingBytes}; per-sample cosines need it whole.`,
      );
    }
    for (const chunk of chunks) {
      await gramChunk(this.#gpu, device, packChunk(units, M, N, D, chunk), M, sum, kernel);
    }
    const out: BatchOut = { sum };
    if (this.#pairList) {
      const P = this.#pairList.length / 2;
      const cosines = new Float32Array(P * N);
      const hist = new Uint32Array(P * Math.max(this.#bins, 1));
      for (const chunk of chunks) {
        const n = chunk.x1 - chunk.x0;
        const z = new Uint32Array(M * n);
        for (let m = 0; m < M; m++) {
          for (let x = 0; x < n; x++) z[m * n + x] = zero[m * N + chunk.x0 + x]!;
        }
        const r = await pairCosinesOnDevice(
          this.#gpu,
          device,
          packChunk(units, M, N, D, chunk),
          z,
          {
            M,
            n,
            D,
            bins: this.#bins,
            pairList: this.#pairList,
          },
        );
        for (let p = 0; p < P; p++) {
          cosines.set(r.cosines.subarray(p * n, (p + 1) * n), p * N + chunk.x0);
        }
        for (let k = 0; k < hist.length; k++) hist[k]! += r.hist[k]!;
      }
      out.cosines = cosines;
      if (this.#bins) out.hist = hist;
    }
    return out;
  }
}
