// Fault suite: a sweep killed with SIGKILL at seeded random moments (a bounded number of times,
// within a time budget), then run to the end, gives the analysis of an uninterrupted sweep.
// FAULT_SEED picks other moments.
import { join } from "node:path";
import { assert, assertEquals } from "../_shared/assert.ts";
import { seededUniform } from "../../lib/stats/mod.ts";
import { runOk, sweepCommand, TINY_MLP_SETTINGS } from "./_cli.ts";

const SEED = Number(Deno.env.get("FAULT_SEED") ?? 20261207);
const KILLS = 3;
const BUDGET_MS = 120_000;
const SETTINGS = { ...TINY_MLP_SETTINGS, seeds: 2 };

/** Drops what differs between two equal runs: wall-clock times. */
function timeless(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(timeless);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (!/^(generatedAt|timings|seconds|started|finished|completed|created)$/.test(k)) {
        out[k] = timeless(v);
      }
    }
    return out;
  }
  return value;
}

/** Every file under `dir` (relative path → contents), JSON without its times. */
async function snapshot(dir: string, rel = ""): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  for await (const e of Deno.readDir(join(dir, rel))) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory) { for (const [k, v] of await snapshot(dir, r)) out.set(k, v); }
    else if (r.endsWith(".json")) {
      out.set(r, timeless(JSON.parse(await Deno.readTextFile(join(dir, r)))));
    } else out.set(r, await Deno.readFile(join(dir, r)));
  }
  return out;
}

Deno.test({
  name: "a sweep killed at random moments and resumed gives the uninterrupted sweep's analysis",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const t0 = Date.now();
    const root = await Deno.makeTempDir({ prefix: "fault-" });
    const cfg = join(root, "fault.json");
    await Deno.writeTextFile(cfg, JSON.stringify(SETTINGS));
    const args = (out: string) => ["--config", cfg, "--out", join(root, out)];

    const s0 = Date.now();
    const ref = await runOk(args("straight"));
    const straightMs = Date.now() - s0;
    const sweepId = /sweep (\S+) →/.exec(ref.stdout)![1]!;

    const rand = seededUniform(SEED);
    const moments: number[] = [];
    for (let i = 0; i < KILLS; i++) {
      const at = Math.round(rand() * straightMs);
      moments.push(at);
      const child = sweepCommand(args("killed")).spawn();
      await new Promise((r) => setTimeout(r, at));
      try {
        child.kill("SIGKILL");
      } catch {
        // it had already finished
      }
      await child.output();
      assert(Date.now() - t0 < BUDGET_MS, `over the time budget after kills at ${moments} ms`);
    }
    const last = await runOk(args("killed"));
    assert(last.stdout.includes("analysis:"), last.stdout);

    const straight = await snapshot(join(root, "straight", sweepId, "analysis"));
    const killed = await snapshot(join(root, "killed", sweepId, "analysis"));
    assertEquals([...killed.keys()].sort(), [...straight.keys()].sort());
    for (const [name, v] of straight) {
      assertEquals(
        killed.get(name),
        v,
        `analysis/${name} after kills at ${moments} ms (seed ${SEED})`,
      );
    }
    // No temporaries, stale staging folders or held locks are left behind.
    const left: string[] = [];
    const walk = async (rel: string) => {
      for await (const e of Deno.readDir(join(root, "killed", sweepId, rel))) {
        const r = rel ? `${rel}/${e.name}` : e.name;
        if (/\.tmp-|\.old-|\.lock$/.test(e.name)) left.push(r);
        if (e.isDirectory) await walk(r);
      }
    };
    await walk("");
    assertEquals(left, []);
    await Deno.remove(root, { recursive: true });
  },
});
