import { join } from "node:path";
import { pathToFileURL } from "node:url";
import {
  assert,
  assertEquals,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "../_shared/assert.ts";
import {
  canonicalJson,
  clearComplete,
  exists,
  hashConfig,
  listFiles,
  listRuns,
  listSweeps,
  markComplete,
  type PlanJson,
  readJson,
  readPlan,
  readRun,
  readSweep,
  recoverDir,
  replaceDir,
  runDirOf,
  runIdOf,
  type RunJson,
  SCHEMA_VERSION,
  sweepIdOf,
  type SweepJson,
  verifyRun,
  writeFileAtomic,
  writeJson,
  writePlan,
  writeRun,
  writeSweep,
} from "../../lib/store/mod.ts";

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "store-test-" });
}

function sweepJson(id: string, created: string): SweepJson {
  return {
    schemaVersion: SCHEMA_VERSION,
    kind: "sweep",
    sweepId: id,
    configHash: "0123456789abcdef",
    created,
    toolkit: { name: "t", version: "0" },
    config: {
      name: "tiny",
      dataset: { name: "synthetic", dir: null, trainImages: 8, testImages: 8, probeImages: 4 },
      families: ["CNNSmall"],
      widths: [1, 2],
      seeds: 1,
      training: { epochs: 1, batchSizes: [4], lr: 0.1, schedule: "constant" },
      salience: { scalar: "true-class-logit", pool: null },
      experiments: { logits: false, ensembles: null, attack: null },
      backend: "cpu",
    },
  };
}

function planJson(): PlanJson {
  const runs = [1, 2].map((k, index) => {
    const configHash = hashConfig({ k });
    return {
      index,
      runId: runIdOf({ family: "CNNSmall", k, seed: 0, configHash }),
      family: "CNNSmall",
      k,
      seed: 0,
      batchSize: 4,
      configHash,
    };
  });
  return {
    schemaVersion: SCHEMA_VERSION,
    kind: "plan",
    sweepId: "tiny-01234567",
    configHash: "0123456789abcdef",
    runs,
    sharding: { rule: "round-robin", description: "index % n" },
  };
}

function runJson(runId: string, k: number): RunJson {
  return {
    schemaVersion: SCHEMA_VERSION,
    kind: "run",
    runId,
    family: "CNNSmall",
    k,
    seed: 0,
    batchSize: 4,
    configHash: "0123456789abcdef",
    params: 100,
    backend: { tfjs: "cpu", adapter: null, software: false },
    input: { shape: [1, 28, 28], classes: 10 },
    history: [{ epoch: 1, trainLoss: 2.3, testLoss: 2.2, testAcc: 0.2, lr: 0.1, seconds: 1 }],
    final: { testLoss: 2.2, testAcc: 0.2 },
    salience: { file: "salience.npy", sidecar: "salience.json", shape: [4, 784] },
    logits: null,
    seconds: { train: 1, salience: 0.1 },
    started: "2026-01-01T00:00:00.000Z",
    finished: "2026-01-01T00:00:01.000Z",
  };
}

Deno.test("canonicalJson() is independent of key order and rejects non-finite numbers", () => {
  assertEquals(
    canonicalJson({ b: [1, { y: 2, x: 3 }], a: null }),
    '{"a":null,"b":[1,{"x":3,"y":2}]}',
  );
  assertEquals(hashConfig({ a: 1, b: { c: 2, d: 3 } }), hashConfig({ b: { d: 3, c: 2 }, a: 1 }));
  assert(hashConfig({ a: 1 }) !== hashConfig({ a: 2 }));
  assertThrows(() => canonicalJson({ a: NaN }), TypeError, "finite");
});

Deno.test("runIdOf() and sweepIdOf() build the documented names and reject bad parts", () => {
  assertEquals(
    runIdOf({ family: "ResNetSmall", k: 16, seed: 3, configHash: "deadbeefcafe" }),
    "ResNetSmall-k16-s3-deadbeef",
  );
  assertEquals(sweepIdOf("default", "0badf00d99"), "default-0badf00d");
  assertThrows(() => runIdOf({ family: "a/b", k: 1, seed: 0, configHash: "deadbeef" }), RangeError);
  assertThrows(
    () => runIdOf({ family: "A", k: 0, seed: 0, configHash: "deadbeef" }),
    RangeError,
    "k = 0",
  );
  assertThrows(() => runIdOf({ family: "A", k: 1, seed: -1, configHash: "deadbeef" }), RangeError);
  assertThrows(() => sweepIdOf("x y", "deadbeef"), RangeError);
});

Deno.test("writeJson() is atomic: no temporary is left and a failed write keeps the old file", async () => {
  const dir = await tempDir();
  const path = `${dir}/a/b.json`;
  await writeJson(path, { v: 1 });
  await writeJson(path, { v: 2 });
  assertEquals(await readJson(path), { v: 2 });
  await assertRejects(() => writeJson(path, { v: Infinity }), TypeError, "'v'");
  assertEquals(await readJson(path), { v: 2 });
  const names = [...Deno.readDirSync(`${dir}/a`)].map((e) => e.name);
  assertEquals(names, ["b.json"]);
  await writeFileAtomic(`${dir}/bin`, new Uint8Array(3 << 20).fill(7));
  assertEquals((await Deno.stat(`${dir}/bin`)).size, 3 << 20);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("readJson() names the file in a SyntaxError", async () => {
  const dir = await tempDir();
  await Deno.writeTextFile(`${dir}/broken.json`, '{"a": 1,');
  const err = await assertRejects(() => readJson(`${dir}/broken.json`), SyntaxError);
  assertStringIncludes(err.message, "broken.json");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("readSweep() explains a schemaVersion mismatch and round-trips sweep.json", async () => {
  const dir = await tempDir();
  const s = sweepJson("tiny-01234567", "2026-01-01T00:00:00.000Z");
  await writeSweep(dir, s);
  assertEquals(await readSweep(dir), s);
  await Deno.writeTextFile(`${dir}/sweep.json`, JSON.stringify({ ...s, schemaVersion: 2 }));
  const err = await assertRejects(() => readSweep(dir), RangeError);
  assertStringIncludes(err.message, "schemaVersion 2");
  assertStringIncludes(err.message, "reads schemaVersion 1");
  assertStringIncludes(err.message, "--out");
  await Deno.writeTextFile(`${dir}/sweep.json`, JSON.stringify({ ...s, kind: "plan" }));
  await assertRejects(() => readSweep(dir), TypeError, "kind 'plan'");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("listSweeps() finds sweep folders oldest first and ignores other folders", async () => {
  const root = await tempDir();
  await writeSweep(`${root}/b`, sweepJson("b-01234567", "2026-01-02T00:00:00.000Z"));
  await writeSweep(`${root}/a`, sweepJson("a-01234567", "2026-01-03T00:00:00.000Z"));
  await Deno.mkdir(`${root}/not-a-sweep`);
  await Deno.writeTextFile(`${root}/file.txt`, "x");
  const found = await listSweeps(root);
  assertEquals(found.map((s) => s.sweep.sweepId), ["b-01234567", "a-01234567"]);
  await Deno.remove(root, { recursive: true });
});

Deno.test("writePlan() rejects duplicate run ids and misnumbered entries", async () => {
  const dir = await tempDir();
  const plan = planJson();
  await writePlan(dir, plan);
  assertEquals(await readPlan(dir), plan);
  const dup = { ...plan, runs: [plan.runs[0]!, { ...plan.runs[0]!, index: 1 }] };
  await assertRejects(() => writePlan(dir, dup), RangeError, "twice");
  const mis = { ...plan, runs: [{ ...plan.runs[0]!, index: 5 }] };
  await assertRejects(() => writePlan(dir, mis), RangeError, "index 5");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("listRuns() reports missing, partial and complete runs", async () => {
  const dir = await tempDir();
  const plan = planJson();
  await writePlan(dir, plan);
  const [r0, r1] = plan.runs;
  assertEquals((await listRuns(dir)).map((r) => r.status), ["missing", "missing"]);
  const d0 = runDirOf(dir, r0!.runId);
  await writeRun(d0, runJson(r0!.runId, r0!.k));
  assertEquals((await listRuns(dir)).map((r) => r.status), ["partial", "missing"]);
  await assertRejects(() => markComplete(d0, r0!.runId), RangeError, "declares salience.npy");
  await writeFileAtomic(`${d0}/salience.npy`, new Uint8Array(4));
  await writeFileAtomic(`${d0}/salience.json`, new Uint8Array(2));
  await markComplete(d0, r0!.runId);
  await writeRun(runDirOf(dir, r1!.runId), runJson(r1!.runId, r1!.k));
  const listed = await listRuns(dir);
  assertEquals(listed.map((r) => r.status), ["complete", "partial"]);
  assertEquals(listed[0]!.dir, d0);
  assertEquals((await readRun(d0)).runId, r0!.runId);
  // An unreadable marker makes the run partial, not an exception.
  await Deno.writeTextFile(`${d0}/COMPLETE`, "{");
  assertEquals((await listRuns(dir)).map((r) => r.status), ["partial", "partial"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("verifyRun() detects a changed, a truncated and a deleted artifact", async () => {
  const dir = await tempDir();
  await writeRun(dir, runJson("CNNSmall-k1-s0-01234567", 1));
  await writeFileAtomic(`${dir}/salience.npy`, new Uint8Array(1000).fill(1));
  await writeFileAtomic(`${dir}/salience.json`, new Uint8Array(2));
  await writeFileAtomic(`${dir}/checkpoint/weights.bin`, new Uint8Array(64).fill(2));
  await writeFileAtomic(`${dir}/logits.npy`, new Uint8Array(10).fill(3));
  const marker = await markComplete(dir, "CNNSmall-k1-s0-01234567");
  assertEquals(marker.files.map((f) => f.path), [
    "checkpoint/weights.bin",
    "logits.npy",
    "run.json",
    "salience.json",
    "salience.npy",
  ]);
  assertEquals((await verifyRun(dir)).status, "complete");

  const flipped = new Uint8Array(1000).fill(1);
  flipped[500] = 9; // same size, different bytes
  await Deno.writeFile(`${dir}/salience.npy`, flipped);
  await Deno.writeFile(`${dir}/checkpoint/weights.bin`, new Uint8Array(10));
  await Deno.remove(`${dir}/logits.npy`);
  const v = await verifyRun(dir);
  assertEquals(v.status, "partial");
  assertEquals(v.problems, [
    { path: "checkpoint/weights.bin", problem: "size" },
    { path: "logits.npy", problem: "missing" },
    { path: "salience.npy", problem: "checksum" },
  ]);
  assertStringIncludes(v.reason ?? "", "salience.npy (checksum)");
  await clearComplete(dir);
  assertEquals((await verifyRun(dir)).status, "partial");
  assertEquals((await verifyRun(`${dir}/nope`)).status, "missing");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("markComplete() refuses a folder without run.json", async () => {
  const dir = await tempDir();
  await Deno.writeTextFile(`${dir}/salience.npy`, "x");
  await assertRejects(() => markComplete(dir, "X-k1-s0-01234567"), RangeError, "run.json");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("replaceDir() swaps whole folders and recoverDir() repairs an interrupted swap", async () => {
  const dir = await tempDir();
  await Deno.mkdir(`${dir}/ck`);
  await Deno.writeTextFile(`${dir}/ck/state.json`, "1");
  await Deno.mkdir(`${dir}/ck.tmp-1-a`);
  await Deno.writeTextFile(`${dir}/ck.tmp-1-a/state.json`, "2");
  await replaceDir(`${dir}/ck.tmp-1-a`, `${dir}/ck`);
  assertEquals(await Deno.readTextFile(`${dir}/ck/state.json`), "2");
  assertEquals(await listFiles(dir), ["ck/state.json"]);

  // Simulate a kill between the two renames: only ck.old-* holds the checkpoint.
  await Deno.rename(`${dir}/ck`, `${dir}/ck.old-7-b`);
  await Deno.mkdir(`${dir}/ck.tmp-7-c`); // the half-written new one
  assert(await recoverDir(`${dir}/ck`));
  assertEquals(await Deno.readTextFile(`${dir}/ck/state.json`), "2");
  assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["ck"]);
  assertEquals(await recoverDir(`${dir}/none`), false);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("exists() tells any entry from a file or a folder, following links only for a kind", async () => {
  const dir = await Deno.makeTempDir({ prefix: "store-exists-" });
  try {
    const file = join(dir, "f.json"), link = join(dir, "link"), dangling = join(dir, "dangling");
    await Deno.writeTextFile(file, "{}");
    await Deno.symlink(file, link);
    await Deno.symlink(join(dir, "gone"), dangling);
    assertEquals(
      await Promise.all([file, link, dangling, dir, join(dir, "none")].map((p) => exists(p))),
      [true, true, true, true, false],
    );
    const kinds = async (kind: "file" | "dir") =>
      await Promise.all([file, link, dangling, dir].map((p) => exists(p, { kind })));
    assertEquals(await kinds("file"), [true, true, false, false]);
    assertEquals(await kinds("dir"), [false, false, false, true]);
    assert(await exists(pathToFileURL(file), { kind: "file" }), "a file: URL is a path");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
