/**
 * The JSON sidecar that says what a gradient `.npy` file holds. It sits beside the array with
 * the same stem (`grads.npy` → `grads.json`), so the `.npy` stays a plain file NumPy reads.
 *
 * Format (version 1), every key required unless marked optional, no other keys allowed:
 *
 * ```json
 * {
 *   "format": "salience-gradients",
 *   "version": 1,
 *   "scalar": "true-class-logit",
 *   "pooling": null,
 *   "input": { "channels": 1, "height": 28, "width": 28 },
 *   "models": [{ "family": "CNNSmall", "k": 4, "seed": 0 }],
 *   "probe": { "dataset": "fashion-mnist", "split": "test", "count": 500 },
 *   "note": "optional free text, e.g. where the file came from"
 * }
 * ```
 *
 * - `scalar`: what was differentiated: `"true-class-logit"`, `"predicted-class-logit"`,
 *   `"true-class-probability"` or `"loss"`.
 * - `pooling`: `null` (D = C·H·W) or P, the side of the per-channel area pooling (D = C·P·P).
 * - `input`: the model's input shape C×H×W before any pooling.
 * - `models`: one entry per model in file order: one for a `[N, D]` file, M for `[M, N, D]`.
 * - `probe`: the test images, in row order: `indices` (N dataset indices) or `count` (the first
 *   N images of the split), exactly one of the two.
 *
 * @module
 */

import { writeFileAtomic } from "../store/io.ts";

/** The value of the sidecar's `format` key. */
export const GRADIENT_META_FORMAT = "salience-gradients";

/** The sidecar schema version this module writes and reads. */
export const GRADIENT_META_VERSION = 1;

/** The scalars whose input gradient a file may hold. */
export const SALIENCE_SCALARS = [
  "true-class-logit",
  "predicted-class-logit",
  "true-class-probability",
  "loss",
] as const;

/** What was differentiated with respect to the input. */
export type SalienceScalar = typeof SALIENCE_SCALARS[number];

/** One model: its family name, width k and seed. */
export interface ModelRef {
  family: string;
  k: number;
  seed: number;
}

/** The probe set: dataset, split, and either the indices of the N images or their count. */
export type ProbeSet =
  | { dataset: string; split: string; indices: number[] }
  | { dataset: string; split: string; count: number };

/** The sidecar's contents; see the module doc for the format. */
export interface GradientMeta {
  format: typeof GRADIENT_META_FORMAT;
  version: typeof GRADIENT_META_VERSION;
  scalar: SalienceScalar;
  pooling: number | null;
  input: { channels: number; height: number; width: number };
  models: ModelRef[];
  probe: ProbeSet;
  note?: string;
}

/**
 * The sidecar path of a `.npy` path: the same stem with `.json` (`runs/a/grads.npy` →
 * `runs/a/grads.json`). Cost: O(path length).
 *
 * @throws {TypeError} when `npyPath` does not end in `.npy`.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { sidecarPath } from "./sidecar.ts";
 * deepEqual(sidecarPath("runs/a/grads.npy"), "runs/a/grads.json");
 * ```
 */
export function sidecarPath(npyPath: string): string {
  if (!npyPath.endsWith(".npy")) {
    throw new TypeError(`sidecarPath: ${JSON.stringify(npyPath)} does not end in ".npy".`);
  }
  return npyPath.slice(0, -4) + ".json";
}

/**
 * D, the floats per sample, that a sidecar implies: C·H·W without pooling, C·P·P with pooling P.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { metaDim } from "./sidecar.ts";
 * deepEqual(metaDim({ pooling: 8, input: { channels: 3, height: 32, width: 32 } }), 192);
 * ```
 */
export function metaDim(meta: Pick<GradientMeta, "pooling" | "input">): number {
  const { channels, height, width } = meta.input;
  return meta.pooling === null ? channels * height * width : channels * meta.pooling ** 2;
}

/**
 * The number of probe samples N a sidecar implies: the length of `probe.indices`, or
 * `probe.count`.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { metaSamples } from "./sidecar.ts";
 * deepEqual(metaSamples({ probe: { dataset: "d", split: "test", indices: [4, 8] } }), 2);
 * ```
 */
export function metaSamples(meta: Pick<GradientMeta, "probe">): number {
  return "indices" in meta.probe ? meta.probe.indices.length : meta.probe.count;
}

/** Options of {@link validateGradientMeta}. */
export interface ValidateMetaOptions {
  /** When given, the array shape (`[N, D]` or `[M, N, D]`) the sidecar must agree with. */
  shape?: readonly number[];
  /** Labels error messages (the sidecar's path). */
  name?: string;
}

type Obj = Record<string, unknown>;

/**
 * Checks that `value` is a version-1 gradient sidecar and, if `shape` is given, that it agrees
 * with the array: M models, N probe samples and D = C·H·W (or C·P·P). Returns it typed.
 * Cost: O(models + probe indices).
 *
 * @throws {TypeError} naming the key, for a missing or unknown key, a value of the wrong type,
 *   or a disagreement with `shape`.
 * @throws {RangeError} naming the key, for a value out of range (an unknown scalar, k < 1, a
 *   negative seed or index, a pooling larger than the image, an unknown version).
 *
 * @example
 * ```ts
 * import { throws } from "node:assert/strict";
 * import { validateGradientMeta } from "./sidecar.ts";
 * const meta = {
 *   format: "salience-gradients", version: 1, scalar: "loss", pooling: null,
 *   input: { channels: 1, height: 2, width: 2 }, models: [{ family: "MLP", k: 1, seed: 0 }],
 *   probe: { dataset: "toy", split: "test", count: 3 },
 * };
 * validateGradientMeta(meta, { shape: [3, 4] });
 * throws(() => validateGradientMeta({ ...meta, colour: 1 }), /colour/);
 * ```
 */
export function validateGradientMeta(
  value: unknown,
  options: ValidateMetaOptions = {},
): GradientMeta {
  const name = options.name ?? "gradient sidecar";
  const fail = (Err: typeof TypeError, key: string, msg: string): never => {
    throw new Err(`${name}: "${key}" ${msg}.`);
  };
  const obj = (v: unknown, key: string, required: string[], optional: string[] = []): Obj => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
      fail(TypeError, key, `is ${JSON.stringify(v)}, expected an object`);
    }
    const o = v as Obj;
    for (const k of Object.keys(o)) {
      if (!required.includes(k) && !optional.includes(k)) {
        const hint = k === "model" ? ' (use "models", a list)' : "";
        fail(
          TypeError,
          key === "" ? k : `${key}.${k}`,
          `is not a known key${hint}; expected only ${[...required, ...optional].join(", ")}`,
        );
      }
    }
    for (const k of required) {
      if (!(k in o)) fail(TypeError, key === "" ? k : `${key}.${k}`, "is missing");
    }
    return o;
  };
  const str = (v: unknown, key: string): string => {
    if (typeof v !== "string" || v.length === 0) {
      fail(TypeError, key, `is ${JSON.stringify(v)}, expected a non-empty string`);
    }
    return v as string;
  };
  const int = (v: unknown, key: string, min: number): number => {
    if (typeof v !== "number" || !Number.isSafeInteger(v)) {
      fail(TypeError, key, `is ${JSON.stringify(v)}, expected an integer`);
    }
    if ((v as number) < min) fail(RangeError, key, `is ${v}, expected an integer ≥ ${min}`);
    return v as number;
  };

  const top = obj(value, "", [
    "format",
    "version",
    "scalar",
    "pooling",
    "input",
    "models",
    "probe",
  ], ["note"]);
  if (top.format !== GRADIENT_META_FORMAT) {
    fail(
      TypeError,
      "format",
      `is ${JSON.stringify(top.format)}, expected "${GRADIENT_META_FORMAT}"`,
    );
  }
  if (top.version !== GRADIENT_META_VERSION) {
    fail(
      RangeError,
      "version",
      `is ${JSON.stringify(top.version)}, expected ${GRADIENT_META_VERSION} (this reader's ` +
        `schema version)`,
    );
  }
  if (!(SALIENCE_SCALARS as readonly unknown[]).includes(top.scalar)) {
    fail(
      RangeError,
      "scalar",
      `is ${JSON.stringify(top.scalar)}, expected one of ${SALIENCE_SCALARS.join(", ")}`,
    );
  }
  const input = obj(top.input, "input", ["channels", "height", "width"]);
  const channels = int(input.channels, "input.channels", 1);
  const height = int(input.height, "input.height", 1);
  const width = int(input.width, "input.width", 1);
  if (top.pooling !== null) {
    const p = int(top.pooling, "pooling", 1);
    if (p > Math.min(height, width)) {
      fail(
        RangeError,
        "pooling",
        `is ${p}, expected at most min(height, width) = ${Math.min(height, width)}`,
      );
    }
  }
  if (!Array.isArray(top.models) || top.models.length === 0) {
    fail(TypeError, "models", `is ${JSON.stringify(top.models)}, expected a non-empty list`);
  }
  const models = top.models as unknown[];
  models.forEach((m, i) => {
    const key = `models[${i}]`;
    const o = obj(m, key, ["family", "k", "seed"]);
    str(o.family, `${key}.family`);
    int(o.k, `${key}.k`, 1);
    int(o.seed, `${key}.seed`, 0);
  });
  const probe = obj(top.probe, "probe", ["dataset", "split"], ["indices", "count"]);
  str(probe.dataset, "probe.dataset");
  str(probe.split, "probe.split");
  if (("indices" in probe) === ("count" in probe)) {
    fail(TypeError, "probe", 'must have exactly one of "indices" and "count"');
  }
  if ("indices" in probe) {
    if (!Array.isArray(probe.indices) || probe.indices.length === 0) {
      fail(TypeError, "probe.indices", "is not a non-empty list of integers");
    }
    (probe.indices as unknown[]).forEach((v, i) => int(v, `probe.indices[${i}]`, 0));
  } else int(probe.count, "probe.count", 1);
  if ("note" in top && typeof top.note !== "string") {
    fail(TypeError, "note", `is ${JSON.stringify(top.note)}, expected a string`);
  }

  const meta = value as GradientMeta;
  const shape = options.shape;
  if (shape !== undefined) {
    const shown = `[${shape.join(", ")}]`;
    if (shape.length !== 2 && shape.length !== 3) {
      throw new TypeError(
        `${name}: the array has shape ${shown}, expected [N, D] or [M, N, D].`,
      );
    }
    const m = shape.length === 3 ? shape[0]! : 1;
    const n = shape[shape.length - 2]!;
    const d = shape[shape.length - 1]!;
    if (models.length !== m) {
      fail(TypeError, "models", `lists ${models.length} models but the array ${shown} holds ${m}`);
    }
    const ns = metaSamples(meta);
    if (ns !== n) {
      fail(
        TypeError,
        "indices" in meta.probe ? "probe.indices" : "probe.count",
        `gives ${ns} samples but the array ${shown} holds N = ${n}`,
      );
    }
    const dim = metaDim(meta);
    if (dim !== d) {
      const how = meta.pooling === null
        ? `C·H·W = ${channels}·${height}·${width}`
        : `C·P·P = ${channels}·${meta.pooling}·${meta.pooling}`;
      fail(
        TypeError,
        meta.pooling === null ? "input" : "pooling",
        `implies D = ${how} = ${dim} but the array ${shown} has D = ${d}`,
      );
    }
  }
  return meta;
}

/**
 * Reads and validates the sidecar of `npyPath` (see {@link sidecarPath}), checking it against
 * the array's `shape` when given. Cost: one small file read.
 *
 * @throws {Deno.errors.NotFound} when the sidecar is missing.
 * @throws {SyntaxError} when it is not JSON.
 * @throws the errors of {@link validateGradientMeta}.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { readSidecar, writeSidecar } from "./sidecar.ts";
 * const npy = (await Deno.makeTempDir()) + "/g.npy";
 * const meta = {
 *   format: "salience-gradients", version: 1, scalar: "loss", pooling: null,
 *   input: { channels: 1, height: 2, width: 2 }, models: [{ family: "MLP", k: 1, seed: 0 }],
 *   probe: { dataset: "toy", split: "test", count: 3 },
 * } as const;
 * await writeSidecar(npy, { ...meta, models: [...meta.models] });
 * deepEqual((await readSidecar(npy, [3, 4])).scalar, "loss");
 * ```
 */
export async function readSidecar(
  npyPath: string,
  shape?: readonly number[],
): Promise<GradientMeta> {
  const path = sidecarPath(npyPath);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(
        `${path}: the metadata sidecar of ${npyPath} is missing; write it with writeSidecar() ` +
          `(format "${GRADIENT_META_FORMAT}", version ${GRADIENT_META_VERSION}).`,
      );
    }
    throw e;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new SyntaxError(`${path}: not valid JSON (${(e as Error).message}).`);
  }
  return validateGradientMeta(value, { shape, name: path });
}

/**
 * Validates `meta` and writes it as the sidecar of `npyPath`, atomically (temp file + rename).
 * Cost: one small file write.
 *
 * @throws the errors of {@link validateGradientMeta}.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { sidecarPath, writeSidecar } from "./sidecar.ts";
 * const npy = (await Deno.makeTempDir()) + "/h.npy";
 * await writeSidecar(npy, {
 *   format: "salience-gradients", version: 1, scalar: "loss", pooling: null,
 *   input: { channels: 1, height: 2, width: 2 }, models: [{ family: "MLP", k: 1, seed: 0 }],
 *   probe: { dataset: "toy", split: "test", count: 3 },
 * });
 * deepEqual(JSON.parse(await Deno.readTextFile(sidecarPath(npy))).version, 1);
 * ```
 */
export async function writeSidecar(npyPath: string, meta: GradientMeta): Promise<void> {
  const path = sidecarPath(npyPath);
  validateGradientMeta(meta, { name: path });
  await writeFileAtomic(path, new TextEncoder().encode(JSON.stringify(meta, null, 2) + "\n"));
}
