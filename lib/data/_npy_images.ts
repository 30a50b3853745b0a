// Private, small NumPy .npy reader for image and label arrays (uint8, float32, int32, int64).
// Format: "\x93NUMPY", major and minor version bytes, a little-endian header length (uint16 for
// version 1, uint32 for 2 and 3), a Python dict literal {'descr': '<f4', 'fortran_order': False,
// 'shape': (N, H, W), } padded with spaces, then the data in C order.
import { fmt } from "./_bytes.ts";

export type NpyDtype = "uint8" | "float32" | "int32" | "int64";

export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  /** The values: Uint8Array for uint8, Float32Array for float32, Int32Array for int32/int64. */
  data: Uint8Array | Float32Array | Int32Array;
}

const DESCR: Record<string, { dtype: NpyDtype; size: number; little: boolean }> = {
  "|u1": { dtype: "uint8", size: 1, little: true },
  "<u1": { dtype: "uint8", size: 1, little: true },
  "<f4": { dtype: "float32", size: 4, little: true },
  ">f4": { dtype: "float32", size: 4, little: false },
  "<i4": { dtype: "int32", size: 4, little: true },
  ">i4": { dtype: "int32", size: 4, little: false },
  "<i8": { dtype: "int64", size: 8, little: true },
  ">i8": { dtype: "int64", size: 8, little: false },
};

/** Parses a whole .npy file; `name` is used in messages. */
export function parseNpy(bytes: Uint8Array, name: string): NpyArray {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((b, i) => bytes[i] !== b)) {
    throw new SyntaxError(
      `${name} does not start with the .npy magic "\\x93NUMPY": save it with numpy.save`,
    );
  }
  const major = bytes[6] as number;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (major < 1 || major > 3 || bytes.length < 8 + lenBytes) {
    throw new SyntaxError(
      `${name} is .npy version ${major}, expected 1, 2 or 3: save it with numpy.save`,
    );
  }
  const headerLen = lenBytes === 2 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lenBytes + headerLen;
  if (bytes.length < start) {
    throw new SyntaxError(
      `${name} holds ${
        fmt(bytes.length)
      } bytes, shorter than its ${start}-byte header: the file is truncated`,
    );
  }
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(
    bytes.subarray(8 + lenBytes, start),
  );
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new SyntaxError(
      `${name} has the .npy header ${header.trim()}, expected descr, fortran_order and shape: save it with numpy.save`,
    );
  }
  const kind = DESCR[descr];
  if (kind === undefined) {
    throw new TypeError(
      `${name} holds dtype '${descr}', expected uint8, float32, int32 or int64: convert it with ` +
        `numpy's astype before saving`,
    );
  }
  if (fortran === "True") {
    throw new TypeError(
      `${name} is in Fortran order, expected C order: save numpy.ascontiguousarray(x)`,
    );
  }
  const shape = shapeText.split(",").map((s) => s.trim()).filter((s) => s !== "").map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const expected = start + count * kind.size;
  if (bytes.length !== expected) {
    throw new SyntaxError(
      `${name} holds ${fmt(bytes.length)} bytes, expected ${
        fmt(expected)
      } (a ${start}-byte header ` +
        `and ${fmt(count)} ${kind.dtype} values of shape (${shape.join(", ")})): ` +
        (bytes.length < expected
          ? "the file is truncated, write it again"
          : "it has trailing bytes, write it again"),
    );
  }
  const body = new DataView(bytes.buffer, bytes.byteOffset + start, count * kind.size);
  switch (kind.dtype) {
    case "uint8":
      return { dtype: "uint8", shape, data: bytes.slice(start, expected) };
    case "float32": {
      const data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = body.getFloat32(4 * i, kind.little);
      return { dtype: "float32", shape, data };
    }
    case "int32": {
      const data = new Int32Array(count);
      for (let i = 0; i < count; i++) data[i] = body.getInt32(4 * i, kind.little);
      return { dtype: "int32", shape, data };
    }
    case "int64": {
      const data = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const v = body.getBigInt64(8 * i, kind.little);
        if (v < -2147483648n || v > 2147483647n) {
          throw new RangeError(
            `value ${v} at index ${i} of ${name} does not fit a class label: use labels 0…C−1`,
          );
        }
        data[i] = Number(v);
      }
      return { dtype: "int64", shape, data };
    }
  }
}
