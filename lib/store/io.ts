/**
 * Low-level file operations of the results store: atomic writes (temporary name, then rename),
 * JSON reading with errors that name the file, streaming SHA-256, and an atomic directory swap.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { basename, dirname, join } from "node:path";

/** Suffix of temporary files and folders: `<name>.tmp-<pid>`; readers skip such names. */
export const TMP_MARK = ".tmp-";

/**
 * Whether a file or folder name is a temporary left by an interrupted atomic write
 * (`<name>.tmp-…`, or `<name>.old-…` from {@link replaceDir}).
 *
 * @example
 * ```ts
 * import { isTemporaryName } from "./io.ts";
 * if (!isTemporaryName("salience.npy.tmp-42") || isTemporaryName("salience.npy")) throw new Error();
 * ```
 */
export function isTemporaryName(name: string): boolean {
  return name.includes(TMP_MARK) || name.includes(".old-");
}

/**
 * A fresh temporary name beside `path` (`<path>.tmp-<pid>-<random>`), which readers skip and a
 * later run of the same step removes: the name every atomic writer of the toolkit fills before
 * renaming it into place.
 *
 * @example
 * ```ts
 * import { isTemporaryName, temporaryPathOf } from "./io.ts";
 * if (!isTemporaryName(temporaryPathOf("a/b.npy"))) throw new Error("not a temporary name");
 * ```
 */
export function temporaryPathOf(path: string): string {
  return `${path}${TMP_MARK}${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
}

/**
 * Removes a file or folder (recursively); one that is already gone is not an error.
 *
 * @example
 * ```ts
 * import { removeIfPresent } from "./io.ts";
 * await removeIfPresent("/definitely/not/here");
 * ```
 */
export async function removeIfPresent(path: string): Promise<void> {
  await Deno.remove(path, { recursive: true }).catch((err) => {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  });
}

/**
 * Writes `path` atomically, the one way the toolkit does: the bytes (or whatever `data` writes
 * to the open file, for content streamed in pieces) go to `<path>.tmp-<pid>-<rand>` first, are
 * flushed to disk, and the file is then renamed over `path`, so a reader (or a process killed
 * midway) sees either the old file or the new one, never half of one. A failed write removes its
 * temporary. Creates the parent folder.
 *
 * Cost: one write of the data plus an fsync.
 *
 * @throws {Deno.errors.PermissionDenied} when the folder cannot be written.
 * @example
 * ```ts
 * import { writeFileAtomic } from "./io.ts";
 * const dir = await Deno.makeTempDir();
 * await writeFileAtomic(`${dir}/a.bin`, new Uint8Array([1, 2, 3]));
 * if ((await Deno.readFile(`${dir}/a.bin`)).length !== 3) throw new Error("not written");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | ((file: Deno.FsFile) => Promise<void>),
): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const tmp = temporaryPathOf(path);
  try {
    const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
    try {
      if (typeof data === "function") await data(file);
      else await writeAll(file, data);
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
}

/** Writes all of `data` to `file` (one `write` may take only part of it). */
export async function writeAll(file: Deno.FsFile, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.byteLength) off += await file.write(data.subarray(off));
}

/**
 * Serialises `value` as pretty JSON (two-space indent, trailing newline) and writes it
 * atomically with {@link writeFileAtomic}.
 *
 * @throws {TypeError} when `value` holds a non-finite number (JSON would silently write `null`).
 * @example
 * ```ts
 * import { readJson, writeJson } from "./io.ts";
 * const dir = await Deno.makeTempDir();
 * await writeJson(`${dir}/x.json`, { a: 1 });
 * const back = await readJson(`${dir}/x.json`) as { a: number };
 * if (back.a !== 1) throw new Error("round trip failed");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeJson(path: string, value: unknown): Promise<void> {
  const text = JSON.stringify(value, (key, v) => {
    if (typeof v === "number" && !Number.isFinite(v)) {
      throw new TypeError(
        `Cannot write ${basename(path)}: field '${key}' is ${v}, expected a finite number; ` +
          `store a missing value as null explicitly.`,
      );
    }
    return v;
  }, 2);
  await writeFileAtomic(path, new TextEncoder().encode(text + "\n"));
}

/**
 * Reads and parses a JSON file.
 *
 * @throws {SyntaxError} naming the file when its text is not valid JSON.
 * @throws {Deno.errors.NotFound} naming the file when it does not exist.
 * @example
 * ```ts
 * import { readJson } from "./io.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/bad.json`, "{ nope");
 * let threw = false;
 * try { await readJson(`${dir}/bad.json`); } catch (e) { threw = e instanceof SyntaxError; }
 * if (!threw) throw new Error("expected a SyntaxError");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(`${path} does not exist; expected a results-store JSON file.`);
    }
    throw err;
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new SyntaxError(
      `${path} is not valid JSON (${(err as Error).message}); ` +
        `delete it and rerun the step that writes it.`,
    );
  }
}

/**
 * Whether something exists at `path`: by default any entry (file, folder or link, not
 * followed); with `kind`, whether it is, or links to, a file or a folder. A remote URL
 * (http, https) is asked with one HEAD request, whatever `kind`, and exists when it answers 2xx.
 *
 * @throws what `Deno.lstat`/`Deno.stat` throw other than NotFound (e.g. PermissionDenied), or what
 *   `fetch` throws for a remote URL.
 * @example
 * ```ts
 * import { exists } from "./io.ts";
 * if (await exists("/definitely/not/here")) throw new Error("phantom path");
 * const dir = await Deno.makeTempDir();
 * if (!(await exists(dir, { kind: "dir" })) || await exists(dir, { kind: "file" })) {
 *   throw new Error("a folder is a folder, not a file");
 * }
 * await Deno.remove(dir);
 * ```
 */
export async function exists(
  path: string | URL,
  options: { kind?: "file" | "dir" } = {},
): Promise<boolean> {
  if (path instanceof URL && path.protocol !== "file:") {
    const r = await fetch(path, { method: "HEAD" });
    await r.body?.cancel();
    return r.ok;
  }
  try {
    if (options.kind === undefined) {
      await Deno.lstat(path);
      return true;
    }
    const s = await Deno.stat(path);
    return options.kind === "file" ? s.isFile : s.isDirectory;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/**
 * CRC-32 (the polynomial of zip archives and PNG chunks) of `bytes`: the one checksum the zip
 * reader verifies entries with and the PNG encoder writes, beside {@link sha256Hex}.
 *
 * @example
 * ```ts
 * import { crc32 } from "./io.ts";
 * if (crc32(new TextEncoder().encode("123456789")) !== 0xcbf43926) throw new Error("CRC-32");
 * ```
 */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * SHA-256 of bytes or text (UTF-8) as lowercase hex: with {@link sha256File} the toolkit's one
 * hash (config hashes, checksums, checkpoint identities).
 *
 * @example
 * ```ts
 * import { sha256Hex } from "./io.ts";
 * if (!sha256Hex("abc").startsWith("ba7816bf")) throw new Error("not SHA-256");
 * ```
 */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/**
 * SHA-256 of one file, or of several read one after another as if concatenated, as lowercase
 * hex, read in 1 MiB chunks (memory stays flat for gradient files of any size). Cost: one
 * sequential read of the files.
 *
 * @throws {Deno.errors.NotFound} when the file does not exist.
 * @example
 * ```ts
 * import { sha256File } from "./io.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/abc`, "abc");
 * const h = await sha256File(`${dir}/abc`);
 * if (!h.startsWith("ba7816bf")) throw new Error(h);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function sha256File(path: string | readonly string[]): Promise<string> {
  const hash = createHash("sha256");
  const buf = new Uint8Array(1 << 20);
  for (const p of typeof path === "string" ? [path] : path) {
    const file = await Deno.open(p, { read: true });
    try {
      while (true) {
        const n = await file.read(buf);
        if (n === null) break;
        hash.update(buf.subarray(0, n));
      }
    } finally {
      file.close();
    }
  }
  return hash.digest("hex");
}

/**
 * Replaces folder `dst` by the fully written folder `src` (on the same file system) so that at
 * every instant one complete version exists: `dst` is renamed to `dst.old-<pid>`, `src` to
 * `dst`, then the old one is removed. {@link recoverDir} repairs a swap cut off between the two
 * renames.
 *
 * @example
 * ```ts
 * import { replaceDir } from "./io.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/new`); await Deno.writeTextFile(`${dir}/new/f`, "2");
 * await Deno.mkdir(`${dir}/cur`); await Deno.writeTextFile(`${dir}/cur/f`, "1");
 * await replaceDir(`${dir}/new`, `${dir}/cur`);
 * if (await Deno.readTextFile(`${dir}/cur/f`) !== "2") throw new Error("not swapped");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function replaceDir(src: string, dst: string): Promise<void> {
  const old = `${dst}.old-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  let moved = false;
  try {
    await Deno.rename(dst, old);
    moved = true;
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  await Deno.rename(src, dst);
  if (moved) await Deno.remove(old, { recursive: true });
}

/**
 * Repairs folder `dst` after an interrupted {@link replaceDir}: when `dst` is missing but a
 * `dst.old-*` sibling exists, the newest such sibling is renamed back to `dst`; leftover
 * `dst.old-*` and `dst.tmp-*` siblings are removed. Returns whether `dst` exists afterwards.
 *
 * @example
 * ```ts
 * import { recoverDir } from "./io.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/ck.old-1-abc`);
 * if (!(await recoverDir(`${dir}/ck`))) throw new Error("not recovered");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function recoverDir(dst: string): Promise<boolean> {
  const parent = dirname(dst);
  const name = basename(dst);
  const olds: { path: string; mtime: number }[] = [];
  const tmps: string[] = [];
  try {
    for await (const e of Deno.readDir(parent)) {
      if (e.name.startsWith(`${name}.old-`)) {
        const st = await Deno.stat(join(parent, e.name));
        olds.push({ path: join(parent, e.name), mtime: st.mtime?.getTime() ?? 0 });
      } else if (e.name.startsWith(`${name}${TMP_MARK}`)) {
        tmps.push(join(parent, e.name));
      }
    }
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
  let present = await exists(dst);
  olds.sort((a, b) => b.mtime - a.mtime);
  if (!present && olds.length > 0) {
    await Deno.rename(olds[0]!.path, dst);
    olds.shift();
    present = true;
  }
  for (const o of olds) await Deno.remove(o.path, { recursive: true });
  for (const t of tmps) await Deno.remove(t, { recursive: true });
  return present;
}

/**
 * Lists the files under `dir` recursively as `/`-separated paths relative to `dir`, sorted,
 * skipping temporaries (see {@link isTemporaryName}) and any name in `skip`.
 *
 * @example
 * ```ts
 * import { listFiles } from "./io.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/a`); await Deno.writeTextFile(`${dir}/a/b.txt`, "");
 * await Deno.writeTextFile(`${dir}/c.tmp-1`, "");
 * if ((await listFiles(dir)).join() !== "a/b.txt") throw new Error("wrong listing");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function listFiles(dir: string, skip: readonly string[] = []): Promise<string[]> {
  const out: string[] = [];
  async function walk(abs: string, rel: string): Promise<void> {
    for await (const e of Deno.readDir(abs)) {
      if (isTemporaryName(e.name) || skip.includes(e.name)) continue;
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) await walk(join(abs, e.name), r);
      else if (e.isFile) out.push(r);
    }
  }
  await walk(dir, "");
  return out.sort();
}

/** Name of the checksum record {@link writeChecksums} writes into a folder. */
export const CHECKSUMS_FILE = "checksums.json";

/**
 * Records the size and SHA-256 of `names` (files of `dir`) in `dir/checksums.json`, so that the
 * folder can be verified later without any other record ({@link verifyChecksums}): a checkpoint
 * or an epoch's salience that a run without a valid `COMPLETE` marker keeps. Cost: one read of
 * each file.
 *
 * @example
 * ```ts
 * import { verifyChecksums, writeChecksums } from "./io.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/w.bin`, "abc");
 * await writeChecksums(dir, ["w.bin"]);
 * if ((await verifyChecksums(dir)) !== null) throw new Error("fresh folder fails");
 * await Deno.writeTextFile(`${dir}/w.bin`, "abd");
 * if (!(await verifyChecksums(dir))?.includes("w.bin")) throw new Error("flipped byte missed");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeChecksums(dir: string, names: readonly string[]): Promise<void> {
  const files = [];
  for (const path of [...names].sort()) {
    const abs = join(dir, path);
    files.push({ path, bytes: (await Deno.stat(abs)).size, sha256: await sha256File(abs) });
  }
  await writeJson(join(dir, CHECKSUMS_FILE), { kind: "checksums", files });
}

/**
 * Checks a folder against its `checksums.json` ({@link writeChecksums}): `null` when every listed
 * file has its recorded size and SHA-256 and the folder holds no other file; otherwise why not, in
 * one sentence naming the file (a folder without the record is unverifiable, hence not trusted).
 * Cost: one read of each file.
 *
 * @example
 * ```ts
 * import { verifyChecksums } from "./io.ts";
 * const dir = await Deno.makeTempDir();
 * if (!(await verifyChecksums(dir))?.includes("checksums.json")) throw new Error("trusted");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function verifyChecksums(dir: string): Promise<string | null> {
  const record = join(dir, CHECKSUMS_FILE);
  let files: { path: string; bytes: number; sha256: string }[];
  try {
    const v = await readJson(record) as { kind?: unknown; files?: unknown };
    if (v?.kind !== "checksums" || !Array.isArray(v.files)) {
      return `${record} is not a checksum record.`;
    }
    files = v.files;
  } catch (err) {
    return err instanceof Deno.errors.NotFound
      ? `${dir} has no ${CHECKSUMS_FILE}, so its files cannot be verified.`
      : (err as Error).message;
  }
  const listed = new Set(files.map((f) => f.path));
  const extra = (await listFiles(dir, [CHECKSUMS_FILE])).filter((p) => !listed.has(p));
  if (extra.length > 0) return `${record} does not list ${extra.join(", ")}.`;
  for (const f of files) {
    const abs = join(dir, String(f.path));
    const st = await Deno.stat(abs).catch(() => null);
    if (st === null) return `${abs} is missing.`;
    if (st.size !== f.bytes) return `${abs} has ${st.size} bytes; ${record} lists ${f.bytes}.`;
    if ((await sha256File(abs)) !== f.sha256) return `${abs} fails its checksum in ${record}.`;
  }
  return null;
}

/**
 * Writes folder `dir` as a unit: `write` fills a staging folder (`<dir>.tmp-<pid>`), which then
 * replaces `dir` ({@link replaceDir}), so an interrupted writer leaves the previous folder whole
 * (its staging folder, and a swap cut short, are repaired by the next call). `dir` must be absent,
 * empty, or hold `marker` (a previous such folder): a folder of other files is refused, not
 * replaced. Returns what `write` returns. Callers that may race take a lock first.
 *
 * @throws {RangeError} for an empty path, a file, or a folder without `marker`.
 * @example
 * ```ts
 * import { writeDirAsUnit } from "./io.ts";
 * const root = await Deno.makeTempDir();
 * await writeDirAsUnit(`${root}/out`, "summary.json", (d) => Deno.writeTextFile(`${d}/summary.json`, "{}"));
 * let msg = "";
 * await Deno.writeTextFile(`${root}/notes.txt`, "mine");
 * await writeDirAsUnit(root, "summary.json", async () => {}).catch((e) => msg = e.message);
 * if (!msg.includes("holds files but no summary.json")) throw new Error(msg);
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function writeDirAsUnit<T>(
  dir: string,
  marker: string,
  write: (staging: string) => Promise<T>,
): Promise<T> {
  if (dir.trim() === "") {
    throw new RangeError("the output folder is ''; pass --out DIR with a folder name.");
  }
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) names.push(e.name);
  } catch (err) {
    if (err instanceof Deno.errors.NotADirectory) {
      throw new RangeError(`${dir} is a file; pass --out with a folder.`);
    }
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  if (names.length > 0 && !names.includes(marker)) {
    throw new RangeError(
      `${dir} holds files but no ${marker}, and this output replaces its folder as a whole; ` +
        `pass --out with a new folder or a previous output.`,
    );
  }
  await recoverDir(dir); // a swap cut short, and staging folders of killed writers
  const staging = `${dir}${TMP_MARK}${Deno.pid}`;
  await removeIfPresent(staging);
  await Deno.mkdir(staging, { recursive: true });
  try {
    const result = await write(staging);
    await replaceDir(staging, dir);
    return result;
  } catch (err) {
    await removeIfPresent(staging);
    throw err;
  }
}
