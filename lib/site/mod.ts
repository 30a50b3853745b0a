/**
 * The report site: a read-only web view of a results directory, in Fresh's layout (pages in
 * `routes/`, interactive islands in `islands/`, assets in `static/`) on Hono and Preact server
 * rendering, with SVG charts drawn on the server. Serve it with `deno task serve`, or export a
 * static copy with `deno task report`.
 *
 * @example
 * ```ts
 * import { createApp } from "./mod.ts";
 * const dir = await Deno.makeTempDir();
 * const app = await createApp({ root: dir });
 * const res = await app.fetch(new Request("http://localhost/"));
 * if (!res.headers.get("Content-Security-Policy")?.includes("frame-ancestors 'none'")) {
 *   throw new Error("missing CSP");
 * }
 * await res.body?.cancel();
 * await Deno.remove(dir);
 * ```
 * @module
 */
export { type AppOptions, createApp, type SiteApp } from "./app.tsx";
export { type ExportOptions, type ExportResult, exportSite, SITE_MARKER } from "./export.ts";
export { jsonToCsv } from "./csv.ts";
export { type LinkMode, relativeHref } from "./links.ts";
export { compileRouteFile, HttpError, matchPath, type RouteContext } from "./router.ts";
export { contentSecurityPolicy, isSafeName, resolveInside, securityHeaders } from "./safety.ts";
export { openStore, type SiteStore } from "./store_reader.ts";
export { type IslandName, ISLANDS } from "./islands.ts";
export { islandBundle } from "./bundle.ts";
export { locateRun, reportCli } from "./report_cli.ts";
export { serveCli } from "./serve_cli.ts";
