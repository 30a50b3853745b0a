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
import {
  METHODS_RECORD,
  type MethodsIndexJson,
  methodsOf,
  type RunMethodsJson,
} from "../../lib/sweep/salience_methods.ts";

Deno.test("presets without salience.methods keep the sweep and run ids they had before the key", () => {
  // Ids printed by buildPlan() before `salience.methods` existed.
  const tiny = buildPlan(presetConfig("tiny")), def = buildPlan(presetConfig("default"));
  assertEquals([tiny.sweepId, tiny.runs[0]!.runId], ["tiny-ebb32b98", "CNNSmall-k1-s0-e824352b"]);
  assertEquals([def.sweepId, def.runs[0]!.runId], ["default-b94255b6", "CNNSmall-k2-s0-e970a436"]);
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

Deno.test({
  name:
    "runSweep() writes every method's salience per run and analyses each into analysis/methods/",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const out = await Deno.makeTempDir({ prefix: "sweep-methods-" });
    const base = presetConfig("tiny");
    const config: SweepConfig = {
      ...base,
      name: "methods",
      families: ["CNNSmall"],
      seeds: 2,
      salience: {
        ...base.salience,
        methods: ["gradient", "gradient-x-input", "smoothgrad", "integrated-gradients"],
        smoothGrad: { samples: 2, sigma: 0.1, seed: 1 },
        integratedGradients: { steps: 4, baseline: "black" },
      },
      experiments: { logits: false, ensembles: null, attack: null },
    };
    const lines: string[] = [];
    const sink = { write: (s: string) => void lines.push(s), isTerminal: false };
    try {
      const r = await runSweep(config, { out, sink });
      assert(r.analyzed, "analysis ran");
      const data = await loadDataset(config.dataset.name, datasetOptions(config));
      const { channels: C, height: H, width: W } = data.shape, per = C * H * W;
      const runs = (await listRuns(r.sweepDir)).filter((x) => x.status === "complete");
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
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});
