/** Area pooling of a gradient on the CPU, before the kernels, when an analysis compares pooled gradients. */

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
