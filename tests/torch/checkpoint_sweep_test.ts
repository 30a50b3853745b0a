// From a folder of PyTorch checkpoints to an analysis: PyTorch writes seeded state dicts with
// non-trivial batch-norm statistics and its own input gradients on the sweep's probe images
// (tests/torch/oracle.py, task "families"); `deno task sweep --checkpoints DIR` takes the folder,
// trains nothing, and its salience is PyTorch's.
import { join } from "node:path";
import { loadDataset } from "../../lib/data/mod.ts";
import type { Family } from "../../lib/models/mod.ts";
import { readNpy, writeNpy } from "../../lib/npy/mod.ts";
import { listRuns, readRun } from "../../lib/store/mod.ts";
import { parseSweepArgs } from "../../lib/cli/sweep.ts";
import { datasetOptions } from "../../lib/sweep/config.ts";
import { buildPlan } from "../../lib/sweep/plan.ts";
import { presetConfig } from "../../lib/sweep/presets.ts";
import { assert, assertEquals, assertStringIncludes } from "../_shared/assert.ts";
import { runOk } from "../sweep/_cli.ts";
import { cosine, relativeError, runOracle, torchTest } from "./_oracle.ts";

torchTest(
  "sweep --checkpoints DIR of PyTorch checkpoints takes PyTorch's input gradients and analyses them",
  async () => {
    const tiny = presetConfig("tiny");
    const data = await loadDataset(tiny.dataset.name, datasetOptions(tiny));
    const { channels: C, height: H, width: W } = data.shape, N = data.probe.count;
    // The probe images as PyTorch takes them: NCHW.
    const nchw = new Float32Array(N * C * H * W);
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        for (let p = 0; p < H * W; p++) {
          nchw[(n * C + c) * H * W + p] = data.probe.images[(n * H * W + p) * C + c]!;
        }
      }
    }
    const dir = await Deno.makeTempDir({ prefix: "torch-sweep-" });
    await writeNpy(join(dir, "probe.npy"), [N, C, H, W], nchw);
    const grid: [Family, number, number][] = [];
    for (const family of ["CNNSmall", "ResNetSmall"] as Family[]) {
      for (const k of [1, 2]) for (const seed of [0, 1]) grid.push([family, k, seed]);
    }
    const cases = grid.map(([family, k, seed]) => ({
      name: `${family}_k${k}_s${seed}`, // the names --checkpoints DIR takes
      family,
      k,
      seed: 20 + seed + 2 * k,
      shape: [C, H, W],
      classes: data.classes.length,
      x: join(dir, "probe.npy"),
      labels: Array.from(data.probe.labels),
    }));
    const oracle = await runOracle({ task: "families", cases });
    // The data set, salience and experiments from a config; the models from the folder.
    const config = join(dir, "base.json");
    await Deno.writeTextFile(
      config,
      JSON.stringify({ preset: "tiny", analysis: { minTestAccuracy: null } }),
    );
    const args = ["--config", config, "--checkpoints", oracle.dir];
    const out = join(dir, "results");
    const r = await runOk([...args, "--out", out]);
    assertStringIncludes(r.stdout, "8 runs, 0 already complete");
    assertStringIncludes(r.stdout, "analysed 8 models");
    const sweepDir = join(out, buildPlan((await parseSweepArgs(args, {})).config).sweepId);
    const runs = await listRuns(sweepDir);
    for (const [i, c] of cases.entries()) {
      const run = await readRun(runs[i]!.dir);
      assertEquals(run.weights?.format, "torch");
      assertEquals(run.history, []);
      const got = (await readNpy(join(runs[i]!.dir, "salience.npy"))).data;
      const want = (await readNpy(join(oracle.dir, `${c.name}.grads.npy`))).data;
      const rel = relativeError(got, want);
      assert(rel <= 1e-4, `${c.name}: gradients differ by ${rel} relative`);
      const per = C * H * W;
      let compared = 0;
      for (let n = 0; n < N; n++) {
        const g = got.subarray(n * per, (n + 1) * per), e = want.subarray(n * per, (n + 1) * per);
        // A probe image whose true-class logit is flat (dead ReLUs at k = 1) has no direction.
        if (e.every((v) => v === 0)) continue;
        const cos = cosine(g, e);
        assert(cos >= 0.9999, `${c.name} probe ${n}: cosine ${cos}`);
        compared++;
      }
      assert(compared >= N / 2, `${c.name}: only ${compared} of ${N} gradients are non-zero`);
    }
    const summary = JSON.parse(
      await Deno.readTextFile(join(sweepDir, "analysis", "summary.json")),
    );
    assertEquals(summary.counts.models, 8);
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(oracle.dir, { recursive: true });
  },
);
