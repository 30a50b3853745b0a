/**
 * Atomic writers of float32 C-order `.npy` files: a whole array at once, or rows streamed batch
 * by batch (for gradients produced a batch at a time). Both write `<path>.tmp-<pid>` and rename
 * it over `path` only when complete, so a reader never sees a partial file.
 *
 * @module
 */

import { removeIfPresent, temporaryPathOf, writeAll, writeFileAtomic } from "../store/io.ts";
import { formatNpyHeader } from "./header.ts";
import { HOST_LITTLE_ENDIAN, swapFloat32Bytes } from "./reader.ts";
import { type GradientMeta, sidecarPath, validateGradientMeta, writeSidecar } from "./sidecar.ts";

/** The little-endian bytes of `data` (a view on little-endian hosts, a swapped copy else). */
function leBytes(data: Float32Array): Uint8Array {
  const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (HOST_LITTLE_ENDIAN) return view;
  const copy = view.slice();
  swapFloat32Bytes(copy);
  return copy;
}

/**
 * Writes `data` as a float32 C-order `.npy` file of `shape`, atomically (temp file + rename).
 * Cost: one write of the header (a multiple of 64 bytes) plus `4·data.length` bytes.
 *
 * @throws {TypeError} when `data.length` is not the product of `shape`.
 * @throws {RangeError} when a dimension is not a non-negative integer.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { readNpy, writeNpy } from "./mod.ts";
 * const path = (await Deno.makeTempDir()) + "/w.npy";
 * await writeNpy(path, [2, 2], new Float32Array([1, 2, 3, 4]));
 * deepEqual((await readNpy(path)).shape, [2, 2]);
 * ```
 */
export async function writeNpy(
  path: string,
  shape: readonly number[],
  data: Float32Array,
): Promise<void> {
  const header = formatNpyHeader(shape);
  const elements = shape.reduce((a, b) => a * b, 1);
  if (data.length !== elements) {
    throw new TypeError(
      `writeNpy: data has ${data.length} floats, expected ${elements} for shape ` +
        `[${shape.join(", ")}].`,
    );
  }
  await writeFileAtomic(path, async (file) => {
    await writeAll(file, header);
    // Write in slices so a big-endian host never copies more than one slice at once.
    const slice = 1 << 22;
    for (let i = 0; i < data.length; i += slice) {
      await writeAll(file, leBytes(data.subarray(i, i + slice)));
    }
  });
}

/** Options of {@link createNpyRowWriter}. */
export interface NpyRowWriterOptions {
  /** Floats per row (D). */
  dim: number;
  /**
   * Metadata to write as the JSON sidecar beside the file on `close()`, after checking it
   * against the final shape `[rows, dim]` (see {@link validateGradientMeta}). The sidecar is
   * renamed into place before the `.npy`, so a reader that sees the `.npy` sees its sidecar.
   */
  meta?: GradientMeta;
}

/** A streaming writer of a `[N, D]` float32 `.npy` file; see {@link createNpyRowWriter}. */
export interface NpyRowWriter {
  /** The final path. */
  readonly path: string;
  /** Rows appended so far. */
  readonly rows: number;
  /** Appends whole rows (`rows.length` must be a multiple of D). */
  append(rows: Float32Array): Promise<void>;
  /** Rewrites the header with the final row count, writes the sidecar, renames into place. */
  close(): Promise<{ shape: [number, number] }>;
  /** Closes and deletes the temporary file; `path` is left as it was. */
  abort(): Promise<void>;
}

/**
 * Opens a streaming writer of a `[N, D]` float32 `.npy` file whose N is known only at the end.
 * It writes `<path>.tmp-<pid>` with a header that reserves room for a 21-digit N (as NumPy's
 * `open_memmap` does), appends rows batch by batch, and on `close()` rewrites the header in place
 * with the final N and renames the file over `path`; `abort()` deletes the temporary file.
 *
 * Cost: one sequential write of the data plus one header rewrite.
 *
 * @throws {RangeError} when `dim` is not a positive integer.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { createNpyRowWriter, readNpy } from "./mod.ts";
 * const path = (await Deno.makeTempDir()) + "/g.npy";
 * const w = await createNpyRowWriter(path, { dim: 2 });
 * await w.append(new Float32Array([1, 2, 3, 4]));
 * await w.append(new Float32Array([5, 6]));
 * deepEqual((await w.close()).shape, [3, 2]);
 * deepEqual([...(await readNpy(path)).data], [1, 2, 3, 4, 5, 6]);
 * ```
 */
export async function createNpyRowWriter(
  path: string,
  options: NpyRowWriterOptions,
): Promise<NpyRowWriter> {
  const { dim, meta } = options;
  if (!Number.isSafeInteger(dim) || dim < 1) {
    throw new RangeError(`createNpyRowWriter: dim is ${dim}, expected a positive integer.`);
  }
  const tmp = temporaryPathOf(path);
  const reserved = formatNpyHeader([0, dim], { reserve: 21 }).length;
  const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
  try {
    await writeAll(file, formatNpyHeader([0, dim], { totalLength: reserved }));
  } catch (e) {
    file.close();
    await removeIfPresent(tmp);
    throw e;
  }
  let rows = 0;
  let state: "open" | "closed" | "aborted" = "open";
  const checkOpen = (what: string) => {
    if (state !== "open") throw new TypeError(`${path}: ${what} after the writer was ${state}.`);
  };
  const abort = async () => {
    if (state !== "open") return;
    state = "aborted";
    file.close();
    await removeIfPresent(tmp);
  };
  return {
    path,
    get rows() {
      return rows;
    },
    async append(data: Float32Array) {
      checkOpen("append()");
      if (data.length % dim !== 0) {
        throw new TypeError(
          `${path}: append() got ${data.length} floats, expected a multiple of D = ${dim}.`,
        );
      }
      try {
        await writeAll(file, leBytes(data));
      } catch (e) {
        await abort();
        throw e;
      }
      rows += data.length / dim;
    },
    async close() {
      checkOpen("close()");
      const shape: [number, number] = [rows, dim];
      try {
        if (meta !== undefined) validateGradientMeta(meta, { shape, name: sidecarPath(path) });
        await file.seek(0, Deno.SeekMode.Start);
        await writeAll(file, formatNpyHeader(shape, { totalLength: reserved }));
        file.close();
        state = "closed";
        if (meta !== undefined) await writeSidecar(path, meta);
        await Deno.rename(tmp, path);
      } catch (e) {
        if (state === "open") file.close();
        state = "aborted";
        await removeIfPresent(tmp);
        throw e;
      }
      return { shape };
    },
    abort,
  };
}
