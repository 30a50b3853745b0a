// Population training in the sweep: planning and sharding of populations, the
// `training.population` key and `--no-population`, and sweeps (tiny synthetic data, CPU backend)
// with populations on against off: the same artifacts within f32 rounding, resumption of a
// population whose members are at different stages, and a failing population redone run by run.
import { join } from "node:path";
import { assert, assertEquals, assertStringIncludes, assertThrows } from "../_shared/assert.ts";
import { createModel, FAMILIES } from "../../lib/models/mod.ts";
import { canTrainTogether, train, trainPopulation } from "../../lib/train/mod.ts";
import { loadDataset } from "../../lib/data/mod.ts";
import { trainScheduleOf } from "../../lib/sweep/executor.ts";
import { readNpy } from "../../lib/npy/mod.ts";
import { listRuns, type RunJson, verifyRun } from "../../lib/store/mod.ts";
import { buildPlan, shardRuns } from "../../lib/sweep/plan.ts";
import { presetConfig } from "../../lib/sweep/presets.ts";
import { datasetOptions, resolveConfigFile } from "../../lib/sweep/config.ts";
import { dryRunReport, parseSweepArgs } from "../../lib/cli/sweep.ts";
import { runSweep } from "../../lib/sweep/runner.ts";
import {
  planPopulations,
  populationSizeOf,
  type PopulationTrainer,
  shardPopulations,
  STACKABLE_FAMILIES,
} from "../../lib/sweep/populations.ts";
import type { SweepConfig } from "../../lib/store/mod.ts";

Deno.test("STACKABLE_FAMILIES are exactly the families trainPopulation() can stack", () => {
  const shape = { channels: 1, height: 8, width: 8 };
  for (const family of FAMILIES) {
    const m = createModel({ family, k: 2, seed: 0, shape, classes: 3 });
    assertEquals(canTrainTogether(m), STACKABLE_FAMILIES.includes(family), family);
    m.dispose();
  }
});

Deno.test("populationSizeOf() follows training.population; ViT always trains alone", () => {
  const c = presetConfig("default");
  const planned = c.families.map((f) => populationSizeOf(c, f));
  c.training.population = true;
  assertEquals(c.families.map((f) => populationSizeOf(c, f)), planned);
  c.training.population = false;
  assertEquals(c.families.map((f) => populationSizeOf(c, f)), [1, 1]);
  c.training.population = 6;
  assertEquals(populationSizeOf(c, "CNNSmall"), 6);
  assertEquals(populationSizeOf(c, "ViT"), 1);
  c.backend = "cpu";
  delete c.training.population;
  assertEquals(populationSizeOf(c, "ResNetSmall"), 1, "the CPU backend's planned size");
});

Deno.test("populations group seeds of one family, width and batch size; shards hold whole populations and cover the plan", () => {
  const c: SweepConfig = { ...presetConfig("batch-size"), seeds: 5 };
  c.training.population = 2;
  const plan = buildPlan(c);
  const pops = planPopulations(c, plan.runs);
  // 4 batch sizes × 3 widths, 5 seeds each in blocks of 2, 2, 1.
  assertEquals(pops.length, 4 * 3 * 3);
  for (const p of pops) {
    assert(p.length >= 1 && p.length <= 2);
    assertEquals(new Set(p.map((r) => `${r.family}/${r.k}/${r.batchSize}`)).size, 1);
    assertEquals(p.map((r) => r.seed), p.map((_, i) => p[0]!.seed + i), "consecutive seeds");
  }
  assertEquals(
    pops.flat().map((r) => r.index).sort((a, b) => a - b),
    plan.runs.map((r) => r.index),
  );
  for (const n of [1, 2, 3, 7]) {
    const shards = Array.from(
      { length: n },
      (_, i) => shardPopulations(pops, { index: i, count: n }),
    );
    const owner = new Map<number, number>();
    shards.forEach((s, i) =>
      s.flat().forEach((r) => {
        assert(!owner.has(r.index), `run ${r.index} in two shards`);
        owner.set(r.index, i);
      })
    );
    assertEquals(owner.size, plan.runs.length, `${n} shards cover the plan`);
    for (const p of pops) {
      assertEquals(new Set(p.map((r) => owner.get(r.index))).size, 1, "a population is split");
    }
  }
  // Off: one run per population, sharded exactly as runs are.
  c.training.population = false;
  const alone = planPopulations(c, plan.runs);
  assert(alone.every((p) => p.length === 1));
  assertEquals(
    shardPopulations(alone, { index: 1, count: 3 }).flat(),
    shardRuns(plan.runs, { index: 1, count: 3 }),
  );
  assertThrows(() => shardPopulations(pops, { index: 3, count: 3 }), RangeError, "--shard i/n");
});

Deno.test("training.population is in no id or hash; bad values are one clear error", () => {
  const base = presetConfig("tiny");
  const ref = buildPlan(base);
  for (const population of [true, false, 1, 4]) {
    const c = presetConfig("tiny");
    c.training.population = population;
    const p = buildPlan(c);
    assertEquals([p.sweepId, p.configHash], [ref.sweepId, ref.configHash], String(population));
    assertEquals(p.runs.map((r) => r.configHash), ref.runs.map((r) => r.configHash));
  }
  assertEquals(
    resolveConfigFile({ preset: "tiny", training: { population: 3 } }, "p.json").training
      .population,
    3,
  );
  for (const bad of [0, 1.5, -2, 1000, "yes", null]) {
    const e = assertThrows(
      () => resolveConfigFile({ preset: "tiny", training: { population: bad } }, "p.json"),
      Error,
      "'training.population'",
    );
    assertStringIncludes(e.message, "true, false or the most models trained together");
    assertStringIncludes(e.message, "p.json");
  }
});

Deno.test("--no-population turns population training off; the dry run says S per family", async () => {
  const on = await parseSweepArgs(["--preset", "default"], {});
  assertEquals(on.config.training.population, undefined);
  const off = await parseSweepArgs(["--preset", "default", "--no-population"], {});
  assertEquals(off.config.training.population, false);
  const shard = { index: 0, count: 1, source: "none" };
  const text = dryRunReport(on.config, shard);
  const sizes = on.config.families.map((f) => `${f} ${populationSizeOf(on.config, f)}`);
  assertStringIncludes(text, `population S = ${sizes.join(", ")} (the planner's, backend auto)`);
  const runs = buildPlan(off.config).runs.length;
  const offText = dryRunReport(off.config, shard);
  assertStringIncludes(offText, "off: --no-population");
  assertStringIncludes(offText, `: ${runs} trainings for ${runs} runs`);
  const trainings = planPopulations(on.config, buildPlan(on.config).runs).length;
  assert(trainings < runs, "the default preset's seeds train together");
  assertStringIncludes(text, `: ${trainings} trainings for ${runs} runs`);
});

// ---------------------------------------------------------------------------------------------
// Sweeps on the CPU backend.

/**
 * Three seeds of CNNSmall(1) and ResNetSmall(1), two epochs, on the tiny synthetic data, with
 * SmoothGrad and Integrated Gradients beside the gradient.
 */
function sweepConfig(population: boolean | number): SweepConfig {
  return resolveConfigFile({
    preset: "tiny",
    name: "pop",
    widths: [1],
    seeds: 3,
    training: { epochs: 2, population },
    salience: {
      methods: ["gradient", "smoothgrad", "integrated-gradients"],
      smoothGrad: { samples: 2, sigma: 0.1, seed: 1 },
      integratedGradients: { steps: 3, baseline: "zero" },
    },
    experiments: { logits: true, ensembles: null, attack: null },
  }, "pop.json");
}

async function sweep(
  config: SweepConfig,
  out: string,
  trainer?: PopulationTrainer,
): Promise<{ text: string; dir: string; phases: [string, number][] }> {
  let text = "";
  const r = await runSweep(config, {
    out,
    analyze: false,
    sink: { write: (t) => void (text += t), isTerminal: false },
    trainer,
  });
  // Phase names in the order first timed: the summary line drops phases under 0.5 s, which a
  // fast machine's tiny sweep can be.
  return { text, dir: r.sweepDir, phases: r.phases };
}

// f32 rounding only: training together sums the same products in another order (the bound of
// tests/train/population_test.ts, 2e-4 on weights, grows through two epochs and the gradient).
const TOLERANCE = 2e-3;

function maxRelError(a: Float32Array, b: Float32Array): number {
  assertEquals(a.length, b.length);
  let scale = 0, e = 0;
  for (const v of b) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i]! - b[i]!) / (scale || 1));
  return e;
}

/** Asserts every run of `dir` matches the same run of `ref` within {@link TOLERANCE}. */
async function assertSameRuns(dir: string, ref: string): Promise<void> {
  const runs = await listRuns(ref);
  for (const r of runs) {
    const d = join(dir, "runs", r.runId);
    assertEquals((await verifyRun(d)).status, "complete", r.runId);
    const [a, b] = (await Promise.all(
      [d, r.dir].map(async (x) =>
        JSON.parse(await Deno.readTextFile(join(x, "run.json"))) as RunJson
      ),
    )) as [RunJson, RunJson];
    assertEquals(a.history.length, b.history.length);
    a.history.forEach((h, i) => {
      const g = b.history[i]!;
      assert(
        Math.abs(h.trainLoss - g.trainLoss) <= TOLERANCE * (1 + g.trainLoss),
        `${r.runId} train loss`,
      );
      assert(
        Math.abs(h.testLoss - g.testLoss) <= TOLERANCE * (1 + g.testLoss),
        `${r.runId} test loss`,
      );
      assertEquals(h.lr, g.lr);
    });
    const files = [
      "salience.npy",
      "logits.npy",
      "salience-smoothgrad.npy",
      "salience-integrated-gradients.npy",
    ];
    for (const file of files) {
      const [x, y] = await Promise.all(
        [d, r.dir].map(async (p) => (await readNpy(join(p, file))).data as Float32Array),
      );
      const e = maxRelError(x!, y!);
      assert(e <= TOLERANCE, `${r.runId} ${file}: relative error ${e}`);
    }
  }
}

Deno.test({
  name:
    "sweep: populations on give the runs of populations off within f32 rounding; a partly done population resumes; a failing one is redone alone",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "sweep-pop-" });
    const off = await sweep(sweepConfig(false), join(root, "off"));
    assert(!off.text.includes("together"), off.text);
    const on = await sweep(sweepConfig(2), join(root, "on"));
    assertStringIncludes(on.text, "CNNSmall-k1 seeds 0–1 (2 together)");
    assertStringIncludes(on.text, "ResNetSmall-k1 seeds 0–1 (2 together)");
    assertStringIncludes(on.text, "[6/6]");
    // The end-of-sweep summary says where the time went, training per family first.
    assertStringIncludes(on.text, "time by phase: ");
    const training = on.phases.filter(([p]) => p.startsWith("training "));
    assertEquals(training.map(([p]) => p), ["training CNNSmall", "training ResNetSmall"]);
    assert(training.every(([, s]) => s > 0), on.phases.join("; "));
    assertEquals(on.dir.replace(join(root, "on"), ""), off.dir.replace(join(root, "off"), ""));
    await assertSameRuns(on.dir, off.dir);

    // Resume: seed 0 complete, seed 1 stopped after epoch 1 of 2, seed 2 never started.
    const plan = buildPlan(sweepConfig(3));
    const cnn = plan.runs.filter((r) => r.family === "CNNSmall").sort((a, b) => a.seed - b.seed);
    const part = join(root, "part");
    await Deno.mkdir(part);
    await new Deno.Command("cp", { args: ["-r", off.dir, part] }).output();
    const partDir = join(part, plan.sweepId);
    const [d0, d1, d2] = cnn.map((r) => join(partDir, "runs", r.runId)) as [string, string, string];
    // What an interrupted run leaves: only the checkpoint of its first epoch.
    for (const name of await Array.fromAsync(Deno.readDir(d1))) {
      await Deno.remove(join(d1, name.name), { recursive: true });
    }
    const config3 = sweepConfig(3);
    const data = await loadDataset(config3.dataset.name, datasetOptions(config3));
    const model = createModel({
      family: "CNNSmall",
      k: 1,
      seed: 1,
      shape: data.shape,
      classes: data.classes.length,
    });
    await train(model, data.train, {
      ...trainScheduleOf(config3, cnn[1]!),
      test: data.test,
      checkpointDir: join(d1, "checkpoint"),
      stopAfterEpoch: 1,
    });
    model.dispose();
    await Deno.remove(d2, { recursive: true });
    const marker0 = await Deno.readTextFile(join(d0, "COMPLETE"));
    const stat0 = await Deno.stat(join(d0, "salience.npy"));
    const resumed = await sweep(config3, part);
    assertStringIncludes(resumed.text, "4 already complete");
    assertStringIncludes(resumed.text, "CNNSmall-k1 seeds 1–2 (2 together)");
    assertStringIncludes(resumed.text, `${cnn[1]!.runId}: complete (resumed from epoch 1)`);
    assertStringIncludes(resumed.text, `${cnn[2]!.runId}: complete ·`);
    assertEquals(await Deno.readTextFile(join(d0, "COMPLETE")), marker0, "complete run untouched");
    assertEquals((await Deno.stat(join(d0, "salience.npy"))).mtime, stat0.mtime);
    await assertSameRuns(partDir, off.dir);

    // A population that throws after its first epoch is redone run by run, resuming there.
    let calls = 0;
    const failing: PopulationTrainer = async (members, data, options) => {
      calls++;
      await trainPopulation(members, data, { ...options, stopAfterEpoch: 1 });
      throw new Error("injected failure");
    };
    const failed = await sweep(sweepConfig(2), join(root, "failed"), failing);
    assertEquals(calls, 2, "one population per family");
    assertStringIncludes(
      failed.text,
      "(2 together) failed (injected failure); training its incomplete runs one at a time",
    );
    assertStringIncludes(failed.text, "complete (resumed from epoch 1)");
    await assertSameRuns(failed.dir, off.dir);
    await Deno.remove(root, { recursive: true });
  },
});

Deno.test({
  name:
    "sweep: populations write each member's salience at the analysed epochs and recalibrate batch norm as alone",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "sweep-pop-epochs-" });
    const config = (population: boolean | number) => {
      const c = sweepConfig(population);
      c.families = ["CNNSmall"];
      c.seeds = 2;
      c.salience.epochs = [1];
      c.training.preciseBN = 2;
      return c;
    };
    const off = await sweep(config(false), join(root, "off"));
    const on = await sweep(config(2), join(root, "on"));
    assertStringIncludes(on.text, "(2 together)");
    // Trained in segments from scratch: not resumed, and the epochs timed as training.
    assert(!on.text.includes("resumed from"), on.text);
    const training = on.phases.filter(([p]) => p.startsWith("training "));
    assertEquals(training.map(([p]) => p), ["training CNNSmall"]);
    assert(training[0]![1] > 0, `epochs booked as training: ${on.phases.join("; ")}`);
    await assertSameRuns(on.dir, off.dir);
    for (const r of await listRuns(on.dir)) {
      const rec = JSON.parse(await Deno.readTextFile(join(r.dir, "run.json"))) as RunJson;
      assert(rec.preciseBN, `${r.runId}: precise BN recorded`);
    }
    for (const r of await listRuns(off.dir)) {
      const file = join("epochs", "epoch-0001", "salience.npy");
      const [x, y] = await Promise.all(
        [join(on.dir, "runs", r.runId), r.dir].map(async (p) =>
          (await readNpy(join(p, file))).data
        ),
      );
      const e = maxRelError(x!, y!);
      assert(e <= TOLERANCE, `${r.runId} epoch-1 salience: relative error ${e}`);
    }
    await Deno.remove(root, { recursive: true });
  },
});
