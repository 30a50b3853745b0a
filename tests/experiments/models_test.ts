import * as tf from "@tensorflow/tfjs-core";
import { createModel } from "../../lib/models/mod.ts";
import { initTf } from "../../lib/tf/mod.ts";
import {
  attackModelOf,
  attackStudy,
  clipRangeOf,
  ensembleStudy,
  runModelExperiments,
  trueClassProbability,
} from "../../lib/experiments/mod.ts";
import { inputGradients, predictLogits } from "../../lib/salience/mod.ts";
import { normalSampler, seededUniform } from "../../lib/stats/mod.ts";
import { assert, assertAlmostEquals, assertEquals } from "../analysis/_synthetic.ts";

await initTf({ backend: "cpu" });
const shape = { channels: 2, height: 3, width: 3 };
const classes = 3, N = 12, D = 18;
const normal = normalSampler(seededUniform(8));
const images = Float32Array.from({ length: N * D }, () => Math.max(-1.5, Math.min(1.5, normal())));
const labels = Int32Array.from({ length: N }, (_, i) => i % classes);
const probe = {
  images,
  labels,
  count: N,
  split: "test" as const,
  indices: Int32Array.from({ length: N }, (_, i) => i),
};
const data = { probe, shape, classes: ["a", "b", "c"], mean: [0.5, 0.4], std: [0.25, 0.2] };
const models = [1, 2].flatMap((k) =>
  [0, 1, 2].map((seed) => ({
    family: "MLP",
    k,
    seed,
    model: createModel({ family: "MLP", k, seed, shape, classes }),
  }))
);

Deno.test("attackModelOf() returns ∇x p_y of a tfjs model in the images' NHWC layout", async () => {
  const am = attackModelOf(models[0]!);
  const x = images.subarray(0, D), y = labels.subarray(0, 1);
  const g = await am.probabilityGradient(x, y, 1);
  const p = async (v: Float32Array) =>
    trueClassProbability(await am.logits(v, 1), y, classes).p[0]!;
  for (const q of [0, 1, 7, 17]) {
    const h = 1e-2, a = Float32Array.from(x), b = Float32Array.from(x);
    a[q]! += h;
    b[q]! -= h;
    assertAlmostEquals(g[q]!, ((await p(a)) - (await p(b))) / (2 * h), 2e-3, `element ${q}`);
  }
  assertEquals(
    clipRangeOf([0.5, 0.4], [0.25, 0.2]).map(([lo, hi]) => [lo, Number(hi.toFixed(6))]),
    [[-2, 2], [-2, 3]],
  );
});

Deno.test("runModelExperiments() runs both studies on tfjs models without leaking tensors", async () => {
  const before = tf.memory().numTensors;
  const r = await runModelExperiments(models, data, {
    attack: { resamples: 50 },
    ensembles: { resamples: 50, heldOut: 1 },
  });
  assertEquals(tf.memory().numTensors, before);
  assert(r.attacks !== null && r.ensembles !== null);
  assertEquals(r.attacks.clip.length, 2);
  assertEquals(r.attacks.matrices[0]!.ks, [1, 2]);
  assertEquals(r.attacks.strategies.length, 6);
  for (const s of r.attacks.strategies) {
    assert(s.alpha.all.mean! > 0 && s.alpha.all.pairs > 0, JSON.stringify(s));
  }
  assertEquals(r.ensembles.curves.map((c) => c.points.map((p) => p.members)), [[1, 2], [1, 2]]);
  assertEquals(r.ensembles.claims.map((c) => c.id), [
    "ensembles-move-to-mean",
    "ensemble-loss-falls",
  ]);
});

Deno.test("runModelExperiments() queries each width's models in shared passes and gets what one model at a time gives", async () => {
  const opts = { resamples: 50 };
  const r = await runModelExperiments(models, data, { attack: opts, ensembles: opts });
  // The same studies with every query made one model at a time.
  const clip = clipRangeOf(data.mean, data.std);
  const alone = await attackStudy(
    models.map((m) => attackModelOf(m)),
    { images, labels, dim: D, classes, clip },
    opts,
  );
  const members = [];
  for (const m of models) {
    members.push({
      family: m.family,
      k: m.k,
      seed: m.seed,
      logits: await predictLogits(m.model, images),
      gradient: await inputGradients(m.model, probe),
    });
  }
  const ens = await ensembleStudy(members, { labels, classes, dim: D }, opts);
  const close = (a: unknown, b: unknown, path: string): void => {
    if (typeof b === "number") {
      assertAlmostEquals(a as number, b, 1e-5 * (1 + Math.abs(b)), path);
    } else if (Array.isArray(b)) {
      assertEquals((a as unknown[]).length, b.length, path);
      b.forEach((v, i) => close((a as unknown[])[i], v, `${path}[${i}]`));
    } else if (b !== null && typeof b === "object") {
      for (const [k, v] of Object.entries(b)) {
        if (k !== "generatedAt") close((a as Record<string, unknown>)[k], v, `${path}.${k}`);
      }
    } else assertEquals(a, b, path);
  };
  close(r.attacks!.matrices, alone.file.matrices, "matrices");
  close(r.attacks!.strategies, alone.file.strategies, "strategies");
  close(r.ensembles!.curves, ens.file.curves, "curves");
});
