// Several attribution methods analysed from one set of trained models, in one tiny sweep.
import { join } from "node:path";
import { assert, assertEquals, assertRejects } from "../_shared/assert.ts";
import { readNpy } from "../../lib/npy/mod.ts";
import { loadDataset } from "../../lib/data/mod.ts";
import { listRuns, type SweepConfig, verifyRun } from "../../lib/store/mod.ts";
import { buildPlan } from "../../lib/sweep/plan.ts";
import { presetConfig } from "../../lib/sweep/presets.ts";
import { datasetOptions, resolveConfigFile, validateConfig } from "../../lib/sweep/config.ts";
import { runSweep } from "../../lib/sweep/runner.ts";
import { dryRunReport, parseSweepArgs } from "../../lib/cli/sweep.ts";
import { epochSalienceFile, type EpochsJson } from "../../lib/sweep/epochs.ts";
import {
  METHODS_RECORD,
  type MethodsIndexJson,
  methodsOf,
  type RunMethodsJson,
} from "../../lib/sweep/salience_methods.ts";

/**
 * The tiny preset with one family and the experiments off, `over` on top (`training` merged into
 * the preset's): the sweep every test here trains.
 */
function tinySweep(
  name: string,
  over: Omit<Partial<SweepConfig>, "training"> & { training?: Partial<SweepConfig["training"]> } =
    {},
): SweepConfig {
  const base = presetConfig("tiny");
  return {
    ...base,
    name,
    families: ["CNNSmall"],
    experiments: { logits: false, ensembles: null, attack: null },
    ...over,
    training: { ...base.training, ...over.training },
  };
}

/** A test that trains sweeps into a fresh folder `out`, removed afterwards. */
function sweepTest(name: string, fn: (out: string) => Promise<void>): void {
  Deno.test({
    name,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const out = await Deno.makeTempDir({ prefix: "sweep-methods-" });
      try {
        await fn(out);
      } finally {
        await Deno.remove(out, { recursive: true });
      }
    },
  });
}

/** The complete runs of a sweep folder. */
async function completeRuns(sweepDir: string) {
  return (await listRuns(sweepDir)).filter((x) => x.status === "complete");
}

/**
 * `plain` with salience after `epochs`, swept and analysed, beside `plain` swept without
 * analysis: the runs of each and the analysis' `epochs.json`.
 */
async function withAndWithoutEpochs(out: string, plain: SweepConfig, epochs: number[]) {
  const config: SweepConfig = { ...plain, salience: { ...plain.salience, epochs } };
  const sink = { write: () => {}, isTerminal: false };
  const r = await runSweep(config, { out, sink });
  const ref = await runSweep(plain, { out, sink, analyze: false });
  return {
    config,
    sink,
    sweepDir: r.sweepDir,
    runs: await completeRuns(r.sweepDir),
    refRuns: await completeRuns(ref.sweepDir),
    epochs: JSON.parse(
      await Deno.readTextFile(join(r.sweepDir, "analysis", "epochs.json")),
    ) as EpochsJson,
  };
}

Deno.test("presets without salience.methods keep the sweep and run ids they had before the key", () => {
  // Ids printed by buildPlan() before `salience.methods` existed (tiny), and since the default
  // preset took its trained recipe (4,000 images × 3 epochs, lr 0.15 decayed linearly, precise
  // BN), which changed its ids.
  const tiny = buildPlan(presetConfig("tiny")), def = buildPlan(presetConfig("default"));
  assertEquals([tiny.sweepId, tiny.runs[0]!.runId], ["tiny-ebb32b98", "CNNSmall-k1-s0-e824352b"]);
  assertEquals([def.sweepId, def.runs[0]!.runId], ["default-1ea1de7b", "CNNSmall-k2-s0-aa29a362"]);
  assertEquals(methodsOf(presetConfig("tiny")), ["gradient"]);
});

Deno.test("resolveConfigFile() fills the methods' settings and rejects unknown methods", async () => {
  const c = resolveConfigFile({
    preset: "tiny",
    salience: {
      methods: ["gradient", "smoothgrad", "integrated-gradients"],
      smoothGrad: { samples: 3 },
    },
  }, "m.json");
  assertEquals(c.salience.smoothGrad, { samples: 3, sigma: 0.15, seed: 0 });
  assertEquals(c.salience.integratedGradients, { steps: 32, baseline: "zero" });
  await assertRejects(
    () =>
      Promise.resolve(
        resolveConfigFile({ preset: "tiny", salience: { methods: ["lime"] } }, "m.json"),
      ),
    TypeError,
    "salience.methods",
  );
  const bad = { ...presetConfig("tiny") };
  bad.salience = { ...bad.salience, epochs: [1, 5] };
  await assertRejects(
    () => Promise.resolve(validateConfig(bad, "x")),
    RangeError,
    "salience.epochs",
  );
});

sweepTest(
  "runSweep() writes every method's salience per run and analyses each into analysis/methods/",
  async (out) => {
    const base = presetConfig("tiny");
    const config = tinySweep("methods", {
      seeds: 2,
      salience: {
        ...base.salience,
        methods: ["gradient", "gradient-x-input", "smoothgrad", "integrated-gradients"],
        smoothGrad: { samples: 2, sigma: 0.1, seed: 1 },
        integratedGradients: { steps: 4, baseline: "black" },
      },
    });
    const lines: string[] = [];
    const sink = { write: (s: string) => void lines.push(s), isTerminal: false };
    const r = await runSweep(config, { out, sink });
    assert(r.analyzed, "analysis ran");
    const data = await loadDataset(config.dataset.name, datasetOptions(config));
    const { channels: C, height: H, width: W } = data.shape, per = C * H * W;
    const runs = await completeRuns(r.sweepDir);
    assertEquals(runs.length, 4);
    for (const run of runs) {
      const g = (await readNpy(join(run.dir, "salience.npy"))).data;
      const gxi = (await readNpy(join(run.dir, "salience-gradient-x-input.npy"))).data;
      // Gradient × Input is the run's own gradient (C×H×W rows) times the NHWC probe image.
      for (let i = 0; i < data.probe.count; i++) {
        for (let c = 0; c < C; c++) {
          for (let p = 0; p < H * W; p++) {
            const x = data.probe.images[i * per + p * C + c]!, j = i * per + c * H * W + p;
            assert(Math.abs(gxi[j]! - g[j]! * x) <= 1e-5 * Math.max(1, Math.abs(g[j]! * x)));
          }
        }
      }
      const rec = JSON.parse(
        await Deno.readTextFile(join(run.dir, METHODS_RECORD)),
      ) as RunMethodsJson;
      assertEquals(rec.methods.map((m) => m.method), [
        "gradient-x-input",
        "smoothgrad",
        "integrated-gradients",
      ]);
      const ig = rec.methods[2]!;
      assert(ig.completeness !== null && Number.isFinite(ig.completeness.relativeError));
      // The black baseline is raw 0: −mean/std per channel.
      const baseline = (ig.settings as { baseline: number[] }).baseline;
      assertEquals(baseline, data.mean.map((m, c) => -m / data.std[c]!));
      assertEquals((await verifyRun(run.dir)).status, "complete");
    }
    const analysis = join(r.sweepDir, "analysis");
    const index = JSON.parse(
      await Deno.readTextFile(join(analysis, "methods", "index.json")),
    ) as MethodsIndexJson;
    assertEquals(index.methods.map((m) => [m.method, m.dir]), [
      ["gradient", "."],
      ["gradient-x-input", "methods/gradient-x-input"],
      ["smoothgrad", "methods/smoothgrad"],
      ["integrated-gradients", "methods/integrated-gradients"],
    ]);
    assertEquals(index.methods[3]!.completeness?.runs, 4);
    const sim = (m: string) => Deno.readTextFile(join(analysis, m, "similarity.json"));
    const gradSim = await sim(".");
    for (const m of index.methods.slice(1)) {
      const s = await sim(m.dir);
      assert(s !== gradSim, `${m.method}: the same similarity as the gradient`);
      await Deno.stat(join(analysis, m.dir, "claims.json"));
    }
    assert(lines.join("").includes("method smoothgrad"), "per-method claims logged");

    // A corrupted method file is redone from the checkpoint, bit for bit.
    const victim = join(runs[0]!.dir, "salience-smoothgrad.npy");
    const before = await Deno.readFile(victim);
    const bad = before.slice();
    bad[bad.length - 1] = bad[bad.length - 1]! ^ 0xff;
    await Deno.writeFile(victim, bad);
    assertEquals((await verifyRun(runs[0]!.dir)).status, "partial");
    await runSweep(config, { out, sink, analyze: false });
    assertEquals(await Deno.readFile(victim), before);
    assertEquals((await verifyRun(runs[0]!.dir)).status, "complete");
  },
);

sweepTest(
  "runSweep() with salience.epochs keeps each analysed epoch's salience and analyses p(k,k) and accuracy per epoch",
  async (out) => {
    const plain = tinySweep("epochs", { training: { epochs: 3 } });
    const { config, sink, sweepDir, runs, refRuns, epochs } = await withAndWithoutEpochs(
      out,
      plain,
      [1, 2, 3],
    );
    assertEquals(runs.length, 4);
    const histories: Record<string, number[]> = {};
    for (const [i, run] of runs.entries()) {
      const final = await Deno.readFile(join(run.dir, "salience.npy"));
      // The model after the last analysed epoch is the final model, and stopping at every
      // analysed epoch trains the same model as one uninterrupted call.
      assertEquals(await Deno.readFile(join(run.dir, epochSalienceFile(3))), final);
      assertEquals(await Deno.readFile(join(refRuns[i]!.dir, "salience.npy")), final);
      const e1 = await Deno.readFile(join(run.dir, epochSalienceFile(1)));
      assert(e1.length === final.length && e1.some((b, j) => b !== final[j]), "epoch 1 differs");
      const rec = JSON.parse(await Deno.readTextFile(join(run.dir, "run.json")));
      histories[run.runId] = rec.history.map((h: { testAcc: number }) => h.testAcc);
    }
    assertEquals(epochs.rows.map((x) => [x.k, x.epoch]), [
      [1, 1],
      [1, 2],
      [1, 3],
      [2, 1],
      [2, 2],
      [
        2,
        3,
      ],
    ]);
    for (const row of epochs.rows) {
      const accs = runs.filter((x) => x.runId.includes(`-k${row.k}-`)).map((x) =>
        histories[x.runId]![row.epoch - 1]!
      );
      assert(Math.abs(row.testAcc! - (accs[0]! + accs[1]!) / 2) < 1e-12, "test accuracy");
    }
    // At the last epoch p(k,k) equals the sweep's own analysis of the final salience.
    const sim = JSON.parse(
      await Deno.readTextFile(join(sweepDir, "analysis", "similarity.json")),
    );
    const fam = sim.byFamily[0];
    for (const row of epochs.rows.filter((x) => x.epoch === 3)) {
      const i = fam.ks.indexOf(row.k);
      assert(
        Math.abs(row.pKK! - fam.mean[i][i]) < 1e-9,
        `p(k,k) ${row.pKK} vs ${fam.mean[i][i]}`,
      );
    }
    assertEquals(epochs.matrices.length, 3);

    // A lost epoch file retrains the run from scratch and gives back the same bytes.
    const lost = join(runs[0]!.dir, epochSalienceFile(2));
    const before = await Deno.readFile(lost);
    await Deno.remove(lost);
    await runSweep(config, { out, sink, analyze: false });
    assertEquals(await Deno.readFile(lost), before);
    assertEquals((await verifyRun(runs[0]!.dir)).status, "complete");

    const text = dryRunReport(
      (await parseSweepArgs(["--preset", "tiny", "--epochs-analysed", "all"], {})).config,
      { index: 0, count: 1, source: "none" },
    );
    assert(text.includes("epochs     salience after epochs 1:"), text);
  },
);

sweepTest(
  "with precise BN each analysed epoch's salience comes from the recalibrated model, and training is untouched",
  async (out) => {
    const plain = tinySweep("epochs-bn", { widths: [1], training: { epochs: 2, preciseBN: 2 } });
    const { runs, refRuns, epochs } = await withAndWithoutEpochs(out, plain, [1, 2]);
    assert(runs.length >= 2 && runs.length === refRuns.length, `${runs.length} runs`);
    const accs: number[] = [];
    for (const [i, run] of runs.entries()) {
      const final = await Deno.readFile(join(run.dir, "salience.npy"));
      // The last analysed epoch is the final, recalibrated model; recalibrating at epoch 1
      // and putting the statistics back leaves the training as it is without epochs.
      assertEquals(await Deno.readFile(join(run.dir, epochSalienceFile(2))), final);
      assertEquals(await Deno.readFile(join(refRuns[i]!.dir, "salience.npy")), final);
      const rec = JSON.parse(await Deno.readTextFile(join(run.dir, "run.json")));
      assert(rec.preciseBN?.batches === 2, "the final model is recalibrated");
      const bnOf = async (e: number) =>
        JSON.parse(
          await Deno.readTextFile(
            join(run.dir, epochSalienceFile(e).replace("salience.npy", "precise_bn.json")),
          ),
        );
      const last = await bnOf(2), first = await bnOf(1);
      assertEquals([last.batches, first.batches], [2, 2]);
      // Epoch 2's recalibrated test accuracy is the run's final one.
      assertEquals(last.test.acc, rec.final.testAcc);
      accs.push(first.test.acc);
      assertEquals((await verifyRun(run.dir)).status, "complete");
    }
    const row = epochs.rows.find((x) => x.epoch === 1)!;
    const mean = accs.reduce((a, b) => a + b, 0) / accs.length;
    assert(Math.abs(row.testAcc! - mean) < 1e-12, `epoch 1 accuracy ${row.testAcc} vs ${mean}`);
  },
);
