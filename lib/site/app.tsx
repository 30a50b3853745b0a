/**
 * The report site as one `fetch` handler: read-only GET/HEAD over a results directory, the pages
 * of the site's route manifest, its static files, the page scripts (each hydrating the islands of
 * its pages),
 * and security headers on every response. The site itself (manifest, island registry, static
 * folder) is handed in by the site's root (`site.ts`), so nothing here imports `routes/` or
 * `islands/`. `Deno.serve` runs it (`lib/cli/serve.ts`); the static export drives it in-process.
 * @module
 */
import type { JSX } from "preact";
import { renderToString } from "preact-render-to-string";
import { islandBundle, PAGE_SCRIPT_DIR, pageScriptIslands } from "./bundle.ts";
import { type LinkMode, relativeHref } from "./links.ts";
import type { IslandRegistry } from "./islands.ts";
import {
  type CompiledRoute,
  compileManifest,
  type FileModule,
  HttpError,
  type Manifest,
  matchPath,
  type PageModule,
  type RouteContext,
} from "./router.ts";
import { renderPage } from "./render.tsx";
import { isSafeName, securityHeaders } from "./safety.ts";
import { openStore, type SiteStore } from "./store_reader.ts";

/** What a site is made of, as its root (`site.ts`) lists it, in Fresh's layout. */
export interface SiteDefinition {
  /** The route manifest (`routes.gen.ts`): file under `routes/` → module. */
  manifest: Manifest;
  /** The island registry (`islands.gen.ts`): component name → component. */
  islands: IslandRegistry;
  /**
   * The folder of the island files (`islands/`, one `<Name>.tsx` per registered island), from
   * which each page's script bundles the islands it renders; absent: pages get no islands.
   */
  islandsDir?: URL;
  /** The folder served under `/static/`; absent: no static files. */
  staticDir?: URL;
}

/** Options of {@linkcode createApp}. */
export interface AppOptions {
  /** The results directory served (read-only). */
  root: string;
  /** The site: its routes, islands and static files. */
  site: SiteDefinition;
  /** `server` (default) links to directory URLs; `static` links to `index.html` files. */
  mode?: LinkMode;
  /** When set, only these sweep folders of `root` are part of the site. */
  sweeps?: string[];
}

/** The site application. */
export interface SiteApp {
  /** Answers one request (what `Deno.serve` calls). */
  fetch(request: Request): Promise<Response>;
  store: SiteStore;
  routes: CompiledRoute[];
  mode: LinkMode;
  site: SiteDefinition;
  /** Names of the static files served under `/static/`. */
  staticFiles: string[];
}

const STATIC_TYPES: Record<string, string> = {
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  ico: "image/x-icon",
  txt: "text/plain; charset=utf-8",
};

async function loadStaticFiles(
  dir: URL | undefined,
): Promise<Map<string, { body: Uint8Array; type: string }>> {
  const out = new Map<string, { body: Uint8Array; type: string }>();
  if (!dir) return out;
  for await (const e of Deno.readDir(dir)) {
    const ext = e.name.split(".").pop() ?? "";
    const type = STATIC_TYPES[ext];
    if (!e.isFile || !type || !isSafeName(e.name)) continue;
    out.set(e.name, { body: await Deno.readFile(new URL(e.name, dir)), type });
  }
  return out;
}

function withHeaders(res: Response): Response {
  const headers = new Headers(res.headers);
  for (const [k, v] of Object.entries(securityHeaders())) headers.set(k, v);
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}

function errorPage(status: number, message: string): Response {
  const titles: Record<number, string> = {
    400: "Bad request",
    404: "Not found",
    405: "Method not allowed",
    500: "Server error",
  };
  const title = titles[status] ?? "Error";
  const body: JSX.Element = (
    <main>
      <h1>{status} {title}</h1>
      <p>{message}</p>
    </main>
  ) as JSX.Element;
  const html =
    `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${status} ${title}</title></head><body>${
      renderToString(body)
    }</body></html>`;
  return new Response(html, { status, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

/**
 * Builds the site `options.site` over the results directory `options.root`.
 * Cost: reads the static folder once; each page script is built on first request and cached.
 * @throws TypeError when `root` exists but is not a directory.
 * @example
 * ```ts
 * import { createApp } from "./app.tsx";
 * import { page } from "./router.ts";
 * import { h } from "preact";
 * const home = page({ load: () => Promise.resolve("hi"), title: () => "Home", default: ({ data }) => h("p", null, data) });
 * const dir = await Deno.makeTempDir();
 * const app = await createApp({ root: dir, site: { manifest: { "index.tsx": home }, islands: {} } });
 * const res = await app.fetch(new Request("http://localhost/"));
 * if (res.status !== 200) throw new Error(String(res.status));
 * await res.body?.cancel();
 * await Deno.remove(dir);
 * ```
 */
export async function createApp(options: AppOptions): Promise<SiteApp> {
  const store = await openStore(options.root, { only: options.sweeps });
  const mode = options.mode ?? "server";
  const { site } = options;
  const routes = compileManifest(site.manifest);
  const statics = await loadStaticFiles(site.staticDir);

  async function fetch(req: Request): Promise<Response> {
    if (req.method !== "GET" && req.method !== "HEAD") {
      const res = withHeaders(
        errorPage(405, "This site is read-only: only GET and HEAD are served."),
      );
      res.headers.set("Allow", "GET, HEAD");
      return res;
    }
    const res = await handle(req);
    if (req.method === "HEAD") {
      const length = res.body ? (await res.arrayBuffer()).byteLength : 0;
      const headers = new Headers(res.headers);
      headers.set("Content-Length", String(length));
      return new Response(null, { status: res.status, headers });
    }
    return res;
  }

  async function handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const rawPath = url.pathname;
    try {
      if (rawPath.startsWith(PAGE_SCRIPT_DIR)) {
        if ([...url.searchParams.keys()].length > 0) throw new HttpError(400, "no query accepted");
        const names = pageScriptIslands(rawPath);
        if (
          !names || names.some((n) => !Object.hasOwn(site.islands, n)) ||
          (names.length && !site.islandsDir)
        ) {
          throw new HttpError(404, "No such page script.");
        }
        return withHeaders(
          new Response(await islandBundle({ islandsDir: site.islandsDir, names }), {
            headers: { "Content-Type": "text/javascript; charset=utf-8" },
          }),
        );
      }
      if (rawPath.startsWith("/static/")) {
        if ([...url.searchParams.keys()].length > 0) throw new HttpError(400, "no query accepted");
        const name = rawPath.slice("/static/".length);
        const file = statics.get(name);
        if (!file) throw new HttpError(404, "No such static file.");
        return withHeaders(
          new Response(file.body.slice(), { headers: { "Content-Type": file.type } }),
        );
      }
      const match = matchPath(routes, rawPath, isSafeName);
      if (match.kind === "redirect") {
        return withHeaders(
          new Response(null, { status: 308, headers: { Location: match.location } }),
        );
      }
      if (match.kind === "none") throw new HttpError(404, "No page at this address.");
      const { route, params, path } = match;
      const allowed = route.module.queryKeys ?? [];
      for (const key of url.searchParams.keys()) {
        if (!allowed.includes(key)) {
          throw new HttpError(
            400,
            `Query parameter "${key}" is not accepted here; accepted: ${
              allowed.length ? allowed.join(", ") : "none"
            }.`,
          );
        }
      }
      const ctx: RouteContext = {
        params,
        query: url.searchParams,
        store,
        path,
        mode,
        href: (to) => relativeHref(path, to, mode),
      };
      if (!route.page) return withHeaders(await (route.module as FileModule).GET(ctx));
      const page = route.module as PageModule<unknown>;
      const data = await page.load(ctx);
      const Body = page.default;
      const html = renderPage(page.title(data, ctx), <Body data={data} ctx={ctx} />, ctx);
      for (const m of html.matchAll(/data-island="([^"]*)"/g)) {
        if (!Object.hasOwn(site.islands, m[1]!)) {
          throw new Error(
            `page ${path} renders island "${
              m[1]
            }", which the site's island registry lacks; add islands/${m[1]}.tsx to islands.gen.ts.`,
          );
        }
      }
      return withHeaders(
        new Response(html, { headers: { "Content-Type": "text/html; charset=utf-8" } }),
      );
    } catch (err) {
      if (err instanceof HttpError) return withHeaders(errorPage(err.status, err.message));
      console.error(err);
      return withHeaders(
        errorPage(500, "The page failed to render; the server log has the cause."),
      );
    }
  }

  return { fetch, store, routes, mode, site, staticFiles: [...statics.keys()].sort() };
}
