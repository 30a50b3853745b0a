/**
 * Analysis of a whole sweep folder, and of external `[M, N, D]` gradient files: reads the
 * gradients, runs {@link analyzeGradients}, gathers the experiments' results and claims, and
 * writes every file of `schema.ts` atomically into an `analysis/` folder.
 *
 * @module
 */

import { basename, join } from "node:path";
import { type Gpu, requestGpu } from "../../kernels/mod.ts";
import { openGradientSource } from "../npy/mod.ts";
import { openNpy } from "../npy/reader.ts";
import {
  backendSummary,
  type ExternalModels,
  externalModels,
  gradientShape,
  modelMajorStream,
} from "./external.ts";
import { paperComparison } from "./paper.ts";

export type { ExternalModels } from "./external.ts";
import {
  readRun,
  readSweep,
  type RunJson,
  SWEEP_FILES,
  verifiedRuns,
  writeDirAsUnit,
  writeFileAtomic,
} from "../store/mod.ts";
import {
  analyzeGradients,
  type BatchStream,
  type GradientAnalysis,
  type GradientAnalysisOptions,
  type ModelInput,
} from "./gradients.ts";
import {
  type AccuracyFloor,
  ANALYSIS_FILES,
  ANALYSIS_SCHEMA_VERSION,
  type AnalysisFile,
  assertAnalysisFile,
  type AttacksFile,
  type ClaimEntry,
  type ClaimsFile,
  type EnsemblesFile,
  type PaperFile,
  type PoolingFile,
  type PoolingVariant,
  type SummaryFile,
} from "./schema.ts";
import {
  PAPER_POOL,
  pooledStream,
  poolingFile,
  poolingVariant,
  UNPOOLED_SALIENCE,
} from "./pooling.ts";

/** Options of {@link analyzeSweep} and {@link analyzeExternal}. */
export interface AnalyzeOptions extends Omit<GradientAnalysisOptions, "gpu" | "source" | "info"> {
  /**
   * Kernels' device: a {@link Gpu} to share (e.g. the one TensorFlow.js uses), `"auto"` (default)
   * to request one (the reference kernels run where no adapter exists), or `"cpu"` for the
   * pure-TypeScript path.
   */
  gpu?: Gpu | "auto" | "cpu";
  /** Folder to write into (default `<sweep>/analysis`). */
  outDir?: string;
  /**
   * The salience file read in each run folder (default: the run's `salience.file`, i.e. the
   * gradient); e.g. `salience-smoothgrad.npy` to analyse another attribution method.
   */
  salienceFile?: string;
  /** Results of the black-box attack study (from `lib/experiments`), written as `attacks.json`. */
  attacks?: AttacksFile;
  /** Results of the ensemble study, written as `ensembles.json`. */
  ensembles?: EnsemblesFile;
  /**
   * Also analyse the same salience at the other pooling (8×8 when the main one is unpooled,
   * unpooled when it is pooled) into `analysis/pooling/`, with `pooling.json` side by side
   * (default: the config's `analysis.comparePooling`, else true). Sweeps only.
   */
  comparePooling?: boolean;
}

/** What an analysis run wrote. */
export interface AnalyzeResult {
  outDir: string;
  files: string[];
  summary: SummaryFile;
  claims: ClaimsFile;
  /** The accuracy floor the claims applied, with the accuracy range (also in similarity.json). */
  accuracyFloor?: AccuracyFloor;
  /** The pooled and unpooled analyses side by side, when `pooling.json` was written. */
  pooling?: PoolingFile;
  /** Our figures beside the paper's published ones (`paper.json`, sweeps only). */
  paper?: PaperFile;
}

/**
 * Writes `value` as JSON to `dir/name` atomically (`name.tmp-<pid>`, then rename).
 *
 * Cost: one write and one rename.
 *
 * @example
 * ```ts
 * import { writeAnalysisFile } from "./sweep.ts";
 * const dir = await Deno.makeTempDir();
 * await writeAnalysisFile(dir, "x.json", { a: 1 });
 * if (JSON.parse(await Deno.readTextFile(dir + "/x.json")).a !== 1) throw new Error("lost");
 * ```
 */
export async function writeAnalysisFile(dir: string, name: string, value: unknown): Promise<void> {
  await writeFileAtomic(join(dir, name), new TextEncoder().encode(JSON.stringify(value) + "\n"));
}

/**
 * A trained run as the analysis sees it: its id, family, width, seed and batch size, with the
 * test loss and accuracy of `test` (default: the run's final figures; the epochs study passes
 * those of the epoch it analyses).
 *
 * @example
 * ```ts
 * import { runModelInput } from "./sweep.ts";
 * const run = { runId: "r", family: "MLP", k: 2, seed: 1, batchSize: 64,
 *   final: { testLoss: 0.5, testAcc: 0.8 } } as Parameters<typeof runModelInput>[0];
 * const m = runModelInput(run, { loss: null, accuracy: 0.3 });
 * if (m.id !== "r" || m.accuracy !== 0.3 || runModelInput(run).loss !== 0.5) throw new Error();
 * ```
 */
export function runModelInput(
  run: RunJson,
  test: { loss: number | null; accuracy: number | null } = {
    loss: run.final.testLoss,
    accuracy: run.final.testAcc,
  },
): ModelInput {
  return {
    id: run.runId,
    family: run.family,
    k: run.k,
    seed: run.seed,
    batchSize: run.batchSize,
    loss: test.loss,
    accuracy: test.accuracy,
  };
}

/**
 * Re-analyses a sweep folder: every complete run's `salience.npy` (with its sidecar) is streamed
 * through the kernels, and `summary.json`, `similarity.json`, `table1.json`, `marginals.json`,
 * `small_predicts_large.json`, `batch_size.json` (when batch sizes vary), `claims.json`, plus
 * `attacks.json` / `ensembles.json` when given (or already present in the folder: their claims
 * are carried over) are written atomically into `<sweep>/analysis/`.
 *
 * Cost: one pass over the gradients (O(N·M²·D)), plus bootstraps (see `analyzeGradients`).
 *
 * @throws {RangeError} when the sweep has no complete run.
 * @throws the store's errors for a folder without `sweep.json`/`plan.json`.
 *
 * @example
 * ```ts ignore
 * import { analyzeSweep } from "./sweep.ts";
 * const { claims } = await analyzeSweep("results/tiny-0123abcd");
 * for (const c of claims.claims) console.log(c.id, c.verdict, c.reason);
 * ```
 */
export async function analyzeSweep(
  sweepDir: string,
  options: AnalyzeOptions = {},
): Promise<AnalyzeResult> {
  const started = performance.now();
  const sweep = await readSweep(sweepDir);
  // Every checksum is recomputed: a run whose marker fails is an error naming the file.
  const runs = await verifiedRuns(sweepDir);
  if (runs.length === 0) {
    throw new RangeError(
      `sweep ${sweepDir} has no complete run; run the sweep (or its shards) before analysing it.`,
    );
  }
  const inputs: ModelInput[] = [];
  const paths: string[] = [];
  for (const r of runs) {
    const run = await readRun(r.dir);
    inputs.push(runModelInput(run));
    paths.push(join(r.dir, options.salienceFile ?? run.salience.file));
  }
  using src = await openGradientSource(paths);
  const meta = src.meta;
  const outDir = options.outDir ?? join(sweepDir, SWEEP_FILES.analysis);
  const shape = meta.input;
  const common = {
    ...options,
    // The call's floor, else the sweep config's, else the default of analyzeGradients.
    minTestAccuracy: options.minTestAccuracy !== undefined
      ? options.minTestAccuracy
      : sweep.config.analysis?.minTestAccuracy,
    nonFinite: options.nonFinite ?? sweep.config.analysis?.nonFinite,
    includingModelMean: options.includingModelMean ??
      sweep.config.analysis?.includingModelMean,
    source: sweep.sweepId,
  };
  const info = (pooling: number | null) => ({
    scalar: meta.scalar,
    pooling,
    inputShape: [shape.channels, shape.height, shape.width] as [number, number, number],
  });
  const compare = options.comparePooling ?? sweep.config.analysis?.comparePooling ?? true;
  const gpu = await resolveGpu(options.gpu);
  try {
    // The comparison first (its own folder and summary), so pooling.json is written with the
    // main analysis.
    let other: { variant: PoolingVariant } | { skipped: string } | null = null;
    let pooling: PoolingFile | undefined, paper: PaperFile | undefined;
    let otherAnalysis: GradientAnalysis | null = null;
    if (compare && options.salienceFile === undefined) {
      const cmp = await comparisonStream(paths, runs.map((r) => r.dir), meta.pooling, shape);
      if ("skipped" in cmp) other = { skipped: cmp.skipped };
      else {
        try {
          const folder = join(
            "pooling",
            cmp.pooling === null ? "unpooled" : `pooled-${cmp.pooling}`,
          );
          const r = await analyzeStream(cmp.stream, inputs, {
            ...common,
            gpu: gpu.gpu ?? "cpu",
            outDir: join(outDir, folder),
            info: info(cmp.pooling),
            started: performance.now(),
            readExisting: false,
          });
          other = {
            variant: poolingVariant(r.gradient, { pooling: cmp.pooling, folder, main: false }),
          };
          otherAnalysis = r.gradient;
        } finally {
          cmp.close();
        }
      }
    }
    const result = await analyzeStream(src, inputs, {
      ...common,
      gpu: gpu.gpu ?? "cpu",
      outDir,
      info: info(meta.pooling),
      started,
      readExisting: true,
      extraFiles: (a, loaded) => {
        const out: Array<[string, AnalysisFile]> = [];
        let pooled8: GradientAnalysis | null = meta.pooling === PAPER_POOL ? a : null;
        if (other !== null) {
          pooling = poolingFile(
            sweep.sweepId,
            [
              poolingVariant(a, { pooling: meta.pooling, folder: "", main: true }),
              ...("variant" in other ? [other.variant] : []),
            ],
            "skipped" in other ? other.skipped : null,
          );
          out.push([ANALYSIS_FILES.pooling, pooling]);
          if ("variant" in other && other.variant.pooling === PAPER_POOL) pooled8 = otherAnalysis;
        }
        const sim = (pooled8 ?? a).similarity;
        const file = paperComparison({
          similarity: sim,
          attacks: loaded.attacks ?? null,
          source: sweep.sweepId,
          setting: {
            dataset:
              `${sweep.config.dataset.name} (${shape.channels}×${shape.height}×${shape.width})`,
            datasetName: sweep.config.dataset.name,
            samples: sim.gradients.samples,
            pooling: sim.gradients.pooling,
            scalar: meta.scalar,
            seeds: null,
            epochs: sweep.config.training.epochs,
            accuracy: a.similarity.accuracyFloor?.range ?? null,
            belowFloor: belowFloor(a.similarity),
          },
        });
        paper = file;
        out.push([ANALYSIS_FILES.paper, file]);
        return out;
      },
    });
    return { ...result.result, ...(pooling ? { pooling } : {}), ...(paper ? { paper } : {}) };
  } finally {
    if (gpu.own) gpu.gpu?.destroy();
  }
}

/** How many models the accuracy floor left out of the claims, or null when none. */
function belowFloor(sim: GradientAnalysis["similarity"]) {
  const f = sim.accuracyFloor;
  if (!f || f.minTestAccuracy === null || f.excluded.length === 0) return null;
  return { models: f.excluded.length, of: sim.models.length, floor: f.minTestAccuracy };
}

/** The `gpu` option as a device (requested for "auto"), and whether this call owns it. */
async function resolveGpu(
  option: AnalyzeOptions["gpu"],
): Promise<{ gpu: Gpu | null; own: boolean }> {
  if (option === undefined || option === "auto") return { gpu: await requestGpu(), own: true };
  return { gpu: option === "cpu" ? null : option, own: false };
}

/**
 * The stream of the comparison variant: the main gradients pooled to {@link PAPER_POOL} when
 * they are unpooled images, or every run's {@link UNPOOLED_SALIENCE} when they are pooled; or
 * why there is none.
 */
async function comparisonStream(
  mainPaths: readonly string[],
  runDirs: readonly string[],
  mainPooling: number | null,
  shape: { channels: number; height: number; width: number },
): Promise<
  | { stream: BatchStream; pooling: number | null; close: () => void }
  | { skipped: string }
> {
  if (mainPooling === null) {
    if (Math.min(shape.height, shape.width) < PAPER_POOL) {
      return {
        skipped:
          `the inputs are ${shape.height}×${shape.width}, smaller than the ${PAPER_POOL}×${PAPER_POOL} pooling`,
      };
    }
    const src = await openGradientSource(mainPaths);
    return {
      stream: pooledStream(src, shape, PAPER_POOL),
      pooling: PAPER_POOL,
      close: () => src[Symbol.dispose](),
    };
  }
  const paths = runDirs.map((d) => join(d, UNPOOLED_SALIENCE));
  const missing: string[] = [];
  for (const p of paths) {
    try {
      await Deno.stat(p);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      missing.push(p);
    }
  }
  if (missing.length) {
    return {
      skipped:
        `${missing.length} of ${paths.length} runs have no ${UNPOOLED_SALIENCE} (written by the sweep since the pooled and unpooled analyses run side by side; re-run those runs' salience to add it)`,
    };
  }
  const src = await openGradientSource(paths);
  return { stream: src, pooling: null, close: () => src[Symbol.dispose]() };
}

/** Options of {@link analyzeExternal}. */
export interface ExternalOptions extends AnalyzeOptions {
  /** Folder to write into (default: `analysis/` beside the gradients file). */
  outDir?: string;
}

/**
 * Analyses gradients exported from any framework: `gradsPath` is a float32 C-order `.npy` of
 * shape [M, N, D] and `models` lists each model's family, k and seed in order. Writes the
 * gradient-only files (similarity, Table 1, marginals, small-predicts-large, claims, summary).
 *
 * Cost: as {@link analyzeSweep}.
 *
 * @throws {TypeError} when the array is not 3-D or `models` does not have M entries.
 *
 * @example
 * ```ts
 * import { writeNpy } from "../npy/mod.ts";
 * import { analyzeExternal } from "./sweep.ts";
 * const dir = await Deno.makeTempDir();
 * const data = Float32Array.from({ length: 4 * 3 * 5 }, (_, i) => Math.sin(i * 1.7) + 0.5);
 * await writeNpy(dir + "/g.npy", [4, 3, 5], data);
 * const models = [0, 1].flatMap((s) => [2, 4].map((k) => ({ family: "MLP", k, seed: s })));
 * const r = await analyzeExternal(dir + "/g.npy", { models }, { gpu: "cpu", resamples: 20 });
 * if (!r.files.includes("similarity.json")) throw new Error("nothing written");
 * ```
 */
export async function analyzeExternal(
  gradsPath: string,
  models: ExternalModels | ExternalModels["models"],
  options: ExternalOptions = {},
): Promise<AnalyzeResult> {
  const started = performance.now();
  using file = await openNpy(gradsPath);
  const [M, N, D] = gradientShape(file.shape, gradsPath);
  const desc = externalModels(models, M, gradsPath);
  // Model-major, as the file stores it: each batch reads its samples model by model.
  const stream = modelMajorStream(
    [M, N, D],
    (start, count, dst) => file.readElements(start, count, dst),
  );
  const outDir = options.outDir ?? join(gradsPath.replace(/[^/\\]*$/, ""), "analysis");
  const gpu = await resolveGpu(options.gpu);
  try {
    // Written as a unit: an interrupted analysis leaves the previous folder whole.
    const { result } = await writeDirAsUnit(
      outDir,
      ANALYSIS_FILES.summary,
      (staging) =>
        analyzeStream(stream, desc.models, {
          ...options,
          outDir: staging,
          source: basename(gradsPath),
          info: {
            scalar: desc.scalar ?? null,
            pooling: desc.pooling ?? null,
            inputShape: desc.inputShape ?? null,
          },
          gpu: gpu.gpu ?? "cpu",
          started,
          readExisting: false,
        }),
    );
    return { ...result, outDir };
  } finally {
    if (gpu.own) gpu.gpu?.destroy();
  }
}

async function analyzeStream(
  stream: BatchStream,
  models: readonly ModelInput[],
  options: AnalyzeOptions & {
    outDir: string;
    source: string;
    info: GradientAnalysisOptions["info"];
    started: number;
    readExisting: boolean;
    /** Further files written before `summary.json`, from the gradient analysis and the
     * experiment files it carried. */
    extraFiles?: (
      a: GradientAnalysis,
      loaded: { attacks?: AttacksFile; ensembles?: EnsemblesFile },
    ) => Array<[string, AnalysisFile]>;
    gpu: Gpu | "cpu";
  },
): Promise<{ result: AnalyzeResult; gradient: GradientAnalysis }> {
  const { outDir, source } = options;
  const gpu: Gpu | null = options.gpu === "cpu" ? null : options.gpu;
  {
    const a = await analyzeGradients(stream, models, {
      ...options,
      gpu,
      source,
      info: options.info,
    });
    const files: string[] = [];
    const skipped: SummaryFile["skipped"] = [];
    const write = async (name: string, value: AnalysisFile) => {
      await writeAnalysisFile(outDir, name, value);
      files.push(name);
    };
    await write(ANALYSIS_FILES.similarity, a.similarity);
    await write(ANALYSIS_FILES.table1, a.table1);
    await write(ANALYSIS_FILES.marginals, a.marginals);
    await write(ANALYSIS_FILES.smallPredictsLarge, a.smallPredictsLarge);
    if (a.batchSize) await write(ANALYSIS_FILES.batchSize, a.batchSize);
    else {skipped.push({
        file: ANALYSIS_FILES.batchSize,
        reason: "every model has the same batch size",
      });}
    const claims: ClaimEntry[] = [...a.claims];
    const loaded: { attacks?: AttacksFile; ensembles?: EnsemblesFile } = {};
    for (const kind of ["attacks", "ensembles"] as const) {
      let file: AttacksFile | EnsemblesFile | undefined = options[kind];
      if (!file && options.readExisting) {
        try {
          file = assertAnalysisFile(
            JSON.parse(await Deno.readTextFile(join(outDir, ANALYSIS_FILES[kind]))),
            kind,
          );
        } catch (e) {
          if (!(e instanceof Deno.errors.NotFound)) throw e;
        }
      }
      if (file) {
        if (kind === "attacks") loaded.attacks = file as AttacksFile;
        else loaded.ensembles = file as EnsemblesFile;
        if (options[kind]) await write(ANALYSIS_FILES[kind], file);
        else files.push(ANALYSIS_FILES[kind]);
        claims.push(...file.claims);
      } else {
        skipped.push({
          file: ANALYSIS_FILES[kind],
          reason: "needs trained models; run the sweep's experiments step",
        });
      }
    }
    const header = {
      schemaVersion: ANALYSIS_SCHEMA_VERSION,
      generatedAt: new Date().toISOString(),
      source,
    } as const;
    const claimsFile: ClaimsFile = { ...header, kind: "claims", claims };
    await write(ANALYSIS_FILES.claims, claimsFile);
    for (const [name, value] of options.extraFiles?.(a, loaded) ?? []) await write(name, value);
    const zero = a.similarity.zeroGradients;
    const nonFinite = a.similarity.nonFiniteGradients ?? 0;
    const summary: SummaryFile = {
      ...header,
      kind: "summary",
      backend: backendSummary(gpu),
      counts: {
        models: stream.models,
        groups: a.groups.length,
        families: new Set(a.groups.map((g) => g.family)).size,
        samples: stream.samples,
        dimension: stream.dim,
        zeroGradients: zero,
        nonFiniteGradients: nonFinite,
        nonZeroPairs: stream.models * stream.samples - zero - nonFinite,
      },
      timings: {
        ...roundTimings(a.timings),
        total: Math.round(performance.now() - options.started),
      },
      files: [...files, ANALYSIS_FILES.summary],
      skipped,
      warnings: a.warnings,
    };
    await write(ANALYSIS_FILES.summary, summary);
    return {
      result: {
        outDir,
        files,
        summary,
        claims: claimsFile,
        accuracyFloor: a.similarity.accuracyFloor,
      },
      gradient: a,
    };
  }
}

function roundTimings(t: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Math.round(v)]));
}
