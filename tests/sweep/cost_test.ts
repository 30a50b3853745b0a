import "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";
tf.env().set("PROD", true);
import { assert, assertEquals, assertStringIncludes, assertThrows } from "../_shared/assert.ts";
import { countParams, createModel, FAMILIES } from "../../lib/models/mod.ts";
import { modelCost, planCost } from "../../lib/sweep/cost.ts";
import { buildPlan } from "../../lib/sweep/plan.ts";
import { presetConfig } from "../../lib/sweep/presets.ts";
import { dryRunReport } from "../../lib/cli/sweep.ts";

Deno.test("modelCost() counts the same parameters as the built models", async () => {
  await tf.setBackend("cpu");
  const shapes = [
    { channels: 1, height: 28, width: 28, classes: 10 },
    { channels: 3, height: 32, width: 32, classes: 100 },
  ];
  for (const family of FAMILIES) {
    for (const s of shapes) {
      const k = family === "ViT" ? 4 : 3;
      const m = createModel({ family, k, seed: 0, shape: s, classes: s.classes });
      assertEquals(
        modelCost(family, k, s).params,
        countParams(m),
        `${family} k=${k} ${s.channels}×${s.height}`,
      );
      m.dispose();
    }
  }
  // The design's counts at k = 10 for 3×32×32 and 10 classes.
  const cifar = { channels: 3, height: 32, width: 32, classes: 10 };
  assertEquals(
    ["CNNSmall", "CNNLarge", "ResNetSmall", "ResNetLarge"].map((f) =>
      modelCost(f, 10, cifar).params
    ),
    [39330, 116280, 124420, 276180],
  );
  assertThrows(
    () => modelCost("Transformer", 1, cifar),
    RangeError,
    "Unknown family 'Transformer'",
  );
});

Deno.test("modelCost() grows about quadratically in k for convolutions", () => {
  const s = { channels: 3, height: 32, width: 32, classes: 10 };
  const a = modelCost("CNNSmall", 10, s).macs, b = modelCost("CNNSmall", 20, s).macs;
  assert(b / a > 3.5 && b / a < 4.1, `ratio ${b / a}`);
  // conv1 32·32·27·10 + conv2 32·32·90·20 + conv3 16·16·180·40 + conv4 8·8·360·80 + head 80·10, plus BN.
  const convs = 32 * 32 * 27 * 10 + 32 * 32 * 90 * 20 + 16 * 16 * 180 * 40 + 8 * 8 * 360 * 80 + 800;
  const bn = 2 * (32 * 32 * 10 + 32 * 32 * 20 + 16 * 16 * 40 + 8 * 8 * 80);
  assertEquals(a, convs + bn);
});

Deno.test("planCost() sums runs, FLOPs and store sizes", () => {
  const cfg = presetConfig("cifar100-paper");
  const plan = buildPlan(cfg);
  const c = planCost(cfg, plan.runs, { flopsPerSecond: 1e12 });
  assertEquals(c.runs, 4 * 5 * 10);
  // The paper presets pool to 8×8 as the authors did and keep the unpooled gradients beside.
  assertEquals(c.gradientBytes, 200 * 10000 * 3 * 64 * 4);
  assertEquals(c.unpooledBytes, 200 * 10000 * 3072 * 4);
  assertEquals(c.perModel.length, 20);
  assertEquals(c.flops, c.perModel.reduce((a, m) => a + 10 * m.flopsPerRun, 0));
  assertEquals(c.seconds, c.flops / 1e12);
  const half = planCost(cfg, plan.runs.slice(0, 100));
  assert(half.flops < c.flops);
  const unpooled = presetConfig("tinyimagenet-paper");
  unpooled.salience.pool = null;
  const u = planCost(unpooled, buildPlan(unpooled).runs);
  assertEquals([u.gradientBytes, u.unpooledBytes], [200 * 10000 * 3 * 64 * 64 * 4, 0]);
  const off = presetConfig("cifar100-paper");
  off.analysis = { comparePooling: false };
  assertEquals(planCost(off, plan.runs).unpooledBytes, 0);
});

Deno.test("dryRunReport() prints the plan and its cost for the paper presets", () => {
  const shard = { index: 0, count: 1, source: "none" };
  const c10 = dryRunReport(presetConfig("cifar10-paper"), shard);
  for (
    const part of [
      "dry run: nothing is trained or written",
      "cifar10: 3×32×32, 10 classes; 50,000 train, 10,000 test, 10,000 probe images",
      "families   CNNSmall, CNNLarge, ResNetSmall, ResNetLarge",
      "widths     k = 10, 20, 40, 80, 160",
      "training   100 epochs, batch 128, SGD lr 0.1 (inverse-sqrt)",
      "runs       200",
      "ResNetLarge k=160   69,794,730",
      "gradients  1.5 GB of salience.npy (10,000 × 192 × 4 B per run)",
      "24.6 GB of salience-unpooled.npy (the same pass unpooled, analysed side by side)",
      "at 10 TFLOP/s effective",
    ]
  ) assertStringIncludes(c10, part);
  assertStringIncludes(dryRunReport(presetConfig("cifar100-paper"), shard), "100 classes");
  const tin = dryRunReport(presetConfig("tinyimagenet-paper"), shard);
  assertStringIncludes(tin, "tinyimagenet: 3×64×64, 200 classes; 100,000 train");
  assertStringIncludes(tin, "98.3 GB of salience-unpooled.npy");
  const alone = presetConfig("cifar10-paper");
  alone.training.population = false;
  const shard1 = { index: 1, count: 8, source: "--shard" };
  assertStringIncludes(dryRunReport(alone, shard1), "runs       200 (shard 1/8: 25)");
  // With populations a shard holds whole ones: the planner's S = 16 takes each (family, k)'s 10
  // seeds as one population, 4 × 5 = 20 trainings of 10 runs, 3 of them (positions 1, 9, 17) in
  // shard 1.
  const together = presetConfig("cifar10-paper");
  together.training.population = true;
  const sharded = dryRunReport(together, shard1);
  assertStringIncludes(sharded, "runs       200 (shard 1/8: 30)");
  assertStringIncludes(
    sharded,
    "(the planner's, backend auto): 3 trainings for 30 runs of this shard",
  );
  for (const name of ["default", "tiny", "fmnist", "population", "batch-size", "vit"]) {
    assertStringIncludes(dryRunReport(presetConfig(name), shard), `plan ${name}-`);
  }
});
