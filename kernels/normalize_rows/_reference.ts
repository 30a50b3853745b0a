/** Pure-TypeScript reference of the normalise + pool kernel (f64 arithmetic). */
import { checkCount } from "../gpu/checks.ts";

/** P×P area pooling per channel of a channels × height × width gradient. */
export interface PoolOptions {
  /** Channels C of each gradient. */
  channels: number;
  /** Height H of each channel. */
  height: number;
  /** Width W of each channel. */
  width: number;
  /** Output side P (1 ≤ P ≤ min(height, width)). */
  size: number;
}

/** Shape and options of {@linkcode normalizeRows}. */
export interface NormalizeOptions {
  /** Number of models M. */
  models: number;
  /** Values per gradient (channels·height·width when pooling). */
  dim: number;
  /** Samples per model in this batch (default: inferred from the length). */
  samples?: number;
  /** Area-pool each channel to size × size first (PyTorch `interpolate(mode='area')`). */
  pool?: PoolOptions;
}

/** Unit vectors of one batch, model-major `[models][samples][dim]`. */
export interface NormalizedBatch {
  /** Number of models M. */
  models: number;
  /** Samples in the batch N. */
  samples: number;
  /** Values per unit vector (channels·P·P when pooled). */
  dim: number;
  /** The unit vectors; a zero gradient gives a zero row. */
  units: Float32Array;
  /** `[models][samples]`: 1 where the gradient is zero (excluded from every average). */
  zero: Uint8Array;
  /** Number of zero gradients in the batch. */
  zeroCount: number;
  /** `[models][samples]`: the L2 norm of each (pooled) gradient. */
  norms: Float64Array;
}

/** Checks the shape, returns samples and the output dimension. */
export function checkNormalize(
  grads: Float32Array,
  options: NormalizeOptions,
): { samples: number; outDim: number } {
  const { models, dim, pool } = options;
  checkCount("models", models);
  checkCount("dim", dim);
  if (!(grads instanceof Float32Array)) {
    throw new TypeError(`grads is a ${typeof grads}; expected a Float32Array.`);
  }
  const samples = options.samples ?? grads.length / (models * dim);
  if (!Number.isInteger(samples) || samples < 1 || grads.length !== models * samples * dim) {
    throw new TypeError(
      `grads has ${grads.length} values; expected models × samples × dim with models = ${models}, dim = ${dim}${
        options.samples ? `, samples = ${options.samples}` : ""
      } and at least one sample.`,
    );
  }
  let outDim = dim;
  if (pool) {
    checkCount("pool.channels", pool.channels);
    checkCount("pool.height", pool.height);
    checkCount("pool.width", pool.width);
    checkCount("pool.size", pool.size);
    if (pool.channels * pool.height * pool.width !== dim) {
      throw new TypeError(
        `pool is ${pool.channels}×${pool.height}×${pool.width} = ${
          pool.channels * pool.height * pool.width
        } values; expected dim = ${dim}.`,
      );
    }
    if (pool.size > Math.min(pool.height, pool.width)) {
      throw new RangeError(
        `pool.size is ${pool.size}; expected at most min(height, width) = ${
          Math.min(pool.height, pool.width)
        }.`,
      );
    }
    outDim = pool.channels * pool.size * pool.size;
  }
  return { samples, outDim };
}

/**
 * Area pooling of one channels × height × width array to channels × size × size (adaptive
 * average pooling, PyTorch's `interpolate(mode='area')`): output cell (c, i, j) is the mean of
 * input rows ⌊i·H/P⌋ … ⌈(i+1)·H/P⌉−1 and columns ⌊j·W/P⌋ … ⌈(j+1)·W/P⌉−1 of channel c.
 *
 * Cost: O(C·H·W) roughly (overlapping windows reread a few values).
 *
 * @throws {TypeError} when `values` does not hold channels·height·width values.
 *
 * @example
 * ```ts
 * import { reference } from "../mod.ts";
 * const out = reference.areaPool(new Float32Array([1, 2, 3, 4]),
 *   { channels: 1, height: 2, width: 2, size: 1 });
 * if (out[0] !== 2.5) throw new Error("wrong");
 * ```
 */
export function areaPool(values: ArrayLike<number>, pool: PoolOptions): Float64Array {
  const { channels: C, height: H, width: W, size: P } = pool;
  if (values.length !== C * H * W) {
    throw new TypeError(`values has ${values.length} entries; expected ${C}×${H}×${W}.`);
  }
  const out = new Float64Array(C * P * P);
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < P; i++) {
      const h0 = Math.floor((i * H) / P), h1 = Math.ceil(((i + 1) * H) / P);
      for (let j = 0; j < P; j++) {
        const w0 = Math.floor((j * W) / P), w1 = Math.ceil(((j + 1) * W) / P);
        let s = 0;
        for (let h = h0; h < h1; h++) {
          for (let w = w0; w < w1; w++) s += values[(c * H + h) * W + w]!;
        }
        out[(c * P + i) * P + j] = s / ((h1 - h0) * (w1 - w0));
      }
    }
  }
  return out;
}

/**
 * Normalise (+ optionally area-pool) every (model, sample) gradient to a unit vector, in f64:
 * `u = (g/max|g|) / ‖g/max|g|‖`. Zero gradients give zero rows and are flagged in `zero`.
 * The reference the WGSL kernel is tested against, and the CPU fallback.
 *
 * Cost: O(M·N·D).
 *
 * @throws {TypeError} when the length does not match models × samples × dim (or the pool shape).
 * @throws {RangeError} when a gradient holds NaN or ±Inf (naming the model and sample).
 *
 * @example
 * ```ts
 * import { reference } from "../mod.ts";
 * const r = reference.normalizeRows(new Float32Array([3e-30, 4e-30, 0, 0]), { models: 1, dim: 2 });
 * if (Math.abs(r.units[0]! - 0.6) > 1e-7 || r.zero[1] !== 1) throw new Error("wrong");
 * ```
 */
export function normalizeRows(grads: Float32Array, options: NormalizeOptions): NormalizedBatch {
  const { samples: N, outDim } = checkNormalize(grads, options);
  const { models: M, dim: D, pool } = options;
  const units = new Float32Array(M * N * outDim);
  const zero = new Uint8Array(M * N);
  const norms = new Float64Array(M * N);
  let zeroCount = 0;
  for (let m = 0; m < M; m++) {
    for (let x = 0; x < N; x++) {
      const row = m * N + x;
      const g = grads.subarray(row * D, (row + 1) * D);
      for (let d = 0; d < D; d++) {
        if (!Number.isFinite(g[d]!)) throw nonFiniteError(m, x, N, g[d]!);
      }
      const v = pool ? areaPool(g, pool) : g;
      let mx = 0;
      for (let d = 0; d < outDim; d++) mx = Math.max(mx, Math.abs(v[d]!));
      if (mx === 0) {
        zero[row] = 1;
        zeroCount++;
        continue;
      }
      let ss = 0;
      for (let d = 0; d < outDim; d++) ss += (v[d]! / mx) ** 2;
      const root = Math.sqrt(ss);
      norms[row] = mx * root;
      for (let d = 0; d < outDim; d++) units[row * outDim + d] = v[d]! / mx / root;
    }
  }
  return { models: M, samples: N, dim: outDim, units, zero, zeroCount, norms };
}

/** The error for a non-finite gradient value. */
export function nonFiniteError(
  model: number,
  sample: number,
  samples: number,
  value?: number,
): RangeError {
  return new RangeError(
    `The gradient of model ${model} at sample ${sample} (row ${model * samples + sample}) holds ${
      value === undefined ? "NaN or Inf" : value
    }; expected finite values (check the salience extraction for overflow).`,
  );
}
