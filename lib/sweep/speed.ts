/**
 * This machine's training speed, for the dry run's time estimate: a second of the training steps
 * the sweep will run (one model's, or a population's where the plan trains populations) on the
 * config's backend, counted in the cost model's FLOPs, so that `planCost()`'s FLOPs divided by
 * it estimate the sweep's time here.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { createModel, type Family } from "../models/mod.ts";
import type { SweepConfig } from "../store/mod.ts";
import { initTf } from "../tf/mod.ts";
import { createOptimizer, populationStep, StackedModel, trainStep } from "../train/mod.ts";
import { DATASET_FACTS, modelCost } from "./cost.ts";
import { populationSizeOf } from "./populations.ts";

/** A measured rate and how it was measured, in words. */
export interface MeasuredRate {
  flopsPerSecond: number;
  /** e.g. `measured here: MLP k=2, batch 64, cpu backend, 41 steps in 1.0 s`. */
  note: string;
}

/**
 * Times training steps of the plan's first family at its smallest width (batch: the first batch
 * size, at most 32), on random images of the data set's shape, for about `budgetMs` after one
 * warm-up step. Where the plan trains that family in populations of S > 1
 * (`populationSizeOf()`, at most the config's seeds), the step is one stacked step of S models, as the sweep runs it; one
 * model's step would understate the rate several times over. FLOPs per step are the cost model's
 * (3 · 2 · forward MACs per image, times S), so small models, whose overheads weigh most, give a
 * cautious (slow) rate. Cost: the tfjs backend's start and `budgetMs`.
 *
 * @throws {RangeError} for a data set without cost facts; what `initTf()` throws.
 * @example
 * ```ts ignore
 * import { measureTrainingRate } from "./speed.ts";
 * import { presetConfig } from "./presets.ts";
 * const r = await measureTrainingRate(presetConfig("tiny"), 200);
 * console.log(r.flopsPerSecond, r.note);
 * ```
 */
export async function measureTrainingRate(
  config: SweepConfig,
  budgetMs = 1000,
): Promise<MeasuredRate> {
  const facts = DATASET_FACTS[config.dataset.name];
  if (!facts) throw new RangeError(`No cost facts for data set '${config.dataset.name}'.`);
  // At most 32 images a step: a large batch's first step (shader builds on a software adapter)
  // can take a minute; per image, a smaller batch is no faster, so the rate stays cautious.
  const batch = Math.min(config.training.batchSizes[0]!, 32);
  const report = await initTf({
    backend: config.backend,
    sizes: { batch, height: facts.height, width: facts.width, channels: facts.channels },
  });
  const family = config.families[0]! as Family;
  const k = config.widths[0]!;
  const shape = { channels: facts.channels, height: facts.height, width: facts.width };
  // The sweep's populations are of one family's seeds: never more models than seeds.
  const S = Math.max(1, Math.min(populationSizeOf(config, family), config.seeds));
  const models = Array.from(
    { length: S },
    (_, seed) => createModel({ family, k, seed, shape, classes: facts.classes }),
  );
  const stacked = S > 1 ? StackedModel.from(models) : null;
  const optimizer = createOptimizer("sgd", 0.01);
  const per = facts.channels * facts.height * facts.width;
  const images = Float32Array.from({ length: S * batch * per }, (_, i) => Math.sin(i * 0.37));
  const labels = Int32Array.from({ length: S * batch }, (_, i) => i % facts.classes);
  const step = async () => {
    const loss = stacked
      ? populationStep(stacked, optimizer, { images, labels })
      : trainStep(models[0]!, optimizer, { images, labels });
    await loss.data(); // waits for the device
    loss.dispose();
  };
  try {
    await step();
    let steps = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < budgetMs) {
      await step();
      steps++;
    }
    const seconds = (performance.now() - t0) / 1000;
    const flops = steps * S * batch * 3 * 2 * modelCost(family, k, facts).macs;
    const who = S > 1 ? `${family} k=${k} population of ${S}` : `${family} k=${k}`;
    return {
      flopsPerSecond: flops / seconds,
      note: `measured here: ${who}, batch ${batch}, ${report.backend} backend, ${steps} step${
        steps === 1 ? "" : "s"
      } in ${seconds.toFixed(1)} s`,
    };
  } finally {
    stacked?.dispose();
    models.forEach((m) => m.dispose());
    optimizer.dispose();
    tf.disposeVariables();
  }
}
