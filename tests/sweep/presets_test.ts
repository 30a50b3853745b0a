import { assert, assertEquals, assertStringIncludes } from "../_shared/assert.ts";
import { dryRunReport } from "../../lib/cli/sweep.ts";
import { validateConfig } from "../../lib/sweep/config.ts";
import { PRESET_NAMES, PRESETS } from "../../lib/sweep/presets.ts";
import { buildPlan } from "../../lib/sweep/plan.ts";

Deno.test("PRESETS default is the end-to-end study: two families, ≥ 3 widths, ≥ 4 seeds, trained models, experiments", () => {
  const d = PRESETS.default;
  for (const f of ["CNNSmall", "ResNetSmall"]) assert(d.families.includes(f), f);
  assert(d.widths.length >= 3, `widths ${d.widths}`);
  // Accuracy is measured on at least 1,000 test images, the whole embedded training split is
  // used, and batch-norm statistics are recalibrated after training.
  assert((d.dataset.testImages ?? Infinity) >= 1000, `test images ${d.dataset.testImages}`);
  assertEquals(d.dataset.trainImages, 4000);
  assert((d.training.preciseBN ?? 0) >= 1, "precise BN on");
  assert(d.dataset.probeImages <= d.dataset.testImages!, "probe images are test images");
  assert(d.widths.every((k, i) => i === 0 || k > d.widths[i - 1]!), "widths ascend");
  assert(d.seeds >= 4, `seeds ${d.seeds}`);
  assert(d.experiments.logits && d.experiments.ensembles !== null && d.experiments.attack !== null);
  assertEquals([...d.experiments.attack!.strategies].sort(), [
    "largest",
    "mean-direction",
    "same-width",
  ]);
  assert(d.dataset.name.startsWith("fmnist"), d.dataset.name);
});

Deno.test("PRESETS carry every named setting with its documented shape", () => {
  assertEquals([...PRESET_NAMES], [
    "default",
    "tiny",
    "fmnist",
    "population",
    "batch-size",
    "vit",
    "cifar10-paper",
    "cifar100-paper",
    "tinyimagenet-paper",
    "population-paper",
    "methods-epochs",
    "methods-epochs-paper",
  ]);
  // fmnist: the whole Debian data set.
  assertEquals(PRESETS.fmnist.dataset.name, "fmnist");
  assertEquals([PRESETS.fmnist.dataset.trainImages, PRESETS.fmnist.dataset.testImages], [
    null,
    null,
  ]);
  // population: many seeds at a few small widths, enough for a per-image marginal and a
  // mean direction of the other seeds.
  const pop = PRESETS.population;
  assert(pop.widths.length <= 3 && Math.max(...pop.widths) <= PRESETS.default.widths.at(-1)!);
  assert(pop.seeds >= 20, `population seeds ${pop.seeds}`);
  assert(pop.experiments.attack!.strategies.includes("mean-direction"));
  // batch-size: the four batch sizes, one run per (batch, family, k, seed).
  assertEquals(PRESETS["batch-size"].training.batchSizes, [64, 128, 256, 512]);
  const bs = buildPlan(PRESETS["batch-size"]).runs;
  assertEquals(new Set(bs.map((r) => r.batchSize)), new Set([64, 128, 256, 512]));
  assertEquals(PRESETS.vit.families, ["ViT"]);
  // The paper presets: the paper's data sets, widths and training.
  for (
    const [name, data] of [
      ["cifar10-paper", "cifar10"],
      ["cifar100-paper", "cifar100"],
      ["tinyimagenet-paper", "tinyimagenet"],
    ] as const
  ) {
    const p = PRESETS[name];
    assertEquals(p.dataset.name, data);
    assertEquals(p.widths, [10, 20, 40, 80, 160]);
    assertEquals(p.training, { epochs: 100, batchSizes: [128], lr: 0.1, schedule: "inverse-sqrt" });
  }
  assertEquals(PRESETS.tiny.dataset.name, "synthetic");
});

Deno.test("methods-epochs runs both studies on the embedded data; methods-epochs-paper at the paper's scale", () => {
  const all = ["gradient", "gradient-x-input", "smoothgrad", "integrated-gradients"];
  for (const name of ["methods-epochs", "methods-epochs-paper"] as const) {
    const p = validateConfig(structuredClone(PRESETS[name]), name);
    assertEquals(p.salience.methods, all);
    assert((p.salience.epochs ?? []).length >= 3, `${name}: epochs analysed`);
    assertEquals(p.salience.epochs!.at(-1), p.training.epochs); // the final model is one of them
    assert(p.seeds >= 3, `${name}: the claims need 3 seeds per width`);
    const text = dryRunReport(p, { index: 0, count: 1, source: "none" });
    assertStringIncludes(text, "methods    gradient, gradient-x-input, smoothgrad");
    assertStringIncludes(text, `epochs     salience after epochs ${p.salience.epochs!.join(", ")}`);
  }
  const here = PRESETS["methods-epochs"];
  assertEquals(here.dataset.name, "fmnist-default");
  // The default's recipe, which trains every model above the accuracy floor.
  assertEquals(here.training, PRESETS.default.training);
  const paper = PRESETS["methods-epochs-paper"];
  assertEquals(paper.dataset.name, "cifar10");
  assertEquals(paper.widths, PRESETS["cifar10-paper"].widths);
  assertEquals(paper.training, PRESETS["cifar10-paper"].training);
  assertEquals(paper.seeds, PRESETS["cifar10-paper"].seeds);
});

Deno.test("population-paper: the paper's 100 seeds at k = 10, 20, 40 on CIFAR-10, μ including the model beside", () => {
  const p = PRESETS["population-paper"];
  assertEquals([p.dataset.name, p.families, p.widths, p.seeds], [
    "cifar10",
    ["CNNSmall"],
    [10, 20, 40],
    100,
  ]);
  assertEquals(p.training, { epochs: 100, batchSizes: [128], lr: 0.1, schedule: "inverse-sqrt" });
  assertEquals(p.analysis?.includingModelMean, true);
  assertEquals(p.salience.pool, 8);
  assertEquals(buildPlan(p).runs.length, 300);
  const dry = dryRunReport(p, { index: 0, count: 1, source: "none" });
  for (
    const part of [
      "seeds      100 per (family, k)",
      "widths     k = 10, 20, 40",
      "normalised with the authors' CIFAR-10 mean and std",
      "t against μ including the model reported beside leave-one-out",
      "runs       300",
    ]
  ) assert(dry.includes(part), `${part}\n${dry}`);
});

Deno.test("the CIFAR paper presets normalise with the authors' CIFAR-10 constants; others compute theirs", () => {
  for (const name of ["cifar10-paper", "cifar100-paper", "population-paper"] as const) {
    assertEquals(PRESETS[name].dataset.normalization, "cifar10-authors", name);
    assertEquals(PRESETS[name].salience.pool, 8, name);
  }
  assertEquals(PRESETS["tinyimagenet-paper"].dataset.normalization, undefined);
  assertEquals(PRESETS.default.dataset.normalization, undefined);
});
