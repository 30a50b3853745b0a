/**
 * The float64 reference of the sample-Gram kernel (the test oracle and the CPU path), and the
 * finishing step both paths share: from scaled Grams to unit-vector cosines.
 */

/** Shape of a gradient batch, model-major `[models][samples][dim]`. */
export interface BatchShape {
  models: number;
  samples: number;
  dim: number;
}

/** Row status: a live row, a zero row, a row holding NaN or ±Inf. */
export const ROW_LIVE = 0, ROW_ZERO = 1, ROW_NON_FINITE = 2;

/** f32's smallest normal magnitude: rows whose largest magnitude is below it count as zero. */
export const SMALLEST_NORMAL = 2 ** -126;

/** What {@linkcode sampleGrams} returns for one batch. */
export interface SampleGrams {
  models: number;
  samples: number;
  /**
   * cos(u_i(x), u_j(x)) per sample, `[samples][models][models]`: 1 on the diagonal of live rows,
   * 0 in every row and column of a row left out.
   */
  grams: Float64Array;
  /** Per row `[models][samples]`: 0 live, 1 zero, 2 NaN/±Inf (left out like a zero row). */
  status: Uint8Array;
  /** Rows left out for being zero. */
  zeros: number;
  /** Rows left out for holding NaN or ±Inf. */
  nonFinite: number;
}

/** The status of one row from its largest magnitude (NaN when a value is not finite). */
export function rowStatus(maxAbs: number): number {
  if (!Number.isFinite(maxAbs)) return ROW_NON_FINITE;
  return maxAbs < SMALLEST_NORMAL ? ROW_ZERO : ROW_LIVE;
}

/**
 * Unit-vector cosines from scaled Grams: `raw` holds Σ_d (g_i s_i)(g_j s_j) per sample
 * `[samples][M][M]`, so cos = raw[i][j] / √(raw[i][i] raw[j][j]) (clamped to [−1, 1]); rows
 * whose status is not live give 0. Counts the zero and non-finite rows. Cost O(S·M²).
 */
export function finishGrams(
  raw: ArrayLike<number>,
  status: Uint8Array,
  shape: { models: number; samples: number },
): SampleGrams {
  const { models: m, samples: s } = shape;
  const grams = new Float64Array(s * m * m);
  const inv = new Float64Array(m);
  for (let x = 0; x < s; x++) {
    const o = x * m * m;
    for (let i = 0; i < m; i++) {
      const d = raw[o + i * m + i]!;
      inv[i] = status[i * s + x] === ROW_LIVE && d > 0 ? 1 / Math.sqrt(d) : 0;
    }
    for (let i = 0; i < m; i++) {
      const ii = inv[i]!;
      if (ii === 0) continue;
      grams[o + i * m + i] = 1;
      for (let j = i + 1; j < m; j++) {
        if (inv[j] === 0) continue;
        const c = raw[o + i * m + j]! * ii * inv[j]!;
        grams[o + i * m + j] = grams[o + j * m + i] = c > 1 ? 1 : c < -1 ? -1 : c;
      }
    }
  }
  let zeros = 0, nonFinite = 0;
  for (const v of status) {
    if (v === ROW_ZERO) zeros++;
    else if (v === ROW_NON_FINITE) nonFinite++;
  }
  return { models: m, samples: s, grams, status, zeros, nonFinite };
}

/**
 * Per-sample unit-vector Grams of a batch in float64: each row's largest magnitude, the scaled
 * Gram Σ_d (g_i/max_i)(g_j/max_j), then {@linkcode finishGrams}. Cost O(S·M²·D).
 */
export function sampleGramsReference(grads: Float32Array, shape: BatchShape): SampleGrams {
  const { models: m, samples: s, dim } = shape;
  const rows = m * s;
  const status = new Uint8Array(rows);
  const scaled = new Float64Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    let big = 0;
    for (let d = 0; d < dim; d++) {
      const a = Math.abs(grads[o + d]!);
      if (!(a <= big)) big = Number.isFinite(a) ? a : NaN;
      if (Number.isNaN(big)) break;
    }
    status[r] = rowStatus(big);
    if (status[r] !== ROW_LIVE) continue;
    for (let d = 0; d < dim; d++) scaled[o + d] = grads[o + d]! / big;
  }
  const raw = new Float64Array(s * m * m);
  for (let x = 0; x < s; x++) {
    for (let i = 0; i < m; i++) {
      const oi = (i * s + x) * dim;
      for (let j = i; j < m; j++) {
        const oj = (j * s + x) * dim;
        let acc = 0;
        for (let d = 0; d < dim; d++) acc += scaled[oi + d]! * scaled[oj + d]!;
        raw[(x * m + i) * m + j] = raw[(x * m + j) * m + i] = acc;
      }
    }
  }
  return finishGrams(raw, status, shape);
}
