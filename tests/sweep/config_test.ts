import {
  assert,
  assertEquals,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "../_shared/assert.ts";
import {
  datasetOptions,
  loadConfigFile,
  resolveConfigFile,
  validateConfig,
} from "../../lib/sweep/config.ts";
import { PRESET_NAMES, presetConfig, PRESETS } from "../../lib/sweep/presets.ts";
import { nearestName } from "../../lib/names/mod.ts";

Deno.test("validateConfig() accepts every preset", () => {
  for (const name of PRESET_NAMES) {
    const c = validateConfig(presetConfig(name), `preset ${name}`);
    assertEquals(c.name, name);
  }
});

Deno.test("presetConfig() returns a copy and rejects unknown names", () => {
  const c = presetConfig("default");
  c.widths.push(99);
  assert(!PRESETS.default.widths.includes(99));
  assertThrows(() => presetConfig("defualt"), RangeError, "Unknown preset 'defualt'");
});

Deno.test("resolveConfigFile() names an unknown key and suggests the nearest one", () => {
  const e = assertThrows(() => resolveConfigFile({ widhts: [1, 2] }, "config.json"), TypeError);
  assertEquals(e.message, "unknown key 'widhts' in config.json; did you mean 'widths'?");
  const nested = assertThrows(
    () => resolveConfigFile({ training: { epoch: 3 } }, "config.json"),
    TypeError,
  );
  assertEquals(
    nested.message,
    "unknown key 'training.epoch' in config.json; did you mean 'training.epochs'?",
  );
  const far = assertThrows(() => resolveConfigFile({ zzzzzzzz: 1 }, "c.json"), TypeError);
  assertStringIncludes(far.message, "expected one of 'name', 'dataset'");
});

Deno.test("resolveConfigFile() rejects bad values naming the key, the value and what was expected", () => {
  const cases: [unknown, new (...a: never[]) => Error, string][] = [
    [
      { widths: [4, 2] },
      RangeError,
      "'widths' is [4,2]; expected a non-empty array of distinct positive integers in ascending order",
    ],
    [{ widths: [] }, RangeError, "'widths' is []"],
    [{ seeds: 0 }, RangeError, "'seeds' is 0; expected a positive integer"],
    [{ seeds: "4" }, TypeError, `'seeds' is "4"`],
    [{ training: { lr: -1 } }, RangeError, "'training.lr' is -1; expected a number in (0, 10]"],
    [
      { training: { schedule: "cosine" } },
      TypeError,
      "'training.schedule' is \"cosine\"; expected one of 'inverse-sqrt', 'constant', 'linear'",
    ],
    [{ families: ["CNNHuge"] }, TypeError, "'families' is [\"CNNHuge\"]"],
    [{ dataset: { name: "mnist" } }, TypeError, "'dataset.name' is \"mnist\""],
    [{ experiments: { attack: { epsilon: 0 } } }, RangeError, "'experiments.attack.epsilon' is 0"],
    [{ backend: "tpu" }, TypeError, "'backend' is \"tpu\""],
    [
      { dataset: { testImages: 10, probeImages: 20 } },
      RangeError,
      "'dataset.probeImages' is 20; expected at most 'dataset.testImages' (10)",
    ],
    [
      { seeds: 2, experiments: { ensembles: { sizes: [1, 3] } } },
      RangeError,
      "'experiments.ensembles.sizes' holds 3",
    ],
    [{ families: ["ViT"], widths: [2, 3] }, RangeError, "ViT needs even widths"],
    [{ preset: 3 }, TypeError, "'preset' is 3"],
  ];
  for (const [raw, cls, part] of cases) {
    const e = assertThrows(() => resolveConfigFile(raw, "cfg.json"), cls as never, part);
    assertStringIncludes(e.message, "cfg.json");
  }
  assertThrows(() => resolveConfigFile([1], "cfg.json"), TypeError, "expected a JSON object");
  assertThrows(
    () => resolveConfigFile({ preset: "nope" }, "cfg.json"),
    RangeError,
    "Unknown preset 'nope'",
  );
});

Deno.test("resolveConfigFile() merges over the named preset and names the sweep after the file", () => {
  const c = resolveConfigFile({
    preset: "tiny",
    seeds: 3,
    training: { epochs: 2 },
    experiments: { attack: null },
  }, "my sweep.json");
  assertEquals(c.name, "my-sweep");
  assertEquals(c.seeds, 3);
  assertEquals(c.training.epochs, 2);
  assertEquals(c.training.batchSizes, PRESETS.tiny.training.batchSizes);
  assertEquals(c.dataset, PRESETS.tiny.dataset);
  assertEquals(c.experiments.attack, null);
  assertEquals(resolveConfigFile({ name: "x1" }, "c.json").widths, PRESETS.default.widths);
});

Deno.test("loadConfigFile() reports unparsable JSON as a SyntaxError naming the file", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/bad.json`, '{"seeds": 3,}');
  await assertRejects(
    () => loadConfigFile(`${dir}/bad.json`),
    SyntaxError,
    "bad.json is not valid JSON",
  );
  await assertRejects(
    () => loadConfigFile(`${dir}/missing.json`),
    Deno.errors.NotFound,
    "missing.json",
  );
  await Deno.writeTextFile(`${dir}/config.json`, '{"widhts": [1]}');
  await assertRejects(
    () => loadConfigFile(`${dir}/config.json`),
    TypeError,
    "unknown key 'widhts' in config.json; did you mean 'widths'?",
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("nearestName() suggests close config keys only", () => {
  assertEquals(nearestName("seed", ["seeds", "widths"]), "seeds");
  assertEquals(nearestName("Widths", ["seeds", "widths"]), "widths");
  assertEquals(nearestName("backendz", ["backend"]), "backend");
  assertEquals(nearestName("xyz", ["seeds", "widths"]), null);
});

Deno.test("datasetOptions() maps null limits to the whole split", () => {
  assertEquals(datasetOptions(presetConfig("fmnist")), { probeCount: 1000, probeSplit: "test" });
  assertEquals(datasetOptions(presetConfig("tiny")), {
    trainCount: 64,
    testCount: 32,
    probeCount: 16,
    probeSplit: "test",
  });
});
