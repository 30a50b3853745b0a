/**
 * NumPy `.npy` gradients: the one reader and writer of float32 C-order arrays the toolkit uses,
 * the JSON sidecar that says what a gradient file holds, and a streaming gradient source over
 * per-model `[N, D]` files or one `[M, N, D]` file.
 *
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { openGradientSource, writeNpy, writeSidecar } from "./mod.ts";
 * const path = (await Deno.makeTempDir()) + "/grads.npy";
 * await writeNpy(path, [2, 3, 4], new Float32Array(24));
 * await writeSidecar(path, {
 *   format: "salience-gradients", version: 1, scalar: "true-class-logit", pooling: null,
 *   input: { channels: 1, height: 2, width: 2 },
 *   models: [{ family: "CNNSmall", k: 4, seed: 0 }, { family: "CNNSmall", k: 4, seed: 1 }],
 *   probe: { dataset: "fashion-mnist", split: "test", count: 3 },
 * });
 * using src = await openGradientSource(path);
 * deepEqual([src.models, src.samples, src.dim], [2, 3, 4]);
 * ```
 *
 * @module
 */

export {
  formatNpyHeader,
  type FormatNpyHeaderOptions,
  NPY_ALIGN,
  NPY_DTYPE,
  NPY_MAGIC,
  type NpyHeader,
  npyHeaderLength,
  parseNpyHeader,
} from "./header.ts";
export { type NpyFile, openNpy, readNpy } from "./reader.ts";
export {
  createNpyRowWriter,
  type NpyRowWriter,
  type NpyRowWriterOptions,
  writeNpy,
} from "./writer.ts";
export {
  GRADIENT_META_FORMAT,
  GRADIENT_META_VERSION,
  type GradientMeta,
  metaDim,
  metaSamples,
  type ModelRef,
  type ProbeSet,
  readSidecar,
  SALIENCE_SCALARS,
  type SalienceScalar,
  sidecarPath,
  validateGradientMeta,
  type ValidateMetaOptions,
  writeSidecar,
} from "./sidecar.ts";
export {
  type BatchOptions,
  type GradientBatch,
  type GradientSource,
  openGradientSource,
} from "./source.ts";
