// Fixed normalisation constants (the authors' CIFAR-10 mean and std) instead of the split's own.
import { assert, assertEquals, assertThrows } from "../_shared/assert.ts";
import { CIFAR10_AUTHORS_NORMALIZATION, prepareDataset } from "../../lib/data/mod.ts";
import { datasetOptions } from "../../lib/sweep/config.ts";
import { presetConfig } from "../../lib/sweep/presets.ts";

const split = {
  pixels: Uint8Array.from([0, 128, 255, 10, 20, 30, 200, 100, 50, 255, 255, 255]),
  labels: Int32Array.from([0, 1, 0, 1]),
  count: 4,
};
const raw = {
  name: "rgb",
  source: "inline",
  classes: ["a", "b"],
  shape: { channels: 3, height: 1, width: 1 },
  train: split,
  test: split,
};

Deno.test("prepareDataset() with constants normalises every split by them, not by its own statistics", () => {
  const d = prepareDataset(raw, { constants: CIFAR10_AUTHORS_NORMALIZATION });
  assertEquals(d.mean, [0.4914, 0.4822, 0.4465]);
  assertEquals(d.std, [0.247, 0.243, 0.261]);
  const { mean, std } = CIFAR10_AUTHORS_NORMALIZATION;
  for (let i = 0; i < 12; i++) {
    const c = i % 3;
    const want = (split.pixels[i]! / 255 - mean[c]!) / std[c]!;
    assert(
      Math.abs(d.train.images[i]! - want) < 1e-5,
      `value ${i}: ${d.train.images[i]} vs ${want}`,
    );
    assert(Math.abs(d.test.images[i]! - want) < 1e-5);
  }
  // The computed constants differ: the option matters.
  const own = prepareDataset(raw);
  assert(own.mean[0] !== 0.4914);
});

Deno.test("prepareDataset() refuses constants that do not match the channels", () => {
  assertThrows(
    () => prepareDataset(raw, { constants: { mean: [0.5], std: [0.2] } }),
    RangeError,
    "one finite mean and one positive std per channel",
  );
  assertThrows(
    () => prepareDataset(raw, { constants: { mean: [0.5, 0.5, 0.5], std: [0.2, 0, 0.2] } }),
    RangeError,
  );
});

Deno.test("datasetOptions() passes the authors' constants for dataset.normalization 'cifar10-authors'", () => {
  assertEquals(
    datasetOptions(presetConfig("cifar100-paper")).constants,
    CIFAR10_AUTHORS_NORMALIZATION,
  );
  const computed = presetConfig("cifar100-paper");
  computed.dataset.normalization = "computed";
  assertEquals(datasetOptions(computed).constants, undefined);
  assertEquals(datasetOptions(presetConfig("default")).constants, undefined);
});
