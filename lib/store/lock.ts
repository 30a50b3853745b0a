/**
 * Exclusive locks between processes writing one results store: a run folder (or a sweep's
 * analysis) is written by the one process holding its lock. A lock is an advisory file-system
 * lock (`flock`) on `<sweep>/locks/<name>.lock`, so the operating system releases it when its
 * process ends however it ends (a crash or `kill -9` leaves nothing held); the file also records
 * who holds it (pid, host name, start time) for the message another process prints.
 *
 * @module
 */
import { hostname } from "node:os";
import { join } from "node:path";

/** Folder of a sweep holding its lock files. */
export const LOCKS_DIR = "locks";

/** Who holds a lock, as its file records it. */
export interface LockHolder {
  pid: number;
  hostname: string;
  /** ISO 8601 time the lock was taken. */
  started: string;
}

/** A held lock; {@link StoreLock.release} (or `using`) gives it back and removes its file. */
export interface StoreLock extends Disposable {
  path: string;
  release(): void;
}

/**
 * Path of the lock named `name` of a sweep folder.
 *
 * @example
 * ```ts
 * import { lockPathOf } from "./lock.ts";
 * if (lockPathOf("results/x", "A-k1-s0-01234567") !== "results/x/locks/A-k1-s0-01234567.lock") throw new Error();
 * ```
 */
export function lockPathOf(sweepDir: string, name: string): string {
  return join(sweepDir, LOCKS_DIR, `${name}.lock`);
}

/**
 * The holder recorded in a lock file; `null` when the file is absent or being written.
 *
 * @example
 * ```ts
 * import { readLockHolder } from "./lock.ts";
 * if ((await readLockHolder("/no/such.lock")) !== null) throw new Error();
 * ```
 */
export async function readLockHolder(path: string): Promise<LockHolder | null> {
  try {
    const v = JSON.parse(await Deno.readTextFile(path));
    return typeof v?.pid === "number" ? v as LockHolder : null;
  } catch {
    return null;
  }
}

/**
 * One sentence naming a lock's holder, e.g. `pid 123 on host-a since 2026-…`.
 *
 * @example
 * ```ts
 * import { describeHolder } from "./lock.ts";
 * if (!describeHolder({ pid: 7, hostname: "h", started: "t" }).includes("pid 7 on h")) throw new Error();
 * ```
 */
export function describeHolder(h: LockHolder | null): string {
  return h === null ? "another process" : `pid ${h.pid} on ${h.hostname} since ${h.started}`;
}

/**
 * Takes the exclusive lock at `path`: returns it, or, when another process holds it, its holder
 * (`wait: false`, the default) or waits until it is free (`wait: true`, calling `onWait` once
 * with the holder first). Creates the lock folder.
 *
 * @example
 * ```ts
 * import { acquireLock } from "./lock.ts";
 * const dir = await Deno.makeTempDir();
 * const lock = await acquireLock(`${dir}/locks/a.lock`);
 * if (!("release" in lock)) throw new Error("a free lock was not taken");
 * lock.release();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function acquireLock(
  path: string,
  options: { wait?: boolean; onWait?: (holder: LockHolder | null) => void } = {},
): Promise<StoreLock | { heldBy: LockHolder | null }> {
  await Deno.mkdir(join(path, ".."), { recursive: true });
  let told = false;
  while (true) {
    const file = await Deno.open(path, { read: true, write: true, create: true });
    let keep = false;
    try {
      if (!(await file.tryLock(true))) {
        const heldBy = await readLockHolder(path);
        if (!options.wait) return { heldBy };
        if (!told) options.onWait?.(heldBy);
        told = true;
        await file.lock(true);
      }
      // The holder before us may have removed the file after we opened it: the lock we hold is
      // then on a file nobody else can find, so start again on the path's current file.
      const [mine, now] = [await file.stat(), await Deno.stat(path).catch(() => null)];
      if (now === null || now.ino !== mine.ino || now.dev !== mine.dev) continue;
      const holder: LockHolder = {
        pid: Deno.pid,
        hostname: hostname(),
        started: new Date().toISOString(),
      };
      await file.truncate(0);
      await file.write(new TextEncoder().encode(JSON.stringify(holder) + "\n"));
      keep = true;
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        // Removed while still locked, so no process can take the old file after us.
        Deno.removeSync(path);
        file.close();
      };
      return { path, release, [Symbol.dispose]: release };
    } finally {
      if (!keep) file.close(); // closing drops any lock taken on this handle
    }
  }
}
