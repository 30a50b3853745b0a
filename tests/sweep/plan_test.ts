import * as fc from "fast-check";
import { assert, assertEquals, assertThrows } from "../_shared/assert.ts";
import { buildPlan, resolveShard, shardRuns } from "../../lib/sweep/plan.ts";
import { presetConfig } from "../../lib/sweep/presets.ts";
import { hashConfig, runIdOf } from "../../lib/store/mod.ts";

Deno.test("buildPlan() is deterministic and orders batch size, seed, family, width", () => {
  const cfg = presetConfig("batch-size");
  const a = buildPlan(cfg), b = buildPlan(structuredClone(cfg));
  assertEquals(a, b);
  assertEquals(a.runs.length, 4 * 3 * 1 * 3);
  assertEquals(a.runs.map((r) => r.index), a.runs.map((_, i) => i));
  assertEquals(new Set(a.runs.map((r) => r.runId)).size, a.runs.length);
  assertEquals(a.runs.slice(0, 4).map((r) => [r.batchSize, r.seed, r.family, r.k]), [
    [64, 0, "CNNSmall", 2],
    [64, 0, "CNNSmall", 4],
    [64, 0, "CNNSmall", 8],
    [64, 1, "CNNSmall", 2],
  ]);
  for (const r of a.runs) {
    assertEquals(r.runId, runIdOf(r));
    assert(r.runId.startsWith(`${r.family}-k${r.k}-s${r.seed}-`));
  }
  assertEquals(a.configHash, hashConfig(cfg));
  assertEquals(a.sweepId, `batch-size-${a.configHash.slice(0, 8)}`);
});

Deno.test("buildPlan() keeps run ids when the sweep grows and changes them when training changes", () => {
  const base = presetConfig("tiny");
  const grown = { ...presetConfig("tiny"), widths: [1, 2, 4], seeds: 3 };
  const ids = new Set(buildPlan(grown).runs.map((r) => r.runId));
  for (const r of buildPlan(base).runs) assert(ids.has(r.runId), `${r.runId} kept`);
  assert(buildPlan(base).sweepId !== buildPlan(grown).sweepId);
  const other = presetConfig("tiny");
  other.training.epochs = 2;
  assertEquals(buildPlan(other).runs.filter((r) => ids.has(r.runId)).length, 0);
});

Deno.test("shardRuns() partitions any plan: disjoint, covering, balanced", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 40 }), (n, count) => {
      const runs = Array.from({ length: n }, (_, index) => ({ index }));
      const seen = new Array<number>(n).fill(0);
      const sizes: number[] = [];
      for (let i = 0; i < count; i++) {
        const part = shardRuns(runs, { index: i, count });
        sizes.push(part.length);
        for (const r of part) seen[r.index]!++;
      }
      return seen.every((s) => s === 1) && Math.max(...sizes) - Math.min(...sizes) <= 1;
    }),
  );
  assertThrows(() => shardRuns([], { index: 3, count: 3 }), RangeError, "outside 0–2");
  assertThrows(() => shardRuns([], { index: 0, count: 0 }), RangeError, "Shard count 0");
});

Deno.test("resolveShard() reads --shard, Slurm arrays and Kubernetes Indexed Jobs", () => {
  assertEquals(resolveShard({}, {}), { index: 0, count: 1, source: "none" });
  assertEquals(
    resolveShard({ shard: "2/5" }, { SLURM_ARRAY_TASK_ID: "0", SLURM_ARRAY_TASK_COUNT: "9" }),
    {
      index: 2,
      count: 5,
      source: "--shard",
    },
  );
  // sbatch --array=0-3
  assertEquals(
    resolveShard({}, { SLURM_ARRAY_TASK_ID: "3", SLURM_ARRAY_TASK_COUNT: "4" }).index,
    3,
  );
  // sbatch --array=1-8: ids 1..8 become 0..7
  const slurm = resolveShard({}, {
    SLURM_ARRAY_TASK_ID: "8",
    SLURM_ARRAY_TASK_COUNT: "8",
    SLURM_ARRAY_TASK_MIN: "1",
  });
  assertEquals([slurm.index, slurm.count, slurm.source], [7, 8, "Slurm"]);
  // sbatch --array=10-16:2 (10, 12, 14, 16)
  const stepped = resolveShard({}, {
    SLURM_ARRAY_TASK_ID: "14",
    SLURM_ARRAY_TASK_COUNT: "4",
    SLURM_ARRAY_TASK_MIN: "10",
    SLURM_ARRAY_TASK_STEP: "2",
  });
  assertEquals([stepped.index, stepped.count], [2, 4]);
  const k8s = resolveShard({ shardCount: "6" }, { JOB_COMPLETION_INDEX: "5" });
  assertEquals([k8s.index, k8s.count, k8s.source], [5, 6, "Kubernetes"]);
  assertEquals(resolveShard({}, { JOB_COMPLETION_INDEX: "1", SWEEP_SHARD_COUNT: "2" }).count, 2);
});

Deno.test("resolveShard() rejects malformed or inconsistent shards with one clear error", () => {
  const bad: [Parameters<typeof resolveShard>[0], Record<string, string>, string][] = [
    [{ shard: "3" }, {}, "--shard '3' is malformed"],
    [{ shard: "3/3" }, {}, "out of range"],
    [{ shard: "0/0" }, {}, "out of range"],
    [{}, { SLURM_ARRAY_TASK_ID: "2" }, "SLURM_ARRAY_TASK_COUNT is unset"],
    [{}, { SLURM_ARRAY_TASK_ID: "x", SLURM_ARRAY_TASK_COUNT: "2" }, "SLURM_ARRAY_TASK_ID is 'x'"],
    [{}, { SLURM_ARRAY_TASK_ID: "4", SLURM_ARRAY_TASK_COUNT: "4" }, "out of range"],
    [
      {},
      { SLURM_ARRAY_TASK_ID: "3", SLURM_ARRAY_TASK_COUNT: "4", SLURM_ARRAY_TASK_STEP: "2" },
      "multiple of SLURM_ARRAY_TASK_STEP",
    ],
    [{}, { JOB_COMPLETION_INDEX: "1" }, "pass --shard-count N or set SWEEP_SHARD_COUNT"],
    [{ shardCount: "2" }, { JOB_COMPLETION_INDEX: "2" }, "out of range"],
    [{ shardCount: "2" }, {}, "without JOB_COMPLETION_INDEX"],
  ];
  for (const [flags, env, part] of bad) {
    assertThrows(() => resolveShard(flags, env), RangeError, part);
  }
});

Deno.test("buildPlan() ids do not depend on where the data set lives", () => {
  const here = presetConfig("fmnist"), there = presetConfig("fmnist");
  there.dataset.dir = "/mnt/shared/fashion-mnist";
  assertEquals(buildPlan(there), buildPlan(here));
});
