/**
 * The report site's machinery: a read-only web view of a results directory in Fresh's layout,
 * with Preact server rendering and SVG charts drawn on the server. The site itself (pages in
 * `routes/`, interactive islands in `islands/`, assets in `static/`, listed by `routes.gen.ts`
 * and `islands.gen.ts`) lives at the project's root, whose `site.ts` hands it to
 * {@linkcode createApp} (`deno task serve`) and {@linkcode exportSite} (`deno task report`)
 * through the commands in `lib/cli/`.
 *
 * @example
 * ```ts
 * import { createApp } from "./mod.ts";
 * const dir = await Deno.makeTempDir();
 * const app = await createApp({ root: dir, site: { manifest: {}, islands: {} } });
 * const res = await app.fetch(new Request("http://localhost/"));
 * if (!res.headers.get("Content-Security-Policy")?.includes("frame-ancestors 'none'")) {
 *   throw new Error("missing CSP");
 * }
 * await res.body?.cancel();
 * await Deno.remove(dir);
 * ```
 * @module
 */
export { type AppOptions, createApp, type SiteApp, type SiteDefinition } from "./app.tsx";
export { type ExportOptions, type ExportResult, exportSite, SITE_MARKER } from "./export.ts";
export { jsonToCsv } from "./csv.ts";
export { type LinkMode, relativeHref } from "./links.ts";
export { compileRouteFile, HttpError, matchPath, type RouteContext } from "./router.ts";
export { contentSecurityPolicy, isSafeName, resolveInside, securityHeaders } from "./safety.ts";
export { openStore, type SiteStore } from "./store_reader.ts";
export { type IslandRegistry } from "./islands.ts";
export { type BundleOptions, islandBundle, pageScriptPath } from "./bundle.ts";
