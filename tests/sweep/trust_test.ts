// Nothing in a run folder is trusted unverified: a missing, corrupt or incomplete COMPLETE marker
// makes the sweep re-verify or redo the run's artifacts, and the analysis refuses a run whose
// artifacts fail their marker, naming the file and the fix.
import { join } from "node:path";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "../_shared/assert.ts";
import { resolveConfigFile } from "../../lib/sweep/config.ts";
import { runSweep } from "../../lib/sweep/runner.ts";
import { analyzeSweepDir } from "../../lib/sweep/analyze.ts";
import { listRuns, type SweepConfig, verifyRun } from "../../lib/store/mod.ts";
import { TINY_MLP_SETTINGS } from "./_cli.ts";

function config(extra: Record<string, unknown> = {}): SweepConfig {
  return resolveConfigFile({ ...TINY_MLP_SETTINGS, ...extra }, "trust.json");
}

async function sweep(cfg: SweepConfig, out: string): Promise<{ dir: string; log: string }> {
  let log = "";
  const r = await runSweep(cfg, {
    out,
    analyze: false,
    sink: { write: (t) => void (log += t), isTerminal: false },
  });
  return { dir: r.sweepDir, log };
}

/** A sweep of `cfg` into a fresh temporary folder `out`: its folder and its runs. */
async function freshSweep(
  cfg = config(),
): Promise<{ out: string; dir: string; runs: Awaited<ReturnType<typeof listRuns>> }> {
  const out = await Deno.makeTempDir({ prefix: "trust-" });
  const { dir } = await sweep(cfg, out);
  return { out, dir, runs: await listRuns(dir) };
}

// Files holding wall-clock times (or checksums of them): compared by presence, not bytes.
const TIMED = /^(COMPLETE|run\.json|checkpoint\/epoch-\d+\/(state|checksums)\.json)$/;

/** The run folder's files and their bytes, the timed ones as empty. */
async function tree(dir: string): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  async function walk(rel: string) {
    for await (const e of Deno.readDir(join(dir, rel))) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) await walk(r);
      else out.set(r, TIMED.test(r) ? new Uint8Array() : await Deno.readFile(join(dir, r)));
    }
  }
  await walk("");
  return out;
}

Deno.test("a run without a COMPLETE marker has its artifacts redone, not re-marked", async () => {
  const { out, runs: [a, b] } = await freshSweep();
  const goodA = await tree(a!.dir), goodB = await tree(b!.dir);
  // A: marker deleted and salience truncated. B: marker corrupt and a salience byte flipped.
  await Deno.remove(join(a!.dir, "COMPLETE"));
  const sal = await Deno.readFile(join(a!.dir, "salience.npy"));
  await Deno.writeFile(join(a!.dir, "salience.npy"), sal.slice(0, 100));
  await Deno.writeTextFile(join(b!.dir, "COMPLETE"), "{ not json");
  const flipped = (await Deno.readFile(join(b!.dir, "salience.npy"))).slice();
  flipped[flipped.length - 5]! ^= 0x10;
  await Deno.writeFile(join(b!.dir, "salience.npy"), flipped);

  const again = await sweep(config(), out);
  assertStringIncludes(again.log, "0 already complete");
  assertStringIncludes(again.log, `${a!.runId}: complete (redone: logits.npy, run.json`);
  for (const [r, good] of [[a!, goodA], [b!, goodB]] as const) {
    assertEquals((await verifyRun(r.dir)).status, "complete", r.runId);
    assertEquals(await tree(r.dir), good, `${r.runId} redone byte-identically`);
  }
  await Deno.remove(out, { recursive: true });
});

Deno.test("a marker that leaves out an artifact is invalid: the run is re-verified", async () => {
  const { out, runs: [a] } = await freshSweep();
  const good = await tree(a!.dir);
  // A marker written over a missing salience.npy (as two racing sweeps could): it does not list it.
  const marker = JSON.parse(await Deno.readTextFile(join(a!.dir, "COMPLETE")));
  marker.files = marker.files.filter((f: { path: string }) => f.path !== "salience.npy");
  await Deno.writeTextFile(join(a!.dir, "COMPLETE"), JSON.stringify(marker));
  await Deno.writeFile(join(a!.dir, "salience.npy"), new Uint8Array(10));
  const v = await verifyRun(a!.dir);
  assertEquals([v.status, v.marker], ["partial", "invalid"]);
  assertStringIncludes(v.reason ?? "", "does not list salience.npy");
  // An unlisted extra file invalidates the marker too.
  await Deno.remove(join(a!.dir, "salience.npy"));
  assertEquals((await verifyRun(a!.dir)).marker, "invalid", "run.json declares salience.npy");

  await sweep(config(), out);
  assertEquals((await verifyRun(a!.dir)).status, "complete");
  assertEquals(await tree(a!.dir), good);
  await Deno.remove(out, { recursive: true });
});

Deno.test("an unmarked run whose checkpoint fails its checksums retrains from scratch", async () => {
  const { out, runs: [a] } = await freshSweep();
  const good = await tree(a!.dir);
  assert(good.has("checkpoint/epoch-0002/checksums.json"), [...good.keys()].join());
  await Deno.remove(join(a!.dir, "COMPLETE"));
  const w = join(a!.dir, "checkpoint/epoch-0002/weights.bin");
  const bytes = (await Deno.readFile(w)).slice();
  bytes[7]! ^= 0x01;
  await Deno.writeFile(w, bytes);
  const again = await sweep(config(), out);
  assertStringIncludes(again.log, "redone: checkpoint/epoch-0002");
  assertEquals((await verifyRun(a!.dir)).status, "complete");
  assertEquals(await tree(a!.dir), good, "retrained to the same bytes");
  await Deno.remove(out, { recursive: true });
});

Deno.test("an unmarked run keeps analysed epochs that verify and retrains for one that does not", async () => {
  const cfg = config({ salience: { epochs: [1] } });
  const { out, runs: [a] } = await freshSweep(cfg);
  const good = await tree(a!.dir);
  assert(good.has("epochs/epoch-0001/checksums.json"), [...good.keys()].join());
  // Marker gone, epochs intact: the epoch file and checkpoint are kept, nothing retrains.
  await Deno.remove(join(a!.dir, "COMPLETE"));
  let again = await sweep(cfg, out);
  assert(!again.log.includes("redone: checkpoint"), again.log);
  assert(!again.log.includes("epochs/"), again.log);
  assertEquals(await tree(a!.dir), good);
  // Marker gone, epoch file damaged: retrain.
  await Deno.remove(join(a!.dir, "COMPLETE"));
  await Deno.writeFile(join(a!.dir, "epochs/epoch-0001/salience.npy"), new Uint8Array(3));
  again = await sweep(cfg, out);
  assertStringIncludes(again.log, "epochs/epoch-0001");
  assertEquals(await tree(a!.dir), good);
  await Deno.remove(out, { recursive: true });
});

Deno.test("analyze --run verifies what it reads and names the file and the fix", async () => {
  const { out, dir, runs: [a, b] } = await freshSweep();
  // A valid npy of the right shape but other values: only the checksum can tell.
  const sal = (await Deno.readFile(join(a!.dir, "salience.npy"))).slice();
  sal[sal.length - 2]! ^= 0x20;
  await Deno.writeFile(join(a!.dir, "salience.npy"), sal);
  const err = await assertRejects(() => analyzeSweepDir(dir, { cpu: true }), RangeError);
  assertStringIncludes(err.message, "salience.npy (checksum)");
  assertStringIncludes(err.message, a!.dir);
  assertStringIncludes(err.message, "Rerun the sweep");
  // A truncated checkpoint is named likewise.
  await Deno.writeFile(join(a!.dir, "salience.npy"), (await tree(b!.dir)).get("salience.npy")!);
  await sweep(config(), out);
  const w = join(b!.dir, "checkpoint/epoch-0002/weights.bin");
  await Deno.writeFile(w, (await Deno.readFile(w)).slice(0, 8));
  const err2 = await assertRejects(() => analyzeSweepDir(dir, { cpu: true }), RangeError);
  assertStringIncludes(err2.message, "checkpoint/epoch-0002/weights.bin (size)");
  await Deno.remove(out, { recursive: true });
});

async function analysisTree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  async function walk(rel: string) {
    for await (const e of Deno.readDir(join(dir, rel))) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) await walk(r);
      else out.set(r, await Deno.readTextFile(join(dir, r)));
    }
  }
  await walk("");
  return out;
}

Deno.test("an interrupted analysis leaves the previous analysis whole", async () => {
  const cfg = config({ seeds: 2 });
  const { out, dir } = await freshSweep(cfg);
  await analyzeSweepDir(dir, { cpu: true, analysis: { resamples: 20 } });
  const before = await analysisTree(join(dir, "analysis"));
  assertEquals(JSON.parse(before.get("summary.json")!).counts.models, 4);
  // Fewer complete runs now, and the analysis is cut off after its main files are written.
  const [a] = await listRuns(dir);
  await Deno.remove(a!.dir, { recursive: true });
  const stop = (line: string) => {
    if (line.startsWith("analysed 3 models")) throw new Error("interrupted");
  };
  await assertRejects(
    () => analyzeSweepDir(dir, { cpu: true, log: stop, analysis: { resamples: 20 } }),
    Error,
    "interrupted",
  );
  assertEquals(await analysisTree(join(dir, "analysis")), before, "a mix of two analyses");
  // A staging folder a killed analysis left behind is cleaned; the next analysis is whole.
  await Deno.mkdir(join(dir, "analysis.tmp-999999"));
  await Deno.writeTextFile(join(dir, "analysis.tmp-999999", "summary.json"), "{}");
  await analyzeSweepDir(dir, { cpu: true, analysis: { resamples: 20 } });
  const after = await analysisTree(join(dir, "analysis"));
  assertEquals(JSON.parse(after.get("summary.json")!).counts.models, 3);
  assertEquals(
    JSON.parse(after.get("similarity.json")!).source,
    JSON.parse(before.get("similarity.json")!).source,
  );
  const siblings = [];
  for await (const e of Deno.readDir(dir)) siblings.push(e.name);
  assertEquals(siblings.filter((n) => n.startsWith("analysis")), ["analysis"]);
  await Deno.remove(out, { recursive: true });
});

Deno.test("the analysis refuses to replace a folder that is not an analysis", async () => {
  const { out, dir } = await freshSweep();
  const keep = join(out, "mine");
  await Deno.mkdir(keep);
  await Deno.writeTextFile(join(keep, "CNAME"), "example.org");
  const err = await assertRejects(
    () => analyzeSweepDir(dir, { cpu: true, analysis: { outDir: keep } }),
    RangeError,
  );
  assertStringIncludes(err.message, "holds files but no summary.json");
  assertEquals(await Deno.readTextFile(join(keep, "CNAME")), "example.org");
  await assertRejects(
    () => analyzeSweepDir(dir, { cpu: true, analysis: { outDir: "" } }),
    RangeError,
    "pass --out DIR",
  );
  await Deno.remove(out, { recursive: true });
});

Deno.test("a checkpoint swap cut off between its renames is put back, not retrained", async () => {
  const { out, runs: [a] } = await freshSweep();
  const good = await tree(a!.dir);
  // Killed inside replaceDir(): the old folder renamed away, the new one not yet in place.
  await Deno.remove(join(a!.dir, "COMPLETE"));
  await Deno.rename(
    join(a!.dir, "checkpoint/epoch-0002"),
    join(a!.dir, "checkpoint/epoch-0002.old-4242-abcdef12"),
  );
  const again = await sweep(config(), out);
  assert(!again.log.includes("redone: checkpoint"), again.log);
  assert(!/: epoch \d\/2 /.test(again.log), `retrained:\n${again.log}`);
  assertEquals((await verifyRun(a!.dir)).status, "complete");
  assertEquals(await tree(a!.dir), good);
  await Deno.remove(out, { recursive: true });
});
