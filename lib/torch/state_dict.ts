// Reading PyTorch state dicts: torch.save's zip archives (PyTorch ≥ 1.6: `<name>/data.pkl`, a
// pickle of an ordered dict whose tensors view storages kept as `<name>/data/<key>`) and
// `.safetensors` files, into one in-memory form: name → shape, dtype and values.
import { type PickledTensor, type PickleValue, unpickle } from "./_pickle.ts";
import { readZip, type ZipEntry } from "./_zip.ts";
import { writeFileAtomic } from "../store/io.ts";

/** The dtypes a state dict may hold for us; floats are widened or narrowed to float32. */
export type TorchDtype = "float32" | "float16" | "bfloat16" | "float64" | "int64";

/** One tensor of a state dict: row-major values (float32, or int64 for integer buffers). */
export interface StateTensor {
  shape: number[];
  /** The dtype in the file. */
  dtype: TorchDtype;
  values: Float32Array | BigInt64Array;
}

/** A state dict: parameter and buffer names (PyTorch's) to tensors, in file order. */
export type StateDict = Map<string, StateTensor>;

const STORAGE_DTYPES: Record<string, { dtype: TorchDtype; bytes: number }> = {
  FloatStorage: { dtype: "float32", bytes: 4 },
  HalfStorage: { dtype: "float16", bytes: 2 },
  BFloat16Storage: { dtype: "bfloat16", bytes: 2 },
  DoubleStorage: { dtype: "float64", bytes: 8 },
  LongStorage: { dtype: "int64", bytes: 8 },
};

const SAFETENSORS_DTYPES: Record<string, { dtype: TorchDtype; bytes: number }> = {
  F32: { dtype: "float32", bytes: 4 },
  F16: { dtype: "float16", bytes: 2 },
  BF16: { dtype: "bfloat16", bytes: 2 },
  F64: { dtype: "float64", bytes: 8 },
  I64: { dtype: "int64", bytes: 8 },
};

function half(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** A reader of element i (little-endian `dtype`) of `bytes`. */
function decode(
  bytes: Uint8Array,
  dtype: TorchDtype,
): (i: number) => number | bigint {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case "float32":
      return (i) => v.getFloat32(4 * i, true);
    case "float16":
      return (i) => half(v.getUint16(2 * i, true));
    case "bfloat16": {
      const f = new DataView(new ArrayBuffer(4));
      return (i) => {
        f.setUint32(0, v.getUint16(2 * i, true) << 16);
        return f.getFloat32(0);
      };
    }
    case "float64":
      return (i) => v.getFloat64(8 * i, true);
    case "int64":
      return (i) => v.getBigInt64(8 * i, true);
  }
}

/** Gathers a strided view of a storage into a row-major array. */
function materialise(
  bytes: Uint8Array,
  dtype: TorchDtype,
  view: { offset: number; shape: number[]; stride: number[] },
): Float32Array | BigInt64Array {
  const get = decode(bytes, dtype);
  const n = view.shape.reduce((a, b) => a * b, 1);
  const out = dtype === "int64" ? new BigInt64Array(n) : new Float32Array(n);
  const idx = new Array<number>(view.shape.length).fill(0);
  let src = view.offset;
  for (let i = 0; i < n; i++) {
    (out as unknown as (number | bigint)[])[i] = get(src);
    for (let d = view.shape.length - 1; d >= 0; d--) {
      idx[d]!++;
      src += view.stride[d]!;
      if (idx[d]! < view.shape[d]!) break;
      src -= view.stride[d]! * view.shape[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

/** The largest element index a strided view reads, plus one. */
function extent(view: { offset: number; shape: number[]; stride: number[] }): number {
  if (view.shape.some((s) => s === 0)) return 0;
  return view.offset + 1 + view.shape.reduce((a, s, d) => a + (s - 1) * view.stride[d]!, 0);
}

function isTensor(v: PickleValue | undefined): v is PickledTensor {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Map) &&
    v.kind === "tensor";
}

const WRAPPER_KEYS = ["state_dict", "model_state_dict", "model"];

/** The ordered dict of tensors: the top level, or a training checkpoint's `state_dict` entry. */
function findTensors(top: PickleValue, label: string): Map<string, PickledTensor> {
  const tensorsOf = (v: PickleValue | undefined) => {
    if (!(v instanceof Map) || v.size === 0) return null;
    for (const t of v.values()) if (!isTensor(t)) return null;
    return v as Map<string, PickledTensor>;
  };
  const direct = tensorsOf(top);
  if (direct) return direct;
  if (top instanceof Map) {
    for (const k of WRAPPER_KEYS) {
      const inner = tensorsOf(top.get(k));
      if (inner) return inner;
    }
  }
  throw new TypeError(
    `${label} does not hold a state dict (a dict of tensors, or a dict with one under ${
      WRAPPER_KEYS.map((k) => `"${k}"`).join("/")
    }); save it with torch.save(model.state_dict(), path).`,
  );
}

/** The archive's folder name: the prefix of its one `<name>/data.pkl` entry. */
function archivePrefix(entries: Map<string, ZipEntry>, label: string): string {
  const pkl = [...entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pkl.length !== 1) {
    throw new SyntaxError(
      `${label} has ${pkl.length} "<name>/data.pkl" entries, expected one; is it a torch.save zip archive (PyTorch ≥ 1.6)? Older pickle-only files: load and save again with a recent PyTorch.`,
    );
  }
  return pkl[0]!.slice(0, -"data.pkl".length);
}

/**
 * Reads a `torch.save` zip archive (PyTorch ≥ 1.6) holding a state dict, or a training
 * checkpoint dict with the state dict under `state_dict`/`model_state_dict`/`model`. `label`
 * names the file in errors. Cost: O(archive size); each storage is read once per tensor.
 *
 * @throws {SyntaxError} when the archive is truncated or damaged, {TypeError} when it holds
 *   anything but a state dict (nothing in it is executed) or a dtype other than float32,
 *   float16, bfloat16, float64 or int64.
 */
export function parseTorchArchive(bytes: Uint8Array, label: string): StateDict {
  const entries = readZip(bytes, label);
  const prefix = archivePrefix(entries, label);
  const order = entries.get(`${prefix}byteorder`);
  if (order && new TextDecoder().decode(order.read()).trim() !== "little") {
    throw new TypeError(
      `${label} was written on a big-endian machine; only little-endian is read.`,
    );
  }
  const top = unpickle(entries.get(`${prefix}data.pkl`)!.read(), `${label}: ${prefix}data.pkl`);
  const out: StateDict = new Map();
  for (const [name, t] of findTensors(top, label)) {
    const kind = STORAGE_DTYPES[t.storage.type];
    if (!kind) {
      throw new TypeError(
        `${label}: tensor "${name}" is stored as torch.${t.storage.type}; expected float32, float16, bfloat16, float64 or int64 (convert it with .float()).`,
      );
    }
    const file = `${prefix}data/${t.storage.key}`;
    const entry = entries.get(file);
    if (!entry) {
      throw new SyntaxError(
        `${label}: tensor "${name}" needs the entry "${file}", which is missing; the archive is incomplete.`,
      );
    }
    const data = entry.read();
    const need = Math.max(extent(t), 0) * kind.bytes;
    if (data.byteLength < need || data.byteLength < t.storage.numel * kind.bytes) {
      throw new SyntaxError(
        `${label}: entry "${file}" holds ${data.byteLength} bytes, expected ${
          Math.max(need, t.storage.numel * kind.bytes)
        } for tensor "${name}"; the archive is truncated.`,
      );
    }
    out.set(name, { shape: t.shape, dtype: kind.dtype, values: materialise(data, kind.dtype, t) });
  }
  return out;
}

/**
 * Reads a `.safetensors` file: an 8-byte little-endian header length, a JSON header naming each
 * tensor's dtype, shape and byte range, then the data. Cost: O(file size).
 *
 * @throws {SyntaxError} for a truncated file or malformed header, {TypeError} for a dtype
 *   other than F32, F16, BF16, F64 or I64.
 */
export function parseSafetensors(bytes: Uint8Array, label: string): StateDict {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 8) {
    throw new SyntaxError(`${label} is truncated: ${bytes.byteLength} bytes.`);
  }
  const n = Number(view.getBigUint64(0, true));
  if (8 + n > bytes.byteLength) {
    throw new SyntaxError(
      `${label} is truncated: its header claims ${n} bytes but the file has ${bytes.byteLength}.`,
    );
  }
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new SyntaxError(
      `${label} has an unparsable safetensors header (${(e as Error).message}).`,
    );
  }
  const data = bytes.subarray(8 + n);
  const out: StateDict = new Map();
  for (const [name, h] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const kind = SAFETENSORS_DTYPES[h.dtype];
    if (!kind) {
      throw new TypeError(
        `${label}: tensor "${name}" has dtype ${h.dtype}; expected F32, F16, BF16, F64 or I64.`,
      );
    }
    const [b, e] = h.data_offsets;
    const count = h.shape.reduce((a, s) => a * s, 1);
    if (e > data.byteLength || e - b !== count * kind.bytes) {
      throw new SyntaxError(
        `${label}: tensor "${name}" spans bytes ${b}–${e} of ${data.byteLength}, expected ${
          count * kind.bytes
        } bytes inside the file; the file is truncated or damaged.`,
      );
    }
    const stride = h.shape.map((_, d) => h.shape.slice(d + 1).reduce((a, s) => a * s, 1));
    out.set(name, {
      shape: h.shape,
      dtype: kind.dtype,
      values: materialise(data.subarray(b, e), kind.dtype, { offset: 0, shape: h.shape, stride }),
    });
  }
  return out;
}

/**
 * Reads a state dict from a `.safetensors` file or a `torch.save` archive (any other name),
 * choosing by content (a zip archive starts with "PK"). Cost: reads the whole file.
 *
 * @throws as {@link parseTorchArchive} and {@link parseSafetensors}; Deno.errors.NotFound when
 *   the file is missing.
 *
 * @example
 * ```ts
 * import { readStateDict, writeSafetensors } from "./mod.ts";
 * const path = (await Deno.makeTempDir()) + "/w.safetensors";
 * await writeSafetensors(path, new Map([["fc.bias", { shape: [2], dtype: "float32", values: new Float32Array([1, 2]) }]]));
 * const sd = await readStateDict(path);
 * if (sd.get("fc.bias")?.values[1] !== 2) throw new Error("round trip failed");
 * ```
 */
export async function readStateDict(path: string): Promise<StateDict> {
  const bytes = await Deno.readFile(path);
  return bytes[0] === 0x50 && bytes[1] === 0x4b
    ? parseTorchArchive(bytes, path)
    : parseSafetensors(bytes, path);
}

/**
 * Encodes a state dict as `.safetensors` bytes (float tensors as F32, int64 as I64), tensors in
 * map order, each 8-byte aligned. Cost: O(total size).
 */
export function encodeSafetensors(
  sd: StateDict,
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of sd) {
    const size = t.values.byteLength;
    header[name] = {
      dtype: t.values instanceof BigInt64Array ? "I64" : "F32",
      shape: t.shape,
      data_offsets: [offset, offset + size],
    };
    offset += size;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - ((8 + json.length) % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let p = 8 + head.length;
  for (const t of sd.values()) {
    out.set(new Uint8Array(t.values.buffer, t.values.byteOffset, t.values.byteLength), p);
    p += t.values.byteLength;
  }
  return out;
}

/**
 * Writes a state dict as a `.safetensors` file atomically (a temporary file renamed into place).
 * Cost: O(total size).
 */
export async function writeSafetensors(
  path: string,
  sd: StateDict,
  metadata: Record<string, string> = {},
): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(sd, metadata));
}
