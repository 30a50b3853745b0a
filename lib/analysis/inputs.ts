/**
 * What the analysis reads: the models as the caller knows them and the stream of gradient
 * batches, and the header every file it writes starts with.
 *
 * @module
 */

import { ANALYSIS_SCHEMA_VERSION } from "./schema.ts";

/** One model as the caller knows it (the sidecar's entry plus optional store fields). */
export interface ModelInput {
  family: string;
  k: number;
  seed: number;
  /** Run id (default `model-<index>`). */
  id?: string;
  /** Training batch size, when the study varies it. */
  batchSize?: number | null;
  /** Test loss and accuracy when recorded (used by `batch_size.json`). */
  loss?: number | null;
  accuracy?: number | null;
}

/**
 * Which samples a pass of a {@linkcode BatchStream} reads (`start` … `end` − 1, default all),
 * and whether its batches may share one buffer (`reuseBuffer`: each batch's data is then valid
 * until the next batch is requested), as `BatchOptions` of `lib/npy`.
 */
export interface BatchRange {
  start?: number;
  end?: number;
  reuseBuffer?: boolean;
}

/** What the analysis reads: the shape of a `GradientSource` from `lib/npy`. */
export interface BatchStream {
  readonly models: number;
  readonly samples: number;
  readonly dim: number;
  batches(
    batchSize: number,
    options?: BatchRange,
  ): AsyncIterable<{ start: number; count: number; data: Float32Array }>;
}

/** The fields every file of one analysis run shares. */
export interface FileHeader {
  schemaVersion: typeof ANALYSIS_SCHEMA_VERSION;
  generatedAt: string;
  source: string;
}

/** The header of the files written now from `source`. */
export function fileHeader(source: string, generatedAt = new Date().toISOString()): FileHeader {
  return { schemaVersion: ANALYSIS_SCHEMA_VERSION, generatedAt, source };
}
