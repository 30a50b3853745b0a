/**
 * `deno task report [--run DIR] --out SITE`: writes the static report site for a results
 * directory (default `results/`), for one sweep folder, or for one external analysis (the folder
 * holding `analysis/`, or that `analysis/` folder itself) into SITE.
 * @module
 */
import { basename, dirname, join } from "node:path";
import { parseFlags, UsageError } from "./args.ts";
import { type ExportResult, exportSite, openStore, type SiteDefinition } from "../site/mod.ts";
import { listSweepEntries } from "../site/store_reader.ts";
import { exists } from "../store/mod.ts";

/**
 * Splits a `--run`/`--runs` path into the results directory to open and, when the path names a
 * single sweep folder (holding `sweep.json`), a single external analysis (holding
 * `analysis/summary.json`) or that analysis's `analysis/` folder, the one folder of it to show.
 * Any other path is taken as a results directory (`only` null). Cost: up to three `stat` calls.
 * @example
 * ```ts
 * import { locateRun } from "./report.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/ext/analysis`, { recursive: true });
 * await Deno.writeTextFile(`${dir}/ext/analysis/summary.json`, "{}");
 * const r = await locateRun(`${dir}/ext/analysis/`);
 * if (r.root !== dir || r.only !== "ext") throw new Error(JSON.stringify(r));
 * if ((await locateRun(dir)).only !== null) throw new Error("a results directory");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function locateRun(run: string): Promise<{ root: string; only: string | null }> {
  const trimmed = run.replace(/[\\/]+$/, "") || run;
  const one = (folder: string) => ({ root: dirname(folder), only: basename(folder) });
  if (await exists(join(trimmed, "sweep.json"), { kind: "file" })) return one(trimmed);
  if (await exists(join(trimmed, "analysis", "summary.json"), { kind: "file" })) {
    return one(trimmed);
  }
  if (
    basename(trimmed) === "analysis" &&
    await exists(join(trimmed, "summary.json"), { kind: "file" })
  ) {
    return one(dirname(trimmed));
  }
  return { root: run, only: null };
}

/** The usage `deno task report --help` prints. */
export const REPORT_USAGE = `usage: deno task report [--run DIR] --out SITE

Writes the static report site into SITE (replacing a previous export's files; other files there,
such as .git/ or CNAME, stay).
  --run DIR       a results directory (default: results), one sweep folder, or the folder of an
                  external analysis (the same flag as deno task serve)
  --out SITE      the folder to write
  --help          this text`;

/**
 * Parses the command line and writes the site. `--run` may name a results directory (all its
 * sweeps and external analyses), a single sweep folder (a folder holding `sweep.json`), or a
 * single external analysis: the folder holding `analysis/summary.json` (as written by
 * `deno task analyze --grads G.npy` beside G.npy) or that `analysis/` folder itself.
 * Cost: one render per page, as {@linkcode exportSite}.
 * @throws TypeError when `--out` is missing, or when `--run` holds no sweep and no external
 *   analysis (nothing would be reported).
 * @example
 * ```ts
 * import { reportCli } from "./report.ts";
 * const root = await Deno.makeTempDir();
 * let message = "";
 * try {
 *   await reportCli(["--run", root, "--out", `${root}-site`], { manifest: {}, islands: {} });
 * } catch (e) {
 *   message = (e as Error).message;
 * }
 * if (!message.includes(root)) throw new Error("an empty folder is refused, naming it");
 * await Deno.remove(root);
 * ```
 */
export async function reportCli(args: string[], site: SiteDefinition): Promise<ExportResult> {
  const parsed = parseFlags("deno task report", args, {
    run: { type: "string", default: "results" },
    out: { type: "string" },
  });
  if (parsed.help) throw new UsageError(REPORT_USAGE);
  const values = { ...parsed.values, run: parsed.values.run ?? "results" };
  if (!values.out) throw new TypeError("--out is missing; pass the folder to write the site into.");
  const { root, only } = await locateRun(values.run);
  const sweeps = only === null ? undefined : [only];
  const found = await listSweepEntries(await openStore(root, { only: sweeps }));
  if (found.length === 0) {
    const what = only === null ? `"${values.run}"` : `"${values.run}" (folder "${only}")`;
    throw new TypeError(
      `--run ${what} holds no sweep and no external analysis; expected a sweep folder (with ` +
        `sweep.json), a results directory of sweep folders, or the folder of an external ` +
        `analysis (with analysis/summary.json, written by deno task analyze --grads) whose ` +
        `name is a plain URL-safe name.`,
    );
  }
  return await exportSite({ root, out: values.out, sweeps, site });
}
