/**
 * Runs a sweep (or one shard of it): writes `sweep.json` and `plan.json`, brings each of the
 * shard's runs to complete with the run executor, then, when asked, runs the analysis over
 * whatever is complete.
 *
 * @module
 */
import { join } from "node:path";
import { type Dataset, loadDataset } from "../data/mod.ts";
import { initTf, type TfReport } from "../tf/mod.ts";
import {
  acquireLock,
  type BackendInfo,
  canonicalJson,
  describeHolder,
  exists,
  listRuns,
  lockPathOf,
  type PlanEntry,
  readPlan,
  readSweep,
  runDirOf,
  SCHEMA_VERSION,
  type StoreLock,
  SWEEP_FILES,
  type SweepConfig,
  type SweepJson,
  verifyRun,
  writePlan,
  writeSweep,
} from "../store/mod.ts";
import { executeRun, type RunOutcome } from "./executor.ts";
import {
  executePopulation,
  planPopulations,
  populationLabel,
  type PopulationTrainer,
  shardPopulations,
} from "./populations.ts";
import { loadCheckpointWeights, resolveCheckpoints } from "./checkpoints.ts";
import { createModel, type Family } from "../models/mod.ts";
import { datasetOptions } from "./config.ts";
import { buildPlan, identityOf, type Shard } from "./plan.ts";
import { planCost } from "./cost.ts";
import { formatDuration, PhaseTimes, Progress, type ProgressSink, stdoutSink } from "./progress.ts";
import { analyzeSweepDir } from "./analyze.ts";
import denoJson from "../../deno.json" with { type: "json" };

/** Options of {@link runSweep}. */
export interface SweepOptions {
  /** Results root (default `results`). */
  out?: string;
  /** This process's shard (default: the whole plan). */
  shard?: Shard;
  /** Run the analysis at the end (default: only when unsharded). */
  analyze?: boolean;
  /** Where progress and logs go (default stdout). */
  sink?: ProgressSink;
  /** Aborts training at the next batch. */
  signal?: AbortSignal;
  /** The command that reruns this sweep unsharded, for the hint a shard prints at its end. */
  command?: string;
  /** Trains a population's members together (default `trainPopulation()`; tests inject faults). */
  trainer?: PopulationTrainer;
}

/** What {@link runSweep} did. */
export interface SweepOutcome {
  sweepDir: string;
  sweepId: string;
  /** Runs this process owned. */
  owned: number;
  /** Of those, complete before this call. */
  skipped: number;
  /** Brought to complete in this call. */
  done: number;
  /** Left to other processes that held their locks (0 when this call analysed: it waited). */
  held: number;
  /** Whether the analysis ran. */
  analyzed: boolean;
  seconds: number;
  /** Seconds per phase, in the order first timed (the summary line leaves out those under 0.5 s). */
  phases: [string, number][];
  backend: BackendInfo | null;
}

/**
 * Writes `sweep.json` and `plan.json` for a config into `<out>/<sweep-id>/` unless they are
 * already there (a rerun or another shard wrote them); returns the folder.
 *
 * @throws {RangeError} when the folder holds a sweep of a different config (a hash collision
 *   of the id, or a hand-edited file).
 * @example
 * ```ts
 * import { prepareSweepDir } from "./runner.ts";
 * import { presetConfig } from "./presets.ts";
 * const out = await Deno.makeTempDir();
 * const { dir, sweep } = await prepareSweepDir(presetConfig("tiny"), out);
 * if (!dir.endsWith(sweep.sweepId)) throw new Error(dir);
 * await Deno.remove(out, { recursive: true });
 * ```
 */
export async function prepareSweepDir(
  config: SweepConfig,
  out: string,
): Promise<{ dir: string; sweep: SweepJson }> {
  const plan = buildPlan(config);
  const dir = join(out, plan.sweepId);
  let sweep: SweepJson;
  if (await exists(join(dir, SWEEP_FILES.sweep))) {
    sweep = await readSweep(dir);
    if (
      sweep.configHash !== plan.configHash ||
      canonicalJson(identityOf(sweep.config)) !== canonicalJson(identityOf(config))
    ) {
      throw new RangeError(
        `${dir}/sweep.json holds another config (hash ${sweep.configHash.slice(0, 8)}, expected ${
          plan.configHash.slice(0, 8)
        }); move that folder away or pass another --out.`,
      );
    }
  } else {
    sweep = {
      schemaVersion: SCHEMA_VERSION,
      kind: "sweep",
      sweepId: plan.sweepId,
      configHash: plan.configHash,
      created: new Date().toISOString(),
      toolkit: { name: denoJson.name, version: denoJson.version },
      config,
    };
    await writeSweep(dir, sweep);
  }
  if (!(await exists(join(dir, SWEEP_FILES.plan)))) await writePlan(dir, plan);
  else {
    const existing = await readPlan(dir);
    if (existing.configHash !== plan.configHash) {
      throw new RangeError(
        `${dir}/plan.json belongs to config ${existing.configHash.slice(0, 8)}, not ${
          plan.configHash.slice(0, 8)
        }; move the folder away or pass another --out.`,
      );
    }
  }
  return { dir, sweep };
}

/**
 * Loads the weights of every checkpoint run in `runs` once into its family, so a wrong path,
 * family, width or data set fails before the first run starts. Cost: one read of each file.
 */
async function checkWeights(runs: readonly PlanEntry[], data: Dataset): Promise<void> {
  for (const r of runs) {
    if (!r.weights) continue;
    const model = createModel({
      family: r.family as Family,
      k: r.k,
      seed: r.seed,
      shape: data.shape,
      classes: data.classes.length,
    });
    try {
      await loadCheckpointWeights(model, r.weights.path);
    } catch (e) {
      (e as Error).message = `${r.family} k=${r.k} seed ${r.seed}: ${(e as Error).message}`;
      throw e;
    } finally {
      model.dispose();
    }
  }
}

function describeBackend(r: TfReport): string {
  if (r.backend === "cpu") return `TensorFlow.js CPU backend (${r.note})`;
  return `TensorFlow.js WebGPU backend on ${r.adapter}${
    r.software ? " — SOFTWARE adapter (runs on the CPU, slow)" : ""
  }${r.boundedKernels.length ? `; loop-bounded kernels: ${r.boundedKernels.join(", ")}` : ""}`;
}

/**
 * Runs the shard's part of a sweep and, when asked, the analysis.
 *
 * Cost: the training and salience of every incomplete run the shard owns, then the analysis.
 *
 * @throws the data loader's error when the data set is absent (naming where to put it), and
 *   whatever a run throws.
 * @example
 * ```ts ignore
 * import { runSweep } from "./runner.ts";
 * import { presetConfig } from "./presets.ts";
 * const r = await runSweep(presetConfig("tiny"), { out: "results" }); // seconds
 * console.log(r.sweepDir, r.done, r.analyzed);
 * ```
 */
export async function runSweep(
  given: SweepConfig,
  options: SweepOptions = {},
): Promise<SweepOutcome> {
  const t0 = performance.now();
  // Checkpoints: absolute paths and their SHA-256 (a missing file fails before anything runs).
  const config = await resolveCheckpoints(given);
  const out = options.out ?? "results";
  const shard = options.shard ?? { index: 0, count: 1, source: "none" };
  const sink = options.sink ?? stdoutSink();
  const line = (s: string) => sink.write(s + "\n");
  const timings = new PhaseTimes();
  // The data first: a missing data set fails before anything is written.
  const data: Dataset = await timings.time(
    "setup",
    () => loadDataset(config.dataset.name, datasetOptions(config)),
  );
  const { dir, sweep } = await prepareSweepDir(config, out);
  // Where the checkpoints lie now (plan.json keeps the paths of the process that wrote it).
  const weightsOf = new Map(buildPlan(config).runs.map((r) => [r.runId, r.weights]));
  // A shard holds whole populations (one run each with population training off).
  const populations = shardPopulations(
    planPopulations(
      config,
      (await listRuns(dir)).map((r) =>
        r.weights ? { ...r, weights: weightsOf.get(r.runId) ?? r.weights } : r
      ),
    ),
    shard,
  );
  const listing = populations.flat().sort((a, b) => a.index - b.index);
  // A run counts as complete only when every checksum of its marker still matches.
  const todo: typeof listing = [];
  for (const r of listing) {
    if (r.status !== "complete" || (await verifyRun(r.dir)).status !== "complete") todo.push(r);
  }
  const cost = planCost(config, listing);
  const flopsOf = new Map(cost.perModel.map((m) => [`${m.family}/${m.k}`, m.flopsPerRun]));
  line(
    `sweep ${sweep.sweepId} → ${dir}` +
      (shard.count > 1 ? ` · shard ${shard.index}/${shard.count} (${shard.source})` : "") +
      ` · ${listing.length} runs, ${listing.length - todo.length} already complete`,
  );

  let backend: BackendInfo | null = null;
  let done = 0;
  const analyze = options.analyze ?? shard.count === 1;
  const held: typeof todo = [];
  if (todo.length > 0) {
    const { training } = config;
    const report = await timings.time("setup", () =>
      initTf({
        backend: config.backend,
        sizes: {
          batch: Math.max(...training.batchSizes),
          height: data.shape.height,
          width: data.shape.width,
          channels: data.shape.channels,
        },
      }));
    if (report.maxBatch !== null) {
      throw new RangeError(
        `${report.note} This sweep trains at batch ${
          Math.max(...training.batchSizes)
        }; lower training.batchSizes to ≤ ${report.maxBatch} or set backend "cpu".`,
      );
    }
    backend = { tfjs: report.backend, adapter: report.adapter, software: report.software };
    line(`backend: ${describeBackend(report)}`);
    line(
      `data: ${data.name} (${data.source}) · ${data.train.count} train, ${data.test.count} test, ${data.probe.count} probe images · ${data.shape.channels}×${data.shape.height}×${data.shape.width}`,
    );
    await checkWeights(todo, data);
    const remaining = todo.reduce((a, r) => a + (flopsOf.get(`${r.family}/${r.k}`) ?? 0), 0);
    const progress = new Progress(sink, listing.length, listing.length - todo.length, remaining);
    const ctx = {
      config,
      dataset: data,
      backend: backend!,
      progress,
      signal: options.signal,
      timings,
    };
    const summary = (res: RunOutcome) => {
      const acc = res.record ? ` · test acc ${(res.record.final.testAcc * 100).toFixed(1)} %` : "";
      return res.status === "skipped"
        ? "already complete"
        : `complete${
          res.resumedFrom && res.epochsTrained > 0 ? ` (resumed from epoch ${res.resumedFrom})` : ""
        }${res.redone.length ? ` (redone: ${res.redone.join(", ")})` : ""}${acc}`;
    };
    // One process per run folder: a run another process holds is skipped (and, when this
    // process analyses, waited for at the end); a crashed holder's lock is gone with it.
    const runLocked = async (r: typeof todo[number], lock: StoreLock) => {
      try {
        progress.startRun({
          runId: r.runId,
          flops: flopsOf.get(`${r.family}/${r.k}`) ?? 0,
          epochs: config.training.epochs,
        });
        const res = await executeRun(ctx, r, runDirOf(dir, r.runId));
        progress.endRun(summary(res));
        done += res.status === "done" ? 1 : 0;
      } finally {
        lock.release();
      }
    };
    // The members of a population this process holds train together (alone when one is left).
    const runPopulation = async (members: typeof todo, locks: StoreLock[]) => {
      try {
        progress.startRun({
          runId: populationLabel(members),
          flops: members.reduce((a, r) => a + (flopsOf.get(`${r.family}/${r.k}`) ?? 0), 0),
          epochs: config.training.epochs,
        });
        const res = await executePopulation(
          ctx,
          members,
          members.map((r) => runDirOf(dir, r.runId)),
          { trainer: options.trainer },
        );
        progress.endRuns(members.map((r, i) => ({ runId: r.runId, summary: summary(res[i]!) })));
        done += res.filter((x) => x.status === "done").length;
      } finally {
        for (const l of locks) l.release();
      }
    };
    const open = new Set(todo.map((r) => r.runId));
    try {
      for (const population of populations) {
        const members: typeof todo = [];
        const locks: StoreLock[] = [];
        for (const r of population.filter((x) => open.has(x.runId))) {
          options.signal?.throwIfAborted();
          const lock = await acquireLock(lockPathOf(dir, r.runId));
          if ("release" in lock) {
            members.push(r);
            locks.push(lock);
          } else {
            progress.log(
              `${r.runId}: skipped, ${describeHolder(lock.heldBy)} is writing it`,
            );
            held.push(r);
          }
        }
        if (members.length === 1) await runLocked(members[0]!, locks[0]!);
        else if (members.length > 1) await runPopulation(members, locks);
      }
      for (const r of analyze ? held : []) {
        options.signal?.throwIfAborted();
        const lock = await acquireLock(lockPathOf(dir, r.runId), {
          wait: true,
          onWait: (h) =>
            progress.log(
              `${r.runId}: waiting for ${describeHolder(h)} to finish it before the analysis`,
            ),
        }) as StoreLock;
        await runLocked(r, lock);
      }
    } finally {
      progress.finish();
    }
  }

  if (!analyze && held.length > 0) {
    line(
      `${held.length} run(s) were left to the processes writing them; when those finish: ` +
        `deno task analyze --run ${dir}`,
    );
  }
  if (analyze) {
    line(`analysis: reading the complete runs of ${dir}`);
    await analyzeSweepDir(dir, { log: line, data, tfReady: backend !== null, timings });
  } else if (shard.count > 1) {
    line(
      `shard ${shard.index}/${shard.count} done. When every shard has finished: ` +
        `${options.command ?? "deno task sweep <same options>"} --analyze, ` +
        `or deno task analyze --run ${dir} (either runs the experiments, then the analysis).`,
    );
  }
  const seconds = (performance.now() - t0) / 1000;
  line(`finished in ${formatDuration(seconds)}.`);
  line(timings.summary(seconds));
  if (analyze) {
    line(`report: deno task serve --run ${dir}   (or: deno task report --run ${dir} --out site)`);
  }
  return {
    sweepDir: dir,
    sweepId: sweep.sweepId,
    owned: listing.length,
    skipped: listing.length - todo.length,
    done,
    held: analyze ? 0 : held.length,
    analyzed: analyze,
    seconds,
    phases: timings.entries(),
    backend,
  };
}
