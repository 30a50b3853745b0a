// Finding a Python interpreter that imports what a caller needs (torch, numpy): `python3` first,
// then the system one, since a user's `python3` (pyenv, a venv) may lack Debian's python3-torch.

/** Interpreters tried, in order. */
export const PYTHON_CANDIDATES: readonly string[] = ["python3", "/usr/bin/python3"];

/**
 * The first of {@link PYTHON_CANDIDATES} that imports every module in `modules`, or null when
 * none does (or none is installed). Cost: one short Python start per candidate tried.
 *
 * @example
 * ```ts
 * import { findPython } from "./mod.ts";
 * const py = await findPython(["json"]);
 * console.log(py ?? "no python3 here");
 * ```
 */
export async function findPython(modules: readonly string[]): Promise<string | null> {
  const code = modules.map((m) => `import ${m}`).join("; ") || "pass";
  for (const exe of PYTHON_CANDIDATES) {
    try {
      const r = await new Deno.Command(exe, {
        args: ["-c", code],
        stdout: "null",
        stderr: "null",
      }).output();
      if (r.success) return exe;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  return null;
}
