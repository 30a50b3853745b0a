// PyTorch as the oracle of our exports, our training step and our area pooling
// (tests/torch/oracle.py, tasks "roundtrip", "sgd" and "pool"; PyTorch computes in float64).
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { reference } from "../../kernels/mod.ts";
import { createModel, FAMILIES, type ModelSpec } from "../../lib/models/mod.ts";

import { predictLogits } from "../../lib/salience/mod.ts";
import { initTf } from "../../lib/tf/mod.ts";
import { uniformFloats } from "../../lib/stats/mod.ts";
import { createOptimizer, trainStep } from "../../lib/train/mod.ts";
import { readNpy, writeNpy } from "../../lib/npy/mod.ts";
import { exportSafetensors, readStateDict, toStateDict } from "../../lib/torch/mod.ts";
import { assert, assertEquals } from "../_shared/assert.ts";
import { nchwToNhwc, relativeError, runOracle, torchGpuTest, torchTest } from "./_oracle.ts";

await initTf({ backend: "cpu" });

const SHAPE = { channels: 3, height: 12, width: 8 }, CLASSES = 5, COUNT = 6, LR = 0.1;
const K: Record<string, number> = {
  CNNSmall: 2,
  CNNLarge: 2,
  ResNetSmall: 2,
  ResNetLarge: 2,
  MLP: 1,
  ViT: 4,
};
const specOf = (family: ModelSpec["family"]): ModelSpec => ({
  family,
  k: K[family]!,
  seed: 5,
  shape: SHAPE,
  classes: CLASSES,
});

/** Running statistics far from 0 and 1, so exports and steps that ignore them fail. */
function perturbRunningStats(model: tfl.LayersModel): void {
  model.weights.forEach((v, i) => {
    const stat = /moving_(mean|variance)$/.exec(v.originalName)?.[1];
    if (!stat) return;
    const n = v.shape.reduce((a: number, b) => a * b!, 1);
    const r = uniformFloats(n, 100 + i);
    const t = tf.tensor(r.map((x) => stat === "mean" ? x : 1.5 + x), v.shape as number[]);
    v.write(t);
    t.dispose();
  });
}

/** Seeded NCHW inputs written for PyTorch, and the same images NHWC for us. */
async function inputs(dir: string): Promise<{ x: string; images: Float32Array; labels: number[] }> {
  const { channels: c, height: h, width: w } = SHAPE;
  const nchw = uniformFloats(COUNT * c * h * w, 7).map((v) => 2 * v + 0.3);
  await writeNpy(`${dir}/x.npy`, [COUNT, c, h, w], nchw);
  return {
    x: `${dir}/x.npy`,
    images: nchwToNhwc(nchw, COUNT, c, h, w),
    labels: Array.from({ length: COUNT }, (_, i) => (3 * i + 1) % CLASSES),
  };
}

/**
 * A model of `family` with perturbed running statistics, exported to `<dir>/<family>.safetensors`,
 * and the oracle case that loads that export and runs it on the images of `x` (the file
 * {@linkcode inputs} wrote).
 */
async function exportedCase(
  dir: string,
  family: ModelSpec["family"],
  x: string,
): Promise<{ model: tfl.LayersModel; oracle: Record<string, unknown> }> {
  const model = createModel(specOf(family));
  perturbRunningStats(model);
  const weights = `${dir}/${family}.safetensors`;
  await exportSafetensors(model, weights);
  const shape = [SHAPE.channels, SHAPE.height, SHAPE.width];
  return {
    model,
    oracle: { name: family, family, k: K[family], shape, classes: CLASSES, weights, x },
  };
}

torchTest(
  "exportSafetensors() of every family loads strictly into PyTorch with the same logits",
  async () => {
    const dir = await Deno.makeTempDir();
    const { x, images } = await inputs(dir);
    const ours = new Map<string, Float32Array>();
    const cases = [];
    for (const family of FAMILIES) {
      const { model: m, oracle } = await exportedCase(dir, family, x);
      ours.set(family, await predictLogits(m, images));
      m.dispose();
      cases.push(oracle);
    }
    const out = await runOracle({ task: "roundtrip", cases });
    for (const family of FAMILIES) {
      const e = (await readNpy(`${out.dir}/${family}.logits.npy`)).data;
      const err = relativeError(ours.get(family)!, e);
      assert(err <= 1e-4, `${family}: PyTorch's logits differ by ${err} relative`);
    }
  },
);

/**
 * One SGD step (lr 0.1, mean softmax cross-entropy, batch-norm batch statistics) in our training
 * on `backend` and in PyTorch from the same weights and batch. Trainable weights and running
 * means agree within |Δ| ≤ 1e-5 + 1e-4·|w|, and the updates themselves within 1e-3 relative;
 * running variances agree with PyTorch's update made with the biased batch variance (tfjs-layers'
 * convention; PyTorch's own uses the unbiased one, n/(n−1) larger).
 */
async function sgdAgainstTorch(backend: "cpu" | "webgpu"): Promise<void> {
  const dir = await Deno.makeTempDir();
  const { x, images, labels } = await inputs(dir);
  const after = new Map<string, Map<string, Float32Array>>();
  const before = new Map<string, Map<string, Float32Array>>();
  const cases = [];
  for (const family of FAMILIES) {
    await tf.setBackend("cpu");
    const { model: m, oracle } = await exportedCase(dir, family, x);
    before.set(family, floats(await toStateDict(m)));
    await tf.setBackend(backend);
    const opt = createOptimizer("sgd", LR);
    trainStep(m, opt, { images, labels: new Int32Array(labels) }).dispose();
    after.set(family, floats(await toStateDict(m)));
    opt.dispose();
    m.dispose();
    cases.push({ ...oracle, labels, lr: LR });
  }
  await tf.setBackend("cpu");
  const out = await runOracle({ task: "sgd", cases });
  for (const family of FAMILIES) {
    const torch = floats(await readStateDict(`${out.dir}/${family}.after.pt`));
    const biased = floats(await readStateDict(`${out.dir}/${family}.biased.pt`));
    const ours = after.get(family)!, start = before.get(family)!;
    let moved = 0;
    for (const [name, w] of ours) {
      const e = name.endsWith(".running_var") ? biased.get(name)! : torch.get(name)!;
      assert(e !== undefined, `${family}: PyTorch has no ${name}`);
      for (let j = 0; j < w.length; j++) {
        const tol = 1e-5 + 1e-4 * Math.abs(e[j]!);
        assert(
          Math.abs(w[j]! - e[j]!) <= tol,
          `${family} ${name}[${j}]: ours ${w[j]} vs PyTorch ${e[j]} beyond ${tol} (${backend})`,
        );
      }
      const s = start.get(name)!;
      const dOurs = w.map((v, j) => v - s[j]!), dTorch = e.map((v, j) => v - s[j]!);
      const dMax = Math.max(...dTorch.map(Math.abs));
      if (dMax > 1e-4) {
        const err = relativeError(dOurs, dTorch);
        assert(err <= 1e-3, `${family} ${name}: update differs by ${err} relative (${backend})`);
      }
      moved = Math.max(moved, dMax);
    }
    assert(moved > 1e-3, `${family}: the step moved weights (max ${moved})`);
  }
}

function floats(
  sd: Map<string, { values: Float32Array | BigInt64Array }>,
): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [k, t] of sd) if (t.values instanceof Float32Array) out.set(k, t.values);
  return out;
}

torchTest(
  "trainStep() on the CPU backend takes PyTorch's SGD step for every family",
  () => sgdAgainstTorch("cpu"),
);

torchGpuTest("trainStep() on WebGPU takes PyTorch's SGD step for every family", async () => {
  const r = await initTf({
    backend: "webgpu",
    sizes: { batch: COUNT, height: SHAPE.height, width: SHAPE.width, channels: SHAPE.channels },
  });
  assertEquals(r.backend, "webgpu", r.note);
  await sgdAgainstTorch("webgpu");
});

torchTest(
  "reference.areaPool() to 8×8 equals F.interpolate(mode='area') on 28×28 and 32×32",
  async () => {
    const job = { task: "pool", sides: [28, 32], channels: 3, size: 8 };
    const { dir, manifest } = await runOracle(job);
    for (const side of job.sides) {
      const x = (await readNpy(`${dir}/pool-${side}.x.npy`)).data;
      const ours = reference.areaPool(x, { channels: 3, height: side, width: side, size: 8 });
      const err = relativeError(ours, manifest[String(side)] as number[]);
      assert(err <= 1e-6, `${side}×${side}: pooled values differ by ${err} relative`);
    }
  },
);
