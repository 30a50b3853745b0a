import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { initTf } from "../../lib/tf/mod.ts";
import { createModel } from "../../lib/models/mod.ts";
import { populationPreciseBatchNorm, preciseBatchNorm, train } from "../../lib/train/mod.ts";
import { makeSyntheticRaw, prepareDataset } from "../../lib/data/mod.ts";
import { gpuTest } from "../_shared/gpu.ts";

await initTf({ backend: "cpu" });
const data = prepareDataset(
  makeSyntheticRaw({ size: 8, channels: 1, numClasses: 3, trainCount: 48, testCount: 8, seed: 9 }),
);

Deno.test("preciseBatchNorm() sets the first BN layer's statistics to the mean of its batch moments", async () => {
  const m = createModel({ family: "CNNSmall", k: 2, seed: 4, shape: data.shape, classes: 3 });
  await train(m, data.train, { epochs: 1, batchSize: 16, seed: 0 });
  const trainable = await Promise.all(m.trainableWeights.map((w) => w.read().data()));
  const used = await preciseBatchNorm(m, data.train, { batches: 3, batchSize: 16 });
  assertEquals(used, 3);
  // Independently: the first conv's outputs (what the first BN layer sees), batch by batch.
  const conv = m.layers.find((l) => l.getClassName() === "Conv2D")!;
  const bn = m.layers.find((l) => l.getClassName() === "BatchNormalization")!;
  const sub = tfl.model({ inputs: m.inputs, outputs: conv.output as tfl.SymbolicTensor });
  const per = 8 * 8;
  const means: Float32Array[] = [], vars: Float32Array[] = [];
  for (let i = 0; i < 3; i++) {
    const x = tf.tensor4d(data.train.images.slice(i * 16 * per, (i + 1) * 16 * per), [16, 8, 8, 1]);
    const y = sub.predict(x) as tf.Tensor;
    const mo = tf.moments(y, [0, 1, 2]);
    means.push(await mo.mean.data() as Float32Array);
    vars.push(await mo.variance.data() as Float32Array);
    tf.dispose([x, y, mo.mean, mo.variance]);
  }
  const avg = (a: Float32Array[]) =>
    a[0]!.map((_, j) => a.reduce((s, v) => s + v[j]!, 0) / a.length);
  const [gotMean, gotVar] = await Promise.all([
    bn.weights[2]!.read().data(),
    bn.weights[3]!.read().data(),
  ]);
  const expMean = avg(means), expVar = avg(vars);
  expMean.forEach((v, j) => ok(Math.abs(gotMean[j]! - v) < 1e-5 * (1 + Math.abs(v)), `mean ${j}`));
  expVar.forEach((v, j) =>
    ok(Math.abs(gotVar[j]! - v) < 1e-5 * (1 + Math.abs(v)), `variance ${j}`)
  );
  // Trainable weights and the layers' momentum are unchanged.
  const after = await Promise.all(m.trainableWeights.map((w) => w.read().data()));
  assertEquals(after, trainable);
  ok((bn as unknown as { momentum: number }).momentum === 0.9);
  m.dispose();
});

Deno.test("preciseBatchNorm() leaves a model without batch norm alone", async () => {
  const m = createModel({ family: "MLP", k: 1, seed: 0, shape: data.shape, classes: 3 });
  assertEquals(await preciseBatchNorm(m, data.train), 0);
  m.dispose();
});

/** Every batch-norm running statistic of the model, copied. */
async function runningStats(m: tfl.LayersModel): Promise<Float32Array[]> {
  const vs = m.layers.filter((l) => l.getClassName() === "BatchNormalization")
    .flatMap((l) => l.weights.filter((v) => /moving_(mean|variance)/.test(v.name)));
  return await Promise.all(vs.map(async (v) => Float32Array.from(await v.read().data())));
}

/** populationPreciseBatchNorm() of three models against preciseBatchNorm() of each alone. */
async function stackedMatchesAlone(): Promise<void> {
  const before = tf.memory().numTensors;
  for (const family of ["CNNSmall", "ResNetSmall"] as const) {
    const make = () =>
      [1, 2, 3].map((seed) => createModel({ family, k: 1, seed, shape: data.shape, classes: 3 }));
    const [together, alone] = [make(), make()];
    try {
      const trainable = await Promise.all(
        together.map((m) => m.trainableWeights.map((w) => w.read().data())).flat(),
      );
      // 48 images in batches of 20: the third batch is left out (two full batches only).
      const used = await populationPreciseBatchNorm(together, data.train, {
        batches: 3,
        batchSize: 20,
      });
      assertEquals(used, [2, 2, 2]);
      for (const [i, m] of alone.entries()) {
        assertEquals(await preciseBatchNorm(m, data.train, { batches: 3, batchSize: 20 }), 2);
        const [a, b] = [await runningStats(together[i]!), await runningStats(m)];
        assertEquals(a.length, b.length);
        ok(a.length > 0);
        for (const [j, v] of a.entries()) {
          const w = b[j]!;
          const scale = Math.max(...w.map(Math.abs));
          ok(scale > 0, `${family} #${i} statistic ${j} is zero`);
          // f32 rounding of the moments only; another model's statistics differ by O(scale).
          const diff = Math.max(...v.map((x, t) => Math.abs(x - w[t]!)));
          ok(diff <= 1e-4 * scale, `${family} #${i} statistic ${j}: off by ${diff} of ${scale}`);
        }
      }
      // The trainable weights are untouched; the models' statistics differ from each other.
      const after = await Promise.all(
        together.map((m) => m.trainableWeights.map((w) => w.read().data())).flat(),
      );
      assertEquals(after, trainable);
      const [s0, s1] = [await runningStats(together[0]!), await runningStats(together[1]!)];
      ok(s0[0]!.some((v, t) => Math.abs(v - s1[0]![t]!) > 1e-3 * Math.abs(v)));
    } finally {
      [...together, ...alone].forEach((m) => m.dispose());
    }
  }
  assertEquals(tf.memory().numTensors, before);
}

Deno.test("populationPreciseBatchNorm() gives each model the statistics preciseBatchNorm() gives it alone", async () => {
  await stackedMatchesAlone();
});

// On WebGPU the stacked pass runs our fused training-mode batch norm, the model alone tfjs's ops.
gpuTest(
  "populationPreciseBatchNorm() gives each model its statistics alone on WebGPU",
  async () => {
    await initTf({ backend: "webgpu", sizes: { batch: 20, height: 8, width: 8, channels: 1 } });
    try {
      await stackedMatchesAlone();
    } finally {
      await initTf({ backend: "cpu" });
    }
  },
);
