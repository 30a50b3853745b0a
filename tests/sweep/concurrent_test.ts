// Two processes writing one --out: each run is trained by one of them, the other skips it (or,
// when it analyses, waits for it) and says so.
import { join } from "node:path";
import { assert, assertEquals, assertStringIncludes } from "../_shared/assert.ts";
import { resolveConfigFile } from "../../lib/sweep/config.ts";
import { buildPlan } from "../../lib/sweep/plan.ts";
import { runSweep } from "../../lib/sweep/runner.ts";
import {
  acquireLock,
  listRuns,
  lockPathOf,
  type StoreLock,
  verifyRun,
} from "../../lib/store/mod.ts";
import { runSweepCli, TINY_MLP_SETTINGS } from "./_cli.ts";

const SETTINGS = {
  ...TINY_MLP_SETTINGS,
  widths: [1, 2, 3],
  seeds: 2,
  experiments: { ...TINY_MLP_SETTINGS.experiments, logits: false },
};

/** Every path under `dir`, temporaries included (listFiles() skips them). */
async function allPaths(dir: string, rel = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(join(dir, rel))) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    out.push(r);
    if (e.isDirectory) out.push(...await allPaths(dir, r));
  }
  return out;
}

function sink() {
  const s = { text: "", write: (t: string) => void (s.text += t), isTerminal: false };
  return s;
}

Deno.test("a run another process holds is skipped and named; an analysing sweep waits for it", async () => {
  const out = await Deno.makeTempDir({ prefix: "concurrent-" });
  const config = resolveConfigFile(SETTINGS, "concurrent.json");
  const plan = buildPlan(config);
  const sweepDir = join(out, plan.sweepId);
  const held = plan.runs[2]!.runId;
  const lock = await acquireLock(lockPathOf(sweepDir, held)) as StoreLock;

  const a = sink();
  const r = await runSweep(config, { out, analyze: false, sink: a });
  assertStringIncludes(a.text, `${held}: skipped, pid ${Deno.pid} on `);
  assertStringIncludes(a.text, "1 run(s) were left to the processes writing them");
  assertEquals([r.done, r.held], [plan.runs.length - 1, 1]);
  assertEquals((await verifyRun(join(sweepDir, "runs", held))).status, "missing");

  // With the analysis, the sweep waits for the holder, then finds the run still to do.
  const b = sink();
  const analysing = runSweep(config, { out, sink: b });
  // Released once the sweep says it waits (however long a loaded machine takes to get there).
  const deadline = Date.now() + 60_000;
  while (!b.text.includes(`${held}: waiting for`)) {
    assert(Date.now() < deadline, `the sweep never waited for ${held}:\n${b.text}`);
    await new Promise((res) => setTimeout(res, 50));
  }
  await new Promise((res) => setTimeout(res, 200));
  assert(!b.text.includes("analysis:"), "analysed before the held run was done");
  lock.release();
  const r2 = await analysing;
  assertStringIncludes(b.text, `${held}: waiting for pid ${Deno.pid}`);
  assertEquals([r2.done, r2.analyzed], [1, true]);
  for (const run of await listRuns(sweepDir, { verify: true })) {
    assertEquals(run.status, "complete", run.runId);
  }
  assertEquals(await allPaths(join(sweepDir, "locks")), [], "every lock is released");
  await Deno.remove(out, { recursive: true });
});

Deno.test("two sweep processes on one --out train each run once and both succeed", async () => {
  const root = await Deno.makeTempDir({ prefix: "concurrent-" });
  const cfg = join(root, "c.json");
  await Deno.writeTextFile(cfg, JSON.stringify(SETTINGS));
  const args = ["--config", cfg, "--out", join(root, "out"), "--no-analyze"];
  const [p, q] = await Promise.all([runSweepCli(args), runSweepCli(args)]);
  assertEquals([p.code, q.code], [0, 0], p.stderr + q.stderr);
  const plan = buildPlan(resolveConfigFile(SETTINGS, "c.json"));
  const sweepDir = join(root, "out", plan.sweepId);
  for (const run of plan.runs) {
    const trained = [p, q].filter((x) => x.stdout.includes(`${run.runId}: complete`)).length;
    const skipped = [p, q].filter((x) => x.stdout.includes(`${run.runId}: skipped`)).length;
    // Trained once; the other process skipped it, or found it complete when it came to it.
    assert(trained === 1 && skipped <= 1, `${run.runId}\n${p.stdout}\n${q.stdout}`);
    assertEquals((await verifyRun(join(sweepDir, "runs", run.runId))).status, "complete");
  }
  const left = (await allPaths(sweepDir)).filter((f) => f.includes(".tmp-") || f.endsWith(".lock"));
  assertEquals(left, [], "no temporaries or locks are left");
  await Deno.remove(root, { recursive: true });
});
