/**
 * Gradients exported from elsewhere, without a file system: the models JSON that
 * `deno task analyze --grads G.npy --models M.json` reads (checked here once, for the CLI and the
 * site's in-browser analysis alike), a whole `[M, N, D]` `.npy` held in memory as a batch stream,
 * and {@linkcode analyzeNpyBytes}, which runs the same {@linkcode analyzeGradients} on them.
 * Browser-safe: nothing here reads a file or needs Deno.
 *
 * @module
 */

import type { Gpu } from "../../kernels/mod.ts";
import { parseNpyHeader } from "../npy/header.ts";
import { HOST_LITTLE_ENDIAN, swapFloat32Bytes } from "../npy/reader.ts";
import { KeptBuffer } from "../npy/kept_buffer.ts";
import {
  analyzeGradients,
  type GradientAnalysis,
  type GradientAnalysisOptions,
} from "./gradients.ts";
import type { BatchRange, BatchStream, ModelInput } from "./inputs.ts";
import type { SummaryFile } from "./schema.ts";

/** The JSON describing an external gradients file: a list of models, or an object with one. */
export interface ExternalModels {
  models: Array<{ family: string; k: number; seed: number; id?: string }>;
  scalar?: string;
  pooling?: number | null;
  inputShape?: [number, number, number];
}

/**
 * Checks the models JSON of an `[M, N, D]` gradients file named `name`: a list of
 * `{family, k, seed}` (one per model, in order) or an object whose `models` is that list.
 *
 * @throws {TypeError} when it is neither, when it lists other than `M` models, or when an entry
 * lacks a string family, a positive integer k or a non-negative integer seed.
 * @example
 * ```ts
 * import { externalModels } from "./external.ts";
 * const d = externalModels([{ family: "MLP", k: 2, seed: 0 }], 1, "g.npy");
 * if (d.models[0]!.k !== 2) throw new Error();
 * ```
 */
export function externalModels(value: unknown, M: number, name: string): ExternalModels {
  const desc = (Array.isArray(value) ? { models: value } : value) as ExternalModels;
  if (typeof desc !== "object" || desc === null || !Array.isArray(desc.models)) {
    throw new TypeError(
      `the models JSON is ${
        JSON.stringify(value)?.slice(0, 60)
      }; expected a list of {"family", "k", "seed"} per model, or an object whose "models" is that list.`,
    );
  }
  if (desc.models.length !== M) {
    throw new TypeError(
      `the models list has ${desc.models.length} entries but ${name} holds M = ${M} models; list one {family, k, seed} per model in order.`,
    );
  }
  desc.models.forEach((m, i) => {
    if (
      typeof m !== "object" || m === null || typeof m.family !== "string" ||
      !(Number.isInteger(m.k) && m.k >= 1) || !(Number.isInteger(m.seed) && m.seed >= 0)
    ) {
      throw new TypeError(
        `models[${i}] is ${
          JSON.stringify(m)
        }; expected {"family": string, "k": positive integer, "seed": non-negative integer}.`,
      );
    }
  });
  return desc;
}

/**
 * Checks that `shape` (of the file `name`) is `[M, N, D]` with at least one of each.
 * @throws {TypeError} when it is not 3-D; {RangeError} when a dimension is 0.
 */
export function gradientShape(
  shape: readonly number[],
  name: string,
): [number, number, number] {
  if (shape.length !== 3) {
    throw new TypeError(
      `${name} has shape [${shape.join(", ")}]; expected [M, N, D] float32 gradients.`,
    );
  }
  const [M, N, D] = shape as [number, number, number];
  if (!(M >= 1 && N >= 1 && D >= 1)) {
    throw new RangeError(
      `${name} has shape [${M}, ${N}, ${D}]; expected at least one model, sample and value per gradient.`,
    );
  }
  return [M, N, D];
}

/**
 * A whole float32 C-order `.npy` file in memory (`bytes`, e.g. a dropped file's contents):
 * its `[M, N, D]` shape and its values. Cost: one copy of the data.
 *
 * @throws {SyntaxError} on a bad header, or data shorter or longer than the header says.
 * @throws {TypeError} on another dtype, Fortran order or a shape that is not 3-D.
 * @throws {RangeError} when M, N or D is 0.
 * @example
 * ```ts
 * import { formatNpyHeader } from "../npy/header.ts";
 * import { npyGradients } from "./external.ts";
 * const header = formatNpyHeader([1, 1, 2]);
 * const bytes = new Uint8Array(header.length + 8);
 * bytes.set(header);
 * bytes.set(new Uint8Array(new Float32Array([3, 4]).buffer), header.length);
 * const { shape, data } = npyGradients(bytes, "g.npy");
 * if (shape.join() !== "1,1,2" || data[1] !== 4) throw new Error();
 * ```
 */
export function npyGradients(
  bytes: Uint8Array,
  name: string,
): { shape: [number, number, number]; data: Float32Array } {
  const header = parseNpyHeader(bytes, name);
  const shape = gradientShape(header.shape, name);
  const elements = shape[0] * shape[1] * shape[2];
  const expected = header.dataOffset + elements * 4;
  if (bytes.length !== expected) {
    const what = bytes.length < expected ? "truncated" : "longer than its header says";
    throw new SyntaxError(
      `${name}: the file is ${what}: ${bytes.length} bytes, expected ${expected} (header of ` +
        `${header.dataOffset} + ${elements} float32 of shape [${shape.join(", ")}]).`,
    );
  }
  const raw = bytes.slice(header.dataOffset, expected);
  if (!HOST_LITTLE_ENDIAN) swapFloat32Bytes(raw);
  return { shape, data: new Float32Array(raw.buffer) };
}

/**
 * The batch stream of `[M, N, D]` gradients stored model-major (as the `.npy` holds them) in any
 * source: each batch of samples `[s, s + count)` is gathered model by model, `copy(start, count,
 * dst)` filling `dst` with the `count` values from flat element `start` of the source (memory or
 * a file); a batch of all N samples is one copy of the whole array. With `reuseBuffer` (as the
 * analysis asks) every batch lands in one buffer that the stream keeps for its next pass, and
 * `data` is valid until the next batch is requested; without it each batch gets a new array.
 * `start` and `end` pick a range of samples (default all N).
 *
 * Cost: M copies per batch (one when the batch is all N samples); one `M·batchSize·D` buffer per
 * stream with `reuseBuffer`, else one per batch.
 *
 * @throws {RangeError} when `batchSize` is not a positive integer or the range is not inside
 * `[0, N)`.
 * @example
 * ```ts
 * import { modelMajorStream } from "./external.ts";
 * const src = new Float32Array([1, 2, 3, 4]);
 * const s = modelMajorStream([2, 2, 1], (at, n, dst) => dst.set(src.subarray(at, at + n)));
 * const got = [];
 * for await (const b of s.batches(1)) got.push([...b.data]);
 * if (JSON.stringify(got) !== "[[1,3],[2,4]]") throw new Error(JSON.stringify(got));
 * ```
 */
export function modelMajorStream(
  [M, N, D]: readonly [number, number, number],
  copy: (start: number, count: number, dst: Float32Array) => void | Promise<unknown>,
): BatchStream {
  const kept = new KeptBuffer();
  return {
    models: M,
    samples: N,
    dim: D,
    async *batches(batchSize: number, options: BatchRange = {}) {
      const { start = 0, end = N, reuseBuffer = false } = options;
      if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
        throw new RangeError(`batches: batchSize is ${batchSize}, expected a positive integer.`);
      }
      if (
        !Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end > N ||
        start > end
      ) {
        throw new RangeError(`batches: sample range [${start}, ${end}) is not inside [0, ${N}).`);
      }
      const buffer = reuseBuffer ? kept.take(M * Math.min(batchSize, end - start) * D) : null;
      try {
        for (let s = start; s < end; s += batchSize) {
          const count = Math.min(batchSize, end - s);
          const out = buffer ? buffer.subarray(0, M * count * D) : new Float32Array(M * count * D);
          if (count === N) {
            await copy(0, M * N * D, out);
          } else {
            for (let m = 0; m < M; m++) {
              await copy(
                (m * N + s) * D,
                count * D,
                out.subarray(m * count * D, (m + 1) * count * D),
              );
            }
          }
          yield { start: s, count, data: out };
        }
      } finally {
        if (buffer) kept.give(buffer);
      }
    },
  };
}

/**
 * The batch stream of an `[M, N, D]` array held in memory (model-major, as the `.npy` stores it):
 * {@linkcode modelMajorStream} copying from `data`.
 * @example
 * ```ts
 * import { arrayStream } from "./external.ts";
 * const s = arrayStream(new Float32Array([1, 2, 3, 4]), [2, 2, 1]);
 * const got = [];
 * for await (const b of s.batches(1)) got.push([...b.data]);
 * if (JSON.stringify(got) !== "[[1,3],[2,4]]") throw new Error(JSON.stringify(got));
 * ```
 */
export function arrayStream(
  data: Float32Array,
  shape: readonly [number, number, number],
): BatchStream {
  return modelMajorStream(
    shape,
    (start, count, dst) => dst.set(data.subarray(start, start + count)),
  );
}

/** Which kernels ran, as `summary.json` records it. */
export function backendSummary(gpu: Gpu | null): SummaryFile["backend"] {
  return gpu && gpu.backend === "webgpu"
    ? { kind: "webgpu", adapter: gpu.adapterName, software: gpu.isSoftware }
    : { kind: "reference", adapter: gpu ? gpu.adapterName : null, software: null };
}

/** What {@linkcode analyzeNpyBytes} computed. */
export interface ExternalAnalysis {
  analysis: GradientAnalysis;
  models: ModelInput[];
  shape: [number, number, number];
  backend: SummaryFile["backend"];
}

/**
 * Analyses a `.npy` held in memory with its models JSON (already parsed), as
 * `deno task analyze --grads G.npy --models M.json` does with the same options: one
 * {@linkcode analyzeGradients} on `options.gpu` (null: the float64 TypeScript reference).
 * Cost: as `analyzeGradients`, plus one copy of the data.
 *
 * @throws the errors of {@linkcode npyGradients} and {@linkcode externalModels}.
 */
export async function analyzeNpyBytes(
  bytes: Uint8Array,
  models: unknown,
  options: GradientAnalysisOptions & { name?: string } = {},
): Promise<ExternalAnalysis> {
  const name = options.name ?? "gradients.npy";
  const { shape, data } = npyGradients(bytes, name);
  const desc = externalModels(models, shape[0], name);
  const analysis = await analyzeGradients(arrayStream(data, shape), desc.models, {
    ...options,
    source: name,
    info: {
      scalar: desc.scalar ?? null,
      pooling: desc.pooling ?? null,
      inputShape: desc.inputShape ?? null,
    },
  });
  return { analysis, models: desc.models, shape, backend: backendSummary(options.gpu ?? null) };
}
