/**
 * Deep ensembles and the mean direction: an ensemble averages its members' logits; its salience
 * is the input gradient of that average. Per family and width, ensembles of 1 … m members are
 * drawn from the seeds that are not held out, and E_x[t] — the cosine between the ensemble's
 * salience and the mean direction μ of the held-out seeds — is reported beside the ensemble's
 * test loss and accuracy. Single models are listed beside them (μ from every other seed of
 * their width).
 *
 * @module
 */

import { randomInt, seededUniform } from "../stats/mod.ts";
import {
  ANALYSIS_SCHEMA_VERSION,
  bootInterval,
  claim,
  type ClaimEntry,
  type EnsemblePoint,
  type EnsemblesFile,
  type Estimate,
  slope,
} from "../analysis/mod.ts";
import { meanUnitDirection } from "./attack.ts";

/** One trained model's outputs on the probe set. */
export interface EnsembleMember {
  family: string;
  k: number;
  seed: number;
  /** Logits on the N probe images, `N × classes`. */
  logits: Float32Array;
  /** Salience on the same N images, `N × dim` (the gradient of the chosen scalar). */
  gradient: Float32Array;
}

/** Options of {@link ensembleStudy}. */
export interface EnsembleStudyOptions {
  /** Seeds per width held out for μ (default ⌊n/2⌋, at least 1). */
  heldOut?: number;
  /** Ensemble sizes to evaluate (default 1 … the seeds not held out; larger sizes are dropped). */
  sizes?: number[];
  /** Most distinct ensembles drawn per size (default 8). */
  draws?: number;
  /**
   * The ensemble's salience from its members' indices. Default: the mean of the members'
   * gradients, which is exact when the scalar is a logit (the ensemble's logit is the mean of
   * theirs); pass a function for probability or loss scalars.
   */
  ensembleGradient?: (members: number[]) => Promise<Float32Array> | Float32Array;
  /** Bootstrap resamples / level / seed (1000, 0.95, 0). */
  resamples?: number;
  level?: number;
  seed?: number;
  source?: string;
}

/**
 * Mean cross-entropy and accuracy of averaged logits. Cost: O(N · classes · members).
 *
 * @example
 * ```ts
 * import { ensembleLoss } from "./ensemble.ts";
 * const r = ensembleLoss([new Float32Array([0, 0])], new Int32Array([1]), 2);
 * if (Math.abs(r.loss - Math.LN2) > 1e-12) throw new Error("wrong");
 * ```
 */
export function ensembleLoss(
  logits: readonly Float32Array[],
  labels: Int32Array,
  classes: number,
): { loss: number; accuracy: number; perSample: Float64Array } {
  const n = labels.length;
  const perSample = new Float64Array(n);
  let correct = 0;
  const z = new Float64Array(classes);
  for (let x = 0; x < n; x++) {
    z.fill(0);
    for (const l of logits) {
      if (l.length !== n * classes) {
        throw new TypeError(`logits has ${l.length} values; expected ${n} × ${classes}.`);
      }
      for (let c = 0; c < classes; c++) z[c]! += l[x * classes + c]! / logits.length;
    }
    let max = -Infinity, arg = 0;
    for (let c = 0; c < classes; c++) if (z[c]! > max) [max, arg] = [z[c]!, c];
    let s = 0;
    for (let c = 0; c < classes; c++) s += Math.exp(z[c]! - max);
    perSample[x] = Math.log(s) + max - z[labels[x]!]!;
    if (arg === labels[x]) correct++;
  }
  return { loss: perSample.reduce((a, b) => a + b, 0) / n, accuracy: correct / n, perSample };
}

/** Per-sample cosine of `g` to `mu` (NaN where either is zero). */
function cosines(g: Float32Array, mu: Float32Array, n: number, dim: number): Float64Array {
  const out = new Float64Array(n);
  for (let x = 0; x < n; x++) {
    let gg = 0, mm = 0, gm = 0, sg = 0, sm = 0;
    for (let i = 0; i < dim; i++) {
      sg = Math.max(sg, Math.abs(g[x * dim + i]!));
      sm = Math.max(sm, Math.abs(mu[x * dim + i]!));
    }
    if (sg === 0 || sm === 0) {
      out[x] = NaN;
      continue;
    }
    for (let i = 0; i < dim; i++) {
      const a = g[x * dim + i]! / sg, b = mu[x * dim + i]! / sm;
      gg += a * a;
      mm += b * b;
      gm += a * b;
    }
    out[x] = gm / Math.sqrt(gg * mm);
  }
  return out;
}

function finiteMean(v: ArrayLike<number>): { mean: number | null; n: number } {
  let s = 0, n = 0;
  for (let i = 0; i < v.length; i++) if (Number.isFinite(v[i]!)) (s += v[i]!, n++);
  return { mean: n ? s / n : null, n };
}

/**
 * Runs the ensemble study over `members` (all families and widths) with their `labels`.
 *
 * Cost: per width with n seeds and h held out, Σ_m draws ensembles, each O(N·(classes + D)·m).
 *
 * @throws {TypeError} when a member's arrays do not match N, classes and dim.
 *
 * @example
 * ```ts
 * import { ensembleStudy } from "./ensemble.ts";
 * const m = (seed: number, g: number[]) => ({
 *   family: "Lin", k: 1, seed, logits: Float32Array.of(1, 0), gradient: Float32Array.from(g),
 * });
 * const { file } = await ensembleStudy([m(0, [1, 0]), m(1, [1, 1]), m(2, [1, 0.5])],
 *   { labels: Int32Array.of(0), classes: 2, dim: 2 }, { heldOut: 1, resamples: 20 });
 * if (file.curves[0]!.points.length !== 2) throw new Error("expected ensembles of 1 and 2");
 * ```
 */
export async function ensembleStudy(
  members: readonly EnsembleMember[],
  probe: { labels: Int32Array; classes: number; dim: number },
  options: EnsembleStudyOptions = {},
): Promise<{ file: EnsemblesFile }> {
  const N = probe.labels.length, C = probe.classes, D = probe.dim;
  members.forEach((m, i) => {
    if (m.logits.length !== N * C || m.gradient.length !== N * D) {
      throw new TypeError(
        `members[${i}] has ${m.logits.length} logits and ${m.gradient.length} gradient values; expected ${N}×${C} and ${N}×${D}.`,
      );
    }
  });
  const seed = options.seed ?? 0,
    level = options.level ?? 0.95,
    resamples = options.resamples ?? 1000;
  const maxDraws = options.draws ?? 8;
  const u = seededUniform(seed);
  const gradOf = async (idx: number[]) => {
    if (options.ensembleGradient) return await options.ensembleGradient(idx);
    const out = new Float32Array(N * D);
    for (const i of idx) {
      for (let q = 0; q < out.length; q++) out[q]! += members[i]!.gradient[q]! / idx.length;
    }
    return out;
  };
  const keys = [...new Set(members.map((m) => `${m.family}\u0000${m.k}`))];
  const curves: EnsemblesFile["curves"] = [];
  const perSampleCurves: Array<
    Array<{ members: number; t: Float64Array[]; loss: Float64Array[] }>
  > = [];
  for (const key of keys) {
    const [family, kText] = key.split("\u0000") as [string, string];
    const k = Number(kText);
    const idx = members.flatMap((m, i) => (m.family === family && m.k === k ? [i] : [])).sort((
      a,
      b,
    ) => members[a]!.seed - members[b]!.seed);
    const n = idx.length;
    const h = Math.min(n - 1, Math.max(1, options.heldOut ?? Math.floor(n / 2)));
    if (n < 2 || h < 1) continue;
    const held = idx.slice(0, h), pool = idx.slice(h);
    const mu = meanUnitDirection(held.map((i) => members[i]!.gradient), N, D);
    const points: EnsemblePoint[] = [];
    const perSample: Array<{ members: number; t: Float64Array[]; loss: Float64Array[] }> = [];
    const sizes = (options.sizes ?? pool.map((_, i) => i + 1)).filter((z) =>
      Number.isInteger(z) && z >= 1 && z <= pool.length
    );
    for (const size of [...new Set(sizes)].sort((a, b) => a - b)) {
      const subsets = drawSubsets(pool, size, maxDraws, u);
      const ts: Float64Array[] = [], losses: Float64Array[] = [];
      let lossSum = 0, accSum = 0, pairs = 0;
      const perDraw: number[] = [];
      for (const sub of subsets) {
        const t = cosines(await gradOf(sub), mu, N, D);
        const fm = finiteMean(t);
        if (fm.mean !== null) perDraw.push(fm.mean);
        pairs += fm.n;
        ts.push(t);
        const l = ensembleLoss(sub.map((i) => members[i]!.logits), probe.labels, C);
        lossSum += l.loss;
        accSum += l.accuracy;
        losses.push(l.perSample);
      }
      const meanT = finiteMean(perDraw).mean;
      const ci = bootInterval(
        (uu) => {
          const xs = Int32Array.from({ length: N }, () => randomInt(uu, N));
          let sum = 0, c = 0;
          for (const t of ts) for (const q of xs) Number.isFinite(t[q]!) && (sum += t[q]!, c++);
          return c ? sum / c : null;
        },
        { resamples, level, seed: seed + size },
        ["samples"],
        null,
      );
      points.push({
        members: size,
        draws: subsets.length,
        meanT: { mean: meanT, std: std(perDraw), pairs, ci } satisfies Estimate,
        loss: lossSum / subsets.length,
        accuracy: accSum / subsets.length,
      });
      perSample.push({ members: size, t: ts, loss: losses });
    }
    curves.push({ family, k, models: n, points });
    perSampleCurves.push(perSample);
  }
  const singles: EnsemblesFile["singles"] = [];
  for (const [i, m] of members.entries()) {
    const others = members.flatMap((
      o,
      j,
    ) => (j !== i && o.family === m.family && o.k === m.k ? [j] : []));
    if (others.length === 0) continue;
    const mu = meanUnitDirection(others.map((j) => members[j]!.gradient), N, D);
    const t = cosines(m.gradient, mu, N, D);
    const fm = finiteMean(t);
    const l = ensembleLoss([m.logits], probe.labels, C);
    singles.push({
      model: i,
      family: m.family,
      k: m.k,
      seed: m.seed,
      point: {
        members: 1,
        draws: 1,
        meanT: { mean: fm.mean, std: null, pairs: fm.n, ci: null },
        loss: l.loss,
        accuracy: l.accuracy,
      },
    });
  }

  // Claims: slopes against ensemble size, averaged over widths; samples resampled.
  const slopeOver = (
    pick: (p: { t: Float64Array[]; loss: Float64Array[] }) => Float64Array[],
    xs: Int32Array | null,
  ) => {
    const slopes: number[] = [];
    for (const curve of perSampleCurves) {
      if (curve.length < 2) continue;
      const x: number[] = [], y: number[] = [];
      for (const p of curve) {
        const vals: number[] = [];
        for (const arr of pick(p)) {
          let s = 0, c = 0;
          if (xs) { for (const q of xs) Number.isFinite(arr[q]!) && (s += arr[q]!, c++); }
          else for (const v of arr) Number.isFinite(v) && (s += v, c++);
          if (c) vals.push(s / c);
        }
        const fm = finiteMean(vals);
        if (fm.mean === null) continue;
        x.push(p.members);
        y.push(fm.mean);
      }
      const s = slope(x, y);
      if (s !== null) slopes.push(s);
    }
    return slopes.length ? slopes.reduce((a, b) => a + b, 0) / slopes.length : null;
  };
  const claimsOut: ClaimEntry[] = [];
  const pairs = perSampleCurves.reduce((s, c) => s + c.reduce((q, p) => q + p.t.length * N, 0), 0);
  const hasCurve = perSampleCurves.some((c) => c.length >= 2);
  for (
    const spec of [
      {
        id: "ensembles-move-to-mean",
        statement: "Deep ensembles move toward the population mean direction as they grow.",
        measure:
          "mean over widths of the slope of E_x[t] (cosine of the ensemble's salience to μ of held-out seeds) against ensemble size",
        pick: (p: { t: Float64Array[] }) => p.t,
        side: "above" as const,
        unit: "per member",
      },
      {
        id: "ensemble-loss-falls",
        statement: "The test loss of deep ensembles falls as they grow.",
        measure:
          "mean over widths of the slope of the ensemble's test cross-entropy against ensemble size",
        pick: (p: { loss: Float64Array[] }) => p.loss,
        side: "below" as const,
        unit: "per member",
      },
    ]
  ) {
    const interval = bootInterval(
      (uu) =>
        hasCurve
          ? slopeOver(spec.pick as never, Int32Array.from({ length: N }, () => randomInt(uu, N)))
          : null,
      { resamples, level, seed: seed + 17 },
      ["samples"],
      null,
    );
    claimsOut.push(claim({
      id: spec.id,
      statement: spec.statement,
      measure: spec.measure,
      value: hasCurve ? slopeOver(spec.pick as never, null) : null,
      interval,
      threshold: 0,
      side: spec.side,
      pairs,
      unit: spec.unit,
      missing: hasCurve
        ? undefined
        : "no width has enough seeds for ensembles of two sizes besides the held-out ones (needs ≥ 3 seeds)",
    }));
  }
  return {
    file: {
      schemaVersion: ANALYSIS_SCHEMA_VERSION,
      kind: "ensembles",
      generatedAt: new Date().toISOString(),
      source: options.source ?? "ensemble study",
      samples: N,
      curves,
      singles,
      claims: claimsOut,
    },
  };
}

function std(v: number[]): number | null {
  if (v.length === 0) return null;
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  return Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length);
}

/** Up to `max` distinct subsets of `size` items of `pool` (all of them when there are few). */
function drawSubsets(pool: number[], size: number, max: number, u: () => number): number[][] {
  const total = binomial(pool.length, size);
  if (total <= max) {
    const out: number[][] = [];
    const rec = (start: number, acc: number[]) => {
      if (acc.length === size) return void out.push([...acc]);
      for (let i = start; i < pool.length; i++) rec(i + 1, [...acc, pool[i]!]);
    };
    rec(0, []);
    return out;
  }
  const seen = new Set<string>();
  const out: number[][] = [];
  while (out.length < max) {
    const p = [...pool];
    for (let i = p.length - 1; i > 0; i--) {
      const j = randomInt(u, i + 1);
      [p[i], p[j]] = [p[j]!, p[i]!];
    }
    const sub = p.slice(0, size).sort((a, b) => a - b);
    const key = sub.join(",");
    if (!seen.has(key)) (seen.add(key), out.push(sub));
  }
  return out;
}

function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return Math.round(r);
}
