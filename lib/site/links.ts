/**
 * Relative links between site paths, so one rendering works behind a server (directory URLs
 * ending in `/`) and as static files (the same links with `index.html` appended).
 * @module
 */

/** How pages link: `server` keeps directory URLs, `static` appends `index.html` to them. */
export type LinkMode = "server" | "static";

/**
 * The relative href from the page at `from` to `to`; both are absolute site paths starting with
 * `/`; a path ending in `/` is a directory page. Cost O(segments).
 * @throws TypeError when a path does not start with `/`.
 * @example
 * ```ts
 * import { relativeHref } from "./links.ts";
 * if (relativeHref("/sweeps/a/similarity/", "/sweeps/a/attacks/", "server") !== "../attacks/") {
 *   throw new Error();
 * }
 * if (relativeHref("/sweeps/a/", "/", "static") !== "../../index.html") throw new Error();
 * ```
 */
export function relativeHref(from: string, to: string, mode: LinkMode): string {
  if (!from.startsWith("/") || !to.startsWith("/")) {
    throw new TypeError(
      `paths "${from}" and "${to}" must be absolute site paths starting with "/".`,
    );
  }
  const fromDir = from.slice(0, from.lastIndexOf("/") + 1).split("/").filter(Boolean);
  const isDir = to.endsWith("/");
  const toParts = to.split("/").filter(Boolean);
  const fileName = isDir ? "" : (toParts.pop() ?? "");
  let i = 0;
  while (i < fromDir.length && i < toParts.length && fromDir[i] === toParts[i]) i++;
  const up = fromDir.length - i;
  const rest = toParts.slice(i);
  let href = "../".repeat(up) + rest.map((p) => p + "/").join("") + fileName;
  if (isDir && mode === "static") href += "index.html";
  if (href === "") href = "./";
  return href;
}

/**
 * Site path of a sweep page: `sweepPath("x", "similarity")` is `/sweeps/x/similarity/`.
 * @example
 * ```ts
 * import { sweepPath } from "./links.ts";
 * if (sweepPath("x", "claims") !== "/sweeps/x/claims/") throw new Error();
 * ```
 */
export function sweepPath(sweep: string, page = ""): string {
  const base = `/sweeps/${encodeURIComponent(sweep)}/`;
  return page === "" ? base : `${base}${page}/`;
}

/**
 * Site path of a data file of a sweep: `/sweeps/x/data/similarity.json`.
 * @example
 * ```ts
 * import { dataPath } from "./links.ts";
 * if (dataPath("x", "claims.json") !== "/sweeps/x/data/claims.json") throw new Error();
 * ```
 */
export function dataPath(sweep: string, file: string): string {
  return `/sweeps/${encodeURIComponent(sweep)}/data/${encodeURIComponent(file)}`;
}
