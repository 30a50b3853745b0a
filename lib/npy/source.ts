/**
 * One gradient source over either layout the toolkit meets: a list of per-model `[N, D]` files
 * (as the sweep writes them) or one `[M, N, D]` file (as exported from elsewhere). It streams
 * sample batches laid out model-major, `[M][count][D]`, reading only the rows each batch needs.
 *
 * @module
 */

import { type NpyFile, openNpy } from "./reader.ts";
import { KeptBuffer } from "./kept_buffer.ts";
import { type GradientMeta, readSidecar } from "./sidecar.ts";

export { KeptBuffer };

/** One batch of samples from every model. */
export interface GradientBatch {
  /** Index of the batch's first sample. */
  start: number;
  /** Samples in this batch (the last batch may be short). */
  count: number;
  /**
   * `models · count · dim` floats, model-major: model m's sample `start + i` is
   * `data.subarray((m·count + i)·dim, (m·count + i + 1)·dim)`.
   */
  data: Float32Array;
}

/** Options of {@link GradientSource.batches}. */
export interface BatchOptions {
  /** First sample to read (default 0). */
  start?: number;
  /** One past the last sample to read (default `samples`). */
  end?: number;
  /**
   * Reuse one buffer for every batch (default true), kept for the source's next pass: each
   * batch's `data` is then valid only until the next batch is requested or its pass ends. Set
   * false to get a fresh array per batch.
   */
  reuseBuffer?: boolean;
}

/** Gradients of M models on the same N probe samples, D floats each. */
export interface GradientSource extends Disposable {
  /** M, the number of models. */
  readonly models: number;
  /** N, the number of probe samples. */
  readonly samples: number;
  /** D, the floats per gradient. */
  readonly dim: number;
  /** The merged metadata: the shared fields and all M models in order. */
  readonly meta: GradientMeta;
  /** Streams batches of up to `batchSize` samples from every model, in sample order. */
  batches(batchSize: number, options?: BatchOptions): AsyncIterable<GradientBatch>;
  /** Closes every file. */
  close(): void;
}

/**
 * Opens gradients for analysis: `paths` is either one `[M, N, D]` file, or one or more `[N, D]`
 * files, one per model. Every `.npy` needs its JSON sidecar (see `sidecar.ts`); per-model files
 * must agree on N, D, scalar, pooling, input shape and probe set.
 *
 * Cost: opens every file and reads its header and sidecar; no gradient data is read until
 * `batches()` is iterated, which reads each requested row once with M seeks per batch and keeps
 * one buffer of `M · batchSize · D` floats.
 *
 * @throws {TypeError} on a shape that is not 2-D or 3-D, a 3-D file in a list of several, files
 *   that disagree on N or D or on the sidecar fields, or a sidecar that disagrees with its shape.
 * @throws {Deno.errors.NotFound} when a file or its sidecar is missing.
 * @throws the errors of {@link openNpy} for a malformed `.npy`.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { openGradientSource, writeNpy, writeSidecar } from "./mod.ts";
 * const dir = await Deno.makeTempDir();
 * for (const seed of [0, 1]) {
 *   await writeNpy(`${dir}/m${seed}.npy`, [3, 4], new Float32Array(12).fill(seed));
 *   await writeSidecar(`${dir}/m${seed}.npy`, {
 *     format: "salience-gradients", version: 1, scalar: "true-class-logit", pooling: null,
 *     input: { channels: 1, height: 2, width: 2 }, models: [{ family: "MLP", k: 1, seed }],
 *     probe: { dataset: "toy", split: "test", count: 3 },
 *   });
 * }
 * using src = await openGradientSource([`${dir}/m0.npy`, `${dir}/m1.npy`]);
 * const counts = [];
 * for await (const b of src.batches(2)) counts.push([b.start, b.count, b.data.length]);
 * deepEqual(counts, [[0, 2, 16], [2, 1, 8]]);
 * ```
 */
export async function openGradientSource(
  paths: string | readonly string[],
): Promise<GradientSource> {
  const list = typeof paths === "string" ? [paths] : [...paths];
  if (list.length === 0) {
    throw new TypeError("openGradientSource: no files given, expected one or more .npy paths.");
  }
  const files: NpyFile[] = [];
  try {
    const metas: GradientMeta[] = [];
    for (const path of list) {
      const f = await openNpy(path);
      files.push(f);
      const rank = f.shape.length;
      if (rank !== 2 && rank !== 3) {
        throw new TypeError(
          `${path}: shape [${f.shape.join(", ")}] is ${rank}-D, expected [N, D] (one model) or ` +
            `[M, N, D] (M models).`,
        );
      }
      if (rank === 3 && list.length > 1) {
        throw new TypeError(
          `${path}: a 3-D [M, N, D] file must be opened on its own, not in a list of ` +
            `${list.length} files.`,
        );
      }
      metas.push(await readSidecar(path, f.shape));
    }
    const first = files[0]!;
    const firstMeta = metas[0]!;
    const rank = first.shape.length;
    const n = first.shape[rank - 2]!;
    const d = first.shape[rank - 1]!;
    for (const [i, f] of files.entries()) {
      if (f.shape[rank - 2] !== n || f.shape[rank - 1] !== d) {
        throw new TypeError(
          `${f.path}: shape [${f.shape.join(", ")}] disagrees with ${first.path} ` +
            `([${n}, ${d}]); every per-model file must hold the same N samples of D floats.`,
        );
      }
      const m = metas[i]!;
      for (const key of ["scalar", "pooling", "input", "probe"] as const) {
        if (JSON.stringify(m[key]) !== JSON.stringify(firstMeta[key])) {
          throw new TypeError(
            `${f.path}: sidecar "${key}" is ${JSON.stringify(m[key])} but ${first.path} has ` +
              `${JSON.stringify(firstMeta[key])}; all files must describe the same gradients.`,
          );
        }
      }
    }
    if (n < 1 || d < 1) {
      throw new RangeError(`${first.path}: N = ${n} and D = ${d}, expected both ≥ 1.`);
    }
    const meta: GradientMeta = { ...firstMeta, models: metas.flatMap((m) => m.models) };
    delete meta.note;
    const models = rank === 3 ? first.shape[0]! : files.length;
    return new Source(files, rank === 3, models, n, d, meta);
  } catch (e) {
    for (const f of files) f.close();
    throw e;
  }
}

class Source implements GradientSource {
  #kept = new KeptBuffer();

  constructor(
    readonly files: NpyFile[],
    readonly stacked: boolean,
    readonly models: number,
    readonly samples: number,
    readonly dim: number,
    readonly meta: GradientMeta,
  ) {}

  batches(batchSize: number, options: BatchOptions = {}): AsyncIterable<GradientBatch> {
    const { start = 0, end = this.samples, reuseBuffer = true } = options;
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
      throw new RangeError(`batches: batchSize is ${batchSize}, expected a positive integer.`);
    }
    if (
      !Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 ||
      end > this.samples || start > end
    ) {
      throw new RangeError(
        `batches: sample range [${start}, ${end}) is not inside [0, ${this.samples}).`,
      );
    }
    const { models, dim, samples, files, stacked } = this;
    const size = models * Math.min(batchSize, end - start) * dim;
    const kept = this.#kept;
    return {
      async *[Symbol.asyncIterator]() {
        const buffer = reuseBuffer ? kept.take(size) : null;
        try {
          for (let s = start; s < end; s += batchSize) {
            const count = Math.min(batchSize, end - s);
            const data = buffer
              ? buffer.subarray(0, models * count * dim)
              : new Float32Array(models * count * dim);
            if (stacked && count === samples) {
              // The whole file is one batch: its M slices lie back to back, one read.
              await files[0]!.readElements(0, models * count * dim, data);
            } else {
              for (let m = 0; m < models; m++) {
                const dst = data.subarray(m * count * dim, (m + 1) * count * dim);
                if (stacked) {
                  await files[0]!.readElements((m * samples + s) * dim, count * dim, dst);
                } else await files[m]!.readRows(s, count, dst);
              }
            }
            yield { start: s, count, data };
          }
        } finally {
          if (buffer) kept.give(buffer);
        }
      },
    };
  }

  close(): void {
    for (const f of this.files) f.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
