import { join } from "node:path";
import { writeNpy, writeSidecar } from "../../lib/npy/mod.ts";
import {
  markComplete,
  runDirOf,
  runIdOf,
  type RunJson,
  type SweepConfig,
  writePlan,
  writeRun,
  writeSweep,
} from "../../lib/store/mod.ts";
import { analyzeSweep, assertAnalysisFile, type EnsemblesFile } from "../../lib/analysis/mod.ts";
import { assert, assertEquals, plant } from "./_synthetic.ts";
import { validateConfig } from "../../lib/sweep/config.ts";
import { presetConfig } from "../../lib/sweep/presets.ts";

const HASH = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/** A sweep folder whose runs hold planted gradients (run 5 left incomplete). */
async function fakeSweep(dir: string, analysis?: SweepConfig["analysis"]) {
  const p = plant({
    families: ["CNNSmall"],
    ks: [2, 4],
    seeds: 3,
    samples: 16,
    dim: 12,
    sigma: (k) => 4 / k,
    seed: 2,
  });
  const config = {
    name: "fake",
    dataset: { name: "synthetic", dir: null, trainImages: 8, testImages: 8, probeImages: 16 },
    families: ["CNNSmall"],
    widths: [2, 4],
    seeds: 3,
    training: { epochs: 1, batchSizes: [64], lr: 0.1, schedule: "constant" },
    salience: { scalar: "true-class-logit", pool: null },
    experiments: { logits: false, ensembles: null, attack: null },
    backend: "cpu",
    ...(analysis ? { analysis } : {}),
  } as SweepConfig;
  await writeSweep(dir, {
    schemaVersion: 1,
    kind: "sweep",
    sweepId: "fake-01234567",
    configHash: HASH,
    created: new Date().toISOString(),
    toolkit: { name: "t", version: "0" },
    config,
  });
  const runs = p.models.map((m, index) => ({
    index,
    runId: runIdOf({ ...m, configHash: HASH }),
    family: m.family,
    k: m.k,
    seed: m.seed,
    batchSize: 64,
    configHash: HASH,
  }));
  await writePlan(dir, {
    schemaVersion: 1,
    kind: "plan",
    sweepId: "fake-01234567",
    configHash: HASH,
    runs,
    sharding: { rule: "round-robin", description: "index % n" },
  });
  for (const [i, r] of runs.entries()) {
    const runDir = runDirOf(dir, r.runId);
    await Deno.mkdir(runDir, { recursive: true });
    const npy = join(runDir, "salience.npy");
    await writeNpy(npy, [16, 12], p.data.subarray(i * 16 * 12, (i + 1) * 16 * 12));
    await writeSidecar(npy, {
      format: "salience-gradients",
      version: 1,
      scalar: "true-class-logit",
      pooling: null,
      input: { channels: 3, height: 2, width: 2 },
      models: [{ family: r.family, k: r.k, seed: r.seed }],
      probe: { dataset: "synthetic", split: "test", count: 16 },
    });
    const run = {
      schemaVersion: 1,
      kind: "run",
      runId: r.runId,
      family: r.family,
      k: r.k,
      seed: r.seed,
      batchSize: 64,
      configHash: HASH,
      params: 10,
      backend: { tfjs: "cpu", adapter: null, software: false },
      input: { shape: [3, 2, 2], classes: 10 },
      history: [],
      final: { testLoss: 1, testAcc: 0.5 + i / 100 },
      salience: { file: "salience.npy", shape: [16, 12], sidecar: "salience.json" },
      logits: null,
      seconds: { train: 0, salience: 0 },
      started: new Date().toISOString(),
      finished: new Date().toISOString(),
    } as unknown as RunJson;
    await writeRun(runDir, run);
    if (i !== 5) await markComplete(runDir, r.runId);
  }
  return p;
}

Deno.test("analyzeSweep() reads complete runs only and writes every analysis file with experiment claims", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await fakeSweep(dir);
    const ensembles: EnsemblesFile = {
      schemaVersion: 1,
      kind: "ensembles",
      generatedAt: "",
      source: "x",
      samples: 16,
      curves: [],
      singles: [],
      claims: [{
        id: "ensemble-loss-falls",
        statement: "s",
        measure: "m",
        value: null,
        interval: null,
        threshold: 0,
        verdict: "inconclusive",
        reason: "r",
        pairs: 0,
      }],
    };
    const r = await analyzeSweep(dir, { gpu: "cpu", resamples: 100, ensembles });
    const sim = assertAnalysisFile(
      JSON.parse(await Deno.readTextFile(join(dir, "analysis", "similarity.json"))),
      "similarity",
    );
    assertEquals(sim.models.length, 5);
    assertEquals(sim.source, "fake-01234567");
    assertEquals(sim.groups.map((g) => [g.k, g.members.length]), [[2, 3], [4, 2]]);
    assertEquals(sim.gradients.inputShape, [3, 2, 2]);
    const claims = assertAnalysisFile(
      JSON.parse(await Deno.readTextFile(join(dir, "analysis", "claims.json"))),
      "claims",
    );
    assert(claims.claims.some((c) => c.id === "ensemble-loss-falls"));
    assert(claims.claims.some((c) => c.id === "similarity-rises-with-width"));
    assert(r.files.includes("ensembles.json") && !r.files.includes("attacks.json"));
    // Re-analysing keeps the ensembles file written earlier and its claims.
    const again = await analyzeSweep(dir, { gpu: "cpu", resamples: 100 });
    assert(again.claims.claims.some((c) => c.id === "ensemble-loss-falls"));
    assertEquals(again.summary.skipped.map((s) => s.file).sort(), [
      "attacks.json",
      "batch_size.json",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("analyzeSweep() applies the default accuracy floor, or the config's, and lists the models it left out", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await fakeSweep(dir);
    const r = await analyzeSweep(dir, { gpu: "cpu", resamples: 50 });
    // Accuracies 0.50 … 0.54 of the five complete runs are all below the default 0.75.
    assertEquals(r.accuracyFloor!.minTestAccuracy, 0.75);
    assertEquals(r.accuracyFloor!.excluded.map((e) => e.accuracy), [0.5, 0.51, 0.52, 0.53, 0.54]);
    assertEquals(r.accuracyFloor!.range, [0.5, 0.54]);
    const rise = r.claims.claims.find((c) => c.id === "similarity-rises-with-width")!;
    assertEquals(rise.verdict, "inconclusive");
    assert(rise.reason.includes("below the accuracy floor"), rise.reason);
    const dir2 = await Deno.makeTempDir();
    try {
      await fakeSweep(dir2, { minTestAccuracy: 0.52 });
      const r2 = await analyzeSweep(dir2, { gpu: "cpu", resamples: 50 });
      assertEquals(r2.accuracyFloor!.excluded.map((e) => e.accuracy), [0.5, 0.51]);
      const off = await analyzeSweep(dir2, { gpu: "cpu", resamples: 50, minTestAccuracy: null });
      assertEquals(off.accuracyFloor!.excluded, []);
    } finally {
      await Deno.remove(dir2, { recursive: true });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("validateConfig() takes analysis.minTestAccuracy in [0, 1] or null and refuses others", () => {
  const tiny = presetConfig("tiny");
  validateConfig({ ...tiny, analysis: { minTestAccuracy: 0.6 } }, "a.json");
  validateConfig({ ...tiny, analysis: { minTestAccuracy: null } }, "a.json");
  validateConfig({ ...tiny, analysis: {} }, "a.json");
  let msg = "";
  try {
    validateConfig({ ...tiny, analysis: { minTestAccuracy: 75 } }, "a.json");
  } catch (e) {
    msg = (e as Error).message;
  }
  assert(msg.includes("'analysis.minTestAccuracy' is 75; expected a number in [0, 1]"), msg);
});
