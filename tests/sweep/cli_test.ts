import { assert, assertEquals, assertRejects, assertStringIncludes } from "../_shared/assert.ts";
import { parseSweepArgs, SWEEP_USAGE } from "../../lib/cli/sweep.ts";
import { runSweepCli } from "./_cli.ts";

Deno.test("parseSweepArgs() rejects unknown flags and conflicting options with the usage", async () => {
  const e = await assertRejects(
    () => parseSweepArgs(["--presett", "tiny"], {}),
    TypeError,
    "--presett",
  );
  assertStringIncludes(e.message, SWEEP_USAGE);
  await assertRejects(() => parseSweepArgs(["extra"], {}), TypeError, "usage:");
  await assertRejects(() => parseSweepArgs(["--preset"], {}), TypeError, "--preset");
  await assertRejects(
    () => parseSweepArgs(["--preset", "tiny", "--config", "x.json"], {}),
    TypeError,
    "not both",
  );
  await assertRejects(
    () => parseSweepArgs(["--analyze", "--no-analyze"], {}),
    TypeError,
    "not both",
  );
  await assertRejects(
    () => parseSweepArgs(["--backend", "tpu"], {}),
    RangeError,
    "--backend 'tpu'",
  );
  await assertRejects(() => parseSweepArgs(["--tflops", "0"], {}), RangeError, "--tflops '0'");
  await assertRejects(
    () => parseSweepArgs(["--preset", "nope"], {}),
    RangeError,
    "Unknown preset 'nope'",
  );
  // --help answers whatever else is given, as every command does.
  assert((await parseSweepArgs(["--preset", "nope", "-h"], {})).help, "-h among bad options");
});

Deno.test("parseSweepArgs() resolves presets, shards from the environment and overrides", async () => {
  const a = await parseSweepArgs([], {});
  assertEquals([a.config.name, a.out, a.dryRun, a.shard.count, a.analyze], [
    "default",
    "results",
    false,
    1,
    undefined,
  ]);
  const b = await parseSweepArgs([
    "--preset",
    "tiny",
    "--backend",
    "webgpu",
    "--out",
    "o",
    "--no-analyze",
  ], {
    SLURM_ARRAY_TASK_ID: "1",
    SLURM_ARRAY_TASK_COUNT: "2",
  });
  assertEquals([b.config.backend, b.out, b.shard.index, b.shard.count, b.analyze], [
    "webgpu",
    "o",
    1,
    2,
    false,
  ]);
  const c = await parseSweepArgs(["--shard-count", "3", "--dry-run", "--tflops", "2"], {
    JOB_COMPLETION_INDEX: "2",
  });
  assertEquals([c.shard.index, c.shard.count, c.dryRun, c.flopsPerSecond], [2, 3, true, 2e12]);
  const d = await parseSweepArgs(["--preset", "cifar10-paper", "--data-dir", "data/cifar"], {});
  assertEquals(d.config.dataset.dir, "data/cifar");
});

Deno.test("sweep CLI exits 2 with one error and the usage for an unknown flag", async () => {
  const r = await runSweepCli(["--widths", "3"]);
  assertEquals(r.code, 2);
  assertStringIncludes(r.stderr, "error: unknown option '--widths'.");
  assertStringIncludes(r.stderr, "usage: deno task sweep");
  assertEquals(r.stdout, "");
});

Deno.test("sweep CLI --dry-run prints the paper plan without writing anything", async () => {
  const out = await Deno.makeTempDir();
  // --tflops: the plan text is under test here, not the speed measurement (speed_test.ts).
  const r = await runSweepCli([
    "--preset",
    "cifar10-paper",
    "--dry-run",
    "--tflops",
    "10",
    "--out",
    out,
  ]);
  assertEquals(r.code, 0, r.stderr);
  assertStringIncludes(r.stdout, "runs       200");
  assertStringIncludes(r.stdout, "gradients  1.5 GB");
  assertStringIncludes(r.stdout, "24.6 GB of salience-unpooled.npy");
  assertEquals([...Deno.readDirSync(out)].length, 0);
  const bad = await runSweepCli(["--config", `${out}/none.json`, "--dry-run"]);
  assertEquals(bad.code, 2);
  assert(bad.stderr.includes("none.json does not exist"), bad.stderr);
  await Deno.remove(out, { recursive: true });
});
