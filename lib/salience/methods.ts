// Attribution methods built on the input gradient of the chosen scalar: the plain gradient,
// Gradient × Input, SmoothGrad and Integrated Gradients, batched over (sample, copy) pairs.
import type * as tfl from "@tensorflow/tfjs-layers";
import { modelDims } from "../models/mod.ts";
import { normalSampler, seededUniform } from "../stats/mod.ts";
import {
  type LabelledImages,
  populationInputGradients,
  populationLogits,
  SALIENCE_SCALARS,
  type SalienceScalar,
} from "./salience.ts";

/** The attribution methods a sweep may name in `salience.methods`. */
export const SALIENCE_METHODS = [
  "gradient",
  "gradient-x-input",
  "smoothgrad",
  "integrated-gradients",
] as const;

/** One of {@link SALIENCE_METHODS}. */
export type SalienceMethodName = typeof SALIENCE_METHODS[number];

/** SmoothGrad's settings: `samples` noisy copies, noise σ = `sigma` × the sample's value range. */
export interface SmoothGradSettings {
  /** Noisy copies per sample (n ≥ 1). */
  samples: number;
  /** Noise standard deviation as a fraction of each sample's range max(x) − min(x) (≥ 0). */
  sigma: number;
  /** Seed of the noise; sample i of the data draws from its own stream (see {@link smoothGradNoise}). */
  seed: number;
}

/** Integrated Gradients' settings: `steps` midpoints on the straight path from `baseline`. */
export interface IntegratedGradientsSettings {
  /** Riemann steps m ≥ 1 (midpoint rule: α_j = (j + ½)/m). */
  steps: number;
  /** `"zero"`: the all-zero normalised input; or one value per channel, in normalised units. */
  baseline: "zero" | number[];
}

/** A method and its settings. */
export type SalienceMethod =
  | { method: "gradient" }
  | { method: "gradient-x-input" }
  | ({ method: "smoothgrad" } & SmoothGradSettings)
  | ({ method: "integrated-gradients" } & IntegratedGradientsSettings);

/** Options of {@link attribute}. */
export interface AttributionOptions {
  /** What to differentiate (default "true-class-logit"). */
  scalar?: SalienceScalar;
  /** "chw" (default): rows as C×H×W; "hwc": as the input's H×W×C. */
  layout?: "chw" | "hwc";
  /** Points (sample × copy or step) per forward/backward pass (default 128). */
  batchSize?: number;
}

/** Integrated Gradients' completeness check: Σ_j attribution_j against s(x) − s(baseline). */
export interface Completeness {
  /** Per sample: s(x) − s(x′), from the model's logits in f64. */
  delta: Float64Array;
  /** Per sample: the sum of its attributions. */
  sum: Float64Array;
  /** max_i |sum_i − delta_i|. */
  maxAbsError: number;
  /** mean_i |sum_i − delta_i| / mean_i |delta_i| (0 when every delta is 0 and so is every error). */
  relativeError: number;
}

/** What {@link attribute} returns. */
export interface Attribution {
  /** [N, C·H·W] row-major, in the requested layout. */
  values: Float32Array;
  /** Integrated Gradients only; `null` for the other methods. */
  completeness: Completeness | null;
}

type Model = tfl.LayersModel;

function checkMethod(m: SalienceMethod): void {
  if (!(SALIENCE_METHODS as readonly string[]).includes(m.method)) {
    throw new RangeError(
      `Unknown salience method "${m.method}"; expected one of ${SALIENCE_METHODS.join(", ")}.`,
    );
  }
  if (m.method === "smoothgrad") {
    if (!Number.isInteger(m.samples) || m.samples < 1) {
      throw new RangeError(`SmoothGrad samples is ${m.samples}; expected a positive integer.`);
    }
    if (!(Number.isFinite(m.sigma) && m.sigma >= 0)) {
      throw new RangeError(`SmoothGrad sigma is ${m.sigma}; expected a finite number ≥ 0.`);
    }
    if (!Number.isInteger(m.seed)) {
      throw new RangeError(`SmoothGrad seed is ${m.seed}; expected an integer.`);
    }
  }
  if (m.method === "integrated-gradients") {
    if (!Number.isInteger(m.steps) || m.steps < 1) {
      throw new RangeError(
        `Integrated Gradients steps is ${m.steps}; expected a positive integer.`,
      );
    }
  }
}

/**
 * The standard normal draws SmoothGrad adds to sample `index` (before scaling by σ·range):
 * `samples` copies × `per` values, copy-major, from the stream seeded by (seed, index), so a
 * sample's noise does not depend on how the data are batched.
 * Cost: O(samples · per).
 *
 * @example
 * ```ts
 * import { smoothGradNoise } from "./mod.ts";
 * const a = smoothGradNoise({ seed: 3, samples: 2 }, 5, 4), b = smoothGradNoise({ seed: 3, samples: 2 }, 5, 4);
 * if (a.length !== 8 || a[7] !== b[7]) throw new Error("not reproducible");
 * ```
 */
export function smoothGradNoise(
  settings: Pick<SmoothGradSettings, "seed" | "samples">,
  index: number,
  per: number,
): Float32Array {
  const out = new Float32Array(settings.samples * per);
  fillNoise(noiseStream(settings.seed, index), out);
  return out;
}

function noiseStream(seed: number, index: number): () => number {
  return normalSampler(seededUniform((Math.imul(seed | 0, 0x9e3779b1) + index) >>> 0));
}

function fillNoise(normal: () => number, dst: Float32Array): void {
  for (let j = 0; j < dst.length; j++) dst[j] = normal();
}

/** The scalar of each sample from its logits, in f64 (for completeness checks). */
function scalarValues(
  logits: Float32Array,
  labels: Int32Array,
  classes: number,
  scalar: SalienceScalar,
): Float64Array {
  const n = labels.length, out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const z = logits.subarray(i * classes, (i + 1) * classes), y = labels[i]!;
    let max = -Infinity;
    for (const v of z) max = Math.max(max, v);
    let sum = 0;
    for (const v of z) sum += Math.exp(v - max);
    const logP = z[y]! - max - Math.log(sum);
    out[i] = scalar === "true-class-logit"
      ? z[y]!
      : scalar === "true-class-probability"
      ? Math.exp(logP)
      : -logP;
  }
  return out;
}

/** The predicted class of every image (argmax of its logits). */
function predictedClasses(logits: Float32Array, classes: number): Int32Array {
  const n = logits.length / classes, out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) {
      if (logits[i * classes + c]! > logits[i * classes + best]!) best = c;
    }
    out[i] = best;
  }
  return out;
}

function hwcToChw(src: Float32Array, n: number, d: { h: number; w: number; c: number }) {
  const per = d.h * d.w * d.c, out = new Float32Array(src.length);
  for (let i = 0; i < n; i++) {
    for (let y = 0; y < d.h; y++) {
      for (let x = 0; x < d.w; x++) {
        for (let c = 0; c < d.c; c++) {
          out[i * per + (c * d.h + y) * d.w + x] = src[i * per + (y * d.w + x) * d.c + c]!;
        }
      }
    }
  }
  return out;
}

/** What the methods differentiate: the images, each model's labels (in the models' order) and
 * the scalar of those labels. */
interface Target {
  images: Float32Array;
  labels: Int32Array[];
  scalar: SalienceScalar;
}

/**
 * mean_j ∇s at point(i, j), j = 0 … copies − 1, for every sample i and every model of `models`
 * (H×W×C rows, f64 sums; one array per model), evaluating `batchSize` points per model and pass,
 * all models in one stacked pass where they stack (`populationInputGradients`, each model with
 * its own labels); `point(i, j, dst)` writes the point's input.
 */
async function meanGradients(
  models: Model[],
  target: Target,
  copies: number,
  point: (i: number, j: number, dst: Float32Array) => void,
  batchSize: number,
): Promise<Float64Array[]> {
  const n = target.labels[0]!.length, per = target.images.length / n;
  const accs = models.map(() => new Float64Array(n * per)), total = n * copies;
  for (let s = 0; s < total; s += batchSize) {
    const e = Math.min(total, s + batchSize);
    const images = new Float32Array((e - s) * per);
    const labels = models.map(() => new Int32Array(e - s));
    for (let p = s; p < e; p++) {
      const i = Math.floor(p / copies);
      point(i, p % copies, images.subarray((p - s) * per, (p - s + 1) * per));
      labels.forEach((l, k) => (l[p - s] = target.labels[k]![i]!));
    }
    const gs = await populationInputGradients(models, { images, labels }, {
      scalar: target.scalar,
      layout: "hwc",
      batchSize,
    });
    gs.forEach((g, k) => {
      const acc = accs[k]!;
      for (let p = s; p < e; p++) {
        const base = Math.floor(p / copies) * per, row = (p - s) * per;
        for (let j = 0; j < per; j++) acc[base + j]! += g[row + j]!;
      }
    });
  }
  for (const acc of accs) for (let j = 0; j < acc.length; j++) acc[j]! /= copies;
  return accs;
}

/**
 * Attributions of one model's scalar for every sample, with respect to the normalised input, in
 * inference mode:
 * - `gradient`: g = ∇x s(x);
 * - `gradient-x-input`: g ⊙ x;
 * - `smoothgrad`: (1/n) Σ_j ∇s(x + ε_j), ε_j ~ N(0, σ²·(max x − min x)²) per value
 *   ([Smilkov et al. 2017](https://arxiv.org/abs/1706.03825)), noise from {@link smoothGradNoise};
 * - `integrated-gradients`: (x − x′) ⊙ (1/m) Σ_j ∇s(x′ + α_j (x − x′)), α_j = (j + ½)/m
 *   ([Sundararajan et al. 2017](https://arxiv.org/abs/1703.01365)), with its completeness error
 *   (Σ attribution against s(x) − s(x′)).
 * For the predicted-class logit the class is fixed by the prediction at x, so noisy and
 * interpolated points differentiate the same logit.
 * Cost: n (SmoothGrad) or m (IG) forward/backward passes per sample, one for the others, plus
 * one forward pass for IG's completeness.
 *
 * @throws {RangeError} for an unknown method or scalar, bad settings or a label out of range;
 *   {@link TypeError} for misshapen images or a baseline of the wrong length.
 * @example
 * ```ts
 * import { createModel } from "../models/mod.ts";
 * import { initTf } from "../tf/mod.ts";
 * import { attribute } from "./mod.ts";
 * await initTf({ backend: "cpu" });
 * const m = createModel({ family: "MLP", k: 1, seed: 0, shape: { channels: 1, height: 2, width: 2 }, classes: 2 });
 * const data = { images: new Float32Array([1, -1, 0.5, 2]), labels: new Int32Array([1]) };
 * const ig = await attribute(m, data, { method: "integrated-gradients", steps: 64, baseline: "zero" });
 * if (ig.completeness!.maxAbsError > 1e-2) throw new Error("incomplete");
 * m.dispose();
 * ```
 */
export async function attribute(
  model: Model,
  data: LabelledImages,
  method: SalienceMethod,
  options: AttributionOptions = {},
): Promise<Attribution> {
  return (await populationAttribute([model], data, method, options))[0]!;
}

/**
 * {@link attribute} of every model of `models` (a population's members, of one architecture) on
 * the same data: each pass of `batchSize` points per model runs all models in one stacked
 * forward and backward pass (`populationInputGradients`, each model with its own weights and
 * running statistics), so SmoothGrad's copies and Integrated Gradients' steps are batched over
 * samples and models at once. Equal to `attribute()` of each model within f32 rounding. Models
 * that cannot stack (one model, ViT, mixed architectures) run one by one. For the
 * predicted-class logit each model fixes its own class at x, from one stacked forward pass
 * (`populationLogits`), and then differentiates it in the same stacked passes as the others.
 * Cost: as `attribute()` for each model, in S-times larger passes.
 *
 * @throws what {@link attribute} throws; {@link TypeError} when the models' inputs differ.
 * @example
 * ```ts
 * import { createModel } from "../models/mod.ts";
 * import { initTf } from "../tf/mod.ts";
 * import { populationAttribute } from "./mod.ts";
 * await initTf({ backend: "cpu" });
 * const shape = { channels: 1, height: 4, width: 4 };
 * const ms = [0, 1].map((seed) => createModel({ family: "CNNSmall", k: 1, seed, shape, classes: 3 }));
 * const data = { images: new Float32Array(16).map((_, i) => Math.sin(i)), labels: new Int32Array([2]) };
 * const [a, b] = await populationAttribute(ms, data, { method: "smoothgrad", samples: 2, sigma: 0.1, seed: 0 });
 * if (a!.values.length !== 16 || b!.values.length !== 16) throw new Error("one row per model");
 * ms.forEach((m) => m.dispose());
 * ```
 */
export async function populationAttribute(
  models: Model[],
  data: LabelledImages,
  method: SalienceMethod,
  options: AttributionOptions = {},
): Promise<Attribution[]> {
  checkMethod(method);
  const scalar = options.scalar ?? "true-class-logit";
  if (!(SALIENCE_SCALARS as readonly string[]).includes(scalar)) {
    throw new RangeError(
      `Unknown salience scalar "${scalar}"; expected one of ${SALIENCE_SCALARS.join(", ")}.`,
    );
  }
  if (models.length === 0) throw new RangeError("no models given; pass at least one.");
  const d = modelDims(models[0]!), per = d.h * d.w * d.c, bs = options.batchSize ?? 128;
  const n = data.labels.length;
  if (data.images.length !== n * per || n === 0) {
    throw new TypeError(
      `images hold ${data.images.length} floats for ${n} labels; expected ${n} × H·W·C = ${per} (NHWC, one label per image).`,
    );
  }
  const finish = (hwc: Float32Array, completeness: Completeness | null): Attribution => ({
    values: (options.layout ?? "chw") === "chw" ? hwcToChw(hwc, n, d) : hwc,
    completeness,
  });
  if (method.method === "gradient" || method.method === "gradient-x-input") {
    const gs = await populationInputGradients(models, data, {
      scalar,
      layout: "hwc",
      batchSize: bs,
    });
    return gs.map((g) => {
      if (method.method === "gradient-x-input") {
        for (let j = 0; j < g.length; j++) g[j]! *= data.images[j]!;
      }
      return finish(g, null);
    });
  }
  // Fix each model's differentiated class at x for the predicted-class logit.
  const target: Target = scalar === "predicted-class-logit"
    ? {
      images: data.images,
      labels: (await populationLogits(models, data.images, { batchSize: bs })).map((z) =>
        predictedClasses(z, d.classes)
      ),
      scalar: "true-class-logit",
    }
    : { images: data.images, labels: models.map(() => data.labels), scalar };
  for (const l of target.labels[0]!) checkLabel(l, d.classes);
  if (method.method === "smoothgrad") {
    const copies = method.samples;
    let current = -1, noise: Float32Array = new Float32Array(0), scale = 0;
    const gs = await meanGradients(models, target, copies, (i, j, dst) => {
      if (i !== current) {
        current = i;
        noise = smoothGradNoise(method, i, per);
        const x = data.images.subarray(i * per, (i + 1) * per);
        let lo = Infinity, hi = -Infinity;
        for (const v of x) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
        scale = method.sigma * (hi - lo);
      }
      for (let t = 0; t < per; t++) {
        dst[t] = data.images[i * per + t]! + scale * noise[j * per + t]!;
      }
    }, bs);
    return gs.map((g) => finish(Float32Array.from(g), null));
  }
  return await integratedGradients(models, target, method, { d, bs, finish });
}

function checkLabel(l: number, classes: number): void {
  if (l < 0 || l >= classes) throw new RangeError(`label ${l} is outside 0 … ${classes - 1}.`);
}

async function integratedGradients(
  models: Model[],
  target: Target,
  method: IntegratedGradientsSettings,
  ctx: {
    d: ReturnType<typeof modelDims>;
    bs: number;
    finish: (hwc: Float32Array, c: Completeness) => Attribution;
  },
): Promise<Attribution[]> {
  const { d, bs } = ctx, per = d.h * d.w * d.c, n = target.labels[0]!.length, x = target.images;
  const b = method.baseline;
  if (b !== "zero" && (b.length !== d.c || !b.every(Number.isFinite))) {
    throw new TypeError(
      `Integrated Gradients baseline holds ${b.length} values; expected "zero" or ${d.c} finite values (one per channel).`,
    );
  }
  const baseOf = (t: number) => b === "zero" ? 0 : b[t % d.c]!;
  const m = method.steps;
  const gs = await meanGradients(models, target, m, (i, j, dst) => {
    const alpha = (j + 0.5) / m;
    for (let t = 0; t < per; t++) {
      const x0 = baseOf(t);
      dst[t] = x0 + alpha * (x[i * per + t]! - x0);
    }
  }, bs);
  const baseline = new Float32Array(per);
  for (let t = 0; t < per; t++) baseline[t] = baseOf(t);
  const zxs = await populationLogits(models, x, { batchSize: bs });
  const z0s = await populationLogits(models, baseline);
  return gs.map((g, k) => {
    const attr = new Float32Array(n * per), sum = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      for (let t = 0; t < per; t++) {
        const a = (x[i * per + t]! - baseOf(t)) * g[i * per + t]!;
        attr[i * per + t] = a;
        sum[i]! += a;
      }
    }
    const labels = target.labels[k]!;
    const sx = scalarValues(zxs[k]!, labels, d.classes, target.scalar);
    const delta = new Float64Array(n);
    let maxAbs = 0, errSum = 0, deltaSum = 0;
    for (let i = 0; i < n; i++) {
      const s0 = scalarValues(z0s[k]!, labels.subarray(i, i + 1), d.classes, target.scalar)[0]!;
      delta[i] = sx[i]! - s0;
      const err = Math.abs(sum[i]! - delta[i]!);
      maxAbs = Math.max(maxAbs, err);
      errSum += err;
      deltaSum += Math.abs(delta[i]!);
    }
    return ctx.finish(attr, {
      delta,
      sum,
      maxAbsError: maxAbs,
      relativeError: deltaSum > 0 ? errSum / deltaSum : errSum === 0 ? 0 : Infinity,
    });
  });
}
