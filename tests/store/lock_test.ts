import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { assert, assertEquals } from "../_shared/assert.ts";
import { acquireLock, readLockHolder, type StoreLock } from "../../lib/store/mod.ts";

const LOCK_TS = fileURLToPath(new URL("../../lib/store/lock.ts", import.meta.url));

Deno.test("acquireLock() is exclusive, names its holder and is free again after release", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lock-" });
  const path = join(dir, "locks", "r.lock");
  const first = await acquireLock(path);
  assert("release" in first);
  const second = await acquireLock(path);
  assert(!("release" in second), "two holders");
  assertEquals(second.heldBy?.pid, Deno.pid);
  // A waiter gets the lock once the holder lets go, and says whom it waited for.
  let waitedFor = -1;
  const waiting = acquireLock(path, { wait: true, onWait: (h) => waitedFor = h?.pid ?? -2 });
  await new Promise((r) => setTimeout(r, 100));
  first.release();
  const third = await waiting as StoreLock;
  assertEquals(waitedFor, Deno.pid);
  assertEquals((await readLockHolder(path))?.pid, Deno.pid);
  third.release();
  assertEquals(await readLockHolder(path), null, "the lock file is removed on release");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a lock held by a process killed with SIGKILL is free, not held forever", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lock-" });
  const path = join(dir, "locks", "r.lock");
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `const { acquireLock } = await import(${JSON.stringify(LOCK_TS)});
       const l = await acquireLock(${JSON.stringify(path)});
       console.log("release" in l ? "held" : "refused");
       await new Promise((r) => setTimeout(r, 60_000));`,
    ],
    stdout: "piped",
  }).spawn();
  const reader = child.stdout.getReader();
  const { value } = await reader.read();
  assertEquals(new TextDecoder().decode(value).trim(), "held");
  const busy = await acquireLock(path);
  assert(!("release" in busy));
  assertEquals(busy.heldBy?.pid, child.pid, "the message names the holder's pid");
  child.kill("SIGKILL");
  await child.status;
  reader.releaseLock();
  await child.stdout.cancel();
  // The crashed holder left its file behind, but not its lock.
  assertEquals((await readLockHolder(path))?.pid, child.pid);
  const mine = await acquireLock(path);
  assert("release" in mine, "a dead process's lock is still held");
  mine.release();
  await Deno.remove(dir, { recursive: true });
});
