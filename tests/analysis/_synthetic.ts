/** Synthetic gradient sets with planted structure, and direct (unoptimised) recomputations. */
import { normalSampler, seededUniform } from "../../lib/stats/mod.ts";
import type { BatchStream, ModelInput } from "../../lib/analysis/gradients.ts";

export interface Planted {
  models: ModelInput[];
  /** [M][N][D] gradients (unnormalised). */
  data: Float32Array;
  samples: number;
  dim: number;
}

/**
 * g_f(x) = scale · (μ_w(x) + σ_k · z), z ~ N(0, I/D): cos(g, μ) ≈ 1/√(1 + σ²). `sigma(k)` plants
 * the concentration; `sharedMean` false gives every width its own μ (H2 false).
 */
export function plant(options: {
  families: string[];
  ks: number[];
  seeds: number;
  samples: number;
  dim: number;
  /** Noise scale of a model (by width, and optionally family and seed). */
  sigma: (k: number, family?: string, seed?: number) => number;
  sharedMean?: boolean;
  seed?: number;
  scale?: number;
}): Planted {
  const { families, ks, seeds, samples: N, dim: D } = options;
  const normal = normalSampler(seededUniform(options.seed ?? 1));
  const means = new Map<string, Float64Array>();
  const meanOf = (key: string, x: number) => {
    const id = `${key}/${x}`;
    let m = means.get(id);
    if (!m) {
      m = Float64Array.from({ length: D }, () => normal());
      means.set(id, m);
    }
    return m;
  };
  const models: ModelInput[] = [];
  for (const family of families) {
    for (const k of ks) for (let s = 0; s < seeds; s++) models.push({ family, k, seed: s });
  }
  const data = new Float32Array(models.length * N * D);
  models.forEach((m, i) => {
    const sigma = options.sigma(m.k, m.family, m.seed);
    for (let x = 0; x < N; x++) {
      const mu = meanOf(options.sharedMean === false ? `${m.family}/${m.k}` : "shared", x);
      let norm = 0;
      for (const v of mu) norm += v * v;
      norm = Math.sqrt(norm);
      for (let q = 0; q < D; q++) {
        data[(i * N + x) * D + q] = (options.scale ?? 1) *
          (mu[q]! / norm + sigma * normal() / Math.sqrt(D));
      }
    }
  });
  return { models, data, samples: N, dim: D };
}

/**
 * `p`'s models, each trained at batch size 64, followed by `seeds` more models of `family` at
 * width `k` "trained at another batch size": planted on `p`'s samples and dimension with noise
 * `sigma` (seed `seed`, default 1), each then described by `as` (its batch size, say). The
 * analysis keeps such models out of its groups and compares them with the groups' means.
 */
export function withOtherBatchSize(
  p: Planted,
  other: {
    family: string;
    k: number;
    seeds: number;
    sigma: number;
    seed?: number;
    as: (m: ModelInput) => ModelInput;
  },
): Planted {
  const q = plant({
    families: [other.family],
    ks: [other.k],
    seeds: other.seeds,
    samples: p.samples,
    dim: p.dim,
    sigma: () => other.sigma,
    seed: other.seed,
  });
  const data = new Float32Array(p.data.length + q.data.length);
  data.set(p.data);
  data.set(q.data, p.data.length);
  const models = [...p.models.map((m) => ({ ...m, batchSize: 64 })), ...q.models.map(other.as)];
  return { models, data, samples: p.samples, dim: p.dim };
}

/** A batch stream over an in-memory [M][N][D] array. */
export function streamOf(p: Planted): BatchStream {
  const M = p.models.length, N = p.samples, D = p.dim;
  return {
    models: M,
    samples: N,
    dim: D,
    async *batches(batchSize: number) {
      for (let s = 0; s < N; s += batchSize) {
        const count = Math.min(batchSize, N - s);
        const out = new Float32Array(M * count * D);
        for (let m = 0; m < M; m++) {
          out.set(p.data.subarray((m * N + s) * D, (m * N + s + count) * D), m * count * D);
        }
        yield { start: s, count, data: out };
      }
    },
  };
}

/** The gradient of model m at sample x, in f64. */
export function vec(p: Planted, m: number, x: number): Float64Array {
  const D = p.dim, N = p.samples;
  return Float64Array.from(p.data.subarray((m * N + x) * D, (m * N + x + 1) * D));
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

export function unit(a: ArrayLike<number>): Float64Array {
  const n = Math.sqrt(dot(a, a));
  return Float64Array.from(a, (v) => v / n);
}

export function cos(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return dot(unit(a), unit(b));
}

export function sum(vs: Float64Array[]): Float64Array {
  const out = new Float64Array(vs[0]!.length);
  for (const v of vs) for (let i = 0; i < v.length; i++) out[i]! += v[i]!;
  return out;
}

/** Assertions on top of node:assert (no JSR here). */
export function assert(cond: unknown, message?: string): asserts cond {
  if (!cond) throw new Error(message ?? "assertion failed");
}
export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(
      `${message ?? "not equal"}: got ${JSON.stringify(actual)}, expected ${
        JSON.stringify(expected)
      }`,
    );
  }
}
export function assertNotEquals<T>(actual: T, other: T, message?: string): void {
  if (JSON.stringify(actual) === JSON.stringify(other)) {
    throw new Error(`${message ?? "equal"}: got ${JSON.stringify(actual)}, expected anything else`);
  }
}
export function assertAlmostEquals(
  actual: number,
  expected: number,
  tol: number,
  message?: string,
): void {
  if (!(Math.abs(actual - expected) <= tol)) {
    throw new Error(`${message ?? "not close"}: got ${actual}, expected ${expected} ± ${tol}`);
  }
}
