/**
 * `deno task sweep`: train the models of a preset (or a config file), take their salience, and
 * analyse the results; or print the plan and its cost (`--dry-run`).
 *
 * ```sh
 * deno task sweep                                  # the embedded default, end to end
 * deno task sweep --preset tiny                    # seconds, synthetic data
 * deno task sweep --preset cifar10-paper --dry-run # the paper's plan and its cost
 * deno task sweep --preset fmnist --shard 2/8      # one of eight shards
 * deno task sweep --preset cifar10-paper --checkpoints ckpts/  # PyTorch models, no training
 * ```
 *
 * @module
 */
import { parseFlags, UsageError } from "./args.ts";
import { metaDim } from "../npy/mod.ts";
import type { SweepConfig } from "../store/mod.ts";
import { loadConfigFile, validateConfig } from "../sweep/config.ts";
import { checkpointGrid, checkpointsInFolder, resolveCheckpoints } from "../sweep/checkpoints.ts";
import { DATASET_FACTS, planCost, REFERENCE_FLOPS_PER_SECOND } from "../sweep/cost.ts";
import { buildPlan, resolveShard, type Shard } from "../sweep/plan.ts";
import { planPopulations, populationSizeOf, shardPopulations } from "../sweep/populations.ts";
import { PRESET_NAMES, presetConfig } from "../sweep/presets.ts";
import { formatDuration } from "../sweep/progress.ts";
import { runSweep } from "../sweep/runner.ts";
import { measureTrainingRate } from "../sweep/speed.ts";

/** The usage text printed by `--help` and after a flag error. */
export const SWEEP_USAGE = `usage: deno task sweep [options]

  --preset NAME       one of: ${PRESET_NAMES.join(", ")} (default: default)
  --config FILE       a JSON file of settings; "preset" names its base, other keys override it
  --out DIR           results root (default: results)
  --dry-run           print the plan and its cost; train nothing
  --shard i/n         train only shard i of n (0-based); also read from SLURM_ARRAY_TASK_ID /
                      SLURM_ARRAY_TASK_COUNT, or from JOB_COMPLETION_INDEX with --shard-count
  --shard-count N     shard count for a Kubernetes Indexed Job (or env SWEEP_SHARD_COUNT)
  --analyze           run the analysis after this shard's runs (default: only when unsharded)
  --no-analyze        skip the analysis
  --backend B         override the config's backend: auto, webgpu or cpu
  --data-dir DIR      folder of the data set's files (CIFAR, TinyImageNet, a Fashion-MNIST copy);
                      not part of the sweep id, so machines may hold the data at different paths
  --checkpoints DIR   analyse the models in DIR instead of training: files named
                      <Family>_k<K>_s<SEED>.pt / .safetensors (PyTorch state dicts); the preset or
                      config gives the data set, salience and experiments
  --no-population     train every run alone (default: the seeds of one family, width and batch
                      size train together as populations; see training.population). Give every
                      shard of a sweep the same choice: it decides which runs a shard holds
  --epochs-analysed L also keep each run's salience after these epochs (e.g. 1,2,5 or all) and
                      analyse p(k,k), spherical variance and test accuracy per epoch
  --tflops X          effective TFLOP/s the dry run's time estimate assumes (default: this
                      machine's, measured with a second of training steps)
  --help              this text

A sweep run again skips complete runs, resumes interrupted training from its last checkpoint and
redoes any artifact whose checksum fails. After the sweep: deno task serve, or
deno task report --run results/<sweep-id> --out site.`;

/**
 * Parses `--epochs-analysed`: `all`, or comma-separated 1-based epochs (ascending, at most the
 * config's epochs).
 *
 * @throws {RangeError} naming the bad entry.
 * @example
 * ```ts
 * import { parseEpochList } from "./sweep.ts";
 * if (parseEpochList("all", 3).join() !== "1,2,3" || parseEpochList("1, 3", 3).join() !== "1,3") throw new Error();
 * ```
 */
export function parseEpochList(text: string, epochs: number): number[] {
  if (text.trim() === "all") return Array.from({ length: epochs }, (_, i) => i + 1);
  const list = text.split(",").map((t) => t.trim());
  const out = list.map(Number);
  out.forEach((e, i) => {
    if (!Number.isInteger(e) || e < 1 || e > epochs || (i > 0 && e <= out[i - 1]!)) {
      throw new RangeError(
        `--epochs-analysed entry '${
          list[i]
        }' is not an epoch in 1 … ${epochs} after the previous one; pass ascending epochs such as 1,2,${epochs} or 'all'.`,
      );
    }
  });
  return out;
}

const SWEEP_OPTIONS = {
  preset: { type: "string" },
  config: { type: "string" },
  out: { type: "string" },
  "dry-run": { type: "boolean" },
  shard: { type: "string" },
  "shard-count": { type: "string" },
  analyze: { type: "boolean" },
  "no-analyze": { type: "boolean" },
  backend: { type: "string" },
  "data-dir": { type: "string" },
  tflops: { type: "string" },
  "epochs-analysed": { type: "string" },
  checkpoints: { type: "string" },
  "no-population": { type: "boolean" },
} as const;

/** Parsed command line of the sweep. */
export interface SweepArgs {
  config: SweepConfig;
  out: string;
  dryRun: boolean;
  shard: Shard;
  analyze: boolean | undefined;
  flopsPerSecond: number;
  /** No --tflops: the dry run measures this machine's training rate instead. */
  measureSpeed: boolean;
  help: boolean;
}

/**
 * Parses the sweep's command line (and the shard environment variables).
 *
 * @throws {TypeError} for an unknown flag or a missing value ({@link UsageError}: the shared
 *   parser's line, then the usage);
 *   {@link RangeError} for a bad value; what {@link loadConfigFile} throws for a bad config.
 * @example
 * ```ts
 * import { parseSweepArgs } from "./sweep.ts";
 * const a = await parseSweepArgs(["--preset", "tiny", "--shard", "1/3"], {});
 * if (a.config.name !== "tiny" || a.shard.index !== 1) throw new Error();
 * ```
 */
export async function parseSweepArgs(
  args: string[],
  env: Record<string, string | undefined>,
): Promise<SweepArgs> {
  let parsed;
  try {
    parsed = parseFlags("deno task sweep", args, SWEEP_OPTIONS);
  } catch (err) {
    if (err instanceof UsageError) throw new UsageError(`${err.message}\n\n${SWEEP_USAGE}`);
    throw err;
  }
  // --help answers with the usage whatever else is given; the rest is the default sweep's.
  if (parsed.help) return { ...await parseSweepArgs([], env), help: true };
  const { values } = parsed;
  if (values.preset !== undefined && values.config !== undefined) {
    throw new TypeError(
      `give --preset or --config, not both; a config file names its base preset in its "preset" key.\n\n${SWEEP_USAGE}`,
    );
  }
  if (values.analyze && values["no-analyze"]) {
    throw new TypeError(`give --analyze or --no-analyze, not both.\n\n${SWEEP_USAGE}`);
  }
  let config = values.config !== undefined
    ? await loadConfigFile(values.config)
    : presetConfig(values.preset ?? "default");
  if (values.backend !== undefined) {
    if (!["auto", "webgpu", "cpu"].includes(values.backend)) {
      throw new RangeError(
        `--backend '${values.backend}' is unknown; expected auto, webgpu or cpu.`,
      );
    }
    config.backend = values.backend as SweepConfig["backend"];
  }
  if (values["data-dir"] !== undefined) config.dataset.dir = values["data-dir"];
  if (values["no-population"]) config.training.population = false;
  if (values["epochs-analysed"] !== undefined) {
    if (config.checkpoints !== undefined || values.checkpoints !== undefined) {
      throw new RangeError(
        "--epochs-analysed asks for salience during training, but a sweep over checkpoints trains nothing; drop one of them.",
      );
    }
    config.salience.epochs = parseEpochList(values["epochs-analysed"], config.training.epochs);
  }
  if (values.checkpoints !== undefined) {
    const checkpoints = await checkpointsInFolder(values.checkpoints);
    config = await resolveCheckpoints(
      validateConfig(
        { ...config, checkpoints, ...checkpointGrid(checkpoints) },
        `--checkpoints ${values.checkpoints}`,
      ),
    );
  }
  let flopsPerSecond = REFERENCE_FLOPS_PER_SECOND;
  if (values.tflops !== undefined) {
    const t = Number(values.tflops);
    if (!(t > 0) || !Number.isFinite(t)) {
      throw new RangeError(
        `--tflops '${values.tflops}' is not a positive number; pass e.g. --tflops 20.`,
      );
    }
    flopsPerSecond = t * 1e12;
  }
  if (values.out !== undefined && values.out.trim() === "") {
    throw new RangeError("--out is ''; pass --out DIR with a folder name (default: results).");
  }
  const shard = resolveShard({ shard: values.shard, shardCount: values["shard-count"] }, env);
  return {
    config,
    out: values.out ?? "results",
    dryRun: values["dry-run"] ?? false,
    shard,
    analyze: values.analyze ? true : values["no-analyze"] ? false : undefined,
    flopsPerSecond,
    measureSpeed: values.tflops === undefined,
    help: false,
  };
}

const fmtInt = (n: number) => Math.round(n).toLocaleString("en-US");
function fmtBytes(b: number): string {
  if (b >= 1e9) return `${(b / 1e9).toFixed(1)} GB`;
  if (b >= 1e6) return `${(b / 1e6).toFixed(1)} MB`;
  return `${(b / 1e3).toFixed(1)} kB`;
}
function fmtFlops(f: number): string {
  for (
    const [u, s] of [[1e18, "EFLOP"], [1e15, "PFLOP"], [1e12, "TFLOP"], [1e9, "GFLOP"]] as const
  ) {
    if (f >= u) return `${(f / u).toFixed(1)} ${s}`;
  }
  return `${fmtInt(f)} FLOP`;
}

/** A FLOP rate in the largest unit that keeps it at least 1, two significant digits. */
function fmtRate(r: number): string {
  for (const [u, s] of [[1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"]] as const) {
    if (r >= u) return `${Number((r / u).toPrecision(2))} ${s}FLOP/s`;
  }
  return `${Number(r.toPrecision(2))} FLOP/s`;
}

/**
 * The text `--dry-run` prints: the plan (runs per family and width, this shard's share) and its
 * cost from the per-family cost model (parameters, FLOPs, time at an assumed rate, gradient
 * store and checkpoint sizes).
 *
 * @example
 * ```ts
 * import { dryRunReport } from "./sweep.ts";
 * import { presetConfig } from "../sweep/presets.ts";
 * const text = dryRunReport(presetConfig("cifar10-paper"), { index: 0, count: 1, source: "none" });
 * if (!text.includes("runs       200")) throw new Error(text);
 * ```
 */
export function dryRunReport(
  config: SweepConfig,
  shard: Shard,
  options: { flopsPerSecond?: number; rateNote?: string } = {},
): string {
  const plan = buildPlan(config);
  const populations = planPopulations(config, plan.runs);
  const minePops = shardPopulations(populations, shard);
  const mine = minePops.flat();
  const cost = planCost(config, mine, options);
  const all = shard.count > 1 ? planCost(config, plan.runs, options) : cost;
  const facts = DATASET_FACTS[config.dataset.name]!;
  const d = config.dataset, t = config.training;
  const D = metaDim({ pooling: config.salience.pool, input: facts });
  const out: string[] = [];
  out.push(`plan ${plan.sweepId} (dry run: nothing is trained or written)`);
  out.push(
    `data       ${d.name}: ${facts.channels}×${facts.height}×${facts.width}, ${facts.classes} classes; ` +
      `${fmtInt(Math.min(d.trainImages ?? facts.train, facts.train))} train, ${
        fmtInt(Math.min(d.testImages ?? facts.test, facts.test))
      } test, ${fmtInt(d.probeImages)} probe images${
        d.normalization === "cifar10-authors"
          ? "; normalised with the authors' CIFAR-10 mean and std"
          : ""
      }`,
  );
  out.push(`families   ${config.families.join(", ")}`);
  out.push(`widths     k = ${config.widths.join(", ")}`);
  out.push(
    `seeds      ${config.seeds} per (family, k${t.batchSizes.length > 1 ? ", batch size" : ""})`,
  );
  out.push(
    config.checkpoints
      ? `training   none: ${config.checkpoints.length} checkpoints loaded (PyTorch or ours), backend ${config.backend}`
      : `training   ${t.epochs} epochs, batch ${
        t.batchSizes.join("/")
      }, SGD lr ${t.lr} (${t.schedule})${
        t.preciseBN != null ? `, precise BN over ${t.preciseBN} batches` : ""
      }, backend ${config.backend}`,
  );
  out.push(
    `salience   ${config.salience.scalar}, ${
      config.salience.pool === null
        ? "unpooled"
        : `pooled to ${config.salience.pool}×${config.salience.pool}`
    } (D = ${fmtInt(D)})${
      config.analysis?.includingModelMean
        ? "; t against μ including the model reported beside leave-one-out"
        : ""
    }`,
  );
  const ex = config.experiments;
  out.push(
    `experiments ensembles ${ex.ensembles ? `of ${ex.ensembles.sizes.join("/")}` : "off"}, attack ${
      ex.attack ? `ε = ${ex.attack.epsilon} (${ex.attack.strategies.join(", ")})` : "off"
    }`,
  );
  out.push(
    `runs       ${fmtInt(all.runs)}` +
      (shard.count > 1 ? ` (shard ${shard.index}/${shard.count}: ${fmtInt(cost.runs)})` : ""),
  );
  out.push(...populationLines(config, mine.length, minePops.length, shard));
  out.push("");
  out.push("  model                 params   compute/run");
  for (const m of all.perModel) {
    out.push(
      `  ${`${m.family} k=${m.k}`.padEnd(18)} ${fmtInt(m.params).padStart(11)}   ${
        fmtFlops(m.flopsPerRun).padStart(11)
      }`,
    );
  }
  out.push("");
  const scope = shard.count > 1 ? "this shard" : "total";
  out.push(
    `parameters ${fmtInt(cost.params)} summed over runs (${scope}); largest model ${
      fmtInt(cost.maxParams)
    }`,
  );
  out.push(
    `compute    ${fmtFlops(cost.flops)} (${scope}) ≈ ${formatDuration(cost.seconds)} at ${
      fmtRate(cost.flopsPerSecond)
    } ${options.rateNote ?? "effective"}`,
  );
  out.push(
    `gradients  ${fmtBytes(cost.gradientBytes)} of salience.npy (${fmtInt(d.probeImages)} × ${
      fmtInt(D)
    } × 4 B per run)`,
  );
  if (cost.unpooledBytes > 0) {
    out.push(
      `           ${
        fmtBytes(cost.unpooledBytes)
      } of salience-unpooled.npy (the same pass unpooled, analysed side by side)`,
    );
  }
  out.push(`checkpoints ${fmtBytes(cost.checkpointBytes)}`);
  out.push(...studyLines(config, cost));
  return out.join("\n");
}

/** The dry run's lines on population training: S per family and the trainings it makes. */
function populationLines(
  config: SweepConfig,
  runs: number,
  trainings: number,
  shard: Shard,
): string[] {
  const p = config.training.population;
  const per = config.families.map((f) => `${f} ${populationSizeOf(config, f)}`).join(", ");
  const why = p === false
    ? "off: --no-population or training.population false"
    : typeof p === "number"
    ? `training.population ${p}`
    : `the planner's, backend ${config.backend}`;
  const out = [
    `population S = ${per} (${why}): ${fmtInt(trainings)} trainings for ${fmtInt(runs)} runs${
      shard.count > 1 ? " of this shard" : ""
    }`,
  ];
  const alone = config.families.filter((f) =>
    populationSizeOf(config, f) === 1 && p !== false && p !== 1
  );
  if (alone.length > 0 && (p === undefined || p === true)) {
    out.push(
      `           S = 1 for ${alone.join(", ")}: ${
        alone.every((f) => f === "ViT")
          ? "no stacked implementation"
          : config.backend === "cpu"
          ? "the CPU backend's measurements were too noisy to pick S > 1 (README)"
          : "training together measured no faster than alone on the software WebGPU adapter (README)"
      }`,
    );
  }
  return out;
}

/** The dry run's lines for the attribution-method and over-training studies (none by default). */
function studyLines(config: SweepConfig, cost: ReturnType<typeof planCost>): string[] {
  const s = config.salience, x = cost.extraSalience, out: string[] = [];
  const methods = s.methods ?? ["gradient"];
  if (methods.some((m) => m !== "gradient")) {
    const named = methods.map((m) =>
      m === "smoothgrad"
        ? `smoothgrad (n = ${s.smoothGrad?.samples ?? 16}, σ = ${s.smoothGrad?.sigma ?? 0.15})`
        : m === "integrated-gradients"
        ? `integrated-gradients (m = ${s.integratedGradients?.steps ?? 32}, baseline ${
          s.integratedGradients?.baseline ?? "zero"
        })`
        : m
    );
    out.push(
      `methods    ${
        named.join(", ")
      }: +${x.methods} gradient passes per probe image per run, one analysis each`,
    );
  }
  if ((s.epochs ?? []).length > 0) {
    out.push(
      `epochs     salience after epochs ${
        s.epochs!.join(", ")
      }: +${x.epochs} gradient passes per probe image per run, one analysis each`,
    );
  }
  if (out.length > 0) {
    out.push(`study files ${fmtBytes(x.bytes)} (included in compute above)`);
  }
  return out;
}

/** `deno task sweep` with `args` minus the shard and analysis flags (shell-quoted). */
function rerunCommand(args: string[]): string {
  const keep: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--shard" || a === "--shard-count") i++;
    else if (!/^--(shard|shard-count)=|^--(no-)?analyze$/.test(a)) keep.push(a);
  }
  const q = (s: string) => /^[\w./:=@%+-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`;
  return ["deno task sweep", ...keep.map(q)].join(" ");
}

/**
 * Runs the CLI; returns the process exit code (0 done, 1 a run failed, 2 bad arguments,
 * 130 interrupted).
 *
 * @example
 * ```ts
 * import { sweepMain } from "./sweep.ts";
 * if ((await sweepMain(["--help"])) !== 0) throw new Error();
 * ```
 */
export async function sweepMain(args: string[]): Promise<number> {
  let parsed: SweepArgs;
  try {
    parsed = await parseSweepArgs(args, Deno.env.toObject());
  } catch (err) {
    console.error(`error: ${(err as Error).message}`);
    return 2;
  }
  if (parsed.help) {
    console.log(SWEEP_USAGE);
    return 0;
  }
  if (parsed.dryRun) {
    let { flopsPerSecond } = parsed, rateNote: string | undefined;
    if (parsed.measureSpeed) {
      // The estimate at this machine's measured speed (--tflops X assumes another machine's).
      try {
        const m = await measureTrainingRate(parsed.config);
        flopsPerSecond = m.flopsPerSecond;
        rateNote = `(${m.note}; --tflops X assumes another rate)`;
      } catch (err) {
        rateNote = `effective (assumed: measuring this machine failed: ${(err as Error).message})`;
      }
    }
    console.log(dryRunReport(parsed.config, parsed.shard, { flopsPerSecond, rateNote }));
    return 0;
  }
  const controller = new AbortController();
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) Deno.exit(130);
    interrupted = true;
    console.error(
      "\ninterrupted: stopping at the next batch (the last finished epoch is kept); press Ctrl-C again to quit now.",
    );
    controller.abort(new DOMException("Sweep interrupted.", "AbortError"));
  };
  Deno.addSignalListener("SIGINT", onSignal);
  try {
    await runSweep(parsed.config, {
      out: parsed.out,
      shard: parsed.shard,
      analyze: parsed.analyze,
      signal: controller.signal,
      command: rerunCommand(args),
    });
    return 0;
  } catch (err) {
    if (interrupted) {
      console.error("sweep interrupted; run the same command again to resume.");
      return 130;
    }
    console.error(`error: ${(err as Error).message}`);
    if (Deno.env.get("SWEEP_DEBUG")) console.error(err);
    return 1;
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
  }
}

if (import.meta.main) {
  Deno.exit(await sweepMain(Deno.args));
}
