// Sweeps over existing checkpoints (`checkpoints` in a config): our own checkpoint folders and
// run folders and .safetensors exports are loaded instead of trained, then take salience, the
// experiments, the analysis and the report; bad entries give one error naming them.
import { join } from "node:path";
import { loadDataset } from "../../lib/data/mod.ts";
import { createModel, type Family } from "../../lib/models/mod.ts";
import { readNpy } from "../../lib/npy/mod.ts";
import { inputGradients } from "../../lib/salience/mod.ts";
import { reportCli } from "../../lib/cli/report.ts";
import { listRuns, readRun } from "../../lib/store/mod.ts";
import { dryRunReport, parseSweepArgs } from "../../lib/cli/sweep.ts";
import { datasetOptions, loadConfigFile, resolveConfigFile } from "../../lib/sweep/config.ts";
import { buildPlan } from "../../lib/sweep/plan.ts";
import { presetConfig } from "../../lib/sweep/presets.ts";
import { runSweep } from "../../lib/sweep/runner.ts";
import { initTf } from "../../lib/tf/mod.ts";
import { exportSafetensors } from "../../lib/torch/mod.ts";
import { saveCheckpoint } from "../../lib/train/mod.ts";
import {
  assert,
  assertEquals,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "../_shared/assert.ts";
import { runOk } from "./_cli.ts";
import { SITE } from "../../site.ts";

await initTf({ backend: "cpu" });

const tiny = presetConfig("tiny");
const data = await loadDataset(tiny.dataset.name, datasetOptions(tiny));
const spec = (family: Family, k: number, seed: number) => ({
  family,
  k,
  seed,
  shape: data.shape,
  classes: data.classes.length,
});

/** Writes a model in one of the three forms a `weights` entry may name; returns its path. */
async function writeWeights(
  dir: string,
  family: Family,
  k: number,
  seed: number,
  form: "safetensors" | "checkpoint" | "run",
): Promise<string> {
  // Seeds 100+ so that the sweep's own initialisation (seed 0, 1) could not give these weights.
  const model = createModel(spec(family, k, 100 + seed));
  const name = `${family}-k${k}-s${seed}`;
  try {
    if (form === "safetensors") {
      await exportSafetensors(model, join(dir, `${name}.safetensors`));
      return `${name}.safetensors`;
    }
    const state = {
      format: "salience-train-checkpoint" as const,
      version: 1 as const,
      epochsDone: 3,
      history: [],
      optimizerStep: 0,
      rngState: 0,
      config: {},
    };
    const folder = await saveCheckpoint(join(dir, name, "checkpoint"), model, {
      state,
      optimizerWeights: [],
    });
    assert(folder.endsWith("epoch-0003"), folder);
    return form === "run" ? name : join(name, "checkpoint", "epoch-0003");
  } finally {
    model.dispose();
  }
}

const GRID: [Family, number, number, "safetensors" | "checkpoint" | "run"][] = [
  ["CNNSmall", 1, 0, "safetensors"],
  ["CNNSmall", 1, 1, "checkpoint"],
  ["CNNSmall", 2, 0, "run"],
  ["CNNSmall", 2, 1, "safetensors"],
  ["ResNetSmall", 1, 0, "checkpoint"],
  ["ResNetSmall", 1, 1, "safetensors"],
  ["ResNetSmall", 2, 0, "safetensors"],
  ["ResNetSmall", 2, 1, "run"],
];

async function writeConfig(dir: string, extra: Record<string, unknown> = {}): Promise<string> {
  const checkpoints = [];
  for (const [family, k, seed, form] of GRID) {
    checkpoints.push({ family, k, seed, weights: await writeWeights(dir, family, k, seed, form) });
  }
  const path = join(dir, "imported.json");
  await Deno.writeTextFile(
    path,
    JSON.stringify({
      preset: "tiny",
      analysis: { minTestAccuracy: null },
      checkpoints,
      ...extra,
    }),
  );
  return path;
}

Deno.test({
  name:
    "sweep --config with checkpoints trains nothing and runs salience, experiments, analysis and report on the given weights",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "ckpt-sweep-" });
    const config = await writeConfig(dir);
    const out = join(dir, "results");
    const dry = await runOk(["--config", config, "--dry-run"]);
    assertStringIncludes(dry.stdout, "training   none: 8 checkpoints loaded");
    assertStringIncludes(dry.stdout, "runs       8");
    const r = await runOk(["--config", config, "--out", out]);
    assertStringIncludes(r.stdout, "8 runs, 0 already complete");
    assertStringIncludes(r.stdout, "experiments: attack and ensembles done");
    assertStringIncludes(r.stdout, "analysed 8 models");
    assert(!/batch \d+\/\d+ loss/.test(r.stdout), "a checkpoint sweep must not train");

    const resolved = await loadConfigFile(config);
    const sweepDir = join(out, buildPlan(resolved).sweepId);
    const runs = await listRuns(sweepDir);
    assertEquals(runs.map((x) => x.status), Array(8).fill("complete"));
    for (const [i, [family, k, seed, form]] of GRID.entries()) {
      const run = await readRun(runs[i]!.dir);
      assertEquals([run.family, run.k, run.seed], [family, k, seed]);
      assertEquals(run.history, []);
      assertEquals(run.weights?.format, form === "safetensors" ? "safetensors" : "checkpoint");
      assert(run.final.testAcc >= 0 && run.final.testAcc <= 1, "test accuracy evaluated");
      // The salience is that of the listed weights (built with seed 100 + seed), not a fresh model.
      const model = createModel(spec(family, k, 100 + seed));
      const expected = await inputGradients(model, data.probe, {
        scalar: "true-class-logit",
        layout: "chw",
      });
      model.dispose();
      const got = (await readNpy(join(runs[i]!.dir, "salience.npy"))).data;
      assertEquals(Array.from(got), Array.from(expected), `${family} k=${k} seed ${seed}`);
    }
    const names = [];
    for await (const e of Deno.readDir(join(sweepDir, "analysis"))) names.push(e.name);
    for (const f of ["attacks.json", "ensembles.json", "similarity.json", "summary.json"]) {
      assert(names.includes(f), `analysis/${f} missing (have ${names.join(", ")})`);
    }
    const site = join(dir, "site");
    await reportCli(["--run", sweepDir, "--out", site], SITE);
    const index = await Deno.readTextFile(join(site, "index.html"));
    assertStringIncludes(index, buildPlan(resolved).sweepId);

    // Rerun: everything is complete, and moving the files keeps the sweep id.
    const again = await runOk(["--config", config, "--out", out]);
    assertStringIncludes(again.stdout, "8 runs, 8 already complete");
    const moved = join(dir, "moved");
    await Deno.mkdir(moved);
    for await (const e of Deno.readDir(dir)) {
      if (e.name !== "results" && e.name !== "site" && e.name !== "moved") {
        await Deno.rename(join(dir, e.name), join(moved, e.name));
      }
    }
    const fromMoved = await loadConfigFile(join(moved, "imported.json"));
    assertEquals(buildPlan(fromMoved).sweepId, buildPlan(resolved).sweepId);
    assertStringIncludes(fromMoved.checkpoints![0]!.weights, moved);
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test("a checkpoint config derives families, widths and seeds, and names each bad entry", () => {
  const entry = { family: "CNNSmall", k: 4, seed: 0, weights: "a.pt" };
  const c = resolveConfigFile({
    preset: "tiny",
    experiments: { ensembles: null },
    checkpoints: [entry, { ...entry, k: 2 }, { ...entry, family: "MLP", seed: 7 }],
  }, "c.json");
  assertEquals(c.families, ["CNNSmall", "MLP"]);
  assertEquals(c.widths, [2, 4]);
  assertEquals(c.seeds, 1);
  const bad = (checkpoints: unknown, extra: Record<string, unknown> = {}) => () =>
    resolveConfigFile(
      { preset: "tiny", experiments: { ensembles: null }, checkpoints, ...extra },
      "c.json",
    );
  assertThrows(bad([{ ...entry, family: "CNNsmall" }]), TypeError, "'checkpoints[0].family'");
  assertThrows(bad([entry, { ...entry, k: 0 }]), TypeError, "'checkpoints[1].k' is 0");
  assertThrows(bad([{ ...entry, path: "x" }]), TypeError, "unknown key 'checkpoints[0].path'");
  assertThrows(bad([entry, entry]), RangeError, "both CNNSmall k=4 seed 0");
  assertThrows(bad([]), TypeError, "non-empty array");
  assertThrows(bad([entry], { widths: [4] }), TypeError, "'widths' is set beside 'checkpoints'");
  assertThrows(
    bad([entry], { salience: { epochs: [1] } }),
    RangeError,
    "a config with 'checkpoints' trains nothing",
  );
});

Deno.test({
  name:
    "a checkpoint sweep names a missing file, a wrong family and a wrong width before running anything",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "ckpt-bad-" });
    const write = async (entries: unknown[]) => {
      const path = join(dir, "bad.json");
      await Deno.writeTextFile(
        path,
        JSON.stringify({
          preset: "tiny",
          experiments: { ensembles: null },
          checkpoints: entries,
        }),
      );
      return path;
    };
    await assertRejects(
      async () =>
        await parseSweepArgs([
          "--config",
          await write([
            { family: "CNNSmall", k: 1, seed: 0, weights: "nope.pt" },
          ]),
        ], {}),
      Deno.errors.NotFound,
      `checkpoints[0] (CNNSmall k=1 seed 0): ${join(dir, "nope.pt")} does not exist`,
    );
    const st = await writeWeights(dir, "CNNSmall", 1, 0, "safetensors");
    const ck = await writeWeights(dir, "CNNSmall", 2, 0, "checkpoint");
    const out = join(dir, "results");
    const run = async (entries: unknown[]) =>
      await runSweep(await loadConfigFile(await write(entries)), {
        out,
        sink: { write: () => {}, isTerminal: false },
      });
    await assertRejects(
      () => run([{ family: "ResNetSmall", k: 1, seed: 0, weights: st }]),
      TypeError,
      "ResNetSmall k=1 seed 0: ",
    );
    await assertRejects(
      () => run([{ family: "CNNSmall", k: 2, seed: 0, weights: st }]),
      TypeError,
      "but CNNSmall(2)",
    );
    await assertRejects(
      () => run([{ family: "CNNSmall", k: 3, seed: 0, weights: ck }]),
      TypeError,
      "holds CNNSmall_k2_s100 (",
    );
    // Nothing was run: no run folder holds a file.
    for (const s of await Array.fromAsync(Deno.readDir(out))) {
      const runsDir = join(out, s.name, "runs");
      const entries = await Array.fromAsync(Deno.readDir(runsDir)).catch(() => []);
      assertEquals(entries.length, 0, `${s.name} has run folders`);
    }
    // --checkpoints DIR: a folder without <Family>_k<K>_s<SEED> files, and an unknown family.
    const empty = join(dir, "empty");
    await Deno.mkdir(empty);
    await Deno.writeTextFile(join(empty, "model.pt"), "");
    await assertRejects(
      () => parseSweepArgs(["--preset", "tiny", "--checkpoints", empty], {}),
      Deno.errors.NotFound,
      "holds no file named <Family>_k<K>_s<SEED>.pt",
    );
    await assertRejects(
      () =>
        parseSweepArgs(["--preset", "tiny", "--checkpoints", empty, "--epochs-analysed", "1"], {}),
      RangeError,
      "a sweep over checkpoints trains nothing",
    );
    await Deno.writeTextFile(join(empty, "LeNet_k1_s0.pt"), "");
    await assertRejects(
      () => parseSweepArgs(["--preset", "tiny", "--checkpoints", empty], {}),
      TypeError,
      "'LeNet' is not a family",
    );
    const plain = dryRunReport(presetConfig("tiny"), { index: 0, count: 1, source: "none" });
    assertStringIncludes(plain, "training   1 epochs");
    await Deno.remove(dir, { recursive: true });
  },
});
