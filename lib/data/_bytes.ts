// Private helpers: reading files from paths or URLs, gunzip, and number formatting for messages.
import { join } from "node:path";
import { createGunzip } from "node:zlib";
import { fileURLToPath } from "node:url";

import type { DataLocation } from "./types.ts";
export type { DataLocation };

/** The location of `name` inside folder `dir`. */
export function fileIn(dir: DataLocation, name: string): DataLocation {
  if (dir instanceof URL) {
    const base = dir.href.endsWith("/") ? dir : new URL(dir.href + "/");
    return new URL(name, base);
  }
  return join(dir, name);
}

/** A location as a reader would write it in a message. */
export function shown(loc: DataLocation): string {
  if (loc instanceof URL) return loc.protocol === "file:" ? fileURLToPath(loc) : loc.href;
  return loc;
}

/** Reads all bytes at `loc`; `missing` is the message of the NotFound error thrown if absent. */
export async function readBytes(loc: DataLocation, missing: string): Promise<Uint8Array> {
  if (loc instanceof URL && loc.protocol !== "file:") {
    const r = await fetch(loc);
    if (!r.ok) {
      await r.body?.cancel();
      throw new Deno.errors.NotFound(missing);
    }
    return new Uint8Array(await r.arrayBuffer());
  }
  try {
    return await Deno.readFile(loc);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new Deno.errors.NotFound(missing);
    throw e;
  }
}

/** Whether `bytes` start with the gzip magic number 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Gunzips `bytes` when they are gzip (else returns them), stopping as soon as the output passes
 * the size its own header declares: `declared(head)` gets the first `headBytes` decompressed
 * bytes and returns the whole file's size (or null when the header is not one, in which case the
 * head alone is returned for the parser to report). A small file that expands to gigabytes thus
 * fails after at most the declared size, naming the file. Cost: the declared size in memory.
 *
 * @throws {SyntaxError} naming `name` for a corrupt stream or one longer than declared.
 */
export async function gunzipBounded(
  bytes: Uint8Array,
  name: string,
  headBytes: number,
  declared: (head: Uint8Array) => number | null,
): Promise<Uint8Array> {
  if (!isGzip(bytes)) return bytes;
  const chunks: Uint8Array[] = [];
  let total = 0, limit: number | null = null;
  const concat = () => {
    const out = new Uint8Array(total);
    let o = 0;
    for (const c of chunks) {
      out.set(c, o);
      o += c.byteLength;
    }
    return out;
  };
  // zlib's stream emits the output in 64 kB pieces, so it stops within one piece of the limit.
  return await new Promise<Uint8Array>((resolve, reject) => {
    const z = createGunzip({ chunkSize: 1 << 16 });
    let settled = false;
    const finish = (err: Error | null) => {
      if (settled) return;
      settled = true;
      z.destroy();
      if (err) reject(err);
      else resolve(concat());
    };
    z.on("data", (c: Uint8Array) => {
      if (settled) return;
      chunks.push(c);
      total += c.byteLength;
      if (limit === null && total >= headBytes) {
        limit = declared(concat().subarray(0, headBytes));
        if (limit === null) return finish(null);
      }
      if (limit !== null && total > limit) {
        finish(
          new SyntaxError(
            `${name} expands past the ${fmt(limit)} bytes its header declares (already ${
              fmt(total)
            }): it is not the file it names; download it again`,
          ),
        );
      }
    });
    z.on("end", () => finish(null));
    z.on("error", (e: Error) =>
      finish(
        new SyntaxError(
          `${name} is not a complete gzip stream (${e.message}): download the file again`,
        ),
      ));
    z.end(bytes);
  });
}

/** `n` with thousands separators, as in 30,730,000. */
export function fmt(n: number): string {
  return n.toLocaleString("en-US");
}
