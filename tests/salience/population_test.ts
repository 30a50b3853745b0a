// Salience and logits of a population's models from one stacked pass equal each model's own.
import { deepStrictEqual as assertEquals, ok, rejects } from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { initTf } from "../../lib/tf/mod.ts";
import { createModel, type Family } from "../../lib/models/mod.ts";
import { trainPopulation } from "../../lib/train/mod.ts";
import {
  attribute,
  inputGradients,
  populationAttribute,
  populationInputGradients,
  populationLogits,
  predictLogits,
  SALIENCE_SCALARS,
  type SalienceMethod,
} from "../../lib/salience/mod.ts";
import { makeSyntheticRaw, prepareDataset } from "../../lib/data/mod.ts";
import { assertClose } from "../_shared/assert.ts";
import { gpuTest } from "../_shared/gpu.ts";

const data = prepareDataset(
  makeSyntheticRaw({ size: 8, channels: 1, numClasses: 3, trainCount: 48, testCount: 37, seed: 9 }),
);
const probe = data.test; // 37 images: batches of 16 leave a short last one
const classes = 3;

/** Three seeds of a family, trained a little together so running statistics differ per model. */
async function population(family: Family): Promise<tfl.LayersModel[]> {
  const ms = [2, 5, 11].map((seed) =>
    createModel({ family, k: 1, seed, shape: data.shape, classes })
  );
  await trainPopulation(ms.map((model, seed) => ({ model, seed })), data.train, {
    epochs: 1,
    batchSize: 16,
  });
  return ms;
}

/** Largest |a − b| over the arrays, against the scale of b (f32 rounding of another order). */
function assertSame(a: Float32Array, b: Float32Array, what: string): void {
  assertEquals(a.length, b.length);
  let scale = 0, diff = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]!));
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
  }
  ok(scale > 0, `${what}: all zero`);
  // f32 rounding only; a model mixed with another, or a wrong row block, differs by O(scale).
  assertClose(diff, 0, 1e-4 * scale, `${what}: max |batched − alone|`);
}

async function batchedMatchesAlone(families: Family[], scalars: readonly string[]) {
  for (const family of families) {
    const ms = await population(family);
    try {
      for (const scalar of scalars) {
        const opts = { scalar: scalar as (typeof SALIENCE_SCALARS)[number], batchSize: 16 };
        const together = await populationInputGradients(ms, probe, opts);
        for (const [i, m] of ms.entries()) {
          assertSame(
            together[i]!,
            await inputGradients(m, probe, opts),
            `${family} ${scalar} #${i}`,
          );
        }
      }
      const logits = await populationLogits(ms, probe.images, { batchSize: 16 });
      for (const [i, m] of ms.entries()) {
        assertSame(logits[i]!, await predictLogits(m, probe.images), `${family} logits #${i}`);
      }
      // Each model on images of its own: what that model alone gives on them.
      const own = ms.map((_, j) =>
        probe.images.map((v, i) => v * (1 + 0.5 * j) + 0.1 * Math.sin(i))
      );
      const each = await populationLogits(ms, own, { batchSize: 16 });
      for (const [i, m] of ms.entries()) {
        assertSame(each[i]!, await predictLogits(m, own[i]!), `${family} own-image logits #${i}`);
      }
      // The models differ, so a block taken from the wrong model would have failed above.
      const g = await populationInputGradients(ms, probe);
      ok(Math.abs(g[0]![0]! - g[1]![0]!) + Math.abs(g[1]![3]! - g[2]![3]!) > 0);
    } finally {
      ms.forEach((m) => m.dispose());
    }
  }
}

Deno.test("populationInputGradients() equals each model's inputGradients() on the CPU backend", async () => {
  await initTf({ backend: "cpu" });
  const before = tf.memory().numTensors;
  await batchedMatchesAlone(["CNNSmall", "ResNetSmall", "MLP"], SALIENCE_SCALARS);
  assertEquals(tf.memory().numTensors, before);
});

Deno.test("populationLogits() folds inference batch norm into the convolutions: each model's logits and gradients under far-from-identity statistics", async () => {
  await initTf({ backend: "cpu" });
  for (const family of ["CNNSmall", "ResNetSmall"] as const) {
    const ms = [1, 4].map((seed) =>
      createModel({ family, k: 1, seed, shape: data.shape, classes })
    );
    try {
      // Every batch norm gets its own γ, β, running mean and variance, far from 1, 0, 0, 1,
      // different per model, so a wrong fold (scale left out, shift per the wrong channel or
      // model, ε dropped) moves the logits by O(1).
      ms.forEach((m, j) => {
        for (const layer of m.layers) {
          if (layer.getClassName() !== "BatchNormalization") continue;
          const C = layer.weights[0]!.shape[0]!;
          const v = (f: (c: number) => number) =>
            tf.tensor1d(Array.from({ length: C }, (_, c) => f(c)));
          tf.tidy(() =>
            layer.setWeights([
              v((c) => 0.5 + 0.3 * c + 0.2 * j),
              v((c) => 0.2 - 0.1 * c + 0.3 * j),
              v((c) => 0.3 * Math.sin(c + j)),
              v((c) => 0.05 + 0.4 * c + 0.1 * j),
            ])
          );
        }
      });
      const logits = await populationLogits(ms, probe.images, { batchSize: 16 });
      const grads = await populationInputGradients(ms, probe, { batchSize: 16 });
      for (const [i, m] of ms.entries()) {
        assertSame(logits[i]!, await predictLogits(m, probe.images), `${family} logits #${i}`);
        assertSame(grads[i]!, await inputGradients(m, probe), `${family} gradients #${i}`);
      }
      await rejects(() => populationLogits(ms, [probe.images]), TypeError);
      await rejects(
        () => populationLogits(ms, [probe.images, probe.images.subarray(64)]),
        TypeError,
      );
    } finally {
      ms.forEach((m) => m.dispose());
    }
  }
});

Deno.test("populationInputGradients() runs models that cannot stack one by one", async () => {
  await initTf({ backend: "cpu" });
  const vit = [0, 1].map((seed) =>
    createModel({ family: "ViT", k: 2, seed, shape: data.shape, classes })
  );
  const mixed = [
    createModel({ family: "CNNSmall", k: 1, seed: 0, shape: data.shape, classes }),
    createModel({ family: "CNNSmall", k: 2, seed: 0, shape: data.shape, classes }),
  ];
  try {
    for (const ms of [vit, mixed]) {
      const g = await populationInputGradients(ms, probe);
      for (const [i, m] of ms.entries()) {
        assertSame(g[i]!, await inputGradients(m, probe), `one by one #${i}`);
      }
    }
    await rejects(
      () => populationInputGradients(mixed, { images: probe.images, labels: new Int32Array(2) }),
      TypeError,
    );
  } finally {
    [...vit, ...mixed].forEach((m) => m.dispose());
  }
});

Deno.test("populationInputGradients() differentiates each model's own labels when given one array per model", async () => {
  await initTf({ backend: "cpu" });
  const before = tf.memory().numTensors;
  const ms = await population("CNNSmall");
  const perModel = [0, 1, 2].map((shift) => probe.labels.map((l) => (l + shift) % classes));
  try {
    const opts = { batchSize: 16 };
    const together = await populationInputGradients(ms, { ...probe, labels: perModel }, opts);
    for (const [i, m] of ms.entries()) {
      const alone = await inputGradients(m, { ...probe, labels: perModel[i]! }, opts);
      assertSame(together[i]!, alone, `model #${i}'s labels`);
    }
    // Model 1's labels are not model 0's, so taking the shared labels would have failed above.
    const shared = await populationInputGradients(ms, probe, opts);
    ok(shared[1]!.some((v, j) => Math.abs(v - together[1]![j]!) > 1e-3 * Math.abs(v)));
    await rejects(
      () => populationInputGradients(ms, { ...probe, labels: perModel.slice(0, 2) }),
      TypeError,
    );
  } finally {
    ms.forEach((m) => m.dispose());
  }
  assertEquals(tf.memory().numTensors, before);
});

gpuTest("populationInputGradients() equals each model's inputGradients() on WebGPU", async () => {
  await initTf({ backend: "webgpu", sizes: { batch: 16, height: 8, width: 8, channels: 1 } });
  try {
    await batchedMatchesAlone(["CNNSmall", "ResNetSmall"], ["true-class-logit"]);
  } finally {
    await initTf({ backend: "cpu" });
  }
});

// The predicted-class logit included: each model fixes its own class at x in the stacked pass.
Deno.test("populationAttribute() equals each model's attribute() for every method on the CPU backend", async () => {
  await initTf({ backend: "cpu" });
  const before = tf.memory().numTensors;
  const ms = await population("CNNSmall");
  // 5 probe images: with batch 16, SmoothGrad's 4 copies and IG's 6 steps span passes whose
  // last one is short.
  const few = { images: probe.images.subarray(0, 5 * 64), labels: probe.labels.subarray(0, 5) };
  const methods: SalienceMethod[] = [
    { method: "gradient" },
    { method: "gradient-x-input" },
    { method: "smoothgrad", samples: 4, sigma: 0.2, seed: 3 },
    { method: "integrated-gradients", steps: 6, baseline: [-0.5] },
  ];
  try {
    for (const method of methods) {
      for (const scalar of ["true-class-logit", "predicted-class-logit"] as const) {
        const opts = { scalar, batchSize: 16 };
        const together = await populationAttribute(ms, few, method, opts);
        assertEquals(together.length, ms.length);
        for (const [i, m] of ms.entries()) {
          const alone = await attribute(m, few, method, opts);
          const what = `${method.method} ${scalar} #${i}`;
          assertSame(together[i]!.values, alone.values, what);
          assertEquals(together[i]!.completeness === null, alone.completeness === null);
          if (alone.completeness) {
            const [a, b] = [together[i]!.completeness!, alone.completeness];
            assertSame(Float32Array.from(a.sum), Float32Array.from(b.sum), `${what} Σ`);
            assertSame(Float32Array.from(a.delta), Float32Array.from(b.delta), `${what} Δ`);
          }
        }
        // The models differ, so a block taken from the wrong model would have failed above.
        const [a, b] = [together[0]!.values, together[1]!.values];
        ok(a.some((v, j) => Math.abs(v - b[j]!) > 1e-3 * Math.abs(v)), `${method.method} differ`);
      }
    }
  } finally {
    ms.forEach((m) => m.dispose());
  }
  assertEquals(tf.memory().numTensors, before);
});
