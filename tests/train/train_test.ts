import {
  deepStrictEqual as assertEquals,
  notDeepStrictEqual as assertNotEquals,
  ok,
  rejects,
} from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { initTf } from "../../lib/tf/mod.ts";
import { createModel, FAMILIES, type Family } from "../../lib/models/mod.ts";
import {
  createOptimizer,
  defaultBatchSize,
  evaluate,
  learningRateAt,
  listCheckpoints,
  loadCheckpointModel,
  train,
  trainStep,
} from "../../lib/train/mod.ts";
import { makeSyntheticRaw, prepareDataset } from "../../lib/data/mod.ts";
import { inputGradients } from "../../lib/salience/mod.ts";
import { gpuTest } from "../_shared/gpu.ts";
import { assertClose } from "../_shared/assert.ts";

await initTf({ backend: "cpu" });
const small = prepareDataset(
  makeSyntheticRaw({ size: 8, channels: 1, numClasses: 3, trainCount: 96, testCount: 24, seed: 2 }),
);
const spec = (family: Family = "CNNSmall", seed = 3) => ({
  family,
  k: family === "ViT" ? 2 : 1,
  seed,
  shape: small.shape,
  classes: 3,
});

async function weightsOf(m: tfl.LayersModel): Promise<Float32Array[]> {
  return await Promise.all(m.getWeights().map((w) => w.data() as Promise<Float32Array>));
}

Deno.test("train() with the same seeds gives identical weights on the CPU backend", async () => {
  await tf.setBackend("cpu");
  const run = async (dataSeed: number) => {
    const m = createModel(spec());
    await train(m, small.train, { epochs: 2, batchSize: 16, seed: dataSeed });
    const w = await weightsOf(m);
    m.dispose();
    return w;
  };
  const a = await run(0), b = await run(0), c = await run(1);
  assertEquals(a, b);
  assertNotEquals(a, c); // the data order matters, so the seed is really used
});

Deno.test("train() records per-epoch test loss and accuracy and decays the learning rate", async () => {
  await tf.setBackend("cpu");
  const m = createModel({ ...spec(), k: 4 });
  const seen: number[] = [];
  const r = await train(m, small.train, {
    epochs: 4,
    batchSize: 16,
    test: small.test,
    onProgress: (p) => seen.push(p.batch),
    progressEvery: 2,
  });
  assertEquals(r.history.map((h) => h.epoch), [0, 1, 2, 3]);
  assertEquals(
    r.history.map((h) => h.learningRate),
    [0, 1, 2, 3].map((e) => 0.1 / Math.sqrt(e + 1)),
  );
  assertEquals(seen, [2, 4, 6, 2, 4, 6, 2, 4, 6, 2, 4, 6]);
  const ev = await evaluate(m, small.test);
  assertEquals(r.history[3]!.testAccuracy, ev.accuracy);
  ok(r.history[3]!.trainLoss < r.history[0]!.trainLoss, "loss falls");
  ok(ev.accuracy > 0.6, `accuracy ${ev.accuracy} well above chance (1/3)`);
  assertEquals(r.optimizerStep, 24);
  m.dispose();
});

Deno.test("train() interrupted and resumed ends with an uninterrupted run's weights", async () => {
  await tf.setBackend("cpu");
  const opts = { epochs: 3, batchSize: 16, seed: 4, test: small.test };
  const ref = createModel(spec("ResNetSmall"));
  const full = await train(ref, small.train, opts);
  const want = await weightsOf(ref);
  ref.dispose();

  const dir = await Deno.makeTempDir();
  // 1: stop cleanly after epoch 1.
  const a = createModel(spec("ResNetSmall"));
  const r1 = await train(a, small.train, { ...opts, checkpointDir: dir, stopAfterEpoch: 1 });
  assertEquals([r1.epochsDone, r1.stopped], [1, true]);
  a.dispose();
  // 2: abort in the middle of epoch 2 (after 3 batches); epoch 1's checkpoint stays.
  const b = createModel(spec("ResNetSmall"));
  const ctl = new AbortController();
  await rejects(
    train(b, small.train, {
      ...opts,
      checkpointDir: dir,
      signal: ctl.signal,
      progressEvery: 1,
      onProgress: (p) => p.epoch === 1 && p.batch === 3 && ctl.abort(),
    }),
  );
  b.dispose();
  assertEquals(await listCheckpoints(dir), [1]);
  // 3: resume from a freshly initialised model of another seed: everything comes from the checkpoint.
  const c = createModel(spec("ResNetSmall", 99));
  const r3 = await train(c, small.train, { ...opts, checkpointDir: dir });
  assertEquals([r3.resumedFrom, r3.epochsDone, r3.stopped], [1, 3, false]);
  assertEquals(r3.history.length, 3);
  assertEquals(r3.optimizerStep, full.optimizerStep);
  assertEquals(r3.history.map((h) => h.testLoss), full.history.map((h) => h.testLoss));
  assertEquals(await weightsOf(c), want);
  assertEquals(await listCheckpoints(dir), [3]);
  // The checkpoint is a TensorFlow.js layers model that loads on its own.
  const loaded = await loadCheckpointModel(`${dir}/epoch-0003`);
  assertEquals(await weightsOf(loaded), want);
  loaded.dispose();
  // A resume with other settings is refused.
  await rejects(
    train(c, small.train, { ...opts, epochs: 4, batchSize: 8, checkpointDir: dir }),
    /batchSize/,
  );
  c.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("trainStep() and train() leave the tensor count unchanged", async () => {
  await tf.setBackend("cpu");
  const m = createModel(spec("ViT"));
  const opt = createOptimizer("momentum", 0.05);
  trainStep(m, opt, {
    images: small.train.images.subarray(0, 4 * 64),
    labels: small.train.labels.subarray(0, 4),
  }).dispose();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) {
    trainStep(m, opt, {
      images: small.train.images.subarray(0, 8 * 64),
      labels: small.train.labels.subarray(0, 8),
    }).dispose();
  }
  assertEquals(tf.memory().numTensors, before);
  opt.dispose();
  const n = tf.memory().numTensors;
  await train(m, small.train, { epochs: 1, batchSize: 32, test: small.test });
  assertEquals(tf.memory().numTensors, n);
  m.dispose();
});

Deno.test("learningRateAt() and defaultBatchSize() follow the recipe", () => {
  assertEquals(learningRateAt(3, 0.1, "inverse-sqrt"), 0.05);
  assertEquals(learningRateAt(3, 0.1, "constant"), 0.1);
  // Linear: per step over the whole training, whatever the epoch.
  assertEquals(learningRateAt(0, 0.2, "linear"), 0.2);
  assertEquals(learningRateAt(1, 0.2, "linear", 30, 40), 0.05);
  assertClose(learningRateAt(9, 0.2, "linear", 39, 40), 0.2 / 40, 1e-15, "the last step's rate");
  assertEquals(defaultBatchSize({ backend: "cpu", software: false, maxBatch: null }), 128);
  assertEquals(defaultBatchSize({ backend: "webgpu", software: true, maxBatch: null }), 64);
  assertEquals(defaultBatchSize({ backend: "webgpu", software: false, maxBatch: 32 }), 32);
});

/** Throws unless every |gpu − cpu| ≤ 1e-5 + 1e-4·|cpu|, tensor by tensor (NaN fails). */
function assertNearCpu(cpu: Float32Array[], gpu: Float32Array[], label: string): void {
  cpu.forEach((w, i) => {
    const g = gpu[i]!;
    for (let j = 0; j < w.length; j++) {
      const tol = 1e-5 + 1e-4 * Math.abs(w[j]!);
      if (!(Math.abs(g[j]! - w[j]!) <= tol)) {
        throw new Error(`${label} ${i}[${j}]: webgpu ${g[j]} vs cpu ${w[j]} beyond ${tol}`);
      }
    }
  });
}

// One training step at the default batch and image size (64, 28×28) from the same weights on
// every backend, compared with the CPU backend. Tolerance: |w − w_cpu| ≤ 1e-5 + 1e-4·|w_cpu|
// (f32 sums of up to 50,176 terms in another order; a step moves weights by ~1e-2).
gpuTest(
  "trainStep() on WebGPU updates weights like the CPU backend at batch 64, 28×28",
  async () => {
    const data = prepareDataset(
      makeSyntheticRaw({
        size: 28,
        channels: 1,
        numClasses: 10,
        trainCount: 64,
        testCount: 10,
        seed: 1,
      }),
    );
    const s = { family: "CNNSmall" as const, k: 2, seed: 7, shape: data.shape, classes: 10 };
    const step = async (backend: "cpu" | "webgpu") => {
      if (backend === "webgpu") {
        const r = await initTf({
          backend,
          sizes: { batch: 64, height: 28, width: 28, channels: 1 },
        });
        assertEquals(r.backend, "webgpu", r.note);
      } else await tf.setBackend("cpu");
      const m = createModel(s);
      const before = await weightsOf(m);
      const opt = createOptimizer("sgd", 0.1);
      trainStep(m, opt, data.train).dispose();
      const after = await weightsOf(m);
      opt.dispose();
      m.dispose();
      return { before, after };
    };
    const cpu = await step("cpu");
    const gpu = await step("webgpu");
    await tf.setBackend("cpu");
    assertEquals(gpu.before, cpu.before);
    assertNearCpu(cpu.after, gpu.after, "weight");
    let moved = 0;
    cpu.after.forEach((w, i) =>
      w.forEach((v, j) => moved = Math.max(moved, Math.abs(v - cpu.before[i]![j]!)))
    );
    ok(moved > 1e-3, `the step moved weights (max ${moved})`);
  },
);

// Same tolerance as above, every family, weights after one step and salience after it.
gpuTest(
  "trainStep() and inputGradients() on WebGPU match the CPU backend for every family",
  async () => {
    const b = 8, shape = { channels: 3, height: 16, width: 16 };
    const images = new Float32Array(b * 3 * 256).map((_, i) => Math.sin(i * 0.37));
    const labels = new Int32Array(b).map((_, i) => i % 10);
    const r = await initTf({
      backend: "webgpu",
      sizes: { batch: b, height: 16, width: 16, channels: 3 },
    });
    assertEquals(r.backend, "webgpu", r.note);
    for (const family of FAMILIES) {
      const out: Float32Array[][] = [];
      for (const backend of ["cpu", "webgpu"]) {
        await tf.setBackend(backend);
        const m = createModel({ family, k: 2, seed: 1, shape, classes: 10 });
        const opt = createOptimizer("sgd", 0.1);
        trainStep(m, opt, { images, labels }).dispose();
        const w = await weightsOf(m);
        w.push(await inputGradients(m, { images, labels }));
        out.push(w);
        opt.dispose();
        m.dispose();
      }
      assertNearCpu(out[0]!, out[1]!, `${family} tensor`);
    }
    await tf.setBackend("cpu");
  },
);
