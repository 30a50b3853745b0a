/**
 * A per-family cost model for `--dry-run`: parameter counts and floating-point operations
 * computed layer by layer from the architectures of `lib/models` (without building any model),
 * and the size of what the sweep writes.
 *
 * @module
 */
import { metaDim } from "../npy/mod.ts";
import type { PlanEntry, SweepConfig } from "../store/mod.ts";

/** Input size, class count and split sizes of a data set, known without loading it. */
export interface DatasetFacts {
  channels: number;
  height: number;
  width: number;
  classes: number;
  /** Images in the full training split. */
  train: number;
  /** Images in the full test split. */
  test: number;
}

/** What the sweep's data sets look like (synthetic: the loader's defaults). */
export const DATASET_FACTS: Readonly<Record<string, DatasetFacts>> = {
  "fmnist-default": { channels: 1, height: 28, width: 28, classes: 10, train: 4000, test: 1000 },
  fmnist: { channels: 1, height: 28, width: 28, classes: 10, train: 60000, test: 10000 },
  synthetic: { channels: 1, height: 8, width: 8, classes: 4, train: 256, test: 64 },
  cifar10: { channels: 3, height: 32, width: 32, classes: 10, train: 50000, test: 10000 },
  cifar100: { channels: 3, height: 32, width: 32, classes: 100, train: 50000, test: 10000 },
  tinyimagenet: { channels: 3, height: 64, width: 64, classes: 200, train: 100000, test: 10000 },
};

/** Trainable parameters and multiply-accumulates of one forward pass of one image. */
export interface ModelCost {
  params: number;
  macs: number;
}

class Walk {
  params = 0;
  macs = 0;
  constructor(public c: number, public h: number, public w: number) {}
  conv(cout: number, o: { k?: number; s?: number; pad?: number | "same"; bias?: boolean } = {}) {
    const k = o.k ?? 3, s = o.s ?? 1, pad = o.pad ?? "same", bias = o.bias ?? true;
    const [h, w] = pad === "same"
      ? [Math.ceil(this.h / s), Math.ceil(this.w / s)]
      : [Math.floor((this.h + 2 * pad - k) / s) + 1, Math.floor((this.w + 2 * pad - k) / s) + 1];
    this.params += k * k * this.c * cout + (bias ? cout : 0);
    this.macs += h * w * k * k * this.c * cout;
    [this.c, this.h, this.w] = [cout, h, w];
    return this;
  }
  bn() {
    this.params += 2 * this.c;
    this.macs += 2 * this.c * this.h * this.w;
    return this;
  }
  pool() {
    [this.h, this.w] = [Math.floor(this.h / 2), Math.floor(this.w / 2)];
    return this;
  }
  dense(inp: number, out: number, rows = 1) {
    this.params += inp * out + out;
    this.macs += rows * inp * out;
  }
}

/**
 * Parameter count and forward multiply-accumulates per image of a family at width k, layer by
 * layer as `lib/models` builds it (BN γ, β count as parameters; their multiply-adds count as
 * MACs; pooling and activations are free). Cost: O(layers).
 *
 * @throws {RangeError} for an unknown family.
 * @example
 * ```ts
 * import { modelCost } from "./cost.ts";
 * const c = modelCost("CNNSmall", 10, { channels: 3, height: 32, width: 32, classes: 10 });
 * if (c.params !== 39330) throw new Error(String(c.params));
 * ```
 */
export function modelCost(
  family: string,
  k: number,
  input: { channels: number; height: number; width: number; classes: number },
): ModelCost {
  const x = new Walk(input.channels, input.height, input.width);
  const classes = input.classes;
  switch (family) {
    case "CNNSmall":
    case "CNNLarge": {
      const reps = family === "CNNLarge" ? 2 : 1;
      for (const s of [k, 2 * k, "pool", 4 * k, "pool", 8 * k] as const) {
        if (s === "pool") x.pool();
        else for (let r = 0; r < reps; r++) x.conv(s).bn();
      }
      x.dense(8 * k, classes);
      break;
    }
    case "ResNetSmall":
    case "ResNetLarge": {
      x.conv(k, { k: 7, s: 2, pad: 3, bias: false }).bn();
      [k, 2 * k, 4 * k, 8 * k].forEach((f, i) => {
        const blocks = family === "ResNetLarge" || i === 0 ? 2 : 1;
        for (let j = 0; j < blocks; j++) {
          const s = i > 0 && j === 0 ? 2 : 1;
          const cin = x.c, h = x.h, w = x.w;
          x.conv(f, { s, pad: s === 1 ? "same" : 1, bias: false }).bn().conv(f, { bias: false })
            .bn();
          if (s !== 1 || cin !== f) {
            const sc = new Walk(cin, h, w).conv(f, { k: 1, s, pad: 0, bias: false }).bn();
            x.params += sc.params;
            x.macs += sc.macs;
          }
        }
      });
      x.dense(8 * k, classes);
      break;
    }
    case "MLP": {
      const d = input.channels * input.height * input.width;
      x.dense(d, 16 * k);
      x.dense(16 * k, 16 * k);
      x.dense(16 * k, classes);
      break;
    }
    case "ViT": {
      const e = 4 * k;
      x.conv(e, { k: 4, s: 4, pad: 0 });
      const t = x.h * x.w + 1;
      x.params += e + t * e; // class token and position embedding
      for (let b = 0; b < 6; b++) {
        x.params += 2 * e; // layer norm
        x.dense(e, 3 * e, t); // q, k, v
        x.macs += 2 * t * t * e; // scores and weighted sum
        x.dense(e, e, t); // output projection
        x.params += 2 * e;
        x.dense(e, 2 * e, t);
        x.dense(2 * e, e, t);
      }
      x.params += 2 * e;
      x.dense(e, classes);
      break;
    }
    default:
      throw new RangeError(
        `Unknown family '${family}' in the cost model; expected one of CNNSmall, CNNLarge, ResNetSmall, ResNetLarge, MLP, ViT.`,
      );
  }
  return { params: x.params, macs: x.macs };
}

/** Cost of one planned run and of the whole plan. */
export interface PlanCost {
  runs: number;
  /** Sum over runs of the trainable parameters. */
  params: number;
  /** Largest single model. */
  maxParams: number;
  /** Floating-point operations of the whole plan (training, evaluation, salience, logits). */
  flops: number;
  /** Bytes of `salience.npy` files (N × D × 4 per run). */
  gradientBytes: number;
  /**
   * Bytes of `salience-unpooled.npy` files (N × C·H·W × 4 per run), kept beside a pooled
   * `salience.npy` for the side-by-side unpooled analysis; 0 when unpooled or switched off.
   */
  unpooledBytes: number;
  /**
   * Gradient passes per probe image beyond the run's own salience (`methods`: the other
   * attribution methods of `salience.methods`; `epochs`: one per analysed epoch), and the bytes
   * of the files they write (included in `flops`, not in `gradientBytes`).
   */
  extraSalience: { methods: number; epochs: number; bytes: number };
  /** Bytes of checkpoints (4 bytes per weight, BN running statistics included). */
  checkpointBytes: number;
  /** Seconds at `flopsPerSecond`. */
  seconds: number;
  /** The rate `seconds` assumes. */
  flopsPerSecond: number;
  /** Per (family, k): parameters and FLOPs of one run. */
  perModel: { family: string; k: number; params: number; flopsPerRun: number }[];
}

/** Effective rate the dry run assumes unless told otherwise: 10 TFLOP/s (one current data-centre GPU at a realistic utilisation). */
export const REFERENCE_FLOPS_PER_SECOND = 1e13;

/**
 * Estimates the cost of a plan. FLOPs per run: `epochs · (train · 3F + test · F) + probe · 3F
 * (+ probe · F for logits; + (preciseBN · batch + test) · F with precise batch norm)`, with F = 2 · forward MACs per image (backward ≈ twice the
 * forward); a config's `checkpoints` train nothing, so their first term is `test · F`.
 * Cost: O(families × widths).
 *
 * @throws {RangeError} for an unknown data set or family.
 * @example
 * ```ts
 * import { planCost } from "./cost.ts";
 * import { buildPlan } from "./plan.ts";
 * import { presetConfig } from "./presets.ts";
 * const cfg = presetConfig("cifar10-paper");
 * const c = planCost(cfg, buildPlan(cfg).runs);
 * if (c.runs !== 200 || c.gradientBytes !== 200 * 10000 * 192 * 4) throw new Error();
 * if (c.unpooledBytes !== 200 * 10000 * 3072 * 4) throw new Error();
 * ```
 */
export function planCost(
  config: SweepConfig,
  runs: readonly PlanEntry[],
  options: { flopsPerSecond?: number } = {},
): PlanCost {
  const facts = DATASET_FACTS[config.dataset.name];
  if (!facts) {
    throw new RangeError(
      `No cost facts for data set '${config.dataset.name}'; expected one of ${
        Object.keys(DATASET_FACTS).join(", ")
      }.`,
    );
  }
  const train = Math.min(config.dataset.trainImages ?? facts.train, facts.train);
  const test = Math.min(config.dataset.testImages ?? facts.test, facts.test);
  const probe = config.dataset.probeImages;
  const d = metaDim({ pooling: config.salience.pool, input: facts });
  const rate = options.flopsPerSecond ?? REFERENCE_FLOPS_PER_SECOND;
  const extra = extraSaliencePasses(config);
  const perModel = new Map<string, PlanCost["perModel"][number]>();
  let params = 0, maxParams = 0, flops = 0, checkpointBytes = 0;
  for (const r of runs) {
    const key = `${r.family}/${r.k}`;
    let m = perModel.get(key);
    if (!m) {
      const c = modelCost(r.family, r.k, facts);
      const f = 2 * c.macs;
      // A checkpoint run trains nothing: it evaluates the test split once.
      const training = config.checkpoints ? test * f : config.training.epochs *
        (train * 3 * f + test * f);
      // Precise BN: its batches' forward passes and one more test evaluation.
      const pbn = config.checkpoints ? null : config.training.preciseBN ?? null;
      const recal = pbn === null ? 0 : Math.min(pbn * r.batchSize, train) * f + test * f;
      const flopsPerRun = training + recal + probe * 3 * f +
        (config.experiments.logits ? probe * f : 0) +
        probe * (3 * f * (extra.methods + extra.epochs) + extra.forwards * f);
      m = { family: r.family, k: r.k, params: c.params, flopsPerRun };
      perModel.set(key, m);
    }
    params += m.params;
    maxParams = Math.max(maxParams, m.params);
    flops += m.flopsPerRun;
    checkpointBytes += 4 * m.params * 1.05;
  }
  return {
    runs: runs.length,
    params,
    maxParams,
    flops,
    gradientBytes: runs.length * probe * d * 4,
    unpooledBytes: config.salience.pool !== null && config.analysis?.comparePooling !== false
      ? runs.length * probe * metaDim({ pooling: null, input: facts }) * 4
      : 0,
    extraSalience: {
      methods: extra.methods,
      epochs: extra.epochs,
      bytes: runs.length * probe * d * 4 * extra.files,
    },
    checkpointBytes: Math.round(checkpointBytes),
    seconds: flops / rate,
    flopsPerSecond: rate,
    perModel: [...perModel.values()],
  };
}

/**
 * Passes per probe image that a config's attribution methods and analysed epochs add to a run:
 * gradient passes of the methods other than `gradient` (Gradient × Input 1, SmoothGrad n,
 * Integrated Gradients m), forward passes (IG's completeness check: 2), one gradient pass per
 * analysed epoch, and the number of extra [N, D] files written.
 *
 * @example
 * ```ts
 * import { extraSaliencePasses } from "./cost.ts";
 * import { presetConfig } from "./presets.ts";
 * const c = presetConfig("tiny");
 * c.salience.methods = ["gradient", "smoothgrad"];
 * c.salience.smoothGrad = { samples: 8, sigma: 0.1, seed: 0 };
 * c.salience.epochs = [1];
 * const x = extraSaliencePasses(c);
 * if (x.methods !== 8 || x.epochs !== 1 || x.files !== 2) throw new Error(JSON.stringify(x));
 * ```
 */
export function extraSaliencePasses(
  config: SweepConfig,
): { methods: number; forwards: number; epochs: number; files: number } {
  const s = config.salience;
  let methods = 0, forwards = 0, files = 0;
  for (const m of s.methods ?? ["gradient"]) {
    if (m === "gradient") continue;
    files++;
    if (m === "gradient-x-input") methods += 1;
    else if (m === "smoothgrad") methods += s.smoothGrad?.samples ?? 16;
    else {
      methods += s.integratedGradients?.steps ?? 32;
      forwards += 2;
    }
  }
  const epochs = (s.epochs ?? []).length;
  return { methods, forwards, epochs, files: files + epochs };
}
