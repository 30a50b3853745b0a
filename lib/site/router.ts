/**
 * File routing in Fresh's manner: each file under `routes/` is one URL. `index.tsx` is its folder's
 * page, `name.tsx` is the page `name/`, `[param]` is a dynamic segment, and a `.ts` file is a file
 * URL (no trailing slash) answered by its `GET` handler. The manifest (`routes.gen.ts`) lists the
 * modules; this file turns file names into patterns and matches request paths against them.
 * @module
 */
import type { JSX } from "preact";
import type { LinkMode } from "./links.ts";
import type { SiteStore } from "./store_reader.ts";

/** Everything a route sees about one request. */
export interface RouteContext {
  /** Decoded, validated dynamic segments. */
  params: Record<string, string>;
  query: URLSearchParams;
  store: SiteStore;
  /** Canonical site path of this page, e.g. `/sweeps/x/similarity/`. */
  path: string;
  mode: LinkMode;
  /** Relative href from this page to another site path. */
  href(to: string): string;
}

/** An error with an HTTP status that the app turns into an error page. */
export class HttpError extends Error {
  constructor(readonly status: 400 | 404 | 405, message: string) {
    super(message);
    this.name = "HttpError";
  }
}

/** A page route module: `load` gathers data, the default export renders it. */
export interface PageModule<D = unknown> {
  /** Query keys this page accepts; any other key is a 400. */
  queryKeys?: readonly string[];
  load(ctx: RouteContext): Promise<D>;
  title(data: D, ctx: RouteContext): string;
  default(props: { data: D; ctx: RouteContext }): JSX.Element;
}

/** A file route module: `GET` answers with the file. */
export interface FileModule {
  queryKeys?: readonly string[];
  GET(ctx: RouteContext): Promise<Response>;
}

/** The route manifest: file path under `routes/` → module. */
export type Manifest = Record<string, PageModule<unknown> | FileModule>;

/**
 * Checks a page module against {@linkcode PageModule} for its own data type, then erases that
 * type for the manifest.
 * @example
 * ```ts
 * import { page } from "./router.ts";
 * const m = page({ load: () => Promise.resolve(1), title: () => "t", default: () => null as never });
 * if (typeof m.load !== "function") throw new Error();
 * ```
 */
export function page<D>(module: PageModule<D>): PageModule<unknown> {
  return module as unknown as PageModule<unknown>;
}

/** One compiled route. */
export interface CompiledRoute {
  file: string;
  /** Segments; a dynamic one is `{ param: name }`. */
  segments: (string | { param: string })[];
  /** Pages are directory URLs ending in `/`; file routes are not. */
  page: boolean;
  module: PageModule<unknown> | FileModule;
}

/**
 * Compiles a route file name into URL segments.
 * @throws SyntaxError when the name is not `*.tsx` or `*.ts` or a segment is malformed.
 * @example
 * ```ts
 * import { compileRouteFile } from "./router.ts";
 * const r = compileRouteFile("sweeps/[sweep]/similarity.tsx");
 * if (r.segments.length !== 3 || !r.page) throw new Error();
 * ```
 */
export function compileRouteFile(file: string): Omit<CompiledRoute, "module"> {
  const page = file.endsWith(".tsx");
  if (!page && !file.endsWith(".ts")) {
    throw new SyntaxError(`route file "${file}" must end in .tsx (page) or .ts (file handler).`);
  }
  const parts = file.replace(/\.tsx?$/, "").split("/");
  if (page && parts[parts.length - 1] === "index") parts.pop();
  const segments = parts.map((p) => {
    const m = /^\[([a-z][a-zA-Z0-9]*)\]$/.exec(p);
    if (m) return { param: m[1] as string };
    if (!/^[a-z0-9_.-]+$/.test(p)) {
      throw new SyntaxError(`route segment "${p}" of "${file}" is not a plain name or [param].`);
    }
    return p;
  });
  return { file, segments, page };
}

/**
 * Compiles a manifest, static segments before dynamic ones so literals win.
 * @example
 * ```ts
 * import { compileManifest } from "./router.ts";
 * const file = { GET: () => Promise.resolve(new Response("")) };
 * const routes = compileManifest({ "[x].ts": file, "a.ts": file });
 * if (routes[0]?.file !== "a.ts") throw new Error("literal routes come first");
 * ```
 */
export function compileManifest(manifest: Manifest): CompiledRoute[] {
  const routes = Object.entries(manifest).map(([file, module]) => ({
    ...compileRouteFile(file),
    module,
  }));
  const rank = (r: CompiledRoute) =>
    r.segments.map((s) => (typeof s === "string" ? "0" : "1")).join("");
  return routes.sort((a, b) => rank(a).localeCompare(rank(b)));
}

/** Result of matching a path. */
export type Match =
  | { kind: "route"; route: CompiledRoute; params: Record<string, string>; path: string }
  | { kind: "redirect"; location: string }
  | { kind: "none" };

/**
 * Matches a raw (still percent-encoded) URL path. Each segment is decoded exactly once; a segment
 * that fails to decode, or a dynamic value that is not a safe name (`isSafe`), matches nothing, so
 * `..`, `%2e%2e`, `%2f` and double encodings all fall through to 404. A page path without its
 * trailing slash redirects to it.
 * @example
 * ```ts
 * import { compileManifest, matchPath } from "./router.ts";
 * const file = { GET: () => Promise.resolve(new Response("")) };
 * const routes = compileManifest({ "files/[name].ts": file });
 * const safe = (s: string) => /^[a-z.]+$/.test(s) && !s.includes("..");
 * if (matchPath(routes, "/files/a.json", safe).kind !== "route") throw new Error("match");
 * if (matchPath(routes, "/files/%2e%2e", safe).kind !== "none") throw new Error("traversal");
 * ```
 */
export function matchPath(
  routes: CompiledRoute[],
  rawPath: string,
  isSafe: (name: string) => boolean,
): Match {
  const trailing = rawPath.endsWith("/");
  const raw = rawPath.split("/").filter((s, i, a) =>
    !(i === 0 && s === "") && !(i === a.length - 1 && s === "")
  );
  const segs: string[] = [];
  for (const s of raw) {
    if (s === "") return { kind: "none" };
    let d: string;
    try {
      d = decodeURIComponent(s);
    } catch {
      return { kind: "none" };
    }
    segs.push(d);
  }
  for (const route of routes) {
    if (route.segments.length !== segs.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < segs.length; i++) {
      const want = route.segments[i];
      const got = segs[i] as string;
      if (want === undefined) ok = false;
      else if (typeof want === "string") {
        if (want !== got) ok = false;
      } else if (isSafe(got)) params[want.param] = got;
      else ok = false;
      if (!ok) break;
    }
    if (!ok) continue;
    const canonical = "/" + segs.map((s) => encodeURIComponent(s)).join("/") +
      (route.page && segs.length > 0 ? "/" : "");
    if (route.page && !trailing && segs.length > 0) {
      const last = raw[raw.length - 1] ?? "";
      return { kind: "redirect", location: `./${last}/` };
    }
    if (!route.page && trailing) return { kind: "none" };
    return { kind: "route", route, params, path: canonical };
  }
  return { kind: "none" };
}
