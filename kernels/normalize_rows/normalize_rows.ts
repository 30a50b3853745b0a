/** Normalise + pool on the GPU: unit vectors of every (model, sample) gradient. */
import { assertLoopBound, BufferSet, grid2d, loadShader, runUnit } from "../gpu/dispatch.ts";
import type { Gpu } from "../gpu/gpu.ts";
import {
  checkNormalize,
  nonFiniteError,
  type NormalizedBatch,
  type NormalizeOptions,
  normalizeRows as referenceNormalizeRows,
  type PoolOptions,
} from "./_reference.ts";

/** Invocations per workgroup (one workgroup per row; a power of two). */
export const NORMALIZE_WG = 256;

const URL_ = new URL("./normalize_rows.wgsl", import.meta.url);

/** Largest number of input rows (or columns) one pooling window spans. */
function maxWindow(inSize: number, outSize: number): number {
  let w = 0;
  for (let i = 0; i < outSize; i++) {
    w = Math.max(w, Math.ceil(((i + 1) * inSize) / outSize) - Math.floor((i * inSize) / outSize));
  }
  return w;
}

/** Loop iterations of one invocation of the normalise kernel. */
export function normalizeLoopBound(outDim: number, pool?: PoolOptions): number {
  const per = Math.ceil(outDim / NORMALIZE_WG);
  const window = pool
    ? 1 + maxWindow(pool.height, pool.size) * (1 + maxWindow(pool.width, pool.size))
    : 1;
  return per * window + 2 * per + 3 * Math.log2(NORMALIZE_WG);
}

/**
 * Normalises (and optionally area-pools) a batch of gradients `[models][samples][dim]` to unit
 * vectors, as {@linkcode reference.normalizeRows} does in f64: per row the scaled norm
 * `max|g| · ‖g/max|g|‖` (so 1e-30 and 1e30 both work in f32) and `u = (g/max|g|)/‖g/max|g|‖`.
 * Zero gradients give zero rows, are flagged in `zero` and counted in `zeroCount`. Rows larger
 * than a storage binding are not supported; batches larger than one are split by rows (exact).
 * GPU unit vectors match the reference within 1e-6 per value (f32).
 *
 * Cost: one pass over the batch on the GPU, plus its upload and read-back.
 *
 * @throws {TypeError} when the length does not match models × samples × dim (or the pool shape).
 * @throws {RangeError} when a gradient holds NaN or ±Inf, naming the model and sample.
 *
 * @example
 * ```ts
 * import { normalizeRows, requestGpu } from "../mod.ts";
 * const gpu = await requestGpu();
 * const r = await normalizeRows(gpu, new Float32Array([3, 4, 0, 0]), { models: 1, dim: 2 });
 * if (Math.abs(r.units[1]! - 0.8) > 1e-6 || r.zeroCount !== 1) throw new Error("wrong");
 * gpu.destroy();
 * ```
 */
export async function normalizeRows(
  gpu: Gpu,
  grads: Float32Array,
  options: NormalizeOptions,
): Promise<NormalizedBatch> {
  const { samples: N, outDim } = checkNormalize(grads, options);
  const result = await runUnit(
    gpu,
    "normalize rows",
    (device) => onGpu(gpu, device, grads, options, N, outDim),
    () => referenceNormalizeRows(grads, options),
  );
  if ("badRow" in result) throw nonFiniteError(Math.floor(result.badRow / N), result.badRow % N, N);
  return result;
}

async function onGpu(
  gpu: Gpu,
  device: GPUDevice,
  grads: Float32Array,
  options: NormalizeOptions,
  N: number,
  outDim: number,
): Promise<NormalizedBatch | { badRow: number }> {
  const { models: M, dim: D, pool } = options;
  assertLoopBound("normalize rows", normalizeLoopBound(outDim, pool));
  const code = await loadShader(URL_, { WG: NORMALIZE_WG });
  const pipeline = gpu.pipeline(device, `normalize rows WG${NORMALIZE_WG}`, code);
  const rows = M * N;
  const rowBytes = 4 * Math.max(D, outDim, 3);
  const step = Math.floor(gpu.maxBindingBytes / rowBytes);
  if (step < 1) {
    throw new RangeError(
      `normalize rows: one gradient row is ${rowBytes} bytes, more than maxBindingBytes = ${gpu.maxBindingBytes}; pool it smaller or raise the limit.`,
    );
  }
  const units = new Float32Array(rows * outDim);
  const stats = new Uint32Array(rows * 3);
  for (let r0 = 0; r0 < rows; r0 += step) {
    const n = Math.min(step, rows - r0);
    const buffers = new BufferSet(device);
    try {
      const grid = grid2d(device, n);
      const params = buffers.uniform(
        "normalize params",
        new Uint32Array([
          n,
          D,
          outDim,
          grid.x,
          pool?.size ?? 0,
          pool?.channels ?? 0,
          pool?.height ?? 0,
          pool?.width ?? 0,
        ]),
      );
      const input = buffers.storage("normalize gradients", grads.subarray(r0 * D, (r0 + n) * D));
      const output = buffers.storage("normalize unit vectors", n * outDim * 4, true);
      const stat = buffers.storage("normalize row stats", n * 12, true);
      const encoder = device.createCommandEncoder({ label: "normalize rows" });
      const pass = encoder.beginComputePass({ label: "normalize rows" });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, buffers.bind("normalize rows", pipeline, [params, input, output, stat]));
      pass.dispatchWorkgroups(grid.x, grid.y);
      pass.end();
      const [u, s] = await buffers.submitAndRead(encoder, [[output, n * outDim * 4], [
        stat,
        n * 12,
      ]]);
      units.set(new Float32Array(u!), r0 * outDim);
      stats.set(new Uint32Array(s!), r0 * 3);
    } finally {
      buffers.destroy();
    }
  }
  const zero = new Uint8Array(rows);
  const norms = new Float64Array(rows);
  const asFloat = new Float32Array(stats.buffer);
  let zeroCount = 0;
  for (let r = 0; r < rows; r++) {
    const status = stats[3 * r]!;
    if (status === 2) return { badRow: r };
    if (status === 1) {
      zero[r] = 1;
      zeroCount++;
    } else {
      norms[r] = asFloat[3 * r + 1]! * asFloat[3 * r + 2]!;
    }
  }
  return { models: M, samples: N, dim: outDim, units, zero, zeroCount, norms };
}
