// Private helpers: reading files from paths or URLs, gunzip, and number formatting for messages.
import { gunzipSync } from "node:zlib";
import { join } from "node:path";
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

/** Whether a file exists at `loc` (remote URLs are asked with HEAD). */
export async function exists(loc: DataLocation): Promise<boolean> {
  if (loc instanceof URL && loc.protocol !== "file:") {
    const r = await fetch(loc, { method: "HEAD" });
    await r.body?.cancel();
    return r.ok;
  }
  try {
    const s = await Deno.stat(loc);
    return s.isFile;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** Whether a folder exists at a local `loc`. */
export async function isDir(loc: DataLocation): Promise<boolean> {
  if (loc instanceof URL && loc.protocol !== "file:") return true;
  try {
    return (await Deno.stat(loc)).isDirectory;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
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

/** Gunzips `bytes` when they are gzip, else returns them; a corrupt stream is a SyntaxError. */
export function maybeGunzip(bytes: Uint8Array, name: string): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  try {
    const out = gunzipSync(bytes);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new SyntaxError(
      `${name} is not a complete gzip stream (${why}): download the file again`,
    );
  }
}

/** `n` with thousands separators, as in 30,730,000. */
export function fmt(n: number): string {
  return n.toLocaleString("en-US");
}
