import { deepStrictEqual as assertEquals, ok, rejects } from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { initTf } from "../../lib/tf/mod.ts";
import { createModel, type Family } from "../../lib/models/mod.ts";
import { train } from "../../lib/train/mod.ts";
import {
  ensembleInputGradients,
  ensembleLogits,
  inputGradients,
  predictLogits,
  SALIENCE_SCALARS,
  writeSalience,
} from "../../lib/salience/mod.ts";
import { readNpy, readSidecar } from "../../lib/npy/mod.ts";
import { makeSyntheticRaw, prepareDataset } from "../../lib/data/mod.ts";

await initTf({ backend: "cpu" });
const data = prepareDataset(
  makeSyntheticRaw({ size: 8, channels: 2, numClasses: 3, trainCount: 96, testCount: 30, seed: 5 }),
);
const shape = data.shape;
const per = shape.channels * shape.height * shape.width;
const make = (family: Family, seed = 1, k = 2) =>
  createModel({ family, k, seed, shape, classes: 3 });

// A model whose batch-norm running statistics differ from the data's, so inference mode matters.
const trained = make("CNNSmall");
await train(trained, data.train, { epochs: 2, batchSize: 32 });

function f64(a: Float32Array): number[] {
  return Array.from(a);
}

/** Scalar s(x) of one sample computed from logits in f64, for finite differences. */
function scalarFromLogits(z: number[], y: number, scalar: string): number {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const sum = e.reduce((a, b) => a + b, 0);
  const pred = z.indexOf(m);
  switch (scalar) {
    case "true-class-logit":
      return z[y]!;
    case "predicted-class-logit":
      return z[pred]!;
    case "true-class-probability":
      return e[y]! / sum;
    default:
      return -Math.log(e[y]! / sum);
  }
}

Deno.test("inputGradients() matches central finite differences for every scalar (inference mode)", async () => {
  const m = make("MLP", 2, 1);
  const x = data.test.images.slice(0, per);
  const y = data.test.labels[0]!;
  const h = 1e-2;
  for (const scalar of SALIENCE_SCALARS) {
    const g = await inputGradients(m, { images: x, labels: new Int32Array([y]) }, {
      scalar,
      layout: "hwc",
    });
    // probe 12 coordinates with central differences of the f32 logits
    let worst = 0, scale = 0;
    for (let t = 0; t < 12; t++) {
      const j = (t * 37) % per;
      const xp = x.slice(), xm = x.slice();
      xp[j]! += h;
      xm[j]! -= h;
      const zp = f64(await predictLogits(m, xp)), zm = f64(await predictLogits(m, xm));
      const fd = (scalarFromLogits(zp, y, scalar) - scalarFromLogits(zm, y, scalar)) / (2 * h);
      worst = Math.max(worst, Math.abs(fd - g[j]!));
      scale = Math.max(scale, Math.abs(g[j]!));
    }
    ok(scale > 0, `${scalar}: nonzero gradient`);
    ok(
      worst <= 2e-3 * Math.max(1, scale),
      `${scalar}: finite-difference error ${worst} (scale ${scale})`,
    );
  }
  m.dispose();
});

Deno.test("inputGradients() of the loss is −(∇ p_y)/p_y and rows are C×H×W", async () => {
  const batch = {
    images: data.test.images.slice(0, 4 * per),
    labels: data.test.labels.slice(0, 4),
  };
  const gp = await inputGradients(trained, batch, { scalar: "true-class-probability" });
  const gl = await inputGradients(trained, batch, { scalar: "loss" });
  const hwc = await inputGradients(trained, batch, { scalar: "loss", layout: "hwc" });
  const z = await predictLogits(trained, batch.images);
  for (let i = 0; i < 4; i++) {
    const p = scalarFromLogits(
      f64(z.subarray(i * 3, i * 3 + 3)),
      batch.labels[i]!,
      "true-class-probability",
    );
    for (let j = 0; j < per; j++) {
      const a = gl[i * per + j]!, b = -gp[i * per + j]! / p;
      ok(
        Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(b)),
        `sample ${i} value ${j}: ${a} vs ${b}`,
      );
    }
    const { channels: C, height: H, width: W } = shape;
    for (let c = 0; c < C; c++) {
      for (let yy = 0; yy < H; yy++) {
        for (let xx = 0; xx < W; xx++) {
          assertEquals(gl[i * per + (c * H + yy) * W + xx], hwc[i * per + (yy * W + xx) * C + c]);
        }
      }
    }
  }
});

Deno.test("inputGradients() of one sample does not depend on the rest of the batch (running statistics)", async () => {
  const batch = {
    images: data.test.images.slice(0, 8 * per),
    labels: data.test.labels.slice(0, 8),
  };
  const all = await inputGradients(trained, batch);
  const first = await inputGradients(trained, {
    images: batch.images.slice(0, per),
    labels: batch.labels.slice(0, 1),
  });
  for (let j = 0; j < per; j++) {
    ok(Math.abs(all[j]! - first[j]!) <= 1e-6 * Math.max(1, Math.abs(first[j]!)));
  }
});

Deno.test("ensembleLogits() averages members' logits and ensembleInputGradients() of the true-class logit is their mean gradient", async () => {
  const ms = [make("CNNSmall", 1), make("ResNetSmall", 2), make("ViT", 3)];
  const x = data.test.images.slice(0, 5 * per), labels = data.test.labels.slice(0, 5);
  const each = await Promise.all(ms.map((m) => predictLogits(m, x)));
  const avg = await ensembleLogits(ms, x, { batchSize: 2 });
  avg.forEach((v, i) => ok(Math.abs(v - (each[0]![i]! + each[1]![i]! + each[2]![i]!) / 3) < 1e-5));
  // The true-class logit is linear in the logits, so the ensemble's gradient is the mean gradient.
  const g = await Promise.all(ms.map((m) => inputGradients(m, { images: x, labels })));
  const ge = await ensembleInputGradients(ms, { images: x, labels }, { batchSize: 3 });
  ge.forEach((v, i) => ok(Math.abs(v - (g[0]![i]! + g[1]![i]! + g[2]![i]!) / 3) < 1e-5));
  for (const m of ms) m.dispose();
});

Deno.test("writeSalience() streams C×H×W rows that lib/npy reads back, with a sidecar saying what they are", async () => {
  const path = `${await Deno.makeTempDir()}/grads.npy`;
  const probe = data.test;
  const r = await writeSalience(trained, probe, {
    path,
    model: { family: "CNNSmall", k: 2, seed: 1 },
    probe: { dataset: data.name, split: "test", count: probe.count },
    batchSize: 7,
  });
  assertEquals(r.shape, [probe.count, per]);
  const arr = await readNpy(path);
  assertEquals(arr.shape, [probe.count, per]);
  const want = await inputGradients(trained, probe);
  assertEquals(f64(arr.data as Float32Array), f64(want));
  const meta = await readSidecar(path);
  assertEquals([meta.scalar, meta.input, meta.models], ["true-class-logit", shape, [{
    family: "CNNSmall",
    k: 2,
    seed: 1,
  }]]);
  await Deno.remove(path.slice(0, -"/grads.npy".length), { recursive: true });
});

Deno.test("writeSalience() refuses a model below the caller's accuracy threshold", async () => {
  const dir = await Deno.makeTempDir();
  await rejects(
    writeSalience(trained, data.test, {
      path: `${dir}/g.npy`,
      model: { family: "CNNSmall", k: 2, seed: 1 },
      probe: { dataset: data.name, split: "test", count: data.test.count },
      minAccuracy: 1.01,
    }),
    RangeError,
  );
  assertEquals([...Deno.readDirSync(dir)].length, 0);
  await Deno.remove(dir);
});

Deno.test("inputGradients() over 10 batches leaves the tensor count unchanged", async () => {
  const models: tfl.LayersModel[] = [trained];
  await inputGradients(trained, {
    images: data.test.images.slice(0, 3 * per),
    labels: data.test.labels.slice(0, 3),
  });
  const before = tf.memory().numTensors;
  for (const scalar of SALIENCE_SCALARS) {
    await ensembleInputGradients(models, {
      images: data.test.images.slice(0, 30 * per),
      labels: data.test.labels,
    }, { scalar, batchSize: 3 });
  }
  await predictLogits(trained, data.test.images, { batchSize: 3 });
  assertEquals(tf.memory().numTensors, before);
});

Deno.test("inputGradients() rejects unknown scalars, bad labels and misshapen images", async () => {
  const one = { images: data.test.images.slice(0, per), labels: new Int32Array([0]) };
  await rejects(inputGradients(trained, one, { scalar: "logit" as never }), RangeError);
  await rejects(inputGradients(trained, { ...one, labels: new Int32Array([3]) }), RangeError);
  await rejects(inputGradients(trained, { ...one, images: new Float32Array(per + 1) }), TypeError);
});
