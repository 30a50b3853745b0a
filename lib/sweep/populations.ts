/**
 * Population training in the sweep: the planned runs of one family, width and batch size (its
 * seeds) are grouped into populations of S models that `trainPopulation()` of `lib/train`
 * trains in the same dispatches. Every run keeps its own folder, per-epoch checkpoints (in
 * `train()`'s format, so either path resumes it), salience, `run.json` and `COMPLETE` marker;
 * complete runs are never touched, and the incomplete members of a population train together
 * (members at different epochs are brought level first). A population whose training throws is
 * redone run by run with `executeRun()`, resuming from whatever checkpoints it wrote.
 *
 * The size S comes from `training.population` (absent or `true`: {@link PLANNED_POPULATION} for
 * the family and backend; `false`: 1; N: N) and is fixed by the config alone, never by the
 * machine, so every shard of a sweep forms the same populations; a shard holds whole
 * populations ({@link shardPopulations}).
 *
 * @module
 */
import { join } from "node:path";
import { STACKED_BATCH, trainPopulation, type TrainResult } from "../train/mod.ts";
import type { Family } from "../models/mod.ts";
import {
  exists,
  type PlanEntry,
  RUN_FILES,
  type SalienceMethodName,
  type SweepConfig,
} from "../store/mod.ts";
import {
  addTrainingTimes,
  epochSummary,
  executeRun,
  finishRun,
  modelOf,
  prepareRunDir,
  type RunContext,
  type RunOutcome,
  timePhase,
  trainScheduleOf,
} from "./executor.ts";
import { shardRuns } from "./plan.ts";
import { GRADIENT_BATCH, populationInputGradients, populationLogits } from "../salience/mod.ts";
import {
  methodSalienceMissing,
  populationMethodAttributions,
  type PrecomputedAttribution,
} from "./salience_methods.ts";
import { finalCheckpointDir, type Recalibrated, recalibratePopulation } from "./precise_bn.ts";
import { EPOCHS_DIR, epochSalienceFile, writePopulationEpochSalience } from "./epochs.ts";

/** Families whose every layer has a stacked implementation (ViT's attention has none). */
export const STACKABLE_FAMILIES: readonly Family[] = [
  "CNNSmall",
  "CNNLarge",
  "ResNetSmall",
  "ResNetLarge",
  "MLP",
];

/**
 * The population size the planner uses per family when `training.population` is absent or
 * `true`, for a config whose backend is `cpu` and for `webgpu`/`auto`. Chosen from population
 * steps measured on the development machine (WebGPU: the lavapipe software adapter on 2 CPU
 * cores; `deno task bench train` on an idle machine, S = 1, 4, 8, 16 at k = 2, 4, 8): S = 16 gave
 * the highest aggregate training rate in 11 of the 12 convolutional (family, k) rows and was within
 * 8 % of the best in the other, so the convolutional families take 16 (a family with fewer
 * seeds forms one population of all of them). MLP keeps its earlier measured 4. The CPU backend
 * stays at 1 (its measurements were too noisy to choose). On a hardware GPU, where 16 small models
 * may still leave the device idle, set `training.population` to the size that fills it.
 */
export const PLANNED_POPULATION: Readonly<Record<"cpu" | "webgpu", Record<Family, number>>> = {
  cpu: { CNNSmall: 1, CNNLarge: 1, ResNetSmall: 1, ResNetLarge: 1, MLP: 1, ViT: 1 },
  webgpu: { CNNSmall: 16, CNNLarge: 16, ResNetSmall: 16, ResNetLarge: 16, MLP: 4, ViT: 1 },
};

/**
 * The population size of `family` under `config` (1: each run trains alone): `false` gives 1,
 * a number N gives N, absent or `true` the planner's {@link PLANNED_POPULATION}; families
 * outside {@link STACKABLE_FAMILIES} always 1. Depends on the config only (not the machine).
 *
 * @example
 * ```ts
 * import { populationSizeOf } from "./populations.ts";
 * import { presetConfig } from "./presets.ts";
 * const c = presetConfig("tiny");
 * c.training.population = 4;
 * if (populationSizeOf(c, "CNNSmall") !== 4 || populationSizeOf(c, "ViT") !== 1) throw new Error();
 * ```
 */
export function populationSizeOf(config: SweepConfig, family: string): number {
  const p = config.training.population;
  if (p === false || !STACKABLE_FAMILIES.includes(family as Family)) return 1;
  if (typeof p === "number") return p;
  return PLANNED_POPULATION[config.backend === "cpu" ? "cpu" : "webgpu"][family as Family] ?? 1;
}

/**
 * The populations of a plan's runs: runs of one (batch size, family, width) in seed order, cut
 * into consecutive blocks of {@link populationSizeOf} (the last may be smaller), ordered by
 * their first run's plan index; a run of the config's `checkpoints` (it loads weights, trains
 * nothing) is a population of its own. With S = 1 throughout it is one run per population in plan
 * order. Cost: O(runs · log runs).
 *
 * @example
 * ```ts
 * import { planPopulations } from "./populations.ts";
 * import { buildPlan } from "./plan.ts";
 * import { presetConfig } from "./presets.ts";
 * const c = { ...presetConfig("tiny"), seeds: 3 };
 * c.training.population = 2;
 * const pops = planPopulations(c, buildPlan(c).runs);
 * if (pops.map((p) => p.length).join() !== "2,2,2,2,1,1,1,1") throw new Error();
 * ```
 */
export function planPopulations<T extends PlanEntry>(
  config: SweepConfig,
  runs: readonly T[],
): T[][] {
  const groups = new Map<string, T[]>();
  const out: T[][] = [];
  for (const r of [...runs].sort((a, b) => a.index - b.index)) {
    // A run of the config's `checkpoints` loads its weights: nothing to train together.
    if (r.weights) {
      out.push([r]);
      continue;
    }
    const key = JSON.stringify([r.batchSize, r.family, r.k]);
    const g = groups.get(key);
    if (g) g.push(r);
    else groups.set(key, [r]);
  }
  for (const g of groups.values()) {
    g.sort((a, b) => a.seed - b.seed);
    const S = populationSizeOf(config, g[0]!.family);
    for (let i = 0; i < g.length; i += S) out.push(g.slice(i, i + S));
  }
  return out.sort((a, b) => a[0]!.index - b[0]!.index);
}

/**
 * The populations shard `index` of `count` owns: those whose position in `populations` ≡ index
 * (mod count), so a shard holds whole populations, shards are disjoint and together cover the
 * plan. With one run per population this is exactly `shardRuns()`. Cost: O(populations).
 *
 * @throws {RangeError} as `shardRuns()` for a bad shard.
 * @example
 * ```ts
 * import { shardPopulations } from "./populations.ts";
 * const pops = [[{ index: 0 }, { index: 2 }], [{ index: 1 }], [{ index: 3 }]];
 * if (shardPopulations(pops, { index: 0, count: 2 }).flat().map((r) => r.index).join() !== "0,2,3") throw new Error();
 * ```
 */
export function shardPopulations<T>(
  populations: readonly T[][],
  shard: { index: number; count: number },
): T[][] {
  const positioned = populations.map((members, index) => ({ index, members }));
  return shardRuns(positioned, shard).map((p) => p.members);
}

/**
 * A short label of a population for progress lines: `CNNSmall-k2 seeds 0–3 (4 together)`.
 *
 * @example
 * ```ts
 * import { populationLabel } from "./populations.ts";
 * const e = (seed: number) => ({ family: "CNNSmall", k: 2, seed });
 * if (populationLabel([e(0), e(1)]) !== "CNNSmall-k2 seeds 0–1 (2 together)") throw new Error();
 * ```
 */
export function populationLabel(
  entries: ReadonlyArray<{ family: string; k: number; seed: number }>,
): string {
  const seeds = entries.map((e) => e.seed);
  const contiguous = seeds.every((s, i) => i === 0 || s === seeds[i - 1]! + 1);
  const list = contiguous && seeds.length > 1 ? `${seeds[0]}–${seeds.at(-1)}` : seeds.join(",");
  const e = entries[0]!;
  return `${e.family}-k${e.k} seed${
    seeds.length > 1 ? "s" : ""
  } ${list} (${entries.length} together)`;
}

/** Batches between progress updates of a population (each reads the loss back). */
const PROGRESS_EVERY = 10;

/** What trains a population's members together: `trainPopulation()` (tests inject faults). */
export type PopulationTrainer = typeof trainPopulation;

/** One incomplete member of a population being executed. */
interface Open {
  index: number;
  entry: PlanEntry;
  dir: string;
  redone: string[];
  model: ReturnType<typeof modelOf>;
}

function aborted(ctx: RunContext, err: unknown): boolean {
  return ctx.signal?.aborted === true || (err instanceof DOMException && err.name === "AbortError");
}

/**
 * Brings every run of a population to `complete` (each in `dirs[i]`), as {@link executeRun}
 * does one run: complete runs are skipped untouched; the others' folders are readied
 * (`prepareRunDir()`), their models trained together by `trainPopulation()` from their
 * checkpoints (each member's own seed, data order and checkpoint folder), stopping at each epoch
 * of `salience.epochs` to write each member's salience there; then, per model, precise BN when
 * configured, the salience, logits, `run.json` and `COMPLETE` (`finishRun()`). When training or a
 * member's finishing throws (anything but an abort), the population's incomplete runs are
 * redone one by one with {@link executeRun}, which resumes each from its last checkpoint;
 * complete ones stay untouched. Returns one outcome per entry, in order.
 *
 * Cost: the population's training (one stacked pass of S·batch images per step), then per
 * member one salience pass and one forward pass over the probe set.
 *
 * @throws what training throws on an abort; what {@link executeRun} throws when a member fails
 *   alone too.
 */
export async function executePopulation(
  ctx: RunContext,
  entries: readonly PlanEntry[],
  dirs: readonly string[],
  options: { trainer?: PopulationTrainer } = {},
): Promise<RunOutcome[]> {
  const trainer = options.trainer ?? trainPopulation;
  const { dataset, progress } = ctx;
  const outcomes: (RunOutcome | null)[] = entries.map(() => null);
  const open: Open[] = [];
  try {
    for (const [i, entry] of entries.entries()) {
      const { complete, redone } = await prepareRunDir(dirs[i]!);
      if (complete) {
        outcomes[i] = {
          status: "skipped",
          redone: [],
          resumedFrom: null,
          epochsTrained: 0,
          record: null,
        };
      } else open.push({ index: i, entry, dir: dirs[i]!, redone, model: modelOf(dataset, entry) });
    }
    if (open.length > 0) {
      const started = new Date().toISOString();
      try {
        const t0 = performance.now();
        const { results, epochSalienceSeconds, checkpointSeconds } = await trainTogether(
          ctx,
          open,
          trainer,
        );
        const trainSeconds = (performance.now() - t0) / 1000;
        addTrainingTimes(
          ctx,
          open[0]!.entry.family,
          results[0]!,
          trainSeconds - epochSalienceSeconds - checkpointSeconds,
        );
        ctx.timings?.add("checkpoints", checkpointSeconds);
        const together = await finishTogether(ctx, open, results);
        for (const [j, o] of open.entries()) {
          outcomes[o.index] = await finishRun(ctx, o.entry, o.dir, o.model, results[j]!, {
            redone: o.redone,
            started,
            trainSeconds,
            ...together[j],
          });
        }
      } catch (err) {
        if (aborted(ctx, err)) throw err;
        progress.log(
          `population ${populationLabel(open.map((o) => o.entry))} failed (${
            (err as Error).message
          }); training its incomplete runs one at a time`,
        );
        for (const o of open) {
          if (outcomes[o.index]) continue;
          const r = await executeRun(ctx, o.entry, o.dir);
          outcomes[o.index] = { ...r, redone: [...new Set([...o.redone, ...r.redone])] };
        }
      }
    }
  } finally {
    for (const o of open) o.model.dispose();
  }
  return outcomes as RunOutcome[];
}

/**
 * What the members' `finishRun()` needs from the model, computed for all of them together:
 * precise BN (each model's own moments, all models in one stacked pass per batch, and the test
 * evaluation likewise), then the probe-set salience, logits and attribution methods (SmoothGrad,
 * Integrated Gradients, …) of every member missing them, each from one stacked pass over the
 * population (`populationInputGradients()`, `populationLogits()`, `populationAttribute()`): the
 * same values as per-model passes, within f32 rounding. Seconds are the batched pass's, shared evenly.
 */
async function finishTogether(
  ctx: RunContext,
  open: Open[],
  results: TrainResult[],
): Promise<
  {
    recal: Recalibrated;
    gradients?: Float32Array;
    gradientSeconds?: number;
    logits?: Float32Array;
    methods?: Map<SalienceMethodName, PrecomputedAttribution>;
  }[]
> {
  const { config, dataset, progress } = ctx;
  if (config.training.preciseBN != null) progress.phase("precise BN");
  const members: Parameters<typeof recalibratePopulation>[0][number][] = [];
  for (const [j, o] of open.entries()) {
    const last = results[j]!.history.at(-1);
    members.push({
      model: o.model,
      last: { testLoss: last?.testLoss ?? NaN, testAcc: last?.testAccuracy ?? NaN },
      checkpoint: await finalCheckpointDir(o.dir),
    });
  }
  const recalibrate = () =>
    recalibratePopulation(members, dataset, { config, batchSize: open[0]!.entry.batchSize });
  const recals = config.training.preciseBN != null
    ? await timePhase(ctx, "precise BN", recalibrate)
    : await recalibrate();
  const out: Awaited<ReturnType<typeof finishTogether>> = recals.map((recal) => ({ recal }));
  const missing = async (file: string) => {
    const js: number[] = [];
    for (const [j, o] of open.entries()) if (!(await exists(join(o.dir, file)))) js.push(j);
    return js;
  };
  const sal = await missing(RUN_FILES.salience);
  if (sal.length > 0) {
    progress.phase(`salience of ${sal.length} models together`);
    const t0 = performance.now();
    const gs = await timePhase(
      ctx,
      "salience",
      () =>
        populationInputGradients(sal.map((j) => open[j]!.model), dataset.probe, {
          scalar: config.salience.scalar,
          layout: "chw",
          batchSize: GRADIENT_BATCH,
        }),
    );
    const seconds = (performance.now() - t0) / 1000 / sal.length;
    sal.forEach((j, i) => {
      out[j]!.gradients = gs[i]!;
      out[j]!.gradientSeconds = seconds;
    });
  }
  const lo = config.experiments.logits ? await missing(RUN_FILES.logits) : [];
  if (lo.length > 0) {
    progress.phase(`logits of ${lo.length} models together`);
    const ls = await timePhase(
      ctx,
      "logits",
      () =>
        populationLogits(lo.map((j) => open[j]!.model), dataset.probe.images, {
          batchSize: STACKED_BATCH,
        }),
    );
    lo.forEach((j, i) => (out[j]!.logits = ls[i]!));
  }
  const me: number[] = [];
  for (const [j, o] of open.entries()) {
    if (await methodSalienceMissing(config, o.dir, o.redone)) me.push(j);
  }
  if (me.length > 0) {
    const ms = await timePhase(
      ctx,
      "other attribution methods",
      () => populationMethodAttributions(me.map((j) => open[j]!.model), dataset, config, progress),
    );
    me.forEach((j, i) => (out[j]!.methods = ms[i]!));
  }
  return out;
}

/**
 * Trains the open members together, writing each member's salience at the analysed epochs of
 * `salience.epochs` whose file is missing (as `trainAnalysingEpochs()` does for one run: a
 * corrupted epoch file or checkpoint retrains that member from scratch), all members of an
 * epoch in one `writePopulationEpochSalience()`. Returns the members' results and the seconds
 * spent on the epoch salience (in `ctx.timings` as "epoch salience", not as training).
 */
async function trainTogether(
  ctx: RunContext,
  open: Open[],
  trainer: PopulationTrainer,
): Promise<{ results: TrainResult[]; epochSalienceSeconds: number; checkpointSeconds: number }> {
  const { config, dataset, progress } = ctx;
  let checkpointSeconds = 0;
  const { optimizer: _o, seed: _s, ...schedule } = trainScheduleOf(config, open[0]!.entry);
  const train = (members: Open[], stopAfterEpoch?: number) =>
    trainer(
      members.map((o) => ({
        model: o.model,
        seed: o.entry.seed,
        checkpointDir: join(o.dir, RUN_FILES.checkpoint),
      })),
      dataset.train,
      {
        ...schedule,
        stopAfterEpoch,
        test: dataset.test,
        signal: ctx.signal,
        // Reading the loss back synchronises the device; every few batches keeps the queue full.
        progressEvery: PROGRESS_EVERY,
        onProgress: (p) =>
          progress.update(
            p.epoch,
            p.batch / p.batches,
            `batch ${p.batch}/${p.batches} mean loss ${p.loss.toFixed(3)} · ${
              p.samplesPerSecond.toFixed(0)
            } img/s over ${members.length} models`,
          ),
        onEpoch: (m, r) =>
          progress.epochDone(r.epoch, `seed ${members[m]!.entry.seed} ${epochSummary(r)}`),
        onEpochTimes: (t) => (checkpointSeconds += t.checkpointSeconds),
      },
    );
  const epochs = config.salience.epochs ?? [];
  let epochSalienceSeconds = 0;
  if (epochs.length === 0) {
    const results = await train(open);
    return { results, epochSalienceSeconds, checkpointSeconds };
  }
  for (const o of open) {
    if (o.redone.some((p) => p.startsWith(`${EPOCHS_DIR}/`) || p.startsWith("checkpoint/"))) {
      for (const name of [EPOCHS_DIR, RUN_FILES.checkpoint]) {
        await Deno.remove(join(o.dir, name), { recursive: true }).catch((err) => {
          if (!(err instanceof Deno.errors.NotFound)) throw err;
        });
      }
    }
  }
  const first = new Map<Open, TrainResult>();
  for (const epoch of epochs) {
    const need: Open[] = [];
    for (const o of open) {
      if (!(await exists(join(o.dir, epochSalienceFile(epoch))))) need.push(o);
    }
    if (need.length === 0) continue;
    const rs = await train(need, epoch);
    for (const [j, o] of need.entries()) {
      const r = rs[j]!;
      if (!first.has(o)) first.set(o, r);
      if (r.epochsDone > epoch) {
        throw new RangeError(
          `${o.entry.runId} is trained past epoch ${epoch}, whose salience is missing; delete ${o.dir} to retrain it.`,
        );
      }
    }
    progress.phase(`salience at epoch ${epoch} of ${need.length} models together`);
    const t0 = performance.now();
    await timePhase(
      ctx,
      "epoch salience",
      () =>
        writePopulationEpochSalience(
          need.map((o) => ({
            model: o.model,
            entry: o.entry,
            path: join(o.dir, epochSalienceFile(epoch)),
          })),
          { dataset, config },
        ),
    );
    epochSalienceSeconds += (performance.now() - t0) / 1000;
  }
  const last = await train(open);
  const results = last.map((r, j) => ({
    ...r,
    // The first segment's (null for a fresh start), not the last one's resume point.
    resumedFrom: first.has(open[j]!) ? first.get(open[j]!)!.resumedFrom : r.resumedFrom,
  }));
  return { results, epochSalienceSeconds, checkpointSeconds };
}
