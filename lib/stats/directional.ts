/**
 * Directional statistics of sets of unit vectors: mean direction, mean resultant length and
 * spherical variance.
 *
 * @module
 */

/** Options of the directional statistics. */
export interface DirectionalOptions {
  /**
   * Normalise every vector to unit length first (default false: the vectors must already be unit
   * vectors, within `tolerance`). A zero vector cannot be normalised and throws.
   */
  normalize?: boolean;
  /** Allowed |‖v‖ − 1| for vectors taken as unit (default 1e-3, room for f32 rounding). */
  tolerance?: number;
}

/** The mean of a set of unit vectors, its length and its direction. */
export interface MeanDirection {
  /** Mean resultant length R̄ = ‖(1/n) Σ uᵢ‖ ∈ [0, 1]. */
  resultantLength: number;
  /** μ = m / ‖m‖; null when the mean is exactly the zero vector (no direction). */
  direction: Float64Array | null;
  /** Number of vectors. */
  n: number;
}

/**
 * The mean vector m = (1/n) Σ uᵢ of unit vectors, its length R̄ = ‖m‖ and direction μ = m/R̄.
 * Sums in f64; the norm is computed scaled by the largest magnitude so tiny vectors do not
 * underflow.
 *
 * Cost: O(n·D) time, O(D) memory.
 *
 * @param vectors n ≥ 1 vectors of one dimension D ≥ 1
 * @throws {RangeError} when there are no vectors, a vector holds a non-finite entry, is not a unit
 *   vector within the tolerance (without `normalize`) or is zero (with it); each names its index
 * @throws {TypeError} when the vectors differ in dimension or have none
 * @example
 * ```ts
 * import { meanDirection } from "./mod.ts";
 * const { resultantLength, direction } = meanDirection([[1, 0], [0, 1]]);
 * if (Math.abs(resultantLength - Math.SQRT1_2) > 1e-15) throw new Error("wrong R̄");
 * if (Math.abs(direction![0]! - Math.SQRT1_2) > 1e-15) throw new Error("wrong μ");
 * ```
 */
export function meanDirection(
  vectors: readonly ArrayLike<number>[],
  options: DirectionalOptions = {},
): MeanDirection {
  const n = vectors.length;
  if (n === 0) throw new RangeError(`vectors is empty; pass at least one vector.`);
  const dim = vectors[0]!.length;
  if (!(dim >= 1)) throw new TypeError(`vectors[0] has no entries; expected dimension ≥ 1.`);
  const tol = options.tolerance ?? 1e-3;
  const sum = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    const v = vectors[i]!;
    if (v.length !== dim) {
      throw new TypeError(
        `vectors[${i}] has dimension ${v.length}; expected ${dim} like vectors[0].`,
      );
    }
    const norm = scaledNorm(v, `vectors[${i}]`);
    if (options.normalize) {
      if (norm === 0) {
        throw new RangeError(
          `vectors[${i}] is the zero vector; it has no direction (leave it out).`,
        );
      }
      for (let j = 0; j < dim; j++) sum[j]! += v[j]! / norm;
    } else {
      if (Math.abs(norm - 1) > tol) {
        throw new RangeError(
          `vectors[${i}] has norm ${norm}; expected a unit vector (within ${tol}) ` +
            `or pass normalize: true.`,
        );
      }
      for (let j = 0; j < dim; j++) sum[j]! += v[j]!;
    }
  }
  for (let j = 0; j < dim; j++) sum[j]! /= n;
  const r = scaledNorm(sum, "mean");
  if (r === 0) return { resultantLength: 0, direction: null, n };
  for (let j = 0; j < dim; j++) sum[j]! /= r;
  return { resultantLength: r, direction: sum, n };
}

function scaledNorm(v: ArrayLike<number>, name: string): number {
  let max = 0;
  for (let j = 0; j < v.length; j++) {
    const x = v[j]!;
    if (!Number.isFinite(x)) {
      throw new RangeError(`${name}[${j}] is ${x}; expected a finite number.`);
    }
    max = Math.max(max, Math.abs(x));
  }
  if (max === 0) return 0;
  let s = 0;
  for (let j = 0; j < v.length; j++) {
    const x = v[j]! / max;
    s += x * x;
  }
  return max * Math.sqrt(s);
}

/**
 * Mean resultant length R̄ = ‖(1/n) Σᵢ uᵢ‖ of unit vectors: 1 when all agree, near 0 when they
 * scatter (≈ 1/√n for n random directions in high dimension).
 *
 * Cost: O(n·D).
 *
 * @throws {RangeError} and {TypeError} as {@link meanDirection}
 * @example
 * ```ts
 * import { meanResultantLength } from "./mod.ts";
 * if (meanResultantLength([[1, 0], [-1, 0]]) !== 0) throw new Error("opposite vectors cancel");
 * ```
 */
export function meanResultantLength(
  vectors: readonly ArrayLike<number>[],
  options: DirectionalOptions = {},
): number {
  return meanDirection(vectors, options).resultantLength;
}

/**
 * Spherical variance 1 − R̄ of unit vectors (0 when all agree, up to 1).
 *
 * Cost: O(n·D).
 *
 * @throws {RangeError} and {TypeError} as {@link meanDirection}
 * @example
 * ```ts
 * import { sphericalVariance } from "./mod.ts";
 * if (sphericalVariance([[0, 1], [0, 1]]) !== 0) throw new Error("identical vectors");
 * ```
 */
export function sphericalVariance(
  vectors: readonly ArrayLike<number>[],
  options: DirectionalOptions = {},
): number {
  return 1 - meanDirection(vectors, options).resultantLength;
}
