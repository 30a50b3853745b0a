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

import {
  deriveSeed,
  meanOfFinite,
  meanPopulationStd,
  randomInt,
  seededUniform,
} from "../stats/mod.ts";
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
 * Runs the ensemble study over `members` (all families and widths) with their `labels`: plans
 * the held-out seeds and ensembles of each width ({@link ensemblePlans}), measures them, and
 * builds the curves ({@link curvePoints}), the single models ({@link singleModelPoints}) and the
 * claims ({@link ensembleClaims}).
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
  probe: EnsembleProbe,
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
  const settings = {
    resamples: options.resamples ?? 1000,
    level: options.level ?? 0.95,
    seed: options.seed ?? 0,
  };
  const gradOf = async (idx: number[]) => {
    if (options.ensembleGradient) return await options.ensembleGradient(idx);
    const out = new Float32Array(N * D);
    for (const i of idx) {
      for (let q = 0; q < out.length; q++) out[q]! += members[i]!.gradient[q]! / idx.length;
    }
    return out;
  };
  const u = seededUniform(settings.seed);
  const curves: EnsembleCurve[] = [];
  for (const plan of ensemblePlans(members, options, u)) {
    curves.push(await measureCurve(plan, members, probe, gradOf));
  }
  return {
    file: {
      schemaVersion: ANALYSIS_SCHEMA_VERSION,
      kind: "ensembles",
      generatedAt: new Date().toISOString(),
      source: options.source ?? "ensemble study",
      samples: N,
      curves: curves.map((c) => curvePoints(c, N, settings)),
      singles: singleModelPoints(members, probe),
      claims: ensembleClaims(curves, N, settings),
    },
  };
}

/** The probe set of the ensemble study. */
export interface EnsembleProbe {
  labels: Int32Array;
  classes: number;
  dim: number;
}

/** One width's plan: held-out seeds for μ and the member subsets drawn per ensemble size. */
export interface EnsemblePlan {
  family: string;
  k: number;
  models: number;
  /** Every member index of the width (held-out seeds and pool), by seed. */
  seeds: number[];
  held: number[];
  subsets: Array<{ size: number; draws: number[][] }>;
}

/**
 * Per family and width (with ≥ 2 seeds), the seeds held out for μ (the first h by seed) and up
 * to `draws` distinct member subsets of each size from the rest, drawn from `u`.
 * Cost: O(widths · sizes · draws · n).
 *
 * @example
 * ```ts
 * import { ensemblePlans } from "./ensemble.ts";
 * const ms = [0, 1, 2, 3].map((seed) => ({ family: "A", k: 1, seed }));
 * const [p] = ensemblePlans(ms, {}, Math.random);
 * if (p!.held.join() !== "0,1" || p!.subsets.length !== 2) throw new Error("wrong plan");
 * ```
 */
export function ensemblePlans(
  members: ReadonlyArray<{ family: string; k: number; seed: number }>,
  options: Pick<EnsembleStudyOptions, "heldOut" | "sizes" | "draws">,
  u: () => number,
): EnsemblePlan[] {
  const maxDraws = options.draws ?? 8;
  const keys = [...new Set(members.map((m) => `${m.family}\u0000${m.k}`))];
  const plans: EnsemblePlan[] = [];
  for (const key of keys) {
    const [family, kText] = key.split("\u0000") as [string, string];
    const k = Number(kText);
    const idx = members.flatMap((m, i) => (m.family === family && m.k === k ? [i] : []))
      .sort((a, b) => members[a]!.seed - members[b]!.seed);
    const n = idx.length;
    const h = Math.min(n - 1, Math.max(1, options.heldOut ?? Math.floor(n / 2)));
    if (n < 2 || h < 1) continue;
    const held = idx.slice(0, h), pool = idx.slice(h);
    const sizes = (options.sizes ?? pool.map((_, i) => i + 1)).filter((z) =>
      Number.isInteger(z) && z >= 1 && z <= pool.length
    );
    plans.push({
      family,
      k,
      models: n,
      seeds: idx,
      held,
      subsets: [...new Set(sizes)].sort((a, b) => a - b).map((size) => ({
        size,
        draws: drawSubsets(pool, size, maxDraws, u),
      })),
    });
  }
  return plans;
}

/** Per-sample t and loss of every drawn ensemble of one width. */
export interface EnsembleCurve {
  plan: EnsemblePlan;
  /**
   * Per sample: the mean pairwise cosine of the unit gradients of every seed of the width
   * (the per-sample p(k, k)); NaN where fewer than two gradients are non-zero.
   */
  rho: Float64Array;
  sizes: Array<{
    members: number;
    /** Per draw: cosine of the ensemble's salience to μ per sample (NaN where undefined). */
    t: Float64Array[];
    /** Per draw: per-sample cross-entropy. */
    loss: Float64Array[];
    /** Per draw: test loss and accuracy. */
    summary: Array<{ loss: number; accuracy: number }>;
  }>;
}

/** Measures every ensemble of a plan: its salience's cosine to μ and its loss per sample. */
async function measureCurve(
  plan: EnsemblePlan,
  members: readonly EnsembleMember[],
  probe: EnsembleProbe,
  gradOf: (idx: number[]) => Promise<Float32Array>,
): Promise<EnsembleCurve> {
  const N = probe.labels.length, D = probe.dim;
  const mu = meanUnitDirection(plan.held.map((i) => members[i]!.gradient), N, D);
  const sizes: EnsembleCurve["sizes"] = [];
  for (const { size, draws } of plan.subsets) {
    const t: Float64Array[] = [], loss: Float64Array[] = [];
    const summary: Array<{ loss: number; accuracy: number }> = [];
    for (const sub of draws) {
      t.push(cosines(await gradOf(sub), mu, N, D));
      const l = ensembleLoss(sub.map((i) => members[i]!.logits), probe.labels, probe.classes);
      summary.push({ loss: l.loss, accuracy: l.accuracy });
      loss.push(l.perSample);
    }
    sizes.push({ members: size, t, loss, summary });
  }
  return { plan, rho: pairwiseCosine(plan.seeds.map((i) => members[i]!.gradient), N, D), sizes };
}

/**
 * Per sample, the mean over distinct pairs of the cosine between the unit gradients, from the
 * norm of their sum: (‖Σ u‖² − n)/(n(n − 1)) over the n non-zero gradients (NaN when n < 2).
 * Cost: O(gradients · samples · dim).
 *
 * @example
 * ```ts
 * import { pairwiseCosine } from "./ensemble.ts";
 * const r = pairwiseCosine([Float32Array.of(1, 0), Float32Array.of(1, 1), Float32Array.of(0, 2)], 1, 2);
 * if (Math.abs(r[0]! - (2 * Math.SQRT1_2 + 0) / 3) > 1e-6) throw new Error("wrong");
 * ```
 */
export function pairwiseCosine(
  gradients: readonly Float32Array[],
  samples: number,
  dim: number,
): Float64Array {
  const sum = meanUnitDirection(gradients, samples, dim);
  const out = new Float64Array(samples);
  for (let x = 0; x < samples; x++) {
    let n = 0;
    for (const g of gradients) {
      for (let i = 0; i < dim; i++) {
        if (g[x * dim + i] !== 0) {
          n++;
          break;
        }
      }
    }
    let sq = 0;
    for (let i = 0; i < dim; i++) sq += sum[x * dim + i]! ** 2;
    out[x] = n < 2 ? NaN : (sq - n) / (n * (n - 1));
  }
  return out;
}

/**
 * What the within-width similarity p alone predicts for E_x[t] of an m-member ensemble measured
 * against the mean direction of h held-out seeds, when every unit gradient is an independent
 * draw whose pairwise cosines average p and members' gradients have equal norms:
 * t̂(m) = √(m·h)·p / √((1 + (m − 1)·p)·(1 + (h − 1)·p)) (see docs/analysis.md). Null for p ≤ 0.
 *
 * @example
 * ```ts
 * import { predictedEnsembleT } from "./ensemble.ts";
 * // p = 1: every gradient is the mean direction.
 * if (Math.abs(predictedEnsembleT(1, 4, 3)! - 1) > 1e-12) throw new Error("wrong");
 * ```
 */
export function predictedEnsembleT(p: number, m: number, h: number): number | null {
  if (!(p > 0)) return null;
  return Math.sqrt(m * h) * p / Math.sqrt((1 + (m - 1) * p) * (1 + (h - 1) * p));
}

/**
 * A curve's points for `ensembles.json`: per size the mean over draws of E_x[t] (std: population
 * std over draws), with an interval resampling the images, beside the mean loss and accuracy.
 * Cost: O(sizes · resamples · draws · N).
 */
export function curvePoints(
  curve: EnsembleCurve,
  N: number,
  settings: { resamples: number; level: number; seed: number },
): EnsemblesFile["curves"][number] {
  const p = finiteMean(curve.rho).mean;
  const h = curve.plan.held.length;
  const points: EnsemblePoint[] = curve.sizes.map(({ members, t: ts, summary }) => {
    const perDraw: number[] = [];
    let pairs = 0;
    for (const t of ts) {
      const fm = finiteMean(t);
      if (fm.mean !== null) perDraw.push(fm.mean);
      pairs += fm.n;
    }
    const ci = bootInterval(
      (uu) => {
        const xs = Int32Array.from({ length: N }, () => randomInt(uu, N));
        let sum = 0, c = 0;
        for (const t of ts) for (const q of xs) Number.isFinite(t[q]!) && (sum += t[q]!, c++);
        return c ? sum / c : null;
      },
      {
        ...settings,
        seed: deriveSeed(settings.seed, "ensemble-point", curve.plan.family, curve.plan.k, members),
      },
      ["samples"],
      null,
    );
    return {
      members,
      draws: ts.length,
      meanT: {
        mean: meanOfFinite(perDraw),
        std: meanPopulationStd(perDraw).std,
        pairs,
        ci,
      } satisfies Estimate,
      predictedT: p === null ? null : predictedEnsembleT(p, members, h),
      loss: summary.reduce((s, d) => s + d.loss, 0) / summary.length,
      accuracy: summary.reduce((s, d) => s + d.accuracy, 0) / summary.length,
    };
  });
  return {
    family: curve.plan.family,
    k: curve.plan.k,
    models: curve.plan.models,
    heldOut: h,
    pWithin: p,
    points,
  };
}

/**
 * Every single model's E_x[t] against μ of every other seed of its width, beside its loss.
 * Cost: O(M · n · N · D).
 */
export function singleModelPoints(
  members: readonly EnsembleMember[],
  probe: EnsembleProbe,
): EnsemblesFile["singles"] {
  const N = probe.labels.length, D = probe.dim;
  const singles: EnsemblesFile["singles"] = [];
  for (const [i, m] of members.entries()) {
    const others = members.flatMap((o, j) =>
      j !== i && o.family === m.family && o.k === m.k ? [j] : []
    );
    if (others.length === 0) continue;
    const mu = meanUnitDirection(others.map((j) => members[j]!.gradient), N, D);
    const fm = finiteMean(cosines(m.gradient, mu, N, D));
    const l = ensembleLoss([m.logits], probe.labels, probe.classes);
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
  return singles;
}

/** The mean of a per-sample series over the samples `xs` (all when null), finite values only. */
function meanAt(v: Float64Array, xs: Int32Array | null): number | null {
  let s = 0, c = 0;
  if (xs) { for (const q of xs) Number.isFinite(v[q]!) && (s += v[q]!, c++); }
  else for (const x of v) Number.isFinite(x) && (s += x, c++);
  return c ? s / c : null;
}

/** Smallest fraction of the gain p(k, k) predicts that ensembles must realise for the claim. */
export const ENSEMBLE_GAIN_THRESHOLD = 0.5;

/**
 * The ensemble claims, with intervals resampling the drawn ensembles within each size (for
 * size 1, every pool member: the seeds) and the images.
 *
 * "ensembles-move-to-mean": that ensembles approach the mean direction follows from p(k, k) > 0
 * alone, so the claim compares the rise of E_x[t] from the smallest to the largest ensemble size
 * with the rise {@link predictedEnsembleT} gives for the width's p(k, k) on the same images:
 * Σ_widths measured rise / Σ_widths predicted rise, claimed above
 * {@link ENSEMBLE_GAIN_THRESHOLD}. It fails when members that agree pairwise do not average into
 * the mean direction (for example when one member's gradient norm dominates the mean).
 *
 * "ensemble-loss-falls": the slope of the ensemble's test loss against size, claimed negative;
 * cross-entropy is convex in the logits, so averaging logits cannot raise the expected loss
 * (Jensen): the claim fails only for members that do not differ (slope 0) and holds for any
 * diverse members, signal or not, so it is reported but is no evidence of the mean direction.
 *
 * Cost: O(resamples · draws · N).
 */
export function ensembleClaims(
  curves: readonly EnsembleCurve[],
  N: number,
  settings: { resamples: number; level: number; seed: number },
): ClaimEntry[] {
  type Size = EnsembleCurve["sizes"][number];
  const usable = curves.filter((c) => c.sizes.length >= 2);
  // One resample: the images (xs) and, per size, the drawn ensembles taken with replacement
  // (for size 1 with every pool member drawn, the pool's seeds themselves); null = the data.
  type Resample = { xs: Int32Array; draws: Map<Size, number[]> } | null;
  const sizeMean = (p: Size, pick: (p: Size) => Float64Array[], r: Resample) => {
    const arrays = pick(p);
    const chosen = r ? r.draws.get(p)!.map((i) => arrays[i]!) : arrays;
    return meanOfFinite(chosen.map((arr) => meanAt(arr, r ? r.xs : null)));
  };
  const lossSlope = (xs: Resample) => {
    const slopes: number[] = [];
    for (const curve of usable) {
      const x: number[] = [], y: number[] = [];
      for (const p of curve.sizes) {
        const mean = sizeMean(p, (q) => q.loss, xs);
        if (mean === null) continue;
        x.push(p.members);
        y.push(mean);
      }
      const s = slope(x, y);
      // Rounding in the averaged logits of identical members is not a slope.
      if (s !== null) slopes.push(Math.abs(s) < 1e-12 ? 0 : s);
    }
    return meanOfFinite(slopes);
  };
  const gainRatio = (xs: Resample) => {
    let measured = 0, predicted = 0, n = 0;
    for (const curve of usable) {
      const lo = curve.sizes[0]!, hi = curve.sizes.at(-1)!;
      const p = meanAt(curve.rho, xs ? xs.xs : null);
      const tLo = sizeMean(lo, (q) => q.t, xs), tHi = sizeMean(hi, (q) => q.t, xs);
      if (p === null || tLo === null || tHi === null) continue;
      const h = curve.plan.held.length;
      const pLo = predictedEnsembleT(p, lo.members, h), pHi = predictedEnsembleT(p, hi.members, h);
      if (pLo === null || pHi === null) continue;
      measured += tHi - tLo;
      predicted += pHi - pLo;
      n++;
    }
    return n > 0 && predicted > 0 ? measured / predicted : null;
  };
  const pairs = curves.reduce((s, c) => s + c.sizes.reduce((q, p) => q + p.t.length * N, 0), 0);
  const noCurve =
    "no width has enough seeds for ensembles of two sizes besides the held-out ones (needs ≥ 3 seeds)";
  const interval = (id: string, stat: (r: Resample) => number | null) =>
    bootInterval(
      (uu) => {
        if (!usable.length) return null;
        const draws = new Map<Size, number[]>();
        for (const c of usable) {
          for (const p of c.sizes) {
            draws.set(p, p.t.map(() => randomInt(uu, p.t.length)));
          }
        }
        return stat({ xs: Int32Array.from({ length: N }, () => randomInt(uu, N)), draws });
      },
      { ...settings, seed: deriveSeed(settings.seed, id) },
      ["seeds", "samples"],
      null,
    );
  const ratio = usable.length ? gainRatio(null) : null;
  const move = claim({
    id: "ensembles-move-to-mean",
    statement:
      "Deep ensembles move toward the population mean direction as they grow, as far as their members' agreement p(k, k) predicts.",
    measure:
      "Σ over widths of the rise of E_x[t] (cosine of the ensemble's salience to μ of held-out seeds) from the smallest to the largest ensemble, " +
      "divided by the rise p(k, k) alone predicts for independent members, √(m·h)·p/√((1 + (m − 1)p)(1 + (h − 1)p)); " +
      `claimed above ${ENSEMBLE_GAIN_THRESHOLD} (1 = as predicted)`,
    value: ratio,
    interval: interval("ensembles-move-to-mean", gainRatio),
    threshold: ENSEMBLE_GAIN_THRESHOLD,
    side: "above",
    pairs,
    unit: "fraction of the predicted rise",
    missing: usable.length === 0
      ? noCurve
      : ratio === null
      ? "p(k, k) is not positive on the probe images, so it predicts no rise to compare with"
      : undefined,
  });
  const falls = claim({
    id: "ensemble-loss-falls",
    statement: "The test loss of deep ensembles falls as they grow.",
    measure:
      "mean over widths of the slope of the ensemble's test cross-entropy against ensemble size " +
      "(cross-entropy is convex in the averaged logits, so this cannot rise in expectation: it fails only when members do not differ, and holds even for members without signal)",
    value: usable.length ? lossSlope(null) : null,
    interval: interval("ensemble-loss-falls", lossSlope),
    threshold: 0,
    side: "below",
    pairs,
    unit: "per member",
    missing: usable.length ? undefined : noCurve,
  });
  return [move, falls];
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
