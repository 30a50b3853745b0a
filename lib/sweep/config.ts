/**
 * Validation of sweep configurations (presets and `--config` files) with one clear error per
 * problem: the key path, what was found, what was expected, and for a misspelt key the nearest
 * known one.
 *
 * @module
 */
import { basename } from "node:path";
import type { SweepConfig } from "../store/mod.ts";
import type { LoadDatasetOptions } from "../data/mod.ts";
import { CIFAR10_AUTHORS_NORMALIZATION } from "../data/prepare.ts";
import { FAMILIES } from "../models/mod.ts";
import { presetConfig } from "./presets.ts";
import { nearestName } from "../names/mod.ts";
import { DATASET_FACTS, modelCost } from "./cost.ts";
import { SALIENCE_METHODS } from "../salience/mod.ts";
import { fillMethodDefaults } from "./salience_methods.ts";
import {
  checkCheckpointList,
  checkpointGrid,
  configBaseDir,
  resolveCheckpoints,
} from "./checkpoints.ts";

/** Data sets a sweep may name (the loaders of `lib/data`, including those only dry-run here). */
export const SWEEP_DATASETS = [
  "fmnist-default",
  "fmnist",
  "synthetic",
  "cifar10",
  "cifar100",
  "tinyimagenet",
] as const;

/** The largest population `training.population` may ask for. */
export const MAX_POPULATION = 256;

type Check = (v: unknown) => string | null;
interface Shape {
  [key: string]: Check | Shape;
}

const isPosInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 1;
const str: Check = (v) => typeof v === "string" && v.length > 0 ? null : "a non-empty string";
const strOrNull: Check = (v) =>
  v === null || (typeof v === "string" && v.length > 0) ? null : "a non-empty string or null";
const posInt: Check = (v) => isPosInt(v) ? null : "a positive integer";
const posIntOrNull: Check = (v) => v === null || isPosInt(v) ? null : "a positive integer or null";
const bool: Check = (v) => typeof v === "boolean" ? null : "true or false";
const oneOf = (xs: readonly string[]): Check => (v) =>
  typeof v === "string" && xs.includes(v) ? null : `one of ${xs.map((x) => `'${x}'`).join(", ")}`;
const numIn = (lo: number, hi: number, open = false): Check => (v) =>
  typeof v === "number" && Number.isFinite(v) && (open ? v > lo : v >= lo) && v <= hi
    ? null
    : `a number in ${open ? "(" : "["}${lo}, ${hi}]`;
const posIntList = (what: string, ascending: boolean): Check => (v) => {
  const ok = Array.isArray(v) && v.length > 0 && v.every(isPosInt) &&
    new Set(v).size === v.length &&
    (!ascending || v.every((x, i) => i === 0 || x > (v[i - 1] as number)));
  return ok
    ? null
    : `a non-empty array of distinct positive integers${
      ascending ? " in ascending order" : ""
    } (${what})`;
};
const listOf = (xs: readonly string[], what: string): Check => (v) =>
  Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "string" && xs.includes(x)) &&
    new Set(v).size === v.length
    ? null
    : `a non-empty array of distinct ${what} from ${xs.map((x) => `'${x}'`).join(", ")}`;
const int: Check = (v) => Number.isInteger(v) ? null : "an integer";
const epochList: Check = (v) =>
  Array.isArray(v) && v.every(isPosInt) &&
    v.every((x, i) => i === 0 || x > (v[i - 1] as number))
    ? null
    : "an array of distinct 1-based epochs in ascending order (possibly empty)";
/** Keys a resolved config may omit (added after the first schema; absent means the default). */
const OPTIONAL = new Set([
  "salience.methods",
  "salience.smoothGrad",
  "salience.integratedGradients",
  "salience.epochs",
  "training.preciseBN",
  "analysis",
  "analysis.minTestAccuracy",
  "analysis.nonFinite",
  "checkpoints",
  "analysis.comparePooling",
  "training.population",
  "analysis.includingModelMean",
  "dataset.normalization",
]);
const nullOr = (shape: Shape): Shape & { __nullable: Check } =>
  ({ ...shape, __nullable: () => null }) as Shape & { __nullable: Check };

const SHAPE: Shape = {
  name: (v) =>
    typeof v === "string" && /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(v)
      ? null
      : "a plain name (letters, digits, '_', '.', '-')",
  dataset: {
    name: oneOf(SWEEP_DATASETS),
    dir: strOrNull,
    trainImages: posIntOrNull,
    testImages: posIntOrNull,
    probeImages: posInt,
    normalization: oneOf(["computed", "cifar10-authors"]),
  },
  families: listOf(FAMILIES, "families"),
  widths: posIntList("the widths k", true),
  seeds: posInt,
  training: {
    epochs: posInt,
    batchSizes: posIntList("one run per batch size", false),
    lr: numIn(0, 10, true),
    schedule: oneOf(["inverse-sqrt", "constant", "linear"]),
    preciseBN: (v) =>
      v === null || isPosInt(v)
        ? null
        : "a positive integer (training batches whose moments become each batch-norm layer's running statistics) or null (off)",
    population: (v) =>
      typeof v === "boolean" || (isPosInt(v) && v <= MAX_POPULATION)
        ? null
        : `true, false or the most models trained together (an integer in 1 … ${MAX_POPULATION})`,
  },
  salience: {
    scalar: oneOf(["true-class-logit", "predicted-class-logit", "true-class-probability", "loss"]),
    pool: posIntOrNull,
    methods: listOf(SALIENCE_METHODS, "attribution methods"),
    smoothGrad: { samples: posInt, sigma: numIn(0, 10), seed: int },
    integratedGradients: { steps: posInt, baseline: oneOf(["zero", "black"]) },
    epochs: epochList,
  },
  experiments: {
    logits: bool,
    ensembles: nullOr({ sizes: posIntList("ensemble sizes", true) }),
    attack: nullOr({
      epsilon: numIn(0, 10, true),
      strategies: listOf(["largest", "same-width", "mean-direction"], "strategies"),
    }),
  },
  analysis: {
    minTestAccuracy: (v) => v === null ? null : numIn(0, 1)(v),
    nonFinite: oneOf(["exclude", "error"]),
    comparePooling: bool,
    includingModelMean: bool,
  },
  checkpoints: (v) =>
    Array.isArray(v) ? null : 'an array of {"family", "k", "seed", "weights"} (see README)',
  backend: oneOf(["auto", "webgpu", "cpu"]),
};

function show(v: unknown): string {
  // JSON writes ±Infinity and NaN (e.g. a parsed 1e999) as null; show them as they are.
  const s = JSON.stringify(
    v,
    (_, x) => typeof x === "number" && !Number.isFinite(x) ? `__${x}__` : x,
  )?.replace(/"__(-?Infinity|NaN)__"/g, "$1");
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function walk(value: unknown, shape: Shape, path: string, source: string, partial: boolean): void {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(
      `${source}: ${path ? `'${path}'` : "the config"} is ${show(value)}; expected an object.`,
    );
  }
  const known = Object.keys(shape).filter((k) => k !== "__nullable");
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      const near = nearestName(key, known);
      const full = path ? `${path}.${key}` : key;
      throw new TypeError(
        `unknown key '${full}' in ${source}; ` +
          (near
            ? `did you mean '${path ? `${path}.${near}` : near}'?`
            : `expected one of ${known.map((k) => `'${k}'`).join(", ")}.`),
      );
    }
  }
  for (const key of known) {
    const full = path ? `${path}.${key}` : key;
    const v = (value as Record<string, unknown>)[key];
    const spec = shape[key]!;
    if (v === undefined) {
      if (partial || OPTIONAL.has(full)) continue;
      throw new TypeError(`${source}: '${full}' is missing; expected it in every resolved config.`);
    }
    if (typeof spec === "function") {
      const expected = spec(v);
      if (expected !== null) {
        const Err = typeof v === "number" || (Array.isArray(v) && v.every((x) =>
            typeof x === "number"
          ))
          ? RangeError
          : TypeError;
        throw new Err(`${source}: '${full}' is ${show(v)}; expected ${expected}.`);
      }
    } else {
      if (v === null && "__nullable" in spec) continue;
      walk(v, spec, full, source, partial);
    }
  }
}

/**
 * Checks a fully resolved sweep config: every key known, every value of the right type and
 * range, and the cross-field rules (probe images ≤ test images, ensemble sizes ≤ seeds, precise
 * BN's batches × the largest batch size ≤ training images, even widths for ViT). Returns it typed.
 *
 * @throws {TypeError} for an unknown key (suggesting the nearest known one), a missing key or a
 *   value of the wrong type; {@link RangeError} for a number out of range. Each message names
 *   `source`, the key path, the value and what was expected.
 * @example
 * ```ts
 * import { validateConfig } from "./config.ts";
 * import { presetConfig } from "./presets.ts";
 * const cfg = { ...presetConfig("tiny"), widhts: [1] };
 * let msg = "";
 * try { validateConfig(cfg, "my.json"); } catch (e) { msg = (e as Error).message; }
 * if (!msg.includes("did you mean 'widths'")) throw new Error(msg);
 * ```
 */
export function validateConfig(value: unknown, source: string): SweepConfig {
  walk(value, SHAPE, "", source, false);
  const c = value as SweepConfig;
  const test = c.dataset.testImages;
  if (test !== null && c.dataset.probeImages > test) {
    throw new RangeError(
      `${source}: 'dataset.probeImages' is ${c.dataset.probeImages}; expected at most 'dataset.testImages' (${test}), since the probe images are test images.`,
    );
  }
  const sizes = c.experiments.ensembles?.sizes ?? [];
  const big = sizes.find((s) => s > c.seeds);
  if (big !== undefined) {
    throw new RangeError(
      `${source}: 'experiments.ensembles.sizes' holds ${big}; expected sizes at most 'seeds' (${c.seeds}).`,
    );
  }
  const late = (c.salience.epochs ?? []).find((e) => e > c.training.epochs);
  if (late !== undefined) {
    throw new RangeError(
      `${source}: 'salience.epochs' holds ${late}; expected epochs at most 'training.epochs' (${c.training.epochs}).`,
    );
  }
  if (c.checkpoints !== undefined) checkCheckpointSweep(c, source);
  const pbn = c.training.preciseBN ?? null;
  const train = c.dataset.trainImages;
  if (pbn !== null && train !== null) {
    const bs = Math.max(...c.training.batchSizes);
    if (pbn * bs > train) {
      throw new RangeError(
        `${source}: 'training.preciseBN' is ${pbn} batches of ${bs} images (${
          pbn * bs
        }), more than 'dataset.trainImages' (${train}); expected at most ${
          Math.floor(train / bs)
        } at batch size ${bs}, or null to turn precise batch norm off.`,
      );
    }
  }
  checkSizes(c, source);
  if (c.families.includes("ViT")) {
    const odd = c.widths.find((k) => k % 2 !== 0);
    if (odd !== undefined) {
      throw new RangeError(
        `${source}: 'widths' holds ${odd}, but ViT needs even widths (k/2 heads); use even k or drop ViT.`,
      );
    }
  }
  return c;
}

/** Most runs one plan may hold (its JSON and the dry run stay a few hundred MB at most). */
export const MAX_RUNS = 100_000;
/** Most float32 values one array may hold (a JavaScript typed array's limit). */
export const MAX_ARRAY_VALUES = 2 ** 32 - 1;

const fmt = (n: number) => n.toLocaleString("en-US");

/**
 * Bounds checked before anything is allocated: the plan's run count, the floats of each image
 * split, of a run's salience, and of the largest model's parameters, each naming the key to lower.
 */
function checkSizes(c: SweepConfig, source: string): void {
  const runs = c.families.length * c.widths.length * c.seeds * c.training.batchSizes.length;
  if (runs > MAX_RUNS) {
    const key = c.seeds >= c.widths.length ? "seeds" : "widths";
    throw new RangeError(
      `${source}: the plan would hold ${fmt(runs)} runs ('families' × 'widths' × 'seeds' × ` +
        `'training.batchSizes'); expected at most ${fmt(MAX_RUNS)}: lower '${key}'.`,
    );
  }
  const facts = DATASET_FACTS[c.dataset.name];
  if (!facts) return;
  const per = facts.channels * facts.height * facts.width;
  const d = c.dataset;
  for (
    const [key, n] of [["trainImages", d.trainImages], ["testImages", d.testImages], [
      "probeImages",
      d.probeImages,
    ]] as const
  ) {
    if (n !== null && n * per > MAX_ARRAY_VALUES) {
      throw new RangeError(
        `${source}: 'dataset.${key}' is ${fmt(n)}: ${fmt(n * per)} pixel values, more than one ` +
          `array holds (${fmt(MAX_ARRAY_VALUES)}); expected at most ${
            fmt(Math.floor(MAX_ARRAY_VALUES / per))
          } images of ${facts.channels}×${facts.height}×${facts.width}.`,
      );
    }
  }
  const pool = c.salience.pool;
  if (pool !== null && pool > Math.min(facts.height, facts.width)) {
    throw new RangeError(
      `${source}: 'salience.pool' is ${pool}, larger than the ${facts.height}×${facts.width} ` +
        `images of ${c.dataset.name}; expected at most ${
          Math.min(facts.height, facts.width)
        }, or null for no pooling.`,
    );
  }
  const widest = c.widths.at(-1)!;
  for (const family of c.families) {
    const { params } = modelCost(family, widest, facts);
    if (!(params <= MAX_ARRAY_VALUES)) {
      throw new RangeError(
        `${source}: 'widths' holds ${fmt(widest)}: ${family} at that width has ${
          fmt(params)
        } parameters, more than one array holds (${fmt(MAX_ARRAY_VALUES)}); lower 'widths'.`,
      );
    }
  }
}

/** The rules of a config with `checkpoints`: its grid is the list's, and nothing trains. */
function checkCheckpointSweep(c: SweepConfig, source: string): void {
  checkCheckpointList(c.checkpoints, source);
  const grid = checkpointGrid(c.checkpoints!);
  for (const key of ["families", "widths", "seeds"] as const) {
    if (JSON.stringify(c[key]) !== JSON.stringify(grid[key])) {
      throw new RangeError(
        `${source}: '${key}' is ${show(c[key])}, but 'checkpoints' makes it ${
          show(grid[key])
        }; leave '${key}' out of a config that lists checkpoints.`,
      );
    }
  }
  if ((c.salience.epochs ?? []).length > 0) {
    throw new RangeError(
      `${source}: 'salience.epochs' asks for salience during training, but a config with 'checkpoints' trains nothing; drop one of them.`,
    );
  }
}

function deepMerge(base: unknown, over: unknown): unknown {
  if (
    typeof base === "object" && base !== null && !Array.isArray(base) &&
    typeof over === "object" && over !== null && !Array.isArray(over)
  ) {
    const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
    for (const [k, v] of Object.entries(over)) out[k] = deepMerge(out[k], v);
    return out;
  }
  return over;
}

/**
 * Resolves the contents of a `--config` file: `preset` (default `default`) names the base, every
 * other key overrides it (objects merge key by key, arrays and values replace), and `name`
 * defaults to the file's stem. The result is validated with {@link validateConfig}.
 *
 * @throws as {@link validateConfig}, naming the file; {@link RangeError} for an unknown preset.
 * @example
 * ```ts
 * import { resolveConfigFile } from "./config.ts";
 * const c = resolveConfigFile({ preset: "tiny", seeds: 3 }, "three_seeds.json");
 * if (c.seeds !== 3 || c.name !== "three_seeds" || c.dataset.name !== "synthetic") throw new Error();
 * ```
 */
export function resolveConfigFile(raw: unknown, source: string): SweepConfig {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new TypeError(`${source} holds ${show(raw)}; expected a JSON object of sweep settings.`);
  }
  const { preset, ...rest } = raw as Record<string, unknown>;
  if (preset !== undefined && typeof preset !== "string") {
    throw new TypeError(`${source}: 'preset' is ${show(preset)}; expected a preset name.`);
  }
  // Check the keys first so a typo is reported as a typo, not as a missing field.
  walk(rest, { ...SHAPE, preset: str }, "", source, true);
  if (rest.checkpoints !== undefined) {
    checkCheckpointList(rest.checkpoints, source);
    for (const key of ["families", "widths", "seeds"]) {
      if (key in rest) {
        throw new TypeError(
          `${source}: '${key}' is set beside 'checkpoints', which decides it; remove '${key}'.`,
        );
      }
    }
    Object.assign(rest, checkpointGrid(rest.checkpoints));
  }
  const base = presetConfig(preset ?? "default");
  const stem = basename(source).replace(/\.json$/i, "").replace(/[^A-Za-z0-9_.-]/g, "-");
  const merged = deepMerge(base, {
    name: /^[A-Za-z0-9]/.test(stem) ? stem : `config-${stem}`,
    ...rest,
  });
  return validateConfig(fillMethodDefaults(merged), source);
}

/**
 * Reads, parses and resolves a `--config` JSON file; its `checkpoints` get absolute paths (a
 * relative `weights` is relative to the file) and their SHA-256 (`resolveCheckpoints()`).
 *
 * @throws {SyntaxError} naming the file when it is not JSON; {@link Deno.errors.NotFound} when
 *   it or a listed checkpoint does not exist; otherwise as {@link resolveConfigFile}.
 * @example
 * ```ts
 * import { loadConfigFile } from "./config.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/c.json`, '{"preset": "tiny", "widths": [1, 3]}');
 * if ((await loadConfigFile(`${dir}/c.json`)).widths[1] !== 3) throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function loadConfigFile(path: string): Promise<SweepConfig> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(
        `Config file ${path} does not exist; pass the path of a JSON file to --config.`,
      );
    }
    throw err;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new SyntaxError(`${path} is not valid JSON (${(err as Error).message}); fix the file.`);
  }
  return await resolveCheckpoints(resolveConfigFile(raw, basename(path)), configBaseDir(path));
}

/**
 * The options `loadDataset()` of `lib/data` gets for a sweep's data set: the first
 * `trainImages`/`testImages` (class-balanced), the probe set from the test split.
 *
 * @example
 * ```ts
 * import { datasetOptions } from "./config.ts";
 * import { presetConfig } from "./presets.ts";
 * if (datasetOptions(presetConfig("tiny")).probeCount !== 16) throw new Error();
 * ```
 */
export function datasetOptions(config: SweepConfig): LoadDatasetOptions {
  const d = config.dataset;
  return {
    ...(d.dir !== null ? { dir: d.dir } : {}),
    ...(d.trainImages !== null ? { trainCount: d.trainImages } : {}),
    ...(d.testImages !== null ? { testCount: d.testImages } : {}),
    probeCount: d.probeImages,
    probeSplit: "test",
    ...(d.normalization === "cifar10-authors" ? { constants: CIFAR10_AUTHORS_NORMALIZATION } : {}),
  };
}
