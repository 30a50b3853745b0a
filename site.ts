/**
 * The report site, in Fresh's layout: pages in `routes/` (listed by `routes.gen.ts`), interactive
 * islands in `islands/` (listed by `islands.gen.ts`), assets in `static/`. {@linkcode SITE} hands
 * them to `createApp` of `lib/site`, which imports none of them.
 *
 * ```sh
 * deno task serve  [--run DIR]  [--port N] [--hostname H]   # deno run site.ts serve …
 * deno task report [--run DIR] --out SITE                   # deno run site.ts report …
 * ```
 * @module
 */
import type { SiteDefinition } from "./lib/site/mod.ts";
import islands from "./islands.gen.ts";
import manifest from "./routes.gen.ts";

/** The report site: its routes, islands and static files. */
export const SITE: SiteDefinition = {
  manifest,
  islands,
  islandsModule: new URL("./islands.gen.ts", import.meta.url),
  staticDir: new URL("./static/", import.meta.url),
};

if (import.meta.main) {
  const { reportCli, serveCli } = await import("./lib/site/mod.ts");
  const { REPORT_USAGE, SERVE_USAGE } = await import("./lib/site/mod.ts");
  const { wantsHelp } = await import("./lib/cli_args.ts");
  const [command, ...args] = Deno.args;
  if (wantsHelp(args) && (command === "serve" || command === "report")) {
    console.log(command === "serve" ? SERVE_USAGE : REPORT_USAGE);
    Deno.exit(0);
  }
  try {
    if (command === "serve") await serveCli(args, SITE);
    else if (command === "report") {
      const r = await reportCli(args, SITE);
      console.log(`Wrote ${r.files.length} files for ${r.sweeps.length} sweep(s) or analyses.`);
    } else {
      throw new TypeError(
        `unknown command ${JSON.stringify(command ?? "")}; expected "serve" or "report" ` +
          `(deno task serve, deno task report).`,
      );
    }
  } catch (err) {
    console.error(`error: ${(err as Error).message}`);
    Deno.exit(2);
  }
}
