/**
 * Streaming reader of float32 C-order `.npy` files: opens a file, checks its header and size,
 * and reads ranges of rows into caller-owned buffers without loading the whole file.
 *
 * @module
 */

import { npyHeaderLength, parseNpyHeader } from "./header.ts";

/** True on little-endian hosts, where float32 file bytes can be viewed in place. */
export const HOST_LITTLE_ENDIAN: boolean = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Reverses the byte order of every float32 in `bytes` in place (for big-endian hosts, since
 * `.npy` data is little-endian). Cost: O(bytes).
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { swapFloat32Bytes } from "./reader.ts";
 * const b = new Uint8Array([1, 2, 3, 4]);
 * swapFloat32Bytes(b);
 * deepEqual([...b], [4, 3, 2, 1]);
 * ```
 */
export function swapFloat32Bytes(bytes: Uint8Array): void {
  for (let i = 0; i + 3 < bytes.length; i += 4) {
    const a = bytes[i]!, b = bytes[i + 1]!;
    bytes[i] = bytes[i + 3]!;
    bytes[i + 1] = bytes[i + 2]!;
    bytes[i + 2] = b;
    bytes[i + 3] = a;
  }
}

/** An open `.npy` file of float32 in C order. Close it when done (or use `using`). */
export interface NpyFile extends Disposable {
  /** The path it was opened from. */
  readonly path: string;
  /** The array's shape. */
  readonly shape: readonly number[];
  /** Product of all dimensions but the first: floats per row (1 for a 1-D array). */
  readonly rowLength: number;
  /** Byte offset of the first element. */
  readonly dataOffset: number;
  /**
   * Reads `count` consecutive rows (along the first axis) starting at `row` into `dst` (or a new
   * array) and returns the filled view (`count * rowLength` floats).
   */
  readRows(row: number, count: number, dst?: Float32Array): Promise<Float32Array>;
  /**
   * Reads `count` consecutive elements starting at flat (C-order) element `start` into `dst`
   * (or a new array) and returns the filled view. For a 3-D `[M, N, D]` file, model m's samples
   * `i … i+c−1` are elements `(m·N + i)·D` onward, `c·D` of them.
   */
  readElements(start: number, count: number, dst?: Float32Array): Promise<Float32Array>;
  /** Closes the file; further reads throw. */
  close(): void;
}

/**
 * Opens a float32 C-order `.npy` file (format 1.0, 2.0 or 3.0) of any rank and checks that its
 * size matches the header. Reads only the header; rows are read on demand with `readRows`.
 *
 * Cost: one `open`, one `stat` and one read of the header.
 *
 * @throws {Deno.errors.NotFound} when the file does not exist.
 * @throws {SyntaxError} on bad magic, an unparsable header, or a file whose data is shorter or
 *   longer than the header's shape says (truncated or corrupt).
 * @throws {TypeError} on another dtype than `<f4` or on Fortran order.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { openNpy, writeNpy } from "./mod.ts";
 * const path = (await Deno.makeTempDir()) + "/a.npy";
 * await writeNpy(path, [2, 3], new Float32Array([1, 2, 3, 4, 5, 6]));
 * using f = await openNpy(path);
 * deepEqual(f.shape, [2, 3]);
 * deepEqual([...await f.readRows(1, 1)], [4, 5, 6]);
 * ```
 */
export async function openNpy(path: string): Promise<NpyFile> {
  const file = await Deno.open(path, { read: true });
  try {
    const prelude = new Uint8Array(12);
    const got = await readFully(file, prelude);
    const total = npyHeaderLength(prelude.subarray(0, got), path);
    const headerBytes = new Uint8Array(total);
    await file.seek(0, Deno.SeekMode.Start);
    const hgot = await readFully(file, headerBytes);
    const header = parseNpyHeader(headerBytes.subarray(0, hgot), path);
    const elements = header.shape.reduce((a, b) => a * b, 1);
    const expected = header.dataOffset + elements * 4;
    const size = (await file.stat()).size;
    if (size !== expected) {
      const what = size < expected ? "truncated" : "longer than its header says";
      throw new SyntaxError(
        `${path}: the file is ${what}: ${size} bytes, expected ${expected} (header of ` +
          `${header.dataOffset} + ${elements} float32 of shape [${header.shape.join(", ")}]).`,
      );
    }
    return new NpyFileImpl(path, file, header.shape, header.dataOffset);
  } catch (e) {
    file.close();
    throw e;
  }
}

/** Reads until `buf` is full or the file ends; returns the number of bytes read. */
async function readFully(file: Deno.FsFile, buf: Uint8Array): Promise<number> {
  let off = 0;
  while (off < buf.length) {
    const n = await file.read(buf.subarray(off));
    if (n === null) break;
    off += n;
  }
  return off;
}

class NpyFileImpl implements NpyFile {
  readonly rowLength: number;
  readonly rows: number;
  readonly elements: number;
  #file: Deno.FsFile | null;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly path: string,
    file: Deno.FsFile,
    readonly shape: readonly number[],
    readonly dataOffset: number,
  ) {
    this.#file = file;
    this.rows = shape.length === 0 ? 1 : shape[0]!;
    this.rowLength = shape.slice(1).reduce((a, b) => a * b, 1);
    this.elements = this.rows * this.rowLength;
  }

  readRows(row: number, count: number, dst?: Float32Array): Promise<Float32Array> {
    if (
      !Number.isSafeInteger(row) || !Number.isSafeInteger(count) || row < 0 || count < 0 ||
      row + count > this.rows
    ) {
      return Promise.reject(
        new RangeError(
          `${this.path}: rows [${row}, ${row + count}) are outside [0, ${this.rows}).`,
        ),
      );
    }
    return this.readElements(row * this.rowLength, count * this.rowLength, dst);
  }

  readElements(start: number, count: number, dst?: Float32Array): Promise<Float32Array> {
    // A read is a seek then reads on one handle: queue them so concurrent reads cannot interleave.
    const next = this.#queue.then(() => this.#read(start, count, dst));
    this.#queue = next.catch(() => {});
    return next;
  }

  async #read(start: number, count: number, dst?: Float32Array): Promise<Float32Array> {
    const file = this.#file;
    if (file === null) throw new TypeError(`${this.path}: read after close().`);
    if (
      !Number.isSafeInteger(start) || !Number.isSafeInteger(count) || start < 0 || count < 0 ||
      start + count > this.elements
    ) {
      throw new RangeError(
        `${this.path}: elements [${start}, ${start + count}) are outside [0, ${this.elements}).`,
      );
    }
    const out = dst ?? new Float32Array(count);
    if (out.length < count) {
      throw new RangeError(
        `${this.path}: dst holds ${out.length} floats, expected at least ${count}.`,
      );
    }
    const bytes = new Uint8Array(out.buffer, out.byteOffset, count * 4);
    await file.seek(this.dataOffset + start * 4, Deno.SeekMode.Start);
    const got = await readFully(file, bytes);
    if (got !== bytes.length) {
      throw new SyntaxError(
        `${this.path}: the file ended ${bytes.length - got} bytes early while reading elements ` +
          `[${start}, ${start + count}); it was truncated after it was opened.`,
      );
    }
    if (!HOST_LITTLE_ENDIAN) swapFloat32Bytes(bytes);
    return out.subarray(0, count);
  }

  close(): void {
    this.#file?.close();
    this.#file = null;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Reads a whole float32 C-order `.npy` file into memory. Meant for small arrays; stream large
 * ones with {@link openNpy}. Cost: one read of the file.
 *
 * @throws the errors of {@link openNpy}.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { readNpy, writeNpy } from "./mod.ts";
 * const path = (await Deno.makeTempDir()) + "/b.npy";
 * await writeNpy(path, [3], new Float32Array([0.5, 1, 2]));
 * const { shape, data } = await readNpy(path);
 * deepEqual(shape, [3]);
 * deepEqual([...data], [0.5, 1, 2]);
 * ```
 */
export async function readNpy(path: string): Promise<{ shape: number[]; data: Float32Array }> {
  using f = await openNpy(path);
  const rows = f.shape.length === 0 ? 1 : f.shape[0]!;
  const data = await f.readRows(0, rows);
  return { shape: [...f.shape], data };
}
