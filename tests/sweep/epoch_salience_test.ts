// The salience of a population's members at an analysed epoch, written together (stacked passes
// for the precise BN, the test evaluation of the recalibrated models and the gradients), equals
// what each member's own writeEpochSalience() writes, and leaves every model's batch-norm
// statistics as training left them.
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { assert, assertClose, assertEquals } from "../_shared/assert.ts";
import { initTf } from "../../lib/tf/mod.ts";
import { loadDataset } from "../../lib/data/mod.ts";
import { readNpy } from "../../lib/npy/mod.ts";
import { trainPopulation } from "../../lib/train/mod.ts";
import { buildPlan } from "../../lib/sweep/plan.ts";
import { presetConfig } from "../../lib/sweep/presets.ts";
import { datasetOptions } from "../../lib/sweep/config.ts";
import { modelOf } from "../../lib/sweep/executor.ts";
import {
  EPOCH_BN_FILE,
  type EpochBnRecord,
  epochSalienceFile,
  writeEpochSalience,
  writePopulationEpochSalience,
} from "../../lib/sweep/epochs.ts";

/** Every batch-norm running statistic of the model, copied. */
async function runningStats(m: tfl.LayersModel): Promise<Float32Array[]> {
  const vs = m.layers.filter((l) => l.getClassName() === "BatchNormalization")
    .flatMap((l) => l.weights.filter((v) => /moving_(mean|variance)/.test(v.name)));
  return await Promise.all(vs.map(async (v) => Float32Array.from(await v.read().data())));
}

/** max |a − b| / max |b|. */
function relError(a: Float32Array, b: Float32Array): number {
  assertEquals(a.length, b.length);
  let scale = 0, e = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]!));
    e = Math.max(e, Math.abs(a[i]! - b[i]!));
  }
  assert(scale > 0, "the salience is all zero");
  return e / scale;
}

Deno.test("writePopulationEpochSalience() writes each member's writeEpochSalience() within f32 rounding, for both logit scalars", async () => {
  await initTf({ backend: "cpu" });
  const config = presetConfig("tiny");
  config.families = ["CNNSmall"];
  config.widths = [1];
  config.seeds = 3;
  config.training.preciseBN = 2;
  const dataset = await loadDataset(config.dataset.name, datasetOptions(config));
  const entries = buildPlan(config).runs;
  assertEquals(entries.length, 3);
  const models = entries.map((e) => modelOf(dataset, e));
  const root = await Deno.makeTempDir({ prefix: "epoch-salience-" });
  const before = tf.memory().numTensors;
  try {
    // One epoch together, so the members' weights and running statistics differ.
    await trainPopulation(
      models.map((model, i) => ({ model, seed: entries[i]!.seed })),
      dataset.train,
      {
        epochs: 1,
        batchSize: 16,
      },
    );
    const trained = await Promise.all(models.map(runningStats));
    for (const scalar of ["true-class-logit", "predicted-class-logit"] as const) {
      config.salience.scalar = scalar;
      const path = (way: string, i: number) =>
        join(root, scalar, way, entries[i]!.runId, epochSalienceFile(1));
      await writePopulationEpochSalience(
        models.map((model, i) => ({ model, entry: entries[i]!, path: path("together", i) })),
        { dataset, config },
      );
      // Restored bit for bit: the training that follows sees the statistics it left.
      assertEquals(await Promise.all(models.map(runningStats)), trained);
      const values: Float32Array[] = [];
      for (const [i, model] of models.entries()) {
        await writeEpochSalience({ model, dataset, config, entry: entries[i]! }, path("alone", i));
        const [together, alone] = await Promise.all(
          ["together", "alone"].map(async (w) => (await readNpy(path(w, i))).data),
        );
        const e = relError(together!, alone!);
        // f32 rounding of another summation order; another model's rows would be off by O(1).
        assert(e <= 1e-4, `${scalar} #${i}: relative error ${e}`);
        values.push(together!);
        const [a, b] = await Promise.all(
          ["together", "alone"].map(async (w) =>
            JSON.parse(
              await Deno.readTextFile(join(path(w, i), "..", EPOCH_BN_FILE)),
            ) as EpochBnRecord
          ),
        );
        assertEquals([a!.batches, a!.batchSize], [2, 16]);
        assertEquals([a!.batches, a!.batchSize, a!.test.acc], [
          b!.batches,
          b!.batchSize,
          b!.test.acc,
        ]);
        assertClose(a!.test.loss, b!.test.loss, { rel: 1e-5 }, `${scalar} #${i} test loss`);
      }
      // The members differ, so rows taken from the wrong model would have failed above.
      assert(relError(values[0]!, values[1]!) > 1e-2, "seeds 0 and 1 give other salience");
    }
    assertEquals(tf.memory().numTensors, before);
  } finally {
    models.forEach((m) => m.dispose());
    await Deno.remove(root, { recursive: true });
  }
});
