// A minimal reader of zip archives held in memory, enough for the archives `torch.save` writes
// (stored entries, zip64 when large) and for deflated ones written by other tools. Entries are
// located through the central directory; each one's data is checked against the file's length
// and its CRC-32, so a truncated or damaged archive fails naming the entry.
import { inflateRawSync } from "node:zlib";
import { crc32 } from "../store/io.ts";

/** One archive entry: its name and a function returning its uncompressed bytes. */
export interface ZipEntry {
  name: string;
  size: number;
  read(): Uint8Array;
}

const EOCD = 0x06054b50, EOCD64 = 0x06064b50, LOCATOR64 = 0x07064b50;
const CENTRAL = 0x02014b50, LOCAL = 0x04034b50;

function truncated(label: string, what: string): SyntaxError {
  return new SyntaxError(
    `${label} is truncated or not a zip archive (${what}); write the checkpoint again with torch.save.`,
  );
}

function findEocd(view: DataView, label: string): number {
  const min = Math.max(0, view.byteLength - 22 - 0xffff);
  for (let p = view.byteLength - 22; p >= min; p--) {
    if (view.getUint32(p, true) === EOCD) return p;
  }
  throw truncated(label, "no end-of-central-directory record");
}

function big(view: DataView, at: number): number {
  const v = view.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`zip field ${v} is too large.`);
  return Number(v);
}

/** Directory offset and entry count, from the (zip64) end-of-central-directory records. */
function directory(view: DataView, label: string): { offset: number; count: number } {
  const e = findEocd(view, label);
  let count = view.getUint16(e + 10, true), offset = view.getUint32(e + 16, true);
  const loc = e - 20;
  if (loc >= 0 && view.getUint32(loc, true) === LOCATOR64) {
    const e64 = big(view, loc + 8);
    if (e64 + 56 > view.byteLength || view.getUint32(e64, true) !== EOCD64) {
      throw truncated(label, "bad zip64 end-of-central-directory record");
    }
    count = big(view, e64 + 32);
    offset = big(view, e64 + 48);
  }
  return { offset, count };
}

/** Sizes and local-header offset, taking 0xffffffff fields from the zip64 extra field. */
function zip64Fields(
  view: DataView,
  extra: { at: number; length: number },
  fields: { size: number; csize: number; local: number },
): void {
  let p = extra.at;
  const end = extra.at + extra.length;
  while (p + 4 <= end) {
    const id = view.getUint16(p, true), len = view.getUint16(p + 2, true);
    if (id === 1) {
      let q = p + 4;
      const next = () => {
        const v = big(view, q);
        q += 8;
        return v;
      };
      if (fields.size === 0xffffffff) fields.size = next();
      if (fields.csize === 0xffffffff) fields.csize = next();
      if (fields.local === 0xffffffff) fields.local = next();
      return;
    }
    p += 4 + len;
  }
}

/**
 * The entries of a zip archive in `bytes`, by name. `label` names the archive in errors.
 * Cost: O(entries) to list; each `read()` copies (or inflates) one entry and checks its CRC.
 *
 * @throws {SyntaxError} when the archive is truncated, damaged or uses an unsupported method.
 */
export function readZip(bytes: Uint8Array, label: string): Map<string, ZipEntry> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 22) throw truncated(label, `${bytes.byteLength} bytes`);
  const { offset, count } = directory(view, label);
  const entries = new Map<string, ZipEntry>();
  const decoder = new TextDecoder();
  let p = offset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > bytes.byteLength || view.getUint32(p, true) !== CENTRAL) {
      throw truncated(label, `central directory entry ${i} of ${count} is missing`);
    }
    const method = view.getUint16(p + 10, true), crc = view.getUint32(p + 16, true);
    const nameLen = view.getUint16(p + 28, true), extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    const name = decoder.decode(bytes.subarray(p + 46, p + 46 + nameLen));
    const fields = {
      csize: view.getUint32(p + 20, true),
      size: view.getUint32(p + 24, true),
      local: view.getUint32(p + 42, true),
    };
    zip64Fields(view, { at: p + 46 + nameLen, length: extraLen }, fields);
    p += 46 + nameLen + extraLen + commentLen;
    const where = `${label}: entry "${name}"`;
    const read = (): Uint8Array => {
      const l = fields.local;
      if (l + 30 > bytes.byteLength || view.getUint32(l, true) !== LOCAL) {
        throw truncated(where, "no local header");
      }
      const start = l + 30 + view.getUint16(l + 26, true) + view.getUint16(l + 28, true);
      if (start + fields.csize > bytes.byteLength) {
        throw truncated(where, `its ${fields.csize} bytes run past the end of the file`);
      }
      const raw = bytes.subarray(start, start + fields.csize);
      let data: Uint8Array;
      if (method === 0) data = raw;
      else if (method === 8) data = new Uint8Array(inflateRawSync(raw));
      else {
        throw new SyntaxError(
          `${where} uses compression method ${method}; only stored (0) and deflate (8) are read.`,
        );
      }
      if (data.byteLength !== fields.size || crc32(data) !== crc) {
        throw truncated(where, "its size or CRC-32 does not match the directory");
      }
      return data;
    };
    entries.set(name, { name, size: fields.size, read });
  }
  return entries;
}
