/**
 * `deno task report [--run DIR] --out SITE`: writes the static report site for a results
 * directory (default `results/`) or for one sweep folder into SITE.
 * @module
 */
import { basename, dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { type ExportResult, exportSite } from "./export.ts";

/**
 * Parses the command line and writes the site. `--run` may name a results directory (all its
 * sweeps) or a single sweep folder (a folder holding `sweep.json`).
 * @throws TypeError when `--out` is missing.
 * @example
 * ```ts
 * import { reportCli } from "./report_cli.ts";
 * const root = await Deno.makeTempDir();
 * const r = await reportCli(["--run", root, "--out", `${root}-site`]);
 * if (r.sweeps.length !== 0) throw new Error("empty results folder");
 * await Deno.remove(`${root}-site`, { recursive: true });
 * await Deno.remove(root);
 * ```
 */
export async function reportCli(args: string[]): Promise<ExportResult> {
  const { values } = parseArgs({
    args,
    options: { run: { type: "string", default: "results" }, out: { type: "string" } },
    strict: true,
  });
  if (!values.out) throw new TypeError("--out is missing; pass the folder to write the site into.");
  let root = values.run;
  let only: string | null = null;
  try {
    await Deno.stat(join(root, "sweep.json"));
    const trimmed = root.replace(/[\\/]+$/, "");
    only = basename(trimmed);
    root = dirname(trimmed);
  } catch {
    // Not a sweep folder: treat as a results directory.
  }
  return await exportSite({ root, out: values.out, sweeps: only === null ? undefined : [only] });
}

if (import.meta.main) {
  try {
    const r = await reportCli(Deno.args);
    console.log(`Wrote ${r.files.length} files for ${r.sweeps.length} sweep(s).`);
  } catch (err) {
    console.error((err as Error).message);
    Deno.exit(2);
  }
}
