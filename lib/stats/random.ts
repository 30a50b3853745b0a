/**
 * Small seeded pseudo-random generators: xoshiro128** for uniforms and a Box–Muller normal
 * sampler on top of any uniform source. Same seed, same stream, on every machine.
 *
 * @module
 */

/** A source of uniform numbers in [0, 1). */
export type Uniform = () => number;

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * Seeded uniform generator on [0, 1) with 53 random bits per draw (xoshiro128**, state seeded
 * by splitmix32 from `seed`; two 32-bit outputs per number). Period 2^128 − 1.
 *
 * Cost: O(1) per draw, no allocation.
 *
 * @param seed any integer (taken modulo 2^32)
 * @throws {RangeError} when `seed` is not a finite integer
 * @example
 * ```ts
 * import { seededUniform } from "./mod.ts";
 * const a = seededUniform(42), b = seededUniform(42);
 * const x = a();
 * if (x !== b() || x < 0 || x >= 1) throw new Error("not reproducible");
 * ```
 */
export function seededUniform(seed: number): Uniform {
  if (!Number.isInteger(seed)) {
    throw new RangeError(`seed is ${String(seed)}; expected an integer.`);
  }
  const init = splitmix32(seed);
  let s0 = init(), s1 = init(), s2 = init(), s3 = init();
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1;
  const next32 = (): number => {
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3 >>> 0, 11);
    s0 >>>= 0;
    s1 >>>= 0;
    s2 >>>= 0;
    return result;
  };
  return () => ((next32() >>> 5) * 67108864 + (next32() >>> 6)) / 9007199254740992;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/**
 * Standard normal sampler N(0, 1) drawing from `uniform` (Box–Muller, both values of each pair
 * used): z = √(−2 ln u₁) · cos(2π u₂), then √(−2 ln u₁) · sin(2π u₂), with u₁ = 1 − uniform() ∈ (0, 1].
 *
 * Cost: O(1) per draw (one log, one sqrt, one sin/cos per two draws).
 *
 * @throws {TypeError} when `uniform` is not a function
 * @example
 * ```ts
 * import { normalSampler, seededUniform } from "./mod.ts";
 * const normal = normalSampler(seededUniform(1));
 * let s = 0;
 * for (let i = 0; i < 10000; i++) s += normal();
 * if (Math.abs(s / 10000) > 0.05) throw new Error("mean far from 0");
 * ```
 */
export function normalSampler(uniform: Uniform): () => number {
  if (typeof uniform !== "function") {
    throw new TypeError(`uniform is ${typeof uniform}; expected a function returning [0, 1).`);
  }
  let spare = 0;
  let hasSpare = false;
  return () => {
    if (hasSpare) {
      hasSpare = false;
      return spare;
    }
    const u1 = 1 - uniform();
    const u2 = uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    spare = r * Math.sin(2 * Math.PI * u2);
    hasSpare = true;
    return r * Math.cos(2 * Math.PI * u2);
  };
}

/**
 * Uniform integer in [0, n) from `uniform` (floor(n · u)).
 *
 * Cost: O(1).
 *
 * @throws {RangeError} when `n` is not a positive integer
 * @example
 * ```ts
 * import { randomInt, seededUniform } from "./mod.ts";
 * const u = seededUniform(3);
 * const i = randomInt(u, 10);
 * if (!(i >= 0 && i < 10 && Number.isInteger(i))) throw new Error("out of range");
 * ```
 */
export function randomInt(uniform: Uniform, n: number): number {
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`n is ${String(n)}; expected a positive integer.`);
  }
  return Math.floor(uniform() * n);
}

/**
 * `n` seeded uniform numbers on [−1, 1) as float32: 2·u − 1 for the draws u of
 * {@linkcode seededUniform}(`seed`). Reproducible inputs for tests and conformance probes.
 *
 * Cost: O(n), one array.
 *
 * @throws {RangeError} when `seed` is not an integer or `n` is not a non-negative integer
 * @example
 * ```ts
 * import { uniformFloats } from "./mod.ts";
 * const a = uniformFloats(5, 7);
 * if (a.length !== 5 || a.some((v) => v < -1 || v >= 1)) throw new Error("out of range");
 * if (uniformFloats(5, 7).some((v, i) => v !== a[i])) throw new Error("not reproducible");
 * ```
 */
export function uniformFloats(n: number, seed: number): Float32Array {
  if (!Number.isInteger(n) || n < 0) {
    throw new RangeError(`n is ${String(n)}; expected a non-negative integer.`);
  }
  const uniform = seededUniform(seed);
  return Float32Array.from({ length: n }, () => 2 * uniform() - 1);
}
