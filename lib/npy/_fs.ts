// Private file helpers shared by the .npy writers and the sidecar writer: the temporary name a
// writer fills before renaming it into place, and its removal after a failed write.

/**
 * The temporary file a writer fills before renaming it to `path`: `<path>.tmp-<pid>`.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { tempPathFor } from "./mod.ts";
 * deepEqual(tempPathFor("g.npy"), `g.npy.tmp-${Deno.pid}`);
 * ```
 */
export function tempPathFor(path: string): string {
  return `${path}.tmp-${Deno.pid}`;
}

/** Removes `path`; a file that is already gone is not an error. */
export async function removeQuietly(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}
