/**
 * Precise batch norm in a sweep (`training.preciseBN`): after a model's training and before its
 * final test evaluation, logits and salience, each batch-norm layer's running statistics are
 * recomputed with the final weights (`preciseBatchNorm()` of `lib/train`) and the model is
 * evaluated again. Every trained model of a sweep goes through {@link recalibrateRun}, whether it
 * trained alone or in a population.
 *
 * @module
 */
import { join } from "node:path";
import type * as tfl from "@tensorflow/tfjs-layers";
import type { Dataset } from "../data/mod.ts";
import {
  evaluatePopulation,
  listCheckpoints,
  populationPreciseBatchNorm,
  replaceCheckpointWeights,
} from "../train/mod.ts";
import { type PreciseBnRecord, RUN_FILES, type SweepConfig } from "../store/mod.ts";

/**
 * The folder of a run's latest checkpoint (`checkpoint/epoch-NNNN`), or `undefined` when it has
 * none.
 *
 * @example
 * ```ts
 * import { finalCheckpointDir } from "./precise_bn.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/checkpoint/epoch-0002`, { recursive: true });
 * if (!(await finalCheckpointDir(dir))?.endsWith("epoch-0002")) throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function finalCheckpointDir(runDir: string): Promise<string | undefined> {
  const dir = join(runDir, RUN_FILES.checkpoint);
  const last = (await listCheckpoints(dir)).at(-1);
  return last === undefined ? undefined : join(dir, `epoch-${String(last).padStart(4, "0")}`);
}

/** What {@link recalibrateRun} did: the recalibration record (null when off or without batch
 * norm) and the final test figures of the model as it now is. */
export interface Recalibrated {
  preciseBN: PreciseBnRecord | null;
  final: { testLoss: number; testAcc: number };
}

/**
 * Applies the config's precise batch norm to a trained model: with `training.preciseBN` = B
 * (a positive integer) and at least one batch-norm layer, the running statistics become the
 * plain mean of the batch moments of the first B batches of `batchSize` training images, in
 * the split's order (so resuming a run recomputes exactly the same statistics from its
 * checkpoint: the statistics are replaced, not blended, so recalibrating twice gives the same),
 * and the test split is evaluated again; with `checkpoint` (the run's final checkpoint folder)
 * its weights become the recalibrated model's, so the experiments that load it get the model the
 * logits and salience came from. Without it (absent or `null`), or for a
 * model without batch norm, the model is untouched and `final` is `last` (the last epoch's
 * figures). `last` is also the record's `before`.
 *
 * Cost: B forward passes in training mode and one forward pass over the test split.
 *
 * @throws what `preciseBatchNorm()` and `evaluate()` throw.
 * @example
 * ```ts
 * import { createModel } from "../models/mod.ts";
 * import { loadDataset } from "../data/mod.ts";
 * import { initTf } from "../tf/mod.ts";
 * import { presetConfig } from "./presets.ts";
 * import { recalibrateRun } from "./precise_bn.ts";
 * await initTf({ backend: "cpu" });
 * const data = await loadDataset("synthetic", { trainCount: 32, testCount: 8, probeCount: 4 });
 * const config = presetConfig("tiny");
 * config.training.preciseBN = 2;
 * const m = createModel({ family: "CNNSmall", k: 1, seed: 0, shape: data.shape, classes: data.classes.length });
 * const r = await recalibrateRun(m, data, config, 16, { testLoss: NaN, testAcc: NaN });
 * if (r.preciseBN?.batches !== 2 || !(r.final.testAcc >= 0)) throw new Error(JSON.stringify(r));
 * m.dispose();
 * ```
 */
export async function recalibrateRun(
  model: tfl.LayersModel,
  dataset: Dataset,
  config: SweepConfig,
  batchSize: number,
  last: { testLoss: number; testAcc: number },
  checkpoint?: string,
): Promise<Recalibrated> {
  const [r] = await recalibratePopulation([{ model, last, checkpoint }], dataset, {
    config,
    batchSize,
  });
  return r!;
}

/**
 * {@link recalibrateRun} for the members of a population: every model's statistics are
 * recomputed over the same B batches in one stacked pass per batch
 * (`populationPreciseBatchNorm()` of `lib/train`: each model's own moments, so the result is
 * what it would get alone within f32 rounding), then the recalibrated models are evaluated on
 * the test split together, in one stacked pass per batch (`evaluatePopulation()`). Returns one
 * record per member, in order.
 *
 * Cost: B stacked forward passes in training mode and one stacked forward pass over the test
 * split.
 *
 * @throws what `preciseBatchNorm()` and `evaluatePopulation()` throw.
 */
export async function recalibratePopulation(
  members: ReadonlyArray<{
    model: tfl.LayersModel;
    last: { testLoss: number; testAcc: number };
    checkpoint?: string;
  }>,
  dataset: Dataset,
  o: { config: SweepConfig; batchSize: number },
): Promise<Recalibrated[]> {
  const batches = o.config.training.preciseBN ?? null;
  const out: Recalibrated[] = members.map((m) => ({ preciseBN: null, final: m.last }));
  if (batches === null) return out;
  const done: number[] = [];
  const useds = await populationPreciseBatchNorm(members.map((m) => m.model), dataset.train, {
    batches,
    batchSize: o.batchSize,
  });
  for (const [i, m] of members.entries()) {
    const used = useds[i]!;
    if (used === 0) continue;
    if (m.checkpoint !== undefined) await replaceCheckpointWeights(m.checkpoint, m.model);
    out[i] = {
      preciseBN: { batches: used, batchSize: o.batchSize, before: { ...m.last } },
      final: m.last,
    };
    done.push(i);
  }
  const evs = await evaluatePopulation(done.map((i) => members[i]!.model), dataset.test);
  done.forEach((i, j) => {
    out[i]!.final = { testLoss: evs[j]!.loss, testAcc: evs[j]!.accuracy };
  });
  return out;
}
