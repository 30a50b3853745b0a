/**
 * The report site, in Fresh's layout: pages in `routes/` (listed by `routes.gen.ts`), interactive
 * islands in `islands/` (listed by `islands.gen.ts`), assets in `static/`. {@linkcode SITE} hands
 * them to `createApp` of `lib/site`, which imports none of them; run as a program, it hands them
 * to the site's commands (`lib/cli/site.ts`).
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
  islandsDir: new URL("./islands/", import.meta.url),
  staticDir: new URL("./static/", import.meta.url),
};

if (import.meta.main) {
  const { siteMain } = await import("./lib/cli/site.ts");
  const code = await siteMain(Deno.args, SITE);
  if (code !== 0) Deno.exit(code);
}
