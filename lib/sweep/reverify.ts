/**
 * What a run folder without a valid `COMPLETE` marker may keep. Nothing in such a folder is
 * trusted on its face: the latest checkpoint and each analysed epoch's salience keep only when
 * they pass their own `checksums.json` (written with them, see `lib/train`'s checkpoints and
 * `epochs.ts`), and every other artifact, all derived from the final checkpoint, is redone.
 *
 * @module
 */
import { join } from "node:path";
import {
  clearComplete,
  isTemporaryName,
  recoverDir,
  removeIfPresent,
  RUN_FILES,
  verifyChecksums,
} from "../store/mod.ts";
import { EPOCHS_DIR } from "./epochs.ts";

async function entries(dir: string): Promise<Deno.DirEntry[]> {
  const out: Deno.DirEntry[] = [];
  try {
    for await (const e of Deno.readDir(dir)) out.push(e);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Prepares a run folder whose marker is missing or invalid for the executor: removes the marker,
 * every temporary, and every artifact but a checkpoint and epoch salience that verify; a damaged
 * or unverifiable checkpoint or epoch file removes the checkpoint and every epoch (the run
 * retrains from scratch, since past epochs' models are not kept). Returns the paths removed
 * (relative to the run folder, a checkpoint or epoch problem as `checkpoint/…` or `epochs/…`,
 * which is how the executor's `redone` list tells training to restart).
 *
 * Cost: one read of the checkpoint and of every epoch file.
 *
 * @example
 * ```ts
 * import { dropUnverified } from "./reverify.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/salience.npy`, "truncated");
 * await Deno.mkdir(`${dir}/checkpoint/epoch-0001`, { recursive: true });
 * await Deno.writeTextFile(`${dir}/checkpoint/epoch-0001/weights.bin`, "no checksums");
 * const removed = await dropUnverified(dir);
 * if (removed.join() !== "checkpoint/epoch-0001,salience.npy") throw new Error(removed.join());
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function dropUnverified(runDir: string): Promise<string[]> {
  await clearComplete(runDir);
  const removed: string[] = [];
  const remove = (rel: string) => removeIfPresent(join(runDir, rel));
  let retrain = false;
  const ckDir = join(runDir, RUN_FILES.checkpoint);
  // A folder swap cut short between its two renames left only `<name>.old-…`: put it back.
  for (const parent of [ckDir, join(runDir, EPOCHS_DIR)]) {
    for (const e of await entries(parent)) {
      const m = /^(.+?)\.old-/.exec(e.name);
      if (m) await recoverDir(join(parent, m[1]!));
    }
  }
  const checkpoints = (await entries(ckDir)).filter((e) =>
    e.isDirectory && /^epoch-\d{4,}$/.test(e.name)
  );
  for (const [i, e] of checkpoints.entries()) {
    const rel = `${RUN_FILES.checkpoint}/${e.name}`;
    if (i < checkpoints.length - 1) await remove(rel); // an older epoch a kill left behind
    else if ((await verifyChecksums(join(ckDir, e.name))) !== null) {
      removed.push(rel);
      retrain = true;
    }
  }
  for (const e of await entries(join(runDir, EPOCHS_DIR))) {
    const rel = `${EPOCHS_DIR}/${e.name}`;
    if (isTemporaryName(e.name)) await remove(rel);
    else if (!e.isDirectory || (await verifyChecksums(join(runDir, rel))) !== null) {
      removed.push(rel);
      retrain = true;
    }
  }
  if (retrain) {
    await remove(RUN_FILES.checkpoint);
    await remove(EPOCHS_DIR);
  }
  for (const e of await entries(runDir)) {
    if (e.name === RUN_FILES.checkpoint || e.name === EPOCHS_DIR) continue;
    await remove(e.name);
    if (!isTemporaryName(e.name)) removed.push(e.name);
  }
  return removed.sort();
}
