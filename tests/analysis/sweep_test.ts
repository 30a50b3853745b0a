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
import { assert, assertAlmostEquals, assertEquals, cos, plant } from "./_synthetic.ts";
import { validateConfig } from "../../lib/sweep/config.ts";
import { presetConfig } from "../../lib/sweep/presets.ts";

const HASH = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/** A sweep folder whose runs hold planted gradients (run 5 left incomplete). */
async function fakeSweep(
  dir: string,
  analysis?: SweepConfig["analysis"],
  image: { shape: [number, number, number]; pool: number | null; unpooledFile: boolean } = {
    shape: [3, 2, 2],
    pool: null,
    unpooledFile: false,
  },
) {
  const [C, H, W] = image.shape;
  const D0 = C * H * W, P = image.pool;
  const D = P === null ? D0 : C * P * P;
  const p = plant({
    families: ["CNNSmall"],
    ks: [2, 4],
    seeds: 3,
    samples: 16,
    dim: D0,
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
    salience: { scalar: "true-class-logit", pool: P },
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
    const raw = p.data.subarray(i * 16 * D0, (i + 1) * 16 * D0);
    const write = async (file: string, pooling: number | null, values: Float32Array) => {
      const npy = join(runDir, file);
      await writeNpy(npy, [16, values.length / 16], values);
      await writeSidecar(npy, {
        format: "salience-gradients",
        version: 1,
        scalar: "true-class-logit",
        pooling,
        input: { channels: C, height: H, width: W },
        models: [{ family: r.family, k: r.k, seed: r.seed }],
        probe: { dataset: "synthetic", split: "test", count: 16 },
      });
    };
    await write("salience.npy", P, P === null ? raw : poolRowsDirect(raw, C, H, W, P));
    if (image.unpooledFile) await write("salience-unpooled.npy", null, raw);
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
      salience: { file: "salience.npy", shape: [16, D], sidecar: "salience.json" },
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

/** Area pooling written out for sizes that divide H and W: the mean of each (H/P)×(W/P) block. */
function poolRowsDirect(raw: Float32Array, C: number, H: number, W: number, P: number) {
  const n = raw.length / (C * H * W), bh = H / P, bw = W / P;
  const out = new Float32Array(n * C * P * P);
  for (let x = 0; x < n; x++) {
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < P; i++) {
        for (let j = 0; j < P; j++) {
          let s = 0;
          for (let a = 0; a < bh; a++) {
            for (let b = 0; b < bw; b++) {
              s += raw[x * C * H * W + c * H * W + (i * bh + a) * W + j * bw + b]!;
            }
          }
          out[((x * C + c) * P + i) * P + j] = s / (bh * bw);
        }
      }
    }
  }
  return out;
}

/** p(k, k) of the complete models of width k written out: mean over pairs and samples of cos. */
function pWithinDirect(values: Float32Array, dim: number, members: number[]) {
  let s = 0, n = 0;
  for (const a of members) {
    for (const b of members) {
      if (a === b) continue;
      for (let x = 0; x < 16; x++) {
        s += cos(
          values.subarray((a * 16 + x) * dim, (a * 16 + x + 1) * dim),
          values.subarray((b * 16 + x) * dim, (b * 16 + x + 1) * dim),
        );
        n++;
      }
    }
  }
  return s / n;
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

Deno.test("analyzeSweep() analyses unpooled salience pooled to 8×8 beside it, in pooling.json", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const p = await fakeSweep(dir, undefined, {
      shape: [2, 16, 16],
      pool: null,
      unpooledFile: false,
    });
    const r = await analyzeSweep(dir, { gpu: "cpu", resamples: 100 });
    assert(r.files.includes("pooling.json"), r.files.join());
    const f = assertAnalysisFile(
      JSON.parse(await Deno.readTextFile(join(dir, "analysis", "pooling.json"))),
      "pooling",
    );
    assertEquals(f.skipped, null);
    assertEquals(f.variants.map((v) => [v.pooling, v.dimension, v.folder, v.main]), [
      [null, 512, "", true],
      [8, 128, "pooling/pooled-8", false],
    ]);
    // Complete runs: k = 2 seeds 0..2 (models 0..2), k = 4 seeds 0, 2 (run 5 is incomplete).
    const pooled = poolRowsDirect(p.data, 2, 16, 16, 8);
    assertAlmostEquals(
      f.variants[1]!.groups[0]!.pWithin.mean!,
      pWithinDirect(pooled, 128, [0, 1, 2]),
      1e-5,
    );
    assertAlmostEquals(
      f.variants[0]!.groups[0]!.pWithin.mean!,
      pWithinDirect(p.data, 512, [0, 1, 2]),
      1e-5,
    );
    assertEquals(f.variants[1]!.adjacent.map((a) => [a.k1, a.k2]), [[2, 4]]);
    assert(f.variants[1]!.claims.some((c) => c.id === "similarity-rises-with-width"));
    // The pooled variant has its own folder with its own files.
    const sim = assertAnalysisFile(
      JSON.parse(
        await Deno.readTextFile(join(dir, "analysis", "pooling", "pooled-8", "similarity.json")),
      ),
      "similarity",
    );
    assertEquals(sim.gradients.pooling, 8);
    // paper.json takes ρ from the 8×8-pooled variant, as the authors' demo pooled.
    const paper = assertAnalysisFile(
      JSON.parse(await Deno.readTextFile(join(dir, "analysis", "paper.json"))),
      "paper",
    );
    assertEquals([paper.pooling, paper.family], [8, "CNNSmall"]);
    const pooledSim = assertAnalysisFile(
      JSON.parse(
        await Deno.readTextFile(join(dir, "analysis", "pooling", "pooled-8", "similarity.json")),
      ),
      "similarity",
    );
    assertEquals(paper.rows[0]!.ours.values[0]!.value, pooledSim.expected[0]![1]!.mean);
    assert(!paper.rows[0]!.differs.includes("instead of 8×8"), paper.rows[0]!.differs);
    assert(r.files.includes("paper.json"));
    // analysis.comparePooling: false leaves it out.
    await Deno.remove(join(dir, "analysis"), { recursive: true });
    const off = await analyzeSweep(dir, { gpu: "cpu", resamples: 50, comparePooling: false });
    assert(!off.files.includes("pooling.json"));
    // Without the pooled variant, ρ is the unpooled one and the difference is stated.
    assert(off.paper!.rows[0]!.differs.includes("unpooled instead of 8×8"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("analyzeSweep() of pooled salience reads the runs' unpooled file, or says why it cannot", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const p = await fakeSweep(dir, undefined, { shape: [1, 16, 16], pool: 8, unpooledFile: true });
    await analyzeSweep(dir, { gpu: "cpu", resamples: 100 });
    const read = async () =>
      assertAnalysisFile(
        JSON.parse(await Deno.readTextFile(join(dir, "analysis", "pooling.json"))),
        "pooling",
      );
    const f = await read();
    assertEquals(f.variants.map((v) => [v.pooling, v.dimension, v.folder]), [
      [8, 64, ""],
      [null, 256, "pooling/unpooled"],
    ]);
    assertAlmostEquals(
      f.variants[1]!.groups[0]!.pWithin.mean!,
      pWithinDirect(p.data, 256, [0, 1, 2]),
      1e-5,
    );
    const pooled = poolRowsDirect(p.data, 1, 16, 16, 8);
    assertAlmostEquals(
      f.variants[0]!.groups[0]!.pWithin.mean!,
      pWithinDirect(pooled, 64, [0, 1, 2]),
      1e-5,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const bare = await Deno.makeTempDir();
  try {
    await fakeSweep(bare, undefined, { shape: [1, 16, 16], pool: 8, unpooledFile: false });
    await analyzeSweep(bare, { gpu: "cpu", resamples: 50 });
    const f = assertAnalysisFile(
      JSON.parse(await Deno.readTextFile(join(bare, "analysis", "pooling.json"))),
      "pooling",
    );
    assertEquals(f.variants.length, 1);
    assert(f.skipped!.includes("salience-unpooled.npy"), f.skipped!);
  } finally {
    await Deno.remove(bare, { recursive: true });
  }
});
