// Precise batch norm in a sweep (`training.preciseBN`): validated, hashed so that its absence
// keeps every id, recorded in run.json, and applied before the final evaluation, the logits and
// the salience, the same way again when a run is resumed from its checkpoint.
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { assert, assertClose, assertEquals, assertThrows } from "../_shared/assert.ts";
import { readNpy } from "../../lib/npy/mod.ts";
import { loadDataset } from "../../lib/data/mod.ts";
import { listRuns, readRun, type SweepConfig, verifyRun } from "../../lib/store/mod.ts";
import { evaluate, loadCheckpointModel, preciseBatchNorm } from "../../lib/train/mod.ts";
import { inputGradients, predictLogits } from "../../lib/salience/mod.ts";
import { buildPlan } from "../../lib/sweep/plan.ts";
import { presetConfig } from "../../lib/sweep/presets.ts";
import { datasetOptions, resolveConfigFile, validateConfig } from "../../lib/sweep/config.ts";
import { runSweep } from "../../lib/sweep/runner.ts";
import {
  finalCheckpointDir,
  recalibratePopulation,
  recalibrateRun,
} from "../../lib/sweep/precise_bn.ts";
import { createModel } from "../../lib/models/mod.ts";
import { initTf } from "../../lib/tf/mod.ts";

function withPreciseBn(v: unknown): SweepConfig {
  const c = presetConfig("tiny");
  (c.training as unknown as Record<string, unknown>).preciseBN = v;
  return c;
}

Deno.test("training.preciseBN: absent and null keep every id; a value changes them; bad values fail clearly", () => {
  const tiny = buildPlan(presetConfig("tiny"));
  const off = buildPlan(validateConfig(withPreciseBn(null), "x"));
  const on = buildPlan(validateConfig(withPreciseBn(2), "x"));
  assertEquals(off.sweepId, tiny.sweepId);
  assertEquals(off.runs.map((r) => r.runId), tiny.runs.map((r) => r.runId));
  assert(on.sweepId !== tiny.sweepId, "precise BN must change the sweep id");
  assert(on.runs.every((r, i) => r.runId !== tiny.runs[i]!.runId), "and every run id");

  for (const bad of [0, 2.5, -1, "4", true]) {
    assertThrows(
      () => validateConfig(withPreciseBn(bad), "c.json"),
      typeof bad === "number" ? RangeError : TypeError,
      "'training.preciseBN'",
    );
  }
  // tiny: 64 training images at batch 16 hold 4 batches.
  const e = assertThrows(() => validateConfig(withPreciseBn(5), "c.json"), RangeError);
  assert(e.message.includes("expected at most 4 at batch size 16"), e.message);
  assertEquals(validateConfig(withPreciseBn(4), "c.json").training.preciseBN, 4);
  assertEquals(
    resolveConfigFile({ preset: "tiny", training: { preciseBN: 3 } }, "p.json").training,
    { ...presetConfig("tiny").training, preciseBN: 3 },
  );
  assertThrows(
    () => resolveConfigFile({ preset: "tiny", training: { preciseBn: 3 } }, "p.json"),
    TypeError,
    "did you mean 'training.preciseBN'",
  );
});

/** Moments of the first BN layer's input over the first `batches` batches, computed directly. */
async function firstBnMoments(
  model: tfl.LayersModel,
  images: Float32Array,
  shape: [number, number, number],
  batches: number,
  batchSize: number,
): Promise<{ mean: number[]; variance: number[] }> {
  const conv = model.layers.find((l) => l.getClassName() === "Conv2D")!;
  const sub = tfl.model({ inputs: model.inputs, outputs: conv.output as tfl.SymbolicTensor });
  const per = shape[0] * shape[1] * shape[2];
  let mean: number[] = [], variance: number[] = [];
  for (let i = 0; i < batches; i++) {
    const x = tf.tensor4d(
      images.slice(i * batchSize * per, (i + 1) * batchSize * per),
      [batchSize, ...shape],
    );
    const y = sub.predict(x) as tf.Tensor;
    const mo = tf.moments(y, [0, 1, 2]);
    const [m, v] = [Array.from(await mo.mean.data()), Array.from(await mo.variance.data())];
    mean = m.map((a, j) => (mean[j] ?? 0) + a / batches);
    variance = v.map((a, j) => (variance[j] ?? 0) + a / batches);
    tf.dispose([x, y, mo.mean, mo.variance]);
  }
  return { mean, variance };
}

Deno.test({
  name:
    "runSweep() with training.preciseBN recalibrates before evaluation, logits and salience, records it, and a resumed run gets the same",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const out = await Deno.makeTempDir({ prefix: "sweep-pbn-" });
    const base = presetConfig("tiny");
    const config = validateConfig({
      ...base,
      name: "pbn",
      families: ["CNNSmall", "MLP"],
      widths: [2],
      seeds: 1,
      training: { ...base.training, epochs: 2, preciseBN: 3 },
      experiments: { logits: true, ensembles: null, attack: null },
    }, "test");
    const lines: string[] = [];
    const sink = { write: (s: string) => void lines.push(s), isTerminal: false };
    try {
      const r = await runSweep(config, { out, sink, analyze: false });
      const data = await loadDataset(config.dataset.name, datasetOptions(config));
      const { height: h, width: w, channels: c } = data.shape;
      const runs = await listRuns(r.sweepDir);
      const cnn = runs.find((x) => x.runId.startsWith("CNNSmall"))!;
      const mlp = runs.find((x) => x.runId.startsWith("MLP"))!;

      // A model without batch norm: nothing recorded, the last epoch's figures are final.
      const mlpRec = await readRun(mlp.dir);
      assertEquals(mlpRec.preciseBN, undefined);
      assertEquals(mlpRec.final.testAcc, mlpRec.history.at(-1)!.testAcc);

      const rec = await readRun(cnn.dir);
      const last = rec.history.at(-1)!;
      assertEquals(rec.preciseBN, {
        batches: 3,
        batchSize: 16,
        before: { testLoss: last.testLoss, testAcc: last.testAcc },
      });

      // The final checkpoint holds the recalibrated model: its first BN layer's statistics are
      // the moments of the first three training batches in order, computed here directly, and
      // recalibrating it again changes no weight (the statistics are replaced, not blended).
      const ckpt = (await finalCheckpointDir(cnn.dir))!;
      const model = await loadCheckpointModel(ckpt);
      const bn = model.layers.find((l) => l.getClassName() === "BatchNormalization")!;
      const want = await firstBnMoments(model, data.train.images, [h, w, c], 3, 16);
      const [gotMean, gotVar] = await Promise.all([2, 3].map((i) => bn.weights[i]!.read().data()));
      want.mean.forEach((v, j) => assert(Math.abs(gotMean![j]! - v) < 1e-5 * (1 + Math.abs(v))));
      want.variance.forEach((v, j) => assert(Math.abs(gotVar![j]! - v) < 1e-5 * (1 + Math.abs(v))));
      const saved = await Promise.all(model.weights.map((x) => x.read().data()));
      assertEquals(await preciseBatchNorm(model, data.train, { batches: 3, batchSize: 16 }), 3);
      assertEquals(await Promise.all(model.weights.map((x) => x.read().data())), saved);

      // run.json's final figures, logits.npy and salience.npy are this model's, and differ from
      // the figures with the statistics training left.
      const ev = await evaluate(model, data.test);
      assertEquals(rec.final, { testLoss: ev.loss, testAcc: ev.accuracy });
      assert(rec.final.testLoss !== last.testLoss, "recalibration changed nothing");
      const logits = (await readNpy(join(cnn.dir, "logits.npy"))).data;
      const mine = await predictLogits(model, data.probe.images, { batchSize: 64 });
      assert(logits.every((v, i) => Math.abs(v - mine[i]!) <= 1e-5 * (1 + Math.abs(v))), "logits");
      const sal = (await readNpy(join(cnn.dir, "salience.npy"))).data;
      const g = await inputGradients(model, data.probe, {
        scalar: config.salience.scalar,
        layout: "chw",
        batchSize: 64,
      });
      assert(sal.every((v, i) => Math.abs(v - g[i]!) <= 1e-5 * (1 + Math.abs(v))), "salience");
      model.dispose();

      // Resume: the logits, salience and record are lost; the run is redone from its checkpoint
      // (no epoch retrained) and recalibrated to the same statistics, bit for bit.
      const keep = new Map<string, Uint8Array>();
      for (const f of ["logits.npy", "salience.npy"]) {
        keep.set(f, await Deno.readFile(join(cnn.dir, f)));
        await Deno.remove(join(cnn.dir, f));
      }
      await Deno.remove(join(cnn.dir, "run.json"));
      assertEquals((await verifyRun(cnn.dir)).status, "partial");
      lines.length = 0;
      await runSweep(config, { out, sink, analyze: false });
      assertEquals((await verifyRun(cnn.dir)).status, "complete");
      keep.set("weights.bin", await Deno.readFile(join(ckpt, "weights.bin")));
      for (const [f, bytes] of keep) {
        const path = f === "weights.bin" ? join(ckpt, f) : join(cnn.dir, f);
        assertEquals(await Deno.readFile(path), bytes);
      }
      const again = await readRun(cnn.dir);
      assertEquals([again.final, again.preciseBN], [rec.final, rec.preciseBN]);
      assertEquals(again.history.map((e) => e.trainLoss), rec.history.map((e) => e.trainLoss));
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});

Deno.test("recalibratePopulation() gives each member the statistics and test figures of recalibrateRun() alone", async () => {
  await initTf({ backend: "cpu" });
  const config = withPreciseBn(3);
  const data = await loadDataset(config.dataset.name, datasetOptions(config));
  const make = (seed: number) =>
    createModel({
      family: "ResNetSmall",
      k: 1,
      seed,
      shape: data.shape,
      classes: data.classes.length,
    });
  const seeds = [0, 4, 9];
  const alone = seeds.map(make), together = seeds.map(make);
  const last = { testLoss: 2, testAcc: 0.1 };
  try {
    const want = [];
    for (const m of alone) want.push(await recalibrateRun(m, data, config, 8, last));
    const got = await recalibratePopulation(
      together.map((model) => ({ model, last })),
      data,
      { config, batchSize: 8 },
    );
    assertEquals(got.map((r) => r.preciseBN), want.map((r) => r.preciseBN));
    for (const [i, r] of got.entries()) {
      assertClose(r.final.testLoss, want[i]!.final.testLoss, { rel: 1e-5 }, `loss ${i}`);
      assertEquals(r.final.testAcc, want[i]!.final.testAcc);
      // Each model's statistics are its own batches' moments, from the stacked pass: within f32
      // rounding of the moments (another model's differ by O(1)); trainable weights bit for bit.
      const [a, b] = await Promise.all(
        [together[i]!, alone[i]!].map((m) => Promise.all(m.weights.map((w) => w.read().data()))),
      );
      for (const [j, w] of together[i]!.weights.entries()) {
        const [x, y] = [a![j]!, b![j]!];
        if (w.trainable) assertEquals(x, y);
        const scale = Math.max(...y.map(Math.abs));
        const diff = Math.max(...x.map((v, t) => Math.abs(v - y[t]!)));
        assertClose(diff, 0, 1e-5 * scale, `model ${i} ${w.name}: max |together − alone|`);
      }
    }
    assert(new Set(got.map((r) => r.final.testLoss)).size === 3, "three models, three losses");
    const off = await recalibratePopulation(
      together.map((model) => ({ model, last })),
      data,
      { config: withPreciseBn(null), batchSize: 8 },
    );
    assertEquals(off, seeds.map(() => ({ preciseBN: null, final: last })));
  } finally {
    [...alone, ...together].forEach((m) => m.dispose());
  }
});
