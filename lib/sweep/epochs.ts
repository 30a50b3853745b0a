/**
 * Convergence over training (`salience.epochs`, `--epochs-analysed`): a run trains in segments
 * that stop at each analysed epoch, where the probe-set gradient salience of the model at that
 * epoch is written to `epochs/epoch-NNNN/salience.npy`; the analysis then gives, per epoch and
 * width, p(k,k), p(k1,k2), the spherical variance and the test accuracy (`analysis/epochs.json`).
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { type Gpu, requestGpu } from "../../kernels/mod.ts";
import { analyzeGradients, type ModelInput, runModelInput } from "../analysis/mod.ts";
import type { Dataset } from "../data/mod.ts";
import { openGradientSource, sidecarPath } from "../npy/mod.ts";
import { GRADIENT_BATCH, populationAttribute } from "../salience/mod.ts";
import { evaluatePopulation, populationPreciseBatchNorm, type TrainResult } from "../train/mod.ts";
import {
  exists,
  type PlanEntry,
  readJson,
  readRun,
  removeIfPresent,
  replaceDir,
  RUN_FILES,
  SCHEMA_VERSION,
  SWEEP_FILES,
  type SweepConfig,
  TMP_MARK,
  verifiedRuns,
  writeChecksums,
  writeJson,
} from "../store/mod.ts";
import { poolRows, type RunFolderContext, writeRunSalience } from "./salience_methods.ts";

/** The run folder holding the salience of the analysed epochs. */
export const EPOCHS_DIR = "epochs";

/**
 * The salience file of epoch `epoch` (1-based) inside a run folder.
 *
 * @example
 * ```ts
 * import { epochSalienceFile } from "./epochs.ts";
 * if (epochSalienceFile(3) !== "epochs/epoch-0003/salience.npy") throw new Error();
 * ```
 */
export function epochSalienceFile(epoch: number): string {
  return `${EPOCHS_DIR}/epoch-${String(epoch).padStart(4, "0")}/salience.npy`;
}

/**
 * Trains a run through `train` (the executor's call of `lib/train`, given the epoch to stop
 * after, or undefined for the whole schedule), stopping at every epoch of `salience.epochs`
 * whose salience is missing to write it from the model as it is then. Training resumes from the
 * checkpoint, so the segments give the same model as one call. A corrupted epoch file (named in
 * `redone`) or a bad checkpoint retrains the run from scratch, since past epochs are not kept.
 * Without `salience.epochs` it is exactly one call of `train`.
 * Cost: the training, plus one gradient pass over the probe set per analysed epoch.
 *
 * @throws {RangeError} when the checkpoint is past an analysed epoch whose salience is missing
 *   (delete the run folder to retrain it); what `train` throws.
 */
export async function trainAnalysingEpochs(
  ctx: RunFolderContext,
  train: (stopAfterEpoch?: number) => Promise<TrainResult>,
): Promise<TrainResult> {
  const epochs = ctx.config.salience.epochs ?? [];
  if (epochs.length === 0) return await train();
  const { runDir } = ctx;
  if (ctx.redone.some((p) => p.startsWith(`${EPOCHS_DIR}/`) || p.startsWith("checkpoint/"))) {
    await removeIfPresent(join(runDir, EPOCHS_DIR));
    await removeIfPresent(join(runDir, RUN_FILES.checkpoint));
  }
  let first: TrainResult | null = null;
  for (const epoch of epochs) {
    const file = join(runDir, epochSalienceFile(epoch));
    if (await exists(file)) continue;
    const r = await train(epoch);
    first ??= r;
    if (r.epochsDone < epoch) return r; // stopped (signal)
    if (r.epochsDone > epoch) {
      throw new RangeError(
        `${ctx.entry.runId} is trained past epoch ${epoch}, whose salience is missing; delete ${runDir} to retrain it.`,
      );
    }
    ctx.progress.phase(`salience at epoch ${epoch}`);
    await writeEpochSalience(ctx, file);
  }
  const last = await train();
  return { ...last, resumedFrom: first ? first.resumedFrom : last.resumedFrom };
}

/** The file beside an epoch's salience that records its batch-norm recalibration. */
export const EPOCH_BN_FILE = "precise_bn.json";

/**
 * `epochs/epoch-NNNN/precise_bn.json`: with `training.preciseBN` the epoch's salience comes from
 * the model with its batch-norm statistics recomputed (as the final model's are), and the test
 * split is evaluated with them; training then goes on from the statistics it had.
 */
export interface EpochBnRecord {
  batches: number;
  batchSize: number;
  /** Test loss and accuracy of the recalibrated model at this epoch. */
  test: { loss: number; acc: number };
}

/**
 * Runs `use` on `models` with their batch-norm running statistics recomputed by
 * `populationPreciseBatchNorm()` (over the first `batches` batches of `batchSize` training
 * images, all models in one stacked pass per batch, each with its own moments) and the
 * recalibrated models evaluated on the test split together (`evaluatePopulation()`: one stacked
 * pass per batch), then puts the statistics training left
 * back, bit for bit, so the training that follows is untouched. `use` gets one record per model:
 * null (the model as it is) when `batches` is null or the model has no batch norm.
 */
async function withRecalibratedBn<T>(
  models: tfl.LayersModel[],
  dataset: Dataset,
  o: { batches: number | null; batchSize: number },
  use: (bns: (EpochBnRecord | null)[]) => Promise<T>,
): Promise<T> {
  const { batches, batchSize } = o;
  const stats = models.map((m) =>
    batches === null ? [] : m.layers
      .filter((l) => l.getClassName() === "BatchNormalization")
      .flatMap((l) => l.weights.filter((v) => /moving_(mean|variance)/.test(v.name)))
  );
  const saved = stats.map((vs) => vs.map((v) => tf.clone(v.read())));
  try {
    const bns: (EpochBnRecord | null)[] = models.map(() => null);
    if (batches === null) return await use(bns);
    const used = await populationPreciseBatchNorm(models, dataset.train, { batches, batchSize });
    const done = models.flatMap((_, i) => used[i]! > 0 ? [i] : []);
    const evs = await evaluatePopulation(done.map((i) => models[i]!), dataset.test);
    done.forEach((i, j) => {
      const ev = evs[j]!;
      bns[i] = { batches: used[i]!, batchSize, test: { loss: ev.loss, acc: ev.accuracy } };
    });
    return await use(bns);
  } finally {
    stats.forEach((vs, i) => vs.forEach((v, j) => v.write(saved[i]![j]!)));
    saved.flat().forEach((t) => t.dispose());
  }
}

/** One model of {@link writePopulationEpochSalience}: its run and the epoch file to write. */
export interface EpochSalienceMember {
  model: tfl.LayersModel;
  entry: PlanEntry;
  /** The epoch file ({@link epochSalienceFile} inside the run folder). */
  path: string;
}

/**
 * Writes the probe-set gradient salience of `ctx.model` as it is now to `path` (an epoch file of
 * {@link epochSalienceFile}), with its sidecar: {@link writePopulationEpochSalience} of one model.
 * Cost: one gradient pass over the probe set (+ the recalibration and one test evaluation).
 */
export async function writeEpochSalience(
  ctx: { model: tfl.LayersModel; dataset: Dataset; config: SweepConfig; entry: PlanEntry },
  path: string,
): Promise<void> {
  await writePopulationEpochSalience([{ model: ctx.model, entry: ctx.entry, path }], ctx);
}

/**
 * Writes the probe-set gradient salience of every member's model as it is now to the member's
 * epoch file, with its sidecar, for a population's members (models of one architecture; any
 * models run, one by one where they cannot stack): the gradients of all members come from one
 * stacked pass per batch (`populationAttribute()` of `lib/salience`, as the final salience), equal
 * to each model's own within f32 rounding. With `training.preciseBN` the salience comes from the
 * models with recalibrated batch-norm statistics, as the final salience does (so the last epoch's
 * salience is the final one), recorded with the recalibrated test figures in
 * {@link EPOCH_BN_FILE}; the models' statistics are restored afterwards.
 * Cost: one stacked gradient pass over the probe set (+ each model's recalibration and one
 * stacked test evaluation).
 *
 * @throws what `populationPreciseBatchNorm()`, `populationAttribute()` and the store's writes throw.
 */
export async function writePopulationEpochSalience(
  members: readonly EpochSalienceMember[],
  ctx: { dataset: Dataset; config: SweepConfig },
): Promise<void> {
  if (members.length === 0) return;
  const { dataset, config } = ctx, N = dataset.probe.count, P = config.salience.pool;
  const batchSize = members[0]!.entry.batchSize;
  if (members.some((m) => m.entry.batchSize !== batchSize)) {
    throw new RangeError(
      `the members train at batch sizes ${
        members.map((m) => m.entry.batchSize).join(", ")
      }; a population's members share one batch size, so pass them in separate calls.`,
    );
  }
  const models = members.map((m) => m.model);
  const { values, bns } = await withRecalibratedBn(
    models,
    dataset,
    { batches: config.training.preciseBN ?? null, batchSize },
    async (bns) => {
      const as = await populationAttribute(models, dataset.probe, { method: "gradient" }, {
        scalar: config.salience.scalar,
        batchSize: GRADIENT_BATCH,
      });
      return { values: as.map((a) => poolRows(a.values, dataset.shape, N, P)), bns };
    },
  );
  for (const [i, m] of members.entries()) {
    await writeEpochFolder(m.path, values[i]!, bns[i]!, { config, dataset, entry: m.entry });
  }
}

/** Writes one epoch's folder: the salience, its sidecar and the recalibration record. */
async function writeEpochFolder(
  path: string,
  values: Float32Array,
  bn: EpochBnRecord | null,
  ctx: { dataset: Dataset; config: SweepConfig; entry: PlanEntry },
): Promise<void> {
  const note = `model after epoch ${path.match(/epoch-(\d+)/)?.[1] ?? "?"}${
    bn ? `, batch-norm statistics recomputed over ${bn.batches} batches` : ""
  }`;
  // Written as a whole folder with its checksums, then renamed into place: a run without a
  // valid COMPLETE marker keeps the epoch only when it verifies (see reverify.ts).
  const folder = dirname(path), tmp = `${folder}${TMP_MARK}${Deno.pid}`;
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
  await Deno.mkdir(tmp, { recursive: true });
  const inTmp = join(tmp, basename(path));
  await writeRunSalience(inTmp, values, { ...ctx, pooling: ctx.config.salience.pool, note });
  const files = [basename(path), basename(sidecarPath(inTmp))];
  if (bn) {
    await writeJson(join(tmp, EPOCH_BN_FILE), bn);
    files.push(EPOCH_BN_FILE);
  }
  await writeChecksums(tmp, files);
  await replaceDir(tmp, folder);
}

/** One (family, width, epoch) row of `analysis/epochs.json`. */
export interface EpochRow {
  family: string;
  k: number;
  epoch: number;
  /** Models (seeds) of the group at this epoch. */
  seeds: number;
  /** Mean and standard deviation over seeds of the test accuracy after this epoch (of the
   * recalibrated model where the epoch's batch norm was recalibrated, see {@link EpochBnRecord}). */
  testAcc: number | null;
  testAccStd: number | null;
  /** p(k,k): mean p_ind over pairs of distinct seeds, with its bootstrap interval (or null). */
  pKK: number | null;
  pKKInterval: [number, number] | null;
  /** Spherical variance 1 − ‖m‖ averaged over images, and its n-corrected value. */
  sphericalVariance: number | null;
  sphericalVarianceCorrected: number | null;
}

/** `analysis/epochs.json`. */
export interface EpochsJson {
  schemaVersion: typeof SCHEMA_VERSION;
  kind: "salience-epochs";
  scalar: string;
  pooling: number | null;
  epochs: number[];
  /** One row per (family, width, epoch), family then width then epoch. */
  rows: EpochRow[];
  /** p(k1, k2) per family and epoch, widths ascending (`mean[i][j]`, null where no pairs). */
  matrices: Array<{ family: string; epoch: number; ks: number[]; mean: (number | null)[][] }>;
}

function meanStd(xs: number[]): [number | null, number | null] {
  if (xs.length === 0) return [null, null];
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const v = xs.length > 1 ? xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1) : 0;
  return [m, Math.sqrt(v)];
}

/**
 * Analyses the salience of every epoch of `salience.epochs` over the sweep's complete runs with
 * `analyzeGradients()` of `lib/analysis` (each model with its test accuracy after that epoch),
 * and writes `analysis/epochs.json`: per (family, width, epoch) p(k,k), the spherical variance
 * and the test accuracy, and p(k1,k2) per family and epoch. Returns null without
 * `salience.epochs`.
 * Cost: one gradient analysis per epoch (O(N·M²·D) each, plus `resamples` bootstrap draws).
 *
 * @throws {RangeError} when no run is complete.
 */
export async function analyzeEpochs(
  sweepDir: string,
  config: SweepConfig,
  options: { cpu?: boolean; resamples?: number; outDir?: string; log?: (s: string) => void } = {},
): Promise<EpochsJson | null> {
  const epochs = config.salience.epochs ?? [];
  if (epochs.length === 0) return null;
  const runs = [];
  for (const r of await verifiedRuns(sweepDir)) {
    runs.push({ dir: r.dir, run: await readRun(r.dir) });
  }
  if (runs.length === 0) {
    throw new RangeError(
      `sweep ${sweepDir} has no complete run; run the sweep before analysing its epochs.`,
    );
  }
  const gpu: Gpu | null = options.cpu ? null : await requestGpu();
  const rows: EpochRow[] = [];
  const matrices: EpochsJson["matrices"] = [];
  try {
    for (const epoch of epochs) {
      const inputs: ModelInput[] = [];
      for (const { dir, run } of runs) {
        const bnFile = join(dir, dirname(epochSalienceFile(epoch)), EPOCH_BN_FILE);
        const bn = await exists(bnFile) ? await readJson(bnFile) as EpochBnRecord : null;
        if (bn && !(typeof bn.test?.acc === "number" && typeof bn.test?.loss === "number")) {
          throw new RangeError(
            `${bnFile} has no test figures; delete the folder ${
              dirname(bnFile)
            } and rerun the sweep to redo that epoch.`,
          );
        }
        inputs.push(runModelInput(run, {
          loss: bn ? bn.test.loss : run.history[epoch - 1]?.testLoss ?? null,
          accuracy: bn ? bn.test.acc : run.history[epoch - 1]?.testAcc ?? null,
        }));
      }
      using src = await openGradientSource(runs.map((r) => join(r.dir, epochSalienceFile(epoch))));
      const a = await analyzeGradients(src, inputs, {
        gpu,
        source: `${config.name} epoch ${epoch}`,
        resamples: options.resamples ?? 200,
      });
      const s = a.similarity;
      for (const g of s.groups) {
        const acc = g.members.map((i) => inputs[i]!.accuracy).filter((v): v is number =>
          typeof v === "number" && Number.isFinite(v)
        );
        const [testAcc, testAccStd] = meanStd(acc);
        const cell = s.expected[g.index]?.[g.index];
        const sv = s.sphericalVariance.find((x) => x.group === g.index);
        rows.push({
          family: g.family,
          k: g.k,
          epoch,
          seeds: g.members.length,
          testAcc,
          testAccStd,
          pKK: cell?.mean ?? null,
          pKKInterval: cell?.ci ? [cell.ci.lo, cell.ci.hi] : null,
          sphericalVariance: sv?.estimate.mean ?? null,
          sphericalVarianceCorrected: sv?.corrected.mean ?? null,
        });
      }
      for (const f of s.byFamily) {
        matrices.push({ family: f.family, epoch, ks: f.ks, mean: f.mean });
      }
      options.log?.(
        `epoch ${epoch}: ${
          rows.filter((r) => r.epoch === epoch).map((r) =>
            `${r.family}(${r.k}) p(k,k) ${r.pKK?.toFixed(3)} acc ${r.testAcc?.toFixed(3)}`
          ).join(", ")
        }`,
      );
    }
  } finally {
    gpu?.destroy();
  }
  rows.sort((x, y) =>
    x.family < y.family ? -1 : x.family > y.family ? 1 : x.k - y.k || x.epoch - y.epoch
  );
  const out: EpochsJson = {
    schemaVersion: SCHEMA_VERSION,
    kind: "salience-epochs",
    scalar: config.salience.scalar,
    pooling: config.salience.pool,
    epochs: [...epochs],
    rows,
    matrices,
  };
  const dir = options.outDir ?? join(sweepDir, SWEEP_FILES.analysis);
  await Deno.mkdir(dir, { recursive: true });
  await writeJson(join(dir, "epochs.json"), out);
  return out;
}
