// End to end through the CLI, as separate processes: the tiny preset in one process versus three
// shards, a run killed mid-training and resumed, and artifacts corrupted and redone.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { assert, assertEquals, assertStringIncludes } from "../_shared/assert.ts";
import { ROOT, runOk, sweepCommand } from "./_cli.ts";
import { exists, listRuns, type RunJson, verifyRun } from "../../lib/store/mod.ts";
import { buildPlan } from "../../lib/sweep/plan.ts";
import { presetConfig } from "../../lib/sweep/presets.ts";
import { resolveConfigFile } from "../../lib/sweep/config.ts";

const TINY_ID = buildPlan(presetConfig("tiny")).sweepId;
const ANALYZE_CLI = fileURLToPath(new URL("../../lib/cli/analyze.ts", import.meta.url));

/** JSON without the keys that record when or how long (they differ between processes). */
function timeless(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(timeless);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (
        /^(generatedAt|timings|seconds|started|finished|completed|created|samplesPerSecond)$/.test(
          k,
        )
      ) continue;
      out[k] = timeless(v);
    }
    return out;
  }
  return value;
}

async function readTree(dir: string): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile) out.set(e.name, await Deno.readFile(join(dir, e.name)));
  }
  return out;
}

async function runRecord(runDir: string): Promise<unknown> {
  return timeless(JSON.parse(await Deno.readTextFile(join(runDir, "run.json"))));
}

Deno.test({
  name:
    "sweep CLI: three shard processes then --analyze or analyze --run give the runs and analysis of one process",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "sweep-e2e-" });
    const one = join(root, "one"), three = join(root, "three");
    const single = await runOk(["--preset", "tiny", "--out", one]);
    assertStringIncludes(single.stdout, "backend: TensorFlow.js CPU backend");
    assertStringIncludes(single.stdout, "[8/8]");
    assertStringIncludes(single.stdout, "deno task serve");

    const shardOut = await Promise.all([0, 1, 2].map(async (i) => {
      const r = await sweepCommand(["--preset", "tiny", "--out", three, "--shard", `${i}/3`])
        .output();
      const text = new TextDecoder().decode(r.stdout);
      assertEquals(r.code, 0, new TextDecoder().decode(r.stderr));
      return text;
    }));
    // Shards train disjoint runs covering the plan, and do not analyse.
    const trained = shardOut.map((t) => [...t.matchAll(/\] (\S+): complete/g)].map((m) => m[1]!));
    assertEquals(trained.map((t) => t.length), [3, 3, 2]);
    assertEquals(new Set(trained.flat()).size, 8);
    for (const t of shardOut) {
      assertStringIncludes(t, "deno task analyze --run");
      assert(!t.includes("analysed"), "a shard must not analyse");
    }
    const dir1 = join(one, TINY_ID), dir3 = join(three, TINY_ID);
    assert(!(await Deno.stat(join(dir3, "analysis")).catch(() => null)), "no analysis yet");
    const analyze = await runOk(["--preset", "tiny", "--out", three, "--analyze"]);
    assertStringIncludes(analyze.stdout, "8 already complete");
    assertStringIncludes(analyze.stdout, "analysed 8 models");

    for (const r of await listRuns(dir1)) {
      assertEquals((await verifyRun(join(dir3, "runs", r.runId))).status, "complete");
      assertEquals(await runRecord(join(dir3, "runs", r.runId)), await runRecord(r.dir));
      const [a, b] = await Promise.all(
        [r.dir, join(dir3, "runs", r.runId)].map((d) => Deno.readFile(join(d, "salience.npy"))),
      );
      assertEquals(a, b, `salience of ${r.runId}`);
    }
    const an1 = await readTree(join(dir1, "analysis")),
      an3 = await readTree(join(dir3, "analysis"));
    assertEquals([...an3.keys()].sort(), [...an1.keys()].sort());
    assert(an1.has("attacks.json") && an1.has("ensembles.json") && an1.has("similarity.json"));
    const dec = new TextDecoder();
    for (const [name, bytes] of an1) {
      assertEquals(
        timeless(JSON.parse(dec.decode(an3.get(name)!))),
        timeless(JSON.parse(dec.decode(bytes))),
        name,
      );
    }

    // `deno task analyze --run` (experiments, then analysis) on the sharded sweep: the same files.
    const cliOut = join(root, "analyze-cli");
    const cli = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", ANALYZE_CLI, "--run", dir3, "--out", cliOut],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
    }).output();
    assertEquals(cli.code, 0, dec.decode(cli.stderr));
    assertStringIncludes(dec.decode(cli.stdout), "experiments: attack and ensembles done");
    const anCli = await readTree(cliOut);
    assertEquals([...anCli.keys()].sort(), [...an1.keys()].sort());
    for (const [name, bytes] of an1) {
      assertEquals(
        timeless(JSON.parse(dec.decode(anCli.get(name)!))),
        timeless(JSON.parse(dec.decode(bytes))),
        `analyze --run: ${name}`,
      );
    }

    // Corrupt four runs in four ways; a rerun redoes exactly those artifacts.
    const runs = await listRuns(dir1);
    const [ra, rb, rc, rd] = runs as [
      typeof runs[0],
      typeof runs[0],
      typeof runs[0],
      typeof runs[0],
    ];
    const salA = await Deno.readFile(join(ra.dir, "salience.npy"));
    const flipped = salA.slice();
    flipped[flipped.length - 3]! ^= 0x40;
    await Deno.writeFile(join(ra.dir, "salience.npy"), flipped);
    await Deno.writeFile(
      join(rb.dir, "logits.npy"),
      (await Deno.readFile(join(rb.dir, "logits.npy"))).slice(0, 100),
    );
    const ck = join(rc.dir, "checkpoint", "epoch-0001", "weights.bin");
    const w = await Deno.readFile(ck);
    w[10]! ^= 0xff;
    await Deno.writeFile(ck, w);
    const salC = await Deno.readFile(join(rc.dir, "salience.npy"));
    const recD = await runRecord(rd.dir);
    await Deno.remove(join(rd.dir, "run.json"));
    const completeE = await Deno.readTextFile(join(runs[4]!.dir, "COMPLETE"));

    const again = await runOk(["--preset", "tiny", "--out", one, "--no-analyze"]);
    assertStringIncludes(again.stdout, "4 already complete");
    assertStringIncludes(again.stdout, `${ra.runId}: complete (redone: salience.npy)`);
    assertStringIncludes(again.stdout, `${rb.runId}: complete (redone: logits.npy)`);
    assertStringIncludes(
      again.stdout,
      `${rc.runId}: complete (redone: checkpoint/epoch-0001/weights.bin)`,
    );
    assertStringIncludes(again.stdout, `${rd.runId}: complete (redone: run.json)`);
    for (const r of runs) assertEquals((await verifyRun(r.dir)).status, "complete", r.runId);
    assertEquals(await Deno.readFile(join(ra.dir, "salience.npy")), salA);
    assertEquals(
      await Deno.readFile(join(rc.dir, "salience.npy")),
      salC,
      "retrained from scratch, same result",
    );
    assertEquals(await runRecord(rd.dir), recD);
    assertEquals(
      await Deno.readTextFile(join(runs[4]!.dir, "COMPLETE")),
      completeE,
      "untouched run kept",
    );
    await Deno.remove(root, { recursive: true });
  },
});

Deno.test({
  name:
    "sweep CLI: a run killed mid-training resumes from its last checkpoint and complete runs are kept",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "sweep-kill-" });
    const settings = {
      preset: "tiny",
      families: ["CNNSmall"],
      widths: [1, 2],
      seeds: 1,
      dataset: { trainImages: 256 },
      training: { epochs: 4 },
      experiments: { logits: false, ensembles: null, attack: null },
    };
    const cfgPath = join(root, "resume.json");
    await Deno.writeTextFile(cfgPath, JSON.stringify(settings));
    const plan = buildPlan(resolveConfigFile(settings, "resume.json"));
    const sweepDir = join(root, "killed", plan.sweepId);
    const [first, second] = plan.runs.map((r) => join(sweepDir, "runs", r.runId)) as [
      string,
      string,
    ];

    const child = sweepCommand(["--config", cfgPath, "--out", join(root, "killed"), "--no-analyze"])
      .spawn();
    const deadline = Date.now() + 180_000;
    while (!(await exists(join(second, "checkpoint", "epoch-0001")))) {
      assert(Date.now() < deadline, "the second run never reached its first checkpoint");
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill("SIGKILL");
    await child.output();
    assertEquals((await verifyRun(first)).status, "complete");
    assertEquals(
      (await verifyRun(second)).status,
      "partial",
      "killed before the second run completed",
    );
    const firstMarker = await Deno.readTextFile(join(first, "COMPLETE"));

    const resumed = await runOk([
      "--config",
      cfgPath,
      "--out",
      join(root, "killed"),
      "--no-analyze",
    ]);
    assertStringIncludes(resumed.stdout, "1 already complete");
    assert(/resumed from epoch [123]\)/.test(resumed.stdout), resumed.stdout);
    assertEquals(
      await Deno.readTextFile(join(first, "COMPLETE")),
      firstMarker,
      "complete run not redone",
    );
    const rec = JSON.parse(await Deno.readTextFile(join(second, "run.json"))) as RunJson;
    assertEquals(rec.history.map((h) => h.epoch), [1, 2, 3, 4]);
    assertEquals((await verifyRun(second)).status, "complete");

    // The resumed run ends exactly where an uninterrupted one does.
    await runOk(["--config", cfgPath, "--out", join(root, "straight"), "--no-analyze"]);
    const straight = join(root, "straight", plan.sweepId, "runs", plan.runs[1]!.runId);
    assertEquals(
      await Deno.readFile(join(second, "salience.npy")),
      await Deno.readFile(join(straight, "salience.npy")),
    );
    assertEquals(await runRecord(second), await runRecord(straight));
    await Deno.remove(root, { recursive: true });
  },
});
