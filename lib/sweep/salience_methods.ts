/**
 * Attribution methods in a sweep (`salience.methods`): their settings with defaults, the
 * per-method salience files of a run (`salience-<method>.npy` + sidecar, and
 * `salience-methods.json` with Integrated Gradients' completeness error), and the analysis of
 * each method into `analysis/methods/<method>/` from the same trained models.
 *
 * @module
 */
import { join } from "node:path";
import type * as tfl from "@tensorflow/tfjs-layers";
import { reference } from "../../kernels/mod.ts";
import { type AnalyzeOptions, type AnalyzeResult, analyzeSweep } from "../analysis/mod.ts";
import type { Dataset } from "../data/mod.ts";
import { type GradientMeta, writeNpy, writeSidecar } from "../npy/mod.ts";
import {
  attribute,
  type Attribution,
  populationAttribute,
  type SalienceMethod,
} from "../salience/mod.ts";
import {
  exists,
  type PlanEntry,
  readJson,
  type SalienceMethodName,
  SCHEMA_VERSION,
  SWEEP_FILES,
  type SweepConfig,
  verifiedRuns,
  writeJson,
} from "../store/mod.ts";
import type { Progress } from "./progress.ts";

/** SmoothGrad's settings when the config names the method without them. */
export const SMOOTHGRAD_DEFAULTS = { samples: 16, sigma: 0.15, seed: 0 } as const;
/** Integrated Gradients' settings when the config names the method without them. */
export const INTEGRATED_GRADIENTS_DEFAULTS = { steps: 32, baseline: "zero" } as const;
/** The per-run record of the method files. */
export const METHODS_RECORD = "salience-methods.json";

/**
 * The methods a config analyses: `salience.methods`, or `["gradient"]` when absent.
 *
 * @example
 * ```ts
 * import { methodsOf } from "./salience_methods.ts";
 * import { presetConfig } from "./presets.ts";
 * if (methodsOf(presetConfig("tiny")).join() !== "gradient") throw new Error();
 * ```
 */
export function methodsOf(config: SweepConfig): SalienceMethodName[] {
  return config.salience.methods ?? ["gradient"];
}

/**
 * The run file holding a method's salience: `salience.npy` for the gradient (the run's own
 * salience), `salience-<method>.npy` for the others.
 *
 * @example
 * ```ts
 * import { methodFile } from "./salience_methods.ts";
 * if (methodFile("smoothgrad") !== "salience-smoothgrad.npy") throw new Error();
 * ```
 */
export function methodFile(method: SalienceMethodName): string {
  return method === "gradient" ? "salience.npy" : `salience-${method}.npy`;
}

/**
 * Fills the settings of SmoothGrad and Integrated Gradients with their defaults when a config
 * (parsed, not yet validated) names the method, so the resolved config records them; configs
 * that do not name them are returned unchanged (their ids stay the same).
 *
 * @example
 * ```ts
 * import { fillMethodDefaults } from "./salience_methods.ts";
 * const c = fillMethodDefaults({ salience: { methods: ["smoothgrad"], smoothGrad: { samples: 4 } } });
 * if ((c as any).salience.smoothGrad.sigma !== 0.15) throw new Error();
 * ```
 */
export function fillMethodDefaults(config: unknown): unknown {
  const isObj = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isObj(config) || !isObj(config.salience)) return config;
  const s = { ...config.salience };
  const methods = Array.isArray(s.methods) ? s.methods : [];
  if (methods.includes("smoothgrad")) {
    s.smoothGrad = { ...SMOOTHGRAD_DEFAULTS, ...(isObj(s.smoothGrad) ? s.smoothGrad : {}) };
  }
  if (methods.includes("integrated-gradients")) {
    s.integratedGradients = {
      ...INTEGRATED_GRADIENTS_DEFAULTS,
      ...(isObj(s.integratedGradients) ? s.integratedGradients : {}),
    };
  }
  return { ...config, salience: s };
}

/**
 * A method with its settings for `lib/salience`'s `attribute()`: Integrated Gradients' `black`
 * baseline is raw value 0, i.e. −mean/std per channel in normalised units.
 *
 * @example
 * ```ts
 * import { methodSettings } from "./salience_methods.ts";
 * import { presetConfig } from "./presets.ts";
 * const c = presetConfig("tiny");
 * c.salience.integratedGradients = { steps: 8, baseline: "black" };
 * const m = methodSettings(c, { mean: [0.5], std: [0.25] }, "integrated-gradients");
 * if (m.method !== "integrated-gradients" || (m.baseline as number[])[0] !== -2) throw new Error();
 * ```
 */
export function methodSettings(
  config: SweepConfig,
  norm: Pick<Dataset, "mean" | "std">,
  method: SalienceMethodName,
): SalienceMethod {
  switch (method) {
    case "smoothgrad":
      return { method, ...(config.salience.smoothGrad ?? SMOOTHGRAD_DEFAULTS) };
    case "integrated-gradients": {
      const ig = config.salience.integratedGradients ?? INTEGRATED_GRADIENTS_DEFAULTS;
      return {
        method,
        steps: ig.steps,
        baseline: ig.baseline === "zero" ? "zero" : norm.mean.map((m, c) => -m / norm.std[c]!),
      };
    }
    default:
      return { method };
  }
}

/** One method's entry in a run's `salience-methods.json`. */
export interface RunMethodEntry {
  method: SalienceMethodName;
  /** The settings `attribute()` ran with (baseline in normalised units). */
  settings: SalienceMethod;
  file: string;
  shape: [number, number];
  seconds: number;
  /** Integrated Gradients only (on the unpooled attributions), else `null`. */
  completeness: { maxAbsError: number; relativeError: number; meanAbsDelta: number } | null;
}

/** A run's `salience-methods.json`. */
export interface RunMethodsJson {
  schemaVersion: typeof SCHEMA_VERSION;
  kind: "salience-methods";
  methods: RunMethodEntry[];
}

/**
 * Writes one run's salience `values` ([N, D] float32 for the N probe images) at `path` with its
 * sidecar: the sweep's scalar, `pooling`, the data set's input shape and probe indices, the
 * run's model and an optional `note`. The one writer of per-run gradients (final, per method,
 * per epoch). Cost: one write of N·D float32.
 *
 * @throws {TypeError} when `values` is not a whole number of probe rows.
 */
export async function writeRunSalience(
  path: string,
  values: Float32Array,
  ctx: {
    config: SweepConfig;
    dataset: Dataset;
    entry: PlanEntry;
    pooling: number | null;
    note?: string;
  },
): Promise<void> {
  const { dataset, entry } = ctx, N = dataset.probe.count;
  if (N === 0 || values.length % N !== 0) {
    throw new TypeError(
      `Salience of ${entry.runId} has ${values.length} values; expected a multiple of the ${N} probe images.`,
    );
  }
  const meta: GradientMeta = {
    format: "salience-gradients",
    version: 1,
    scalar: ctx.config.salience.scalar,
    pooling: ctx.pooling,
    input: { ...dataset.shape },
    models: [{ family: entry.family, k: entry.k, seed: entry.seed }],
    probe: {
      dataset: dataset.name,
      split: dataset.probe.split,
      indices: [...dataset.probe.indices],
    },
    ...(ctx.note === undefined ? {} : { note: ctx.note }),
  };
  await writeSidecar(path, meta);
  await writeNpy(path, [N, values.length / N], values);
}

/**
 * Area-pools [N, C·H·W] rows to pool × pool per channel (PyTorch's `interpolate(mode='area')`,
 * the kernels' reference `areaPool`); `null` returns the rows unchanged. Cost: O(N·C·H·W).
 *
 * @example
 * ```ts
 * import { poolRows } from "./salience_methods.ts";
 * const p = poolRows(new Float32Array([1, 2, 3, 4]), { channels: 1, height: 2, width: 2 }, 1, 1);
 * if (p[0] !== 2.5) throw new Error(String(p[0]));
 * ```
 */
export function poolRows(
  g: Float32Array,
  shape: Dataset["shape"],
  n: number,
  P: number | null,
): Float32Array {
  if (P === null) return g;
  const { channels, height, width } = shape, per = channels * height * width;
  const out = new Float32Array(n * channels * P * P);
  for (let i = 0; i < n; i++) {
    const pooled = reference.areaPool(g.subarray(i * per, (i + 1) * per), {
      channels,
      height,
      width,
      size: P,
    });
    out.set(pooled, i * channels * P * P);
  }
  return out;
}

/** The configured methods besides the plain gradient (whose file is the run's `salience.npy`). */
function otherMethods(config: SweepConfig): SalienceMethodName[] {
  return methodsOf(config).filter((m) => m !== "gradient");
}

/**
 * Whether {@linkcode writeMethodSalience} will compute the run's method files: some method
 * besides the gradient is configured and its files or record are missing, or `redone` names
 * one of them or the checkpoint.
 */
export async function methodSalienceMissing(
  config: SweepConfig,
  runDir: string,
  redone: readonly string[],
): Promise<boolean> {
  const methods = otherMethods(config);
  if (methods.length === 0) return false;
  const stale = redone.some((p) =>
    p.startsWith("checkpoint/") || p === METHODS_RECORD || p.startsWith("salience-")
  );
  const present = await exists(join(runDir, METHODS_RECORD)) &&
    (await Promise.all(methods.map((m) => exists(join(runDir, methodFile(m)))))).every(Boolean);
  return stale || !present;
}

/** One model's attribution by one method, computed with its population, and its seconds. */
export interface PrecomputedAttribution {
  attribution: Attribution;
  /** This model's share of the seconds the population's pass took. */
  seconds: number;
}

/**
 * The attributions of every configured method but the gradient for each of `models` (a
 * population's members) on the probe set, each method in one `populationAttribute()` (all
 * models in one stacked pass per batch), with the seconds shared evenly. One map per model.
 * Cost: as {@linkcode writeMethodSalience} for every model, in S-times larger passes.
 */
export async function populationMethodAttributions(
  models: tfl.LayersModel[],
  dataset: Dataset,
  config: SweepConfig,
  progress: Progress,
): Promise<Map<SalienceMethodName, PrecomputedAttribution>[]> {
  const out = models.map(() => new Map<SalienceMethodName, PrecomputedAttribution>());
  for (const method of otherMethods(config)) {
    progress.phase(`salience: ${method} of ${models.length} models together`);
    const t0 = performance.now();
    const as = await populationAttribute(
      models,
      dataset.probe,
      methodSettings(config, dataset, method),
      { scalar: config.salience.scalar, batchSize: 64 },
    );
    const seconds = (performance.now() - t0) / 1000 / models.length;
    as.forEach((attribution, k) => out[k]!.set(method, { attribution, seconds }));
  }
  return out;
}

/** One run of a sweep with its trained model and run folder: what the per-run writers read. */
export interface RunFolderContext {
  model: tfl.LayersModel;
  dataset: Dataset;
  config: SweepConfig;
  entry: PlanEntry;
  /** The run's folder. */
  runDir: string;
  /** The run's artifacts whose checksum failed (to be computed again). */
  redone: string[];
  progress: Progress;
}

/**
 * Writes the salience of every configured method but the plain gradient (which is the run's
 * `salience.npy`) into the run folder: `salience-<method>.npy` [N, D] (pooled as the config
 * says) with its sidecar, then `salience-methods.json`. Files already present with their record
 * are kept, unless `redone` (the artifacts whose checksum failed) names one of them or the
 * checkpoint, in which case all are recomputed. Does nothing for `["gradient"]`. `precomputed`:
 * this model's attributions already computed with its population
 * ({@linkcode populationMethodAttributions}), used instead of computing them again.
 * Cost: per method, `attribute()` over the probe set (SmoothGrad n and IG m gradient passes).
 *
 * @throws what `attribute()` throws.
 */
export async function writeMethodSalience(
  ctx: RunFolderContext & { precomputed?: Map<SalienceMethodName, PrecomputedAttribution> },
): Promise<RunMethodsJson | null> {
  const { model, dataset, config, entry, runDir } = ctx;
  const methods = otherMethods(config);
  if (methods.length === 0) return null;
  const record = join(runDir, METHODS_RECORD);
  if (!(await methodSalienceMissing(config, runDir, ctx.redone))) {
    return await readJson(record) as RunMethodsJson;
  }
  const N = dataset.probe.count, P = config.salience.pool;
  const entries: RunMethodEntry[] = [];
  for (const method of methods) {
    ctx.progress.phase(`salience: ${method}`);
    const t0 = performance.now();
    const settings = methodSettings(config, dataset, method);
    const pre = ctx.precomputed?.get(method);
    const a = pre?.attribution ?? await attribute(model, dataset.probe, settings, {
      scalar: config.salience.scalar,
      batchSize: 64,
    });
    const values = poolRows(a.values, dataset.shape, N, P);
    const D = values.length / N, file = methodFile(method), path = join(runDir, file);
    await writeRunSalience(path, values, {
      config,
      dataset,
      entry,
      pooling: P,
      note: `method ${JSON.stringify(settings)}`,
    });
    const c = a.completeness;
    entries.push({
      method,
      settings,
      file,
      shape: [N, D],
      seconds: (pre?.seconds ?? 0) + (performance.now() - t0) / 1000,
      completeness: c && {
        maxAbsError: c.maxAbsError,
        relativeError: c.relativeError,
        meanAbsDelta: c.delta.reduce((s, v) => s + Math.abs(v), 0) / N,
      },
    });
  }
  const out: RunMethodsJson = {
    schemaVersion: SCHEMA_VERSION,
    kind: "salience-methods",
    methods: entries,
  };
  await writeJson(record, out);
  return out;
}

/** One method's entry in `analysis/methods/index.json`. */
export interface MethodAnalysisEntry {
  method: SalienceMethodName;
  /** The analysis folder, relative to `analysis/` (`.` for the gradient). */
  dir: string;
  /** The settings of the first run (every run of a sweep shares them). */
  settings: SalienceMethod | null;
  /** Integrated Gradients: the worst completeness errors over the runs, else `null`. */
  completeness: { runs: number; maxAbsError: number; maxRelativeError: number } | null;
}

/** `analysis/methods/index.json`. */
export interface MethodsIndexJson {
  schemaVersion: typeof SCHEMA_VERSION;
  kind: "salience-methods-index";
  methods: MethodAnalysisEntry[];
}

/**
 * Analyses every configured method but the gradient (whose analysis is `analysis/` itself) with
 * `analyzeSweep()` of `lib/analysis`, each from the runs' `salience-<method>.npy` into
 * `analysis/methods/<method>/`, and writes `analysis/methods/index.json` listing every method
 * (the gradient included) with its folder and, for Integrated Gradients, the completeness
 * errors. Returns each method's result (nothing for `["gradient"]`).
 * Cost: one analysis pass per extra method.
 *
 * @throws what `analyzeSweep()` throws.
 */
export async function analyzeMethods(
  sweepDir: string,
  config: SweepConfig,
  options: {
    analysis?: AnalyzeOptions;
    log?: (line: string) => void;
  } = {},
): Promise<Map<SalienceMethodName, AnalyzeResult>> {
  const methods = methodsOf(config);
  const results = new Map<SalienceMethodName, AnalyzeResult>();
  if (methods.every((m) => m === "gradient")) return results;
  const analysisDir = options.analysis?.outDir ?? join(sweepDir, SWEEP_FILES.analysis);
  const records: RunMethodsJson[] = [];
  for (const r of await verifiedRuns(sweepDir)) {
    const p = join(r.dir, METHODS_RECORD);
    if (r.status === "complete" && await exists(p)) {
      records.push(await readJson(p) as RunMethodsJson);
    }
  }
  const index: MethodAnalysisEntry[] = [];
  for (const method of methods) {
    const entries = records.flatMap((r) => r.methods.filter((e) => e.method === method));
    const ig = entries.map((e) => e.completeness).filter((c) => c !== null);
    index.push({
      method,
      dir: method === "gradient" ? "." : `methods/${method}`,
      settings: method === "gradient" ? { method } : entries[0]?.settings ?? null,
      completeness: ig.length === 0 ? null : {
        runs: ig.length,
        maxAbsError: Math.max(...ig.map((c) => c.maxAbsError)),
        maxRelativeError: Math.max(...ig.map((c) => c.relativeError)),
      },
    });
    if (method === "gradient") continue;
    const result = await analyzeSweep(sweepDir, {
      ...options.analysis,
      outDir: join(analysisDir, "methods", method),
      salienceFile: methodFile(method),
    });
    results.set(method, result);
    options.log?.(`method ${method} → ${result.outDir}`);
    for (const c of result.claims.claims) {
      options.log?.(`  ${c.verdict.padEnd(12)} ${c.id}: ${c.reason}`);
    }
  }
  const out: MethodsIndexJson = {
    schemaVersion: SCHEMA_VERSION,
    kind: "salience-methods-index",
    methods: index,
  };
  await Deno.mkdir(join(analysisDir, "methods"), { recursive: true });
  await writeJson(join(analysisDir, "methods", "index.json"), out);
  return results;
}
