import { assert, assertEquals } from "../_shared/assert.ts";
import { trainScheduleOf } from "../../lib/sweep/executor.ts";
import { buildPlan } from "../../lib/sweep/plan.ts";
import { presetConfig } from "../../lib/sweep/presets.ts";

Deno.test("trainScheduleOf() gives each run its own seed as the data-order seed", () => {
  const config = presetConfig("batch-size");
  const runs = buildPlan(config).runs;
  for (const r of runs) {
    assertEquals(trainScheduleOf(config, r), {
      epochs: config.training.epochs,
      batchSize: r.batchSize,
      learningRate: config.training.lr,
      schedule: config.training.schedule,
      optimizer: "sgd",
      seed: r.seed,
    });
  }
  // Two seeds of one model and batch size train on different data orders.
  const [a, b] = runs.filter((r) => r.family === "CNNSmall" && r.k === 2 && r.batchSize === 64);
  assert(trainScheduleOf(config, a!).seed !== trainScheduleOf(config, b!).seed, "same data order");
  assertEquals(new Set(runs.map((r) => trainScheduleOf(config, r).seed)).size, config.seeds);
});
