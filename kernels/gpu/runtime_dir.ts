/**
 * A private runtime folder for the graphics driver. Mesa's Vulkan drivers (lavapipe included)
 * print `error: XDG_RUNTIME_DIR is invalid or not set in the environment.` on every adapter
 * request of a process without one (a container, a batch job, ssh without a login session),
 * which a user reads as a failure of a run that succeeded. Instead of filtering the driver's
 * output (which would hide its real errors), this process gets the folder the variable should
 * name: owned by the user, mode 0700.
 *
 * @module
 */

let done = false;

function usable(dir: string | undefined): boolean {
  if (!dir) return false;
  try {
    const st = Deno.statSync(dir);
    return st.isDirectory && st.uid === Deno.uid() && ((st.mode ?? 0) & 0o077) === 0;
  } catch {
    return false;
  }
}

/**
 * Points `XDG_RUNTIME_DIR` at a private folder (`<tmp>/salience-runtime-<uid>`, else a fresh
 * temporary folder) when it is unset or not a folder of this user with mode 0700; does nothing
 * elsewhere, off Linux, or without permission to read and write the environment. Call before
 * requesting an adapter. Returns the folder in use, or `null`.
 *
 * @example
 * ```ts
 * import { usePrivateRuntimeDir } from "./runtime_dir.ts";
 * const dir = usePrivateRuntimeDir();
 * if (Deno.build.os === "linux" && dir !== Deno.env.get("XDG_RUNTIME_DIR")) throw new Error();
 * ```
 */
export function usePrivateRuntimeDir(): string | null {
  // A browser (the site's in-browser analysis) has no Deno and no driver folder to set.
  if (typeof Deno === "undefined" || Deno.build.os !== "linux") return null;
  try {
    const current = Deno.env.get("XDG_RUNTIME_DIR");
    if (usable(current)) return current!;
    if (done) return Deno.env.get("XDG_RUNTIME_DIR") ?? null;
    done = true;
    const tmp = Deno.env.get("TMPDIR") || "/tmp";
    let dir = `${tmp}/salience-runtime-${Deno.uid()}`;
    try {
      Deno.mkdirSync(dir, { mode: 0o700 });
    } catch (err) {
      if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
    }
    // Someone else's folder, or a loose mode: a fresh one of our own instead.
    if (!usable(dir)) {
      dir = Deno.makeTempDirSync({ prefix: "salience-runtime-" });
      Deno.chmodSync(dir, 0o700);
    }
    Deno.env.set("XDG_RUNTIME_DIR", dir);
    return dir;
  } catch {
    return null;
  }
}
