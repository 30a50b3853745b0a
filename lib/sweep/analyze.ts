/**
 * The end of a sweep: the attack and ensemble experiments on the trained models
 * (`runSweepExperiments()` of `lib/experiments`), then the analysis of every complete run
 * (`analyzeSweep()` of `lib/analysis`), written into `<sweep>/analysis/`, and the same analysis of
 * every other configured attribution method into `<sweep>/analysis/methods/<method>/`, and the
 * analysed epochs' similarity and accuracy into `<sweep>/analysis/epochs.json`.
 *
 * @module
 */
import { join } from "node:path";
import {
  type AccuracyFloor,
  ANALYSIS_FILES,
  type AnalyzeOptions,
  type AnalyzeResult,
  analyzeSweep,
  type PaperFile,
  type PoolingFile,
  type PoolingVariant,
} from "../analysis/mod.ts";
import { type Dataset, loadDataset } from "../data/mod.ts";
import { runSweepExperiments } from "../experiments/mod.ts";
import {
  acquireLock,
  describeHolder,
  lockPathOf,
  readSweep,
  type StoreLock,
  SWEEP_FILES,
  type SweepConfig,
  writeDirAsUnit,
} from "../store/mod.ts";
import { initTf } from "../tf/mod.ts";
import { datasetOptions } from "./config.ts";
import { analyzeMethods } from "./salience_methods.ts";
import { analyzeEpochs } from "./epochs.ts";
import type { PhaseTimes } from "./progress.ts";

/** Options of {@link analyzeSweepDir}. */
export interface AnalyzeSweepDirOptions {
  /** Receives progress lines and one line per claim (default: none). */
  log?: (line: string) => void;
  /** Kernels on the CPU reference instead of WebGPU. */
  cpu?: boolean;
  /** The sweep's data set when already loaded (else it is loaded from the config). */
  data?: Dataset;
  /** Whether TensorFlow.js already has its backend (else `initTf` runs with the config's). */
  tfReady?: boolean;
  /** Where each step's wall time is summed (experiments, analysis, …); none: untimed. */
  timings?: PhaseTimes;
  /** Options handed to `analyzeSweep()` (output folder, resamples, seed, batch size). */
  analysis?: Omit<AnalyzeOptions, "gpu" | "attacks" | "ensembles">;
}

/**
 * Runs the experiments (when the config asks for any) and the analysis over the complete runs
 * of a sweep folder, and reports each claim's verdict. The analysis folder is written as a unit
 * (a staging folder swapped in once every file is written), under the sweep's `analysis` lock: a
 * second analysis waits, and an interrupted one leaves the previous folder whole.
 *
 * Cost: the experiments (a gradient pass and about M² + 2M prediction passes over the probe set
 * for M models), then one pass of the kernels over the gradients.
 *
 * @throws {RangeError} when the sweep has no complete run, or the output folder holds files
 *   but no analysis.
 * @example
 * ```ts ignore
 * import { analyzeSweepDir } from "./analyze.ts";
 * const r = await analyzeSweepDir("results/tiny-ebb32b98", { log: console.log });
 * for (const c of r.claims.claims) console.log(c.id, c.verdict);
 * ```
 */
export async function analyzeSweepDir(
  sweepDir: string,
  options: AnalyzeSweepDirOptions = {},
): Promise<AnalyzeResult> {
  const log = options.log ?? (() => {});
  // One analysis of a sweep at a time; a second one waits, then redoes it over what is there.
  using _lock = await acquireLock(lockPathOf(sweepDir, "analysis"), {
    wait: true,
    onWait: (h) =>
      log(`analysis: waiting for ${describeHolder(h)}, which is analysing ${sweepDir}`),
  }) as StoreLock;
  const { config } = await readSweep(sweepDir);
  // Written as a unit: every file goes to a staging folder that replaces the analysis folder only
  // once all are written, so an interrupted analysis leaves the previous one whole.
  const finalDir = options.analysis?.outDir ?? join(sweepDir, SWEEP_FILES.analysis);
  const result = await writeDirAsUnit(
    finalDir,
    ANALYSIS_FILES.summary,
    (staging) =>
      analyzeStaged(
        sweepDir,
        config,
        options,
        { ...options.analysis, outDir: staging },
        finalDir,
        log,
      ),
  );
  return { ...result, outDir: finalDir };
}

async function analyzeStaged(
  sweepDir: string,
  config: SweepConfig,
  options: AnalyzeSweepDirOptions,
  analysis: NonNullable<AnalyzeSweepDirOptions["analysis"]>,
  finalDir: string,
  log: (line: string) => void,
): Promise<AnalyzeResult> {
  const ex = config.experiments;
  const timed = <T>(phase: string, fn: () => Promise<T>) =>
    options.timings ? options.timings.time(phase, fn) : fn();
  let attacks: AnalyzeOptions["attacks"], ensembles: AnalyzeOptions["ensembles"];
  if (ex.attack !== null || ex.ensembles !== null) {
    const data = options.data ?? await loadDataset(config.dataset.name, datasetOptions(config));
    if (!options.tfReady) {
      await initTf({
        backend: config.backend,
        sizes: {
          batch: 64,
          height: data.shape.height,
          width: data.shape.width,
          channels: data.shape.channels,
        },
      });
    }
    const t0 = performance.now();
    let last = 0;
    const r = await timed(
      "experiments (attack, ensembles)",
      () =>
        runSweepExperiments(sweepDir, data, {
          onProgress: (m) => {
            if (performance.now() - last > 5000) {
              last = performance.now();
              log(`  experiments: ${m}`);
            }
          },
        }),
    );
    attacks = r.attacks ?? undefined;
    ensembles = r.ensembles ?? undefined;
    log(
      `experiments: ${
        [attacks ? "attack" : null, ensembles ? "ensembles" : null].filter(Boolean).join(" and ")
      } done in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
  }
  const result = await timed("analysis (pooled and unpooled)", () =>
    analyzeSweep(sweepDir, {
      ...analysis,
      gpu: options.cpu ? "cpu" : "auto",
      attacks,
      ensembles,
    }));
  const s = result.summary;
  log(
    `analysed ${s.counts.models} models × ${s.counts.samples} samples (D = ${s.counts.dimension}) on ${s.backend.kind}` +
      `${
        s.backend.adapter
          ? ` (${s.backend.adapter}${s.backend.software ? ", software adapter" : ""})`
          : ""
      } → ${finalDir}`,
  );
  log(accuracyLine(result.accuracyFloor));
  const nonFinite = s.counts.nonFiniteGradients ?? 0;
  if (s.counts.zeroGradients > 0 || nonFinite > 0) {
    log(
      `gradients left out: ${s.counts.zeroGradients} zero, ${nonFinite} holding NaN or ±Inf (per model in similarity.json; analysis.nonFinite: "error" stops on them)`,
    );
  }
  for (const c of result.claims.claims) log(`  ${c.verdict.padEnd(12)} ${c.id}: ${c.reason}`);
  log(poolingLine(result.pooling));
  log(paperLines(result.paper));
  await timed("analysis of other methods", () =>
    analyzeMethods(sweepDir, config, {
      analysis: { ...analysis, gpu: options.cpu ? "cpu" : "auto" },
      log,
    }));
  await timed("analysis per epoch", () =>
    analyzeEpochs(sweepDir, config, {
      cpu: options.cpu,
      resamples: analysis.resamples,
      outDir: analysis.outDir,
      log,
    }));
  return result;
}

/** The end-of-sweep line setting the gradient claims' verdicts pooled and unpooled side by side. */
function poolingLine(file: PoolingFile | undefined): string {
  if (!file) return "pooling: only the configured pooling was analysed";
  if (file.variants.length < 2) return `pooling: only the configured pooling (${file.skipped})`;
  const label = (p: number | null) => p === null ? "unpooled" : `pooled ${p}×${p}`;
  const [a, b] = file.variants as [PoolingVariant, PoolingVariant];
  const rows = a.claims.map((c) => {
    const o = b.claims.find((x) => x.id === c.id);
    return `  ${c.id}: ${c.verdict} ${label(a.pooling)}, ${o?.verdict ?? "–"} ${label(b.pooling)}`;
  });
  return [
    `pooling: the same salience ${label(a.pooling)} (main) and ${label(b.pooling)} (${b.folder})`,
    ...rows,
  ]
    .join("\n");
}

/** The end-of-sweep lines setting our figures beside the paper's, each with what differs. */
function paperLines(file: PaperFile | undefined): string {
  if (!file) return "compared with the paper: not written";
  const rows = file.rows.map((r) =>
    `  ${r.id}: ours ${r.ours.text}; paper ${r.paper.text} (differs: ${r.differs})`
  );
  return [
    `compared with the paper (${file.reference}):`,
    ...rows,
    ...(file.missing ? [`  ${file.missing}`] : []),
  ].join("\n");
}

/** The end-of-sweep line on test accuracy: its range and what the claims' floor left out. */
function accuracyLine(floor: AccuracyFloor | undefined): string {
  if (!floor || floor.range === null) return "test accuracy: not recorded";
  const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
  const range = `test accuracy ${pct(floor.range[0])} – ${pct(floor.range[1])}`;
  if (floor.minTestAccuracy === null) return `${range}; no accuracy floor`;
  const out = floor.excluded;
  return `${range}; floor ${pct(floor.minTestAccuracy)}: ${
    out.length === 0
      ? "every model is above it"
      : `${out.length} model(s) left out of the claims (${
        out.map((e) => `${e.family} k=${e.k} seed ${e.seed} ${pct(e.accuracy)}`).join(", ")
      })`
  }`;
}
