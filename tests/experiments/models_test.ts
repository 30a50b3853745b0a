import * as tf from "@tensorflow/tfjs-core";
import { createModel } from "../../lib/models/mod.ts";
import { initTf } from "../../lib/tf/mod.ts";
import {
  attackModelOf,
  attackStudy,
  clipRangeOf,
  ensembleStudy,
  runModelExperiments,
  runSweepExperiments,
  trueClassProbability,
} from "../../lib/experiments/mod.ts";
import { join } from "node:path";
import { inputGradients, predictLogits } from "../../lib/salience/mod.ts";
import { loadDataset } from "../../lib/data/mod.ts";
import { listRuns, readRun, type SweepConfig } from "../../lib/store/mod.ts";
import { datasetOptions } from "../../lib/sweep/config.ts";
import { presetConfig } from "../../lib/sweep/presets.ts";
import { runSweep } from "../../lib/sweep/runner.ts";
import { listCheckpoints, loadCheckpointModel } from "../../lib/train/mod.ts";
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

Deno.test("runModelExperiments() takes the ensemble study's logits and gradients from the models' stored outputs", async () => {
  const opts = { resamples: 50 };
  const computed = await runModelExperiments(models, data, { attack: false, ensembles: opts });
  const outputsOf = async (m: (typeof models)[number], sign: number) => ({
    ...m,
    outputs: {
      logits: await predictLogits(m.model, images),
      gradient: (await inputGradients(m.model, probe)).map((v) => sign * v),
    },
  });
  const same = await Promise.all(models.map((m) => outputsOf(m, 1)));
  const stored = await runModelExperiments(same, data, { attack: false, ensembles: opts });
  assertEquals(
    JSON.stringify(
      stored.ensembles!.curves,
      (_k, v) => (typeof v === "number" ? +v.toPrecision(5) : v),
    ),
    JSON.stringify(
      computed.ensembles!.curves,
      (_k, v) => (typeof v === "number" ? +v.toPrecision(5) : v),
    ),
  );
  // Gradients that are not the models' own change the study: the stored ones are what it read.
  const flipped = await Promise.all(models.map((m, i) => outputsOf(m, i % 2 ? -1 : 1)));
  const other = await runModelExperiments(flipped, data, { attack: false, ensembles: opts });
  assert(
    JSON.stringify(other.ensembles!.curves) !== JSON.stringify(computed.ensembles!.curves),
    "flipped stored gradients left the ensemble curves unchanged",
  );
});

Deno.test({
  name:
    "runSweepExperiments() reuses a sweep's stored logits and salience and gets what computing them gives",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const out = await Deno.makeTempDir({ prefix: "experiments-stored-" });
    const config = {
      ...presetConfig("tiny"),
      families: ["MLP"],
      widths: [1],
      seeds: 3,
      experiments: { logits: true, ensembles: { sizes: [1, 2] }, attack: null },
      analysis: { minTestAccuracy: null },
    } as SweepConfig;
    const { sweepDir } = await runSweep(config, {
      out,
      sink: { write: () => {}, isTerminal: false },
    });
    const sweepData = await loadDataset(config.dataset.name, datasetOptions(config));
    const said: string[] = [];
    const reused = await runSweepExperiments(sweepDir, sweepData, {
      attack: false,
      ensembles: { sizes: [1, 2], resamples: 50 },
      onProgress: (m) => said.push(m),
    });
    assert(said.some((m) => m.includes("as the sweep stored them")), said.join("\n"));
    // The same study on the same checkpoints, every output computed.
    const loaded = [];
    for (const r of await listRuns(sweepDir)) {
      const run = await readRun(r.dir);
      const dir = join(r.dir, "checkpoint");
      const last = (await listCheckpoints(dir)).at(-1)!;
      loaded.push({
        family: run.family,
        k: run.k,
        seed: run.seed,
        model: await loadCheckpointModel(join(dir, `epoch-${String(last).padStart(4, "0")}`)),
      });
    }
    loaded.sort((a, b) => a.seed - b.seed);
    const computed = await runModelExperiments(loaded, sweepData, {
      attack: false,
      ensembles: { sizes: [1, 2], resamples: 50 },
    });
    loaded.forEach((m) => m.model.dispose());
    const round = (_k: string, v: unknown) => (typeof v === "number" ? +v.toPrecision(5) : v);
    assertEquals(
      JSON.stringify(reused.ensembles!.curves, round),
      JSON.stringify(computed.ensembles!.curves, round),
    );
    await Deno.remove(out, { recursive: true });
  },
});
