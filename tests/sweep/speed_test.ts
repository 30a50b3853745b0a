import { assert, assertStringIncludes } from "../_shared/assert.ts";
import { measureTrainingRate } from "../../lib/sweep/speed.ts";
import { presetConfig } from "../../lib/sweep/presets.ts";
import { runSweepCli } from "./_cli.ts";
import { gpuTest } from "../_shared/gpu.ts";
import { initTf } from "../../lib/tf/mod.ts";
import { PLANNED_POPULATION } from "../../lib/sweep/populations.ts";

Deno.test("measureTrainingRate() times training steps of a plan's model on this machine", async () => {
  const config = { ...presetConfig("tiny"), backend: "cpu" as const };
  const r = await measureTrainingRate(config, 200);
  assert(Number.isFinite(r.flopsPerSecond) && r.flopsPerSecond > 0, String(r.flopsPerSecond));
  // A 2-core CPU trains far below a data-centre GPU's 10 TFLOP/s.
  assert(r.flopsPerSecond < 1e13, String(r.flopsPerSecond));
  assertStringIncludes(r.note, "measured here: ");
  assertStringIncludes(r.note, "cpu backend");
});

gpuTest(
  "measureTrainingRate() on WebGPU times the stacked step of the planned population",
  async () => {
    const config = { ...presetConfig("tiny"), backend: "webgpu" as const };
    // The population of the plan: the planner's size, at most the config's seeds.
    const S = Math.min(PLANNED_POPULATION.webgpu.CNNSmall, config.seeds);
    assert(S > 1, `the WebGPU plan trains CNNSmall in populations (S = ${S})`);
    try {
      const r = await measureTrainingRate(config, 200);
      assert(Number.isFinite(r.flopsPerSecond) && r.flopsPerSecond > 0, String(r.flopsPerSecond));
      assertStringIncludes(r.note, `CNNSmall k=1 population of ${S}`);
      assertStringIncludes(r.note, "webgpu backend");
    } finally {
      await initTf({ backend: "cpu" });
    }
  },
);

Deno.test("--dry-run estimates the time at this machine's measured speed, not an assumed GPU's", async () => {
  const r = await runSweepCli(["--preset", "tiny", "--backend", "cpu", "--dry-run"]);
  assert(r.code === 0, r.stderr);
  const line = r.stdout.split("\n").find((l) => l.startsWith("compute")) ?? "";
  assertStringIncludes(line, "(measured here: ");
  assert(!/≈ 0s /.test(line), line);
  const given = await runSweepCli(["--preset", "tiny", "--dry-run", "--tflops", "2"]);
  assertStringIncludes(given.stdout, "at 2 TFLOP/s effective");
});
