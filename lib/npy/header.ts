/**
 * The `.npy` header: parsing and formatting of NumPy's format versions 1.0, 2.0 and 3.0
 * (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html).
 *
 * @module
 */

import { parsePyLiteral, PyDict, PyTuple } from "./_literal.ts";

/** The six magic bytes every `.npy` file starts with: `\x93NUMPY`. */
export const NPY_MAGIC: Uint8Array = new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);

/** The only element type this module reads and writes: little-endian IEEE float32. */
export const NPY_DTYPE = "<f4";

/** Header lengths are padded so that the data starts on a multiple of this many bytes. */
export const NPY_ALIGN = 64;

/** What a parsed header says about the array that follows it. */
export interface NpyHeader {
  /** Format version as `[major, minor]`: `[1, 0]`, `[2, 0]` or `[3, 0]`. */
  version: [number, number];
  /** Array shape, C order (row-major). */
  shape: number[];
  /** Byte offset of the first element. */
  dataOffset: number;
}

/** Number of bytes of the prelude (magic, version, header length) for a format major version. */
function preludeLength(major: number): number {
  return major === 1 ? 10 : 12;
}

/**
 * Parses the header at the start of a `.npy` file and checks that the array is float32
 * (`<f4`) in C order.
 *
 * `bytes` must hold at least the whole header; {@link npyHeaderLength} says how many bytes that
 * is from the first 12. Cost: O(header length). `name` only labels error messages.
 *
 * @throws {SyntaxError} on bad magic, an unknown version, a header cut short or one that is not
 *   the Python dict NumPy writes (with exactly the keys `descr`, `fortran_order`, `shape`).
 * @throws {TypeError} on another dtype (`<f8`, `<i4`, big-endian `>f4`, structured) or on
 *   Fortran order.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { formatNpyHeader, parseNpyHeader } from "./header.ts";
 * const h = parseNpyHeader(formatNpyHeader([3, 4]));
 * deepEqual(h.shape, [3, 4]);
 * deepEqual(h.dataOffset % 64, 0);
 * ```
 */
export function parseNpyHeader(bytes: Uint8Array, name = "npy file"): NpyHeader {
  const total = npyHeaderLength(bytes, name);
  if (bytes.length < total) {
    throw new SyntaxError(
      `${name}: the header is cut short (${bytes.length} of ${total} bytes); the file is truncated.`,
    );
  }
  const major = bytes[6]!;
  const minor = bytes[7]!;
  const start = preludeLength(major);
  const raw = bytes.subarray(start, total);
  let text: string;
  try {
    text = new TextDecoder(major === 3 ? "utf-8" : "latin1", { fatal: true }).decode(raw);
  } catch {
    throw new SyntaxError(`${name}: the header is not valid ${major === 3 ? "UTF-8" : "text"}.`);
  }
  let lit;
  try {
    lit = parsePyLiteral(text);
  } catch (e) {
    throw new SyntaxError(
      `${name}: the header ${JSON.stringify(text.trim())} is not a Python dict literal (${
        (e as Error).message
      }).`,
    );
  }
  if (!(lit instanceof PyDict)) {
    throw new SyntaxError(
      `${name}: the header ${JSON.stringify(text.trim())} is not a dict; expected ` +
        `{'descr': '<f4', 'fortran_order': False, 'shape': (...)}.`,
    );
  }
  const keys = [...lit.entries.keys()].sort();
  if (keys.join(",") !== "descr,fortran_order,shape") {
    throw new SyntaxError(
      `${name}: the header has keys [${keys.join(", ")}], expected exactly descr, ` +
        `fortran_order and shape.`,
    );
  }
  const descr = lit.entries.get("descr");
  if (descr !== NPY_DTYPE) {
    const shown = typeof descr === "string" ? `'${descr}'` : "a structured dtype";
    throw new TypeError(
      `${name}: dtype is ${shown}, expected little-endian float32 '<f4'; convert it first, ` +
        `e.g. np.save(path, a.astype('<f4')).`,
    );
  }
  const fortran = lit.entries.get("fortran_order");
  if (fortran === true) {
    throw new TypeError(
      `${name}: the array is stored in Fortran order, expected C order; save ` +
        `np.ascontiguousarray(a) instead.`,
    );
  }
  if (fortran !== false) {
    throw new SyntaxError(`${name}: fortran_order is ${String(fortran)}, expected True or False.`);
  }
  const shapeLit = lit.entries.get("shape");
  if (
    !(shapeLit instanceof PyTuple) ||
    !shapeLit.items.every((d) => typeof d === "number" && Number.isSafeInteger(d) && d >= 0)
  ) {
    throw new SyntaxError(`${name}: shape is not a tuple of non-negative integers.`);
  }
  return {
    version: [major, minor],
    shape: shapeLit.items as number[],
    dataOffset: total,
  };
}

/**
 * Reads the magic, version and header-length field, and returns the header's total length in
 * bytes (prelude included), i.e. the data offset. Needs the first 12 bytes (10 for version 1).
 *
 * @throws {SyntaxError} on bad magic, an unknown version, or fewer bytes than the prelude.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { formatNpyHeader, npyHeaderLength } from "./header.ts";
 * deepEqual(npyHeaderLength(formatNpyHeader([2, 2])), 128); // as np.save writes it
 * ```
 */
export function npyHeaderLength(bytes: Uint8Array, name = "npy file"): number {
  if (bytes.length < 8 || !NPY_MAGIC.every((b, i) => bytes[i] === b)) {
    throw new SyntaxError(
      `${name}: bad magic ${
        JSON.stringify(new TextDecoder("latin1").decode(bytes.subarray(0, 6)))
      }, expected "\\x93NUMPY"; this is not a NumPy .npy file.`,
    );
  }
  const major = bytes[6]!;
  if (major < 1 || major > 3 || bytes[7] !== 0) {
    throw new SyntaxError(
      `${name}: format version ${major}.${bytes[7]} is not supported, expected 1.0, 2.0 or 3.0.`,
    );
  }
  const start = preludeLength(major);
  if (bytes.length < start) {
    throw new SyntaxError(`${name}: the file ends inside its header; it is truncated.`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  return start + len;
}

/** Options of {@link formatNpyHeader}. */
export interface FormatNpyHeaderOptions {
  /**
   * Extra spaces reserved in the header so that it can later be rewritten in place with a
   * larger shape (the streaming writer reserves room for a 21-digit first dimension, as
   * NumPy's own `open_memmap` does). Default 0.
   */
  reserve?: number;
  /** Pads the header to exactly this many bytes (prelude included); used to rewrite in place. */
  totalLength?: number;
}

/**
 * Formats a float32 C-order header for `shape`, padded with spaces and a newline so that the
 * data starts at a multiple of 64 bytes. Version 1.0 when the header fits in 65,535 bytes, else
 * 2.0. Cost: O(rank).
 *
 * @throws {RangeError} when a dimension is not a non-negative safe integer, or when
 *   `totalLength` is too small or not a multiple of 64.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { formatNpyHeader } from "./header.ts";
 * const h = new TextDecoder().decode(formatNpyHeader([5]));
 * deepEqual(h.slice(10).trim(), "{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }");
 * ```
 */
export function formatNpyHeader(
  shape: readonly number[],
  options: FormatNpyHeaderOptions = {},
): Uint8Array {
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new RangeError(
        `formatNpyHeader: shape [${shape.join(", ")}] has dimension ${d}, expected ` +
          `non-negative integers.`,
      );
    }
  }
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  const dict = `{'descr': '${NPY_DTYPE}', 'fortran_order': False, 'shape': ${shapeText}, }` +
    " ".repeat(options.reserve ?? 0);
  // Length of dict + padding + "\n", plus the prelude, rounded up to NPY_ALIGN.
  let major = 1;
  let total = Math.ceil((10 + dict.length + 1) / NPY_ALIGN) * NPY_ALIGN;
  if (total - 10 > 0xffff) {
    major = 2;
    total = Math.ceil((12 + dict.length + 1) / NPY_ALIGN) * NPY_ALIGN;
  }
  if (options.totalLength !== undefined) {
    const t = options.totalLength;
    if (t < total || t % NPY_ALIGN !== 0 || (major === 1 && t - 10 > 0xffff)) {
      throw new RangeError(
        `formatNpyHeader: totalLength ${t} cannot hold the header for shape ` +
          `[${shape.join(", ")}] (needs at least ${total}, a multiple of ${NPY_ALIGN}).`,
      );
    }
    total = t;
  }
  const start = preludeLength(major);
  const out = new Uint8Array(total);
  out.set(NPY_MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, total - start, true);
  else view.setUint32(8, total - start, true);
  out.fill(0x20, start, total - 1);
  out.set(new TextEncoder().encode(dict), start);
  out[total - 1] = 0x0a;
  return out;
}
