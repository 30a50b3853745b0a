/**
 * `deno task serve` and `deno task report`: the report site's two commands, one dispatcher. The
 * site's root (`site.ts`) runs it with its own pages, so nothing here imports `routes/` or
 * `islands/`.
 *
 * @module
 */
import { wantsHelp } from "./args.ts";
import { REPORT_USAGE, reportCli } from "./report.ts";
import { SERVE_USAGE, serveCli } from "./serve.ts";
import type { SiteDefinition } from "../site/mod.ts";

/**
 * Runs `serve ARGS…` or `report ARGS…` for `site`; returns the exit code of a command that has
 * finished (0, or 2 for a mistake, printed as one line), or 0 once the server listens.
 *
 * @example
 * ```ts
 * import { siteMain } from "./site.ts";
 * if ((await siteMain(["report", "--help"], { manifest: {}, islands: {} })) !== 0) throw new Error();
 * if ((await siteMain(["publish"], { manifest: {}, islands: {} })) !== 2) throw new Error();
 * ```
 */
export async function siteMain(args: string[], site: SiteDefinition): Promise<number> {
  const [command, ...rest] = args;
  if (wantsHelp(rest) && (command === "serve" || command === "report")) {
    console.log(command === "serve" ? SERVE_USAGE : REPORT_USAGE);
    return 0;
  }
  try {
    if (command === "serve") await serveCli(rest, site);
    else if (command === "report") {
      const r = await reportCli(rest, site);
      console.log(`Wrote ${r.files.length} files for ${r.sweeps.length} sweep(s) or analyses.`);
    } else {
      throw new TypeError(
        `unknown command ${JSON.stringify(command ?? "")}; expected "serve" or "report" ` +
          `(deno task serve, deno task report).`,
      );
    }
    return 0;
  } catch (err) {
    console.error(`error: ${(err as Error).message}`);
    return 2;
  }
}
