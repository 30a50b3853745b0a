/**
 * The black-box transfer attack of the study: FGSM under L∞ from a source gradient,
 * `x' = clip(x − ε·sign(∇x p_y(x)))`, and the prediction decay ratio
 * `α = mean_x p_target(y|x') / p_target(y|x)` (lower is a stronger attack), for every source and
 * target width and for three strategies per target: the largest source model, a source of the
 * same width, and the mean direction of a population that never includes the target.
 *
 * Models are plain callbacks, so the study runs on TensorFlow.js models (the sweep wraps
 * `predictLogits` and `inputGradients(model, images, labels, "true-class-probability")`) as well
 * as on tiny closed-form models in tests.
 *
 * @module
 */

import { deriveSeed, meanOfFinite, meanPopulationStd, randomInt } from "../stats/mod.ts";
import {
  type AlphaCell,
  ANALYSIS_SCHEMA_VERSION,
  type AttacksFile,
  bootInterval,
  claim,
  type ClaimEntry,
  type Estimate,
} from "../analysis/mod.ts";

/** A model the attack can query. Inputs are `count` images of `dim` normalised values each. */
export interface AttackModel {
  family: string;
  k: number;
  seed: number;
  /** Logits, `count × classes`. */
  logits(images: Float32Array, count: number): Promise<Float32Array>;
  /** ∇x p_y(x), the gradient of the true-class softmax probability, `count × dim`. */
  probabilityGradient(
    images: Float32Array,
    labels: Int32Array,
    count: number,
  ): Promise<Float32Array>;
}

/** The attacked images and their labels. */
export interface AttackProbe {
  /** `samples × dim` normalised images. */
  images: Float32Array;
  labels: Int32Array;
  /** Values per image (C·H·W). */
  dim: number;
  classes: number;
  /**
   * Normalised range of valid pixel values: one `[lo, hi]` for all, or one per channel of NHWC
   * images (`[(0 − mean_c)/std_c, (1 − mean_c)/std_c]`, see `clipRangeOf`).
   */
  clip: ClipRange;
}

/** One `[lo, hi]` range, or one per channel (channel of element i = i mod C, NHWC). */
export type ClipRange = readonly [number, number] | ReadonlyArray<readonly [number, number]>;

function clipPairs(clip: ClipRange): Array<readonly [number, number]> {
  const pairs = typeof clip[0] === "number"
    ? [clip as readonly [number, number]]
    : [...(clip as ReadonlyArray<readonly [number, number]>)];
  if (pairs.length === 0) {
    throw new RangeError("clip has no channel ranges; expected [lo, hi] or one per channel.");
  }
  for (const [lo, hi] of pairs) {
    if (!(lo <= hi)) throw new RangeError(`clip range [${lo}, ${hi}] is empty; expected lo ≤ hi.`);
  }
  return pairs;
}

/**
 * FGSM step under L∞: `x' = clip(x − ε·sign(direction))`, elementwise (sign(0) = 0); `clip` is
 * one range or one per channel of NHWC images.
 *
 * Cost: O(length). Writes into `dst` when given.
 *
 * @throws {TypeError} when the lengths differ.
 * @throws {RangeError} when ε is negative or the clip range is empty.
 *
 * @example
 * ```ts
 * import { fgsm } from "./attack.ts";
 * const x = fgsm(new Float32Array([0, 0.98, 0]), new Float32Array([1, -1, 0]), { epsilon: 0.05, clip: [-1, 1] });
 * if (Math.abs(x[0]! + 0.05) > 1e-7 || x[1] !== 1 || x[2] !== 0) throw new Error("wrong step");
 * ```
 */
export function fgsm(
  images: Float32Array,
  direction: Float32Array,
  options: { epsilon: number; clip: ClipRange; dst?: Float32Array },
): Float32Array {
  if (images.length !== direction.length) {
    throw new TypeError(
      `direction has ${direction.length} values but images has ${images.length}; pass one gradient value per pixel.`,
    );
  }
  const { epsilon } = options;
  if (!(epsilon >= 0)) throw new RangeError(`epsilon is ${epsilon}; expected a non-negative step.`);
  const pairs = clipPairs(options.clip), C = pairs.length;
  const out = options.dst ?? new Float32Array(images.length);
  for (let i = 0; i < images.length; i++) {
    const [lo, hi] = pairs[i % C]!;
    const v = images[i]! - epsilon * Math.sign(direction[i]!);
    out[i] = v < lo ? lo : v > hi ? hi : v;
  }
  return out;
}

/**
 * Softmax probability of each sample's label and whether the argmax is the label, from
 * `count × classes` logits (computed with the max subtracted, so large logits do not overflow).
 *
 * Cost: O(count · classes).
 *
 * @example
 * ```ts
 * import { trueClassProbability } from "./attack.ts";
 * const r = trueClassProbability(new Float32Array([0, 0, 2, 0]), new Int32Array([0, 0]), 2);
 * if (Math.abs(r.p[0]! - 0.5) > 1e-12 || r.correct[1] !== 1) throw new Error("wrong");
 * ```
 */
export function trueClassProbability(
  logits: Float32Array,
  labels: Int32Array,
  classes: number,
): { p: Float64Array; correct: Uint8Array } {
  const n = labels.length;
  if (logits.length !== n * classes) {
    throw new TypeError(
      `logits has ${logits.length} values; expected ${n} samples × ${classes} classes.`,
    );
  }
  const p = new Float64Array(n), correct = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let max = -Infinity, arg = 0;
    for (let c = 0; c < classes; c++) {
      const v = logits[i * classes + c]!;
      if (v > max) [max, arg] = [v, c];
    }
    let s = 0;
    for (let c = 0; c < classes; c++) s += Math.exp(logits[i * classes + c]! - max);
    p[i] = Math.exp(logits[i * classes + labels[i]!]! - max) / s;
    correct[i] = arg === labels[i] ? 1 : 0;
  }
  return p.length ? { p, correct } : { p, correct };
}

/**
 * The normalised mean direction of several gradients at each sample: Σ_s g_s(x)/‖g_s(x)‖
 * (zero gradients left out; norms scaled by the largest magnitude). Only its sign matters to
 * FGSM, so the sum is returned unnormalised. Cost: O(sources · samples · dim).
 *
 * @example
 * ```ts
 * import { meanUnitDirection } from "./attack.ts";
 * const m = meanUnitDirection([new Float32Array([2, 0]), new Float32Array([0, 1e-20])], 1, 2);
 * if (Math.abs(m[0]! - 1) > 1e-6 || Math.abs(m[1]! - 1) > 1e-6) throw new Error("wrong");
 * ```
 */
export function meanUnitDirection(
  gradients: readonly Float32Array[],
  samples: number,
  dim: number,
): Float32Array {
  const out = new Float64Array(samples * dim);
  for (const g of gradients) {
    if (g.length !== samples * dim) {
      throw new TypeError(
        `a gradient has ${g.length} values; expected ${samples} samples × ${dim}.`,
      );
    }
    for (let x = 0; x < samples; x++) {
      const o = x * dim;
      let max = 0;
      for (let i = 0; i < dim; i++) max = Math.max(max, Math.abs(g[o + i]!));
      if (max === 0) continue;
      let sq = 0;
      for (let i = 0; i < dim; i++) sq += (g[o + i]! / max) ** 2;
      const inv = 1 / (max * Math.sqrt(sq));
      for (let i = 0; i < dim; i++) out[o + i]! += g[o + i]! * inv;
    }
  }
  return Float32Array.from(out);
}

/** Options of {@link attackStudy}. */
export interface AttackStudyOptions {
  /** FGSM step in normalised units (default 0.05). */
  epsilon?: number;
  /** Mean-direction population: the target's width (default) or every model of every family. */
  population?: "same-width" | "all-families";
  /** Images per model call (default 64). */
  batchSize?: number;
  /** Bootstrap resamples / level / seed of the claim's interval (1000, 0.95, 0). */
  resamples?: number;
  level?: number;
  seed?: number;
  /** Source id copied into the file. */
  source?: string;
  onProgress?: (message: string) => void;
  /**
   * Queries several models of one family and width at once (e.g. one stacked pass over a
   * population: `populationLogits()`, `populationInputGradients()`): each of `models` (indices
   * into the study's models) on the same images, in order, what its own callback would give.
   * Default: each model's callbacks, one model at a time.
   */
  together?: ModelsTogether;
  /**
   * Each model's logits on the probe images (`samples × classes`) where already known, e.g. as
   * a sweep stored them from the same weights (null or absent: computed): its clean predictions
   * are taken from them instead of a forward pass.
   */
  cleanLogits?: ReadonlyArray<Float32Array | null | undefined>;
}

/**
 * Queries of several models on the same images (see {@link AttackStudyOptions.together}); for
 * `logits`, `images` may also hold one array per model (each model on its own images: the
 * mean-direction attack's adversarial images per target), `count` images each.
 */
export interface ModelsTogether {
  logits(
    models: number[],
    images: Float32Array | readonly Float32Array[],
    count: number,
  ): Promise<Float32Array[]>;
  probabilityGradients(
    models: number[],
    images: Float32Array,
    labels: Int32Array,
    count: number,
  ): Promise<Float32Array[]>;
}

/** The study's file plus per-target per-sample ratios (for callers that want more). */
export interface AttackStudy {
  file: AttacksFile;
}

/**
 * The models of the mean-direction population for `target`: the other models of its family and
 * width (`same-width`), or every other model (`all-families`). Never includes the target.
 *
 * @example
 * ```ts
 * import { populationFor } from "./attack.ts";
 * const ms = [{ family: "A", k: 1, seed: 0 }, { family: "A", k: 1, seed: 1 }, { family: "A", k: 2, seed: 0 }];
 * if (populationFor(0, ms, "same-width").join() !== "1") throw new Error("wrong");
 * ```
 */
export function populationFor(
  target: number,
  models: ReadonlyArray<{ family: string; k: number }>,
  population: "same-width" | "all-families",
): number[] {
  const t = models[target]!;
  return models.flatMap((m, i) =>
    i === target || (population === "same-width" && (m.family !== t.family || m.k !== t.k))
      ? []
      : [i]
  );
}

/**
 * Runs the black-box attack study over `models` on `probe` and returns `attacks.json`.
 *
 * Every model's ∇x p_y is computed once; each single model then attacks every other model of
 * its family (the α(k1, k2) matrices), and per target the three strategies are evaluated.
 * Ratios where p_target(y|x) = 0 are left out and counted out of `pairs`.
 *
 * Cost: M gradient passes and about M² + 2M prediction passes over the probe set.
 *
 * @throws {RangeError} when there are no models or no images.
 *
 * @example
 * ```ts
 * import { attackStudy } from "./attack.ts";
 * // Two 1-D linear classifiers z = [w·x, −w·x] with w = 1 and 2.
 * const lin = (w: number, seed: number) => ({
 *   family: "Lin", k: 1, seed,
 *   async logits(x: Float32Array) { return Float32Array.from([...x].flatMap((v) => [w * v, -w * v])); },
 *   async probabilityGradient(x: Float32Array, y: Int32Array) {
 *     return Float32Array.from([...x].map((v, i) => {
 *       const p = 1 / (1 + Math.exp(-2 * w * v)); // p(class 0)
 *       const g = 2 * w * p * (1 - p);
 *       return y[i] === 0 ? g : -g;
 *     }));
 *   },
 * });
 * const probe = { images: Float32Array.of(0.1, -0.2), labels: Int32Array.of(0, 1), dim: 1, classes: 2, clip: [-1, 1] as const };
 * const { file } = await attackStudy([lin(1, 0), lin(2, 1)], probe, { resamples: 20 });
 * if (!(file.matrices[0]!.cells[0]![0]!.all.mean! < 1)) throw new Error("the attack did not lower p_y");
 * ```
 */
export async function attackStudy(
  models: readonly AttackModel[],
  probe: AttackProbe,
  options: AttackStudyOptions = {},
): Promise<AttackStudy> {
  const M = models.length, N = probe.labels.length, D = probe.dim;
  if (M === 0 || N === 0) {
    throw new RangeError(
      `attack study got ${M} models and ${N} images; expected at least one of each.`,
    );
  }
  if (probe.images.length !== N * D) {
    throw new TypeError(
      `probe.images has ${probe.images.length} values; expected ${N} images × ${D}.`,
    );
  }
  const epsilon = options.epsilon ?? 0.05;
  const population = options.population ?? "same-width";
  const q = queries(models, probe, options.batchSize ?? 64, options.together);
  const { grads, clean } = await q.gradientsAndCleanPredictions(
    options.onProgress,
    options.cleanLogits,
  );
  const advFrom = (dir: Float32Array) => fgsm(probe.images, dir, { epsilon, clip: probe.clip });

  // Single-source attacks: every source against every other model of its family.
  const single = new Map<string, Float64Array>();
  for (let s = 0; s < M; s++) {
    const adv = advFrom(grads[s]!);
    const targets = models.flatMap((m, t) => t !== s && m.family === models[s]!.family ? [t] : []);
    const rs = await q.ratiosOfMany(targets, adv, clean);
    targets.forEach((t, i) => single.set(`${s}:${t}`, rs[i]!));
    options.onProgress?.(`attack: source ${s + 1}/${M} done`);
  }
  // The mean-direction attack on every target, from a population that never includes it; each
  // target on its own adversarial images, the targets of one family and width in shared passes.
  const meanDirection = new Map<number, { r: Float64Array; sources: number }>();
  const attacked = models.flatMap((_, t) => {
    const pop = populationFor(t, models, population);
    return pop.length ? [{ t, pop }] : [];
  });
  const rs = await q.ratiosEach(
    attacked.map((a) => a.t),
    attacked.map((a) => advFrom(meanUnitDirection(a.pop.map((s) => grads[s]!), N, D))),
    clean,
  );
  attacked.forEach((a, i) => meanDirection.set(a.t, { r: rs[i]!, sources: a.pop.length }));

  const cells = strategyCells(models, single, meanDirection, N);
  const strategyName = population === "same-width" ? "mean-direction" : "mean-direction-all";
  return {
    file: {
      schemaVersion: ANALYSIS_SCHEMA_VERSION,
      kind: "attacks",
      generatedAt: new Date().toISOString(),
      source: options.source ?? "attack study",
      epsilon,
      clip: clipPairs(probe.clip).map(([lo, hi]) => [lo, hi] as [number, number]),
      scalar: "true-probability",
      samples: N,
      matrices: alphaMatrices(models, single, clean),
      strategies: strategyRows(cells, clean, strategyName),
      claims: [
        meanDirectionAttackClaim(cells, N, {
          resamples: options.resamples ?? 1000,
          level: options.level ?? 0.95,
          seed: options.seed ?? 0,
          epsilon,
          strategyName,
        }),
      ],
    },
  };
}

/** The clean true-class probabilities and correctness of one model on the probe set. */
export interface CleanPredictions {
  p: Float64Array;
  correct: Uint8Array;
}

/** Batched queries of the models on the probe set (the study's only side effects). */
function queries(
  models: readonly AttackModel[],
  probe: AttackProbe,
  bs: number,
  given?: ModelsTogether,
) {
  const N = probe.labels.length, D = probe.dim, C = probe.classes;
  const together: ModelsTogether = given ?? {
    logits: (ms, x, n) =>
      Promise.all(ms.map((m, i) => models[m]!.logits(x instanceof Float32Array ? x : x[i]!, n))),
    probabilityGradients: (ms, x, y, n) =>
      Promise.all(ms.map((m) => models[m]!.probabilityGradient(x, y, n))),
  };
  /** `ms` cut into runs of one family and width (the models that can share a pass). */
  const groups = (ms: readonly number[]) => {
    const by = new Map<string, number[]>();
    for (const m of ms) {
      const key = `${models[m]!.family}/${models[m]!.k}`;
      by.set(key, [...(by.get(key) ?? []), m]);
    }
    return [...by.values()];
  };
  /**
   * `f` over the probe-sized `images` (shared, or one array per model of `ms`) in batches, for
   * every model of `ms` at once.
   */
  const batchedMany = async <X extends Float32Array | readonly Float32Array[]>(
    ms: number[],
    f: (x: X, y: Int32Array, n: number) => Promise<Float32Array[]>,
    images: X,
    width: number,
  ) => {
    const outs = ms.map(() => new Float32Array(N * width));
    const part = (s: number, e: number) =>
      (images instanceof Float32Array
        ? images.subarray(s * D, e * D)
        : images.map((x) => x.subarray(s * D, e * D))) as X;
    for (let s = 0; s < N; s += bs) {
      const n = Math.min(bs, N - s);
      const rs = await f(part(s, s + n), probe.labels.subarray(s, s + n), n);
      rs.forEach((r, i) => {
        if (r.length !== n * width) {
          throw new TypeError(
            `a model returned ${r.length} values for ${n} images; expected ${n * width}.`,
          );
        }
        outs[i]!.set(r, s * width);
      });
    }
    return outs;
  };
  /**
   * True-class probabilities of every model of `ms` on `images`, shared or `images[i]` for
   * `ms[i]` (grouped into shared passes).
   */
  const probsOfMany = async (
    ms: readonly number[],
    images: Float32Array | readonly Float32Array[],
  ) => {
    const out = new Map<number, CleanPredictions>();
    for (const g of groups(ms)) {
      const x = images instanceof Float32Array ? images : g.map((m) => images[ms.indexOf(m)]!);
      const logits = await batchedMany(g, (xs, _y, n) => together.logits(g, xs, n), x, C);
      g.forEach((m, i) => out.set(m, trueClassProbability(logits[i]!, probe.labels, C)));
    }
    return ms.map((m) => out.get(m)!);
  };
  const ratio = (after: CleanPredictions, base: Float64Array) =>
    Float64Array.from(after.p, (v, x) => (base[x]! > 0 ? v / base[x]! : NaN));
  return {
    async gradientsAndCleanPredictions(
      onProgress?: (message: string) => void,
      known?: ReadonlyArray<Float32Array | null | undefined>,
    ) {
      const grads: Float32Array[] = [];
      const clean: CleanPredictions[] = [];
      let done = 0;
      for (const g of groups(models.map((_, m) => m))) {
        const gs = await batchedMany(
          g,
          (x, y, n) => together.probabilityGradients(g, x, y, n),
          probe.images,
          D,
        );
        const missing = g.filter((m) => !known?.[m]);
        const ps = missing.length ? await probsOfMany(missing, probe.images) : [];
        g.forEach((m, i) => {
          grads[m] = gs[i]!;
          const given = known?.[m];
          clean[m] = given ? trueClassProbability(given, probe.labels, C) : ps[missing.indexOf(m)]!;
        });
        done += g.length;
        onProgress?.(`attack: gradients and clean predictions of ${done}/${models.length} models`);
      }
      return { grads, clean };
    },
    /**
     * Per-sample ratios p'/p of each target of `ts` on its own adversarial images `advs[i]`
     * (NaN where p = 0), the targets of one family and width in shared passes.
     */
    async ratiosEach(ts: number[], advs: Float32Array[], clean: readonly CleanPredictions[]) {
      const after = await probsOfMany(ts, advs);
      return ts.map((t, i) => ratio(after[i]!, clean[t]!.p));
    },
    /** {@link ratios} of every target of `ts` on the same adversarial images, in shared passes. */
    async ratiosOfMany(ts: number[], adv: Float32Array, clean: readonly CleanPredictions[]) {
      const after = await probsOfMany(ts, adv);
      return ts.map((t, i) => ratio(after[i]!, clean[t]!.p));
    },
  };
}

/** One target's per-sample ratios p'/p. */
export interface TargetRatios {
  t: number;
  r: Float64Array;
}

/**
 * α over all images and over the images the target classifies correctly, pooled over the
 * targets' finite ratios; the std is the population std of the per-target means.
 * Cost: O(targets · N).
 */
export function summariseAlpha(
  list: readonly TargetRatios[],
  clean: readonly CleanPredictions[],
): AlphaCell {
  const all: number[] = [], cor: number[] = [];
  const perAll: number[] = [], perCor: number[] = [];
  for (const { t, r } of list) {
    let sa = 0, na = 0, sc = 0, nc = 0;
    r.forEach((v, x) => {
      if (!Number.isFinite(v)) return;
      sa += v;
      na++;
      all.push(v);
      if (clean[t]!.correct[x]) {
        sc += v;
        nc++;
        cor.push(v);
      }
    });
    if (na) perAll.push(sa / na);
    if (nc) perCor.push(sc / nc);
  }
  return { all: estimate(all, perAll), correct: estimate(cor, perCor) };
}

/**
 * The α(k1, k2) matrices per family from the single-source ratios (`single` keyed
 * `"source:target"`). Cost: O(M² · N).
 */
export function alphaMatrices(
  models: ReadonlyArray<{ family: string; k: number }>,
  single: ReadonlyMap<string, Float64Array>,
  clean: readonly CleanPredictions[],
): AttacksFile["matrices"] {
  const families = [...new Set(models.map((m) => m.family))].sort();
  return families.map((family) => {
    const ks = [...new Set(models.filter((m) => m.family === family).map((m) => m.k))]
      .sort((a, b) => a - b);
    const idx = (k: number) =>
      models.flatMap((m, i) => (m.family === family && m.k === k ? [i] : []));
    const cells = ks.map((k1) =>
      ks.map((k2) => {
        const list = idx(k1).flatMap((s) =>
          idx(k2).filter((t) => t !== s).map((t) => ({ t, r: single.get(`${s}:${t}`)! }))
        );
        return list.length ? summariseAlpha(list, clean) : null;
      })
    );
    const modelPairs = ks.map((k1) =>
      ks.map((k2) => idx(k1).flatMap((s) => idx(k2).filter((t) => t !== s)).length)
    );
    return { family, ks, cells, modelPairs };
  });
}

/** The three strategies' per-target ratios of one (family, width). */
export interface StrategyCell {
  family: string;
  k: number;
  largest: TargetRatios[];
  same: TargetRatios[];
  mean: TargetRatios[];
  /** Population size of each mean-direction target. */
  sources: number[];
}

/**
 * Per (family, width), in order of first appearance, each target's ratios under the three
 * strategies: the mean over the largest width's other models, over its own width's other
 * models, and the mean-direction attack. Cost: O(M² · N).
 */
export function strategyCells(
  models: ReadonlyArray<{ family: string; k: number }>,
  single: ReadonlyMap<string, Float64Array>,
  meanDirection: ReadonlyMap<number, { r: Float64Array; sources: number }>,
  N: number,
): StrategyCell[] {
  const cells = new Map<string, StrategyCell>();
  const meanOfRatios = (list: Float64Array[]) => {
    const out = new Float64Array(N);
    for (let x = 0; x < N; x++) {
      let s = 0, n = 0;
      for (const r of list) if (Number.isFinite(r[x]!)) (s += r[x]!, n++);
      out[x] = n ? s / n : NaN;
    }
    return out;
  };
  models.forEach((tm, t) => {
    const key = `${tm.family}\u0000${tm.k}`;
    let cell = cells.get(key);
    if (!cell) {
      cells.set(
        key,
        cell = { family: tm.family, k: tm.k, largest: [], same: [], mean: [], sources: [] },
      );
    }
    const kMax = Math.max(...models.filter((m) => m.family === tm.family).map((m) => m.k));
    const pick = (k: number) =>
      models.flatMap((m, i) => (m.family === tm.family && m.k === k && i !== t ? [i] : []));
    const largest = pick(kMax), same = pick(tm.k);
    if (largest.length) {
      cell.largest.push({ t, r: meanOfRatios(largest.map((s) => single.get(`${s}:${t}`)!)) });
    }
    if (same.length) {
      cell.same.push({ t, r: meanOfRatios(same.map((s) => single.get(`${s}:${t}`)!)) });
    }
    const md = meanDirection.get(t);
    if (md) {
      cell.mean.push({ t, r: md.r });
      cell.sources.push(md.sources);
    }
  });
  return [...cells.values()];
}

/** The `strategies` rows of `attacks.json`, sorted by family then k. Cost: O(M · N). */
export function strategyRows(
  cells: readonly StrategyCell[],
  clean: readonly CleanPredictions[],
  strategyName: "mean-direction" | "mean-direction-all",
): AttacksFile["strategies"] {
  const rows: AttacksFile["strategies"] = [];
  for (const cell of cells) {
    const push = (
      strategy: AttacksFile["strategies"][number]["strategy"],
      list: TargetRatios[],
      sourceModels: number,
    ) => {
      if (list.length) {
        rows.push({
          family: cell.family,
          k: cell.k,
          strategy,
          targets: list.length,
          sourceModels,
          alpha: summariseAlpha(list, clean),
        });
      }
    };
    push("largest", cell.largest, 1);
    push("same-width", cell.same, 1);
    push(
      strategyName,
      cell.mean,
      cell.sources.length ? cell.sources.reduce((a, b) => a + b, 0) / cell.sources.length : 0,
    );
  }
  return rows.sort((a, b) => (a.family < b.family ? -1 : a.family > b.family ? 1 : a.k - b.k));
}

/**
 * The claim that the mean-direction attack is the strongest: the mean over (family, width)
 * cells that have all three strategies of α(mean direction) − min(α(largest), α(same width)),
 * with an interval resampling targets within each cell and images. Cost: O(resamples · M · N).
 */
export function meanDirectionAttackClaim(
  allCells: readonly StrategyCell[],
  N: number,
  options: {
    resamples: number;
    level: number;
    seed: number;
    epsilon: number;
    strategyName: string;
  },
): ClaimEntry {
  const cells = allCells.filter((c) => c.largest.length && c.same.length && c.mean.length);
  const figure = (
    draw: ((list: TargetRatios[]) => TargetRatios[]) | null,
    xs: Int32Array | null,
  ) => {
    const diffs: number[] = [];
    for (const cell of cells) {
      const a = (list: TargetRatios[]) => {
        let s = 0, n = 0;
        for (const { r } of draw ? draw(list) : list) {
          if (xs) { for (const x of xs) Number.isFinite(r[x]!) && (s += r[x]!, n++); }
          else for (const v of r) Number.isFinite(v) && (s += v, n++);
        }
        return n ? s / n : null;
      };
      const m = a(cell.mean), l = a(cell.largest), sw = a(cell.same);
      if (m === null || l === null || sw === null) continue;
      diffs.push(m - Math.min(l, sw));
    }
    return diffs.length ? diffs.reduce((p, q) => p + q, 0) / diffs.length : null;
  };
  const interval = bootInterval(
    (u) => {
      if (!cells.length) return null;
      const xs = Int32Array.from({ length: N }, () => randomInt(u, N));
      return figure((list) => list.map(() => list[randomInt(u, list.length)]!), xs);
    },
    {
      resamples: options.resamples,
      level: options.level,
      seed: deriveSeed(options.seed, "mean-direction-attack-strongest"),
    },
    ["targets", "samples"],
    null,
  );
  return claim({
    id: "mean-direction-attack-strongest",
    statement:
      "An FGSM attack along the mean gradient direction of a population transfers better than one from a single model (largest or same width).",
    measure:
      `mean over families and target widths of α(${options.strategyName}) − min(α(largest), α(same width)), over all images, ε = ${options.epsilon}`,
    value: figure(null, null),
    interval,
    threshold: 0,
    side: "below",
    pairs: cells.reduce((s, c) => s + c.mean.length * N, 0),
    unit: "decay ratio",
    missing: cells.length
      ? undefined
      : "no target width has all three strategies (needs ≥ 2 seeds per width and ≥ 2 widths)",
  });
}

function estimate(values: number[], perUnit: number[]): Estimate {
  if (values.length === 0) return { mean: null, std: null, pairs: 0, ci: null };
  return {
    mean: meanOfFinite(values),
    std: meanPopulationStd(perUnit).std,
    pairs: values.length,
    ci: null,
  };
}
