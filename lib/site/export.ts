/**
 * Static export of the report site: renders every page of every sweep with relative links
 * (`index.html` files), writes the data files (JSON and CSV), the stylesheet and the page scripts
 * the pages load, so the folder works from any static host. The site is built in a temporary sibling
 * folder and renamed into place at the end.
 * @module
 */
import { dirname, join } from "node:path";
import { createApp, type SiteDefinition } from "./app.tsx";
import { PAGE_SCRIPT_DIR } from "./bundle.ts";
import type { FileModule } from "./router.ts";
import { listSweepEntries } from "./store_reader.ts";
import { exists } from "../store/mod.ts";

/** Marker file that identifies a folder written by {@linkcode exportSite}. */
export const SITE_MARKER = ".salience-report-site";

/** Options of {@linkcode exportSite}. */
export interface ExportOptions {
  /** Results directory to read. */
  root: string;
  /**
   * Folder to write; a previous export's files in it are replaced (files it did not write, such
   * as `.git/` or `CNAME`, stay), a folder holding other files and no export is refused.
   */
  out: string;
  /** Only these sweep folders (default: all). */
  sweeps?: string[];
  /** The site to render (the site's root, `site.ts`, exports it). */
  site: SiteDefinition;
}

/** What {@linkcode exportSite} wrote. */
export interface ExportResult {
  /** Paths relative to `out`, `/`-separated. */
  files: string[];
  sweeps: string[];
}

/**
 * Writes the static site for every sweep under `options.root` into `options.out`.
 * Cost: one render per page (8 per sweep plus the index) and one read per data file.
 * @throws Error when a page fails to render (with its path and status), or when `out` exists and
 *   is neither empty nor a previous export.
 * @example
 * ```ts
 * import { exportSite } from "./export.ts";
 * import { page } from "./router.ts";
 * import { h } from "preact";
 * const home = page({ load: () => Promise.resolve(0), title: () => "Home", default: () => h("p", null, "hi") });
 * const root = await Deno.makeTempDir();
 * const out = `${root}-site`;
 * const result = await exportSite({ root, out, site: { manifest: { "index.tsx": home }, islands: {} } });
 * if (!result.files.includes("index.html")) throw new Error("no index");
 * await Deno.remove(out, { recursive: true });
 * await Deno.remove(root);
 * ```
 */
export async function exportSite(options: ExportOptions): Promise<ExportResult> {
  const app = await createApp({
    root: options.root,
    mode: "static",
    sweeps: options.sweeps,
    site: options.site,
  });
  const sweeps = (await listSweepEntries(app.store)).map((s) => s.name);
  const paths: string[] = app.staticFiles.map((f) => `/static/${f}`);
  for (const route of app.routes) {
    const params = route.segments.filter((s) => typeof s !== "string");
    if (params.length === 0) {
      paths.push("/" + route.segments.join("/") + (route.segments.length ? "/" : ""));
      continue;
    }
    for (const sweep of sweeps) {
      const prefix = route.segments.map((
        s,
      ) => (typeof s === "string" ? s : encodeURIComponent(sweep)));
      if (route.page) {
        paths.push("/" + prefix.join("/") + "/");
      } else {
        const list = (route.module as FileModule & {
          listFiles?: (store: typeof app.store, sweep: string) => Promise<string[]>;
        }).listFiles;
        if (!list) continue;
        for (const file of await list(app.store, sweep)) {
          paths.push("/" + prefix.slice(0, -1).join("/") + "/" + encodeURIComponent(file));
        }
      }
    }
  }
  const out = options.out.replace(/[\\/]+$/, "");
  const tmp = `${out}.tmp-${Deno.pid}`;
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
  await Deno.mkdir(tmp, { recursive: true });
  const files: string[] = [];
  // The page scripts the pages load (one per set of islands), written after the first page naming each.
  const scripts = new Set<string>();
  const scriptSrc = new RegExp(
    `<script src="(?:[^"]*/)?${PAGE_SCRIPT_DIR.slice(1)}([^"/]+\\.js)"`,
    "g",
  );
  try {
    for (let i = 0; i < paths.length; i++) {
      const path = paths[i]!;
      const res = await app.fetch(new Request(`http://site.invalid${path}`));
      if (res.status !== 200) {
        await res.body?.cancel();
        throw new Error(`static export: ${path} answered ${res.status}; expected 200.`);
      }
      const rel = decodeURIComponent(path.endsWith("/") ? `${path}index.html` : path).slice(1);
      const dest = join(tmp, ...rel.split("/"));
      await Deno.mkdir(dirname(dest), { recursive: true });
      const body = new Uint8Array(await res.arrayBuffer());
      await Deno.writeFile(dest, body);
      files.push(rel);
      if (!(res.headers.get("Content-Type") ?? "").startsWith("text/html")) continue;
      for (const m of new TextDecoder().decode(body).matchAll(scriptSrc)) {
        const script = PAGE_SCRIPT_DIR + m[1]!;
        if (!scripts.has(script)) paths.push(script);
        scripts.add(script);
      }
    }
    // The marker lists what the export wrote: a later export removes only those files.
    await Deno.writeTextFile(
      join(tmp, SITE_MARKER),
      JSON.stringify({ kind: "salience-report-site", files }, null, 1) + "\n",
    );
    await replaceFolder(tmp, out);
  } catch (err) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw err;
  }
  return { files, sweeps };
}

/** What a previous export wrote, from its marker; `null` for a marker written before it listed them. */
async function previousExport(out: string): Promise<Set<string> | null> {
  const text = await Deno.readTextFile(join(out, SITE_MARKER));
  try {
    const v = JSON.parse(text);
    if (Array.isArray(v?.files)) return new Set(v.files.map(String));
  } catch {
    // the first marker format: one line of text, no list
  }
  return null;
}

/**
 * Moves into `tmp` whatever under `out` a previous export did not write (a `.git/`, a `CNAME`),
 * so that replacing `out` by `tmp` removes only the export's own files. A marker without a list
 * keeps every file the new export does not write.
 */
async function keepOthers(out: string, tmp: string, written: Set<string> | null): Promise<void> {
  const ours = async (rel: string, dir: boolean) =>
    written === null
      ? dir || await exists(join(tmp, rel))
      : dir
      ? [...written].some((f) => f.startsWith(rel + "/"))
      : written.has(rel);
  async function walk(rel: string): Promise<void> {
    for await (const e of Deno.readDir(join(out, rel))) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (r === SITE_MARKER) continue;
      if (await ours(r, e.isDirectory)) {
        if (e.isDirectory) await walk(r);
        continue;
      }
      if (await exists(join(tmp, r))) {
        throw new Error(
          `output folder "${out}" holds ${r}, which the previous export did not write and this ` +
            `one would; move it away or pass another --out.`,
        );
      }
      await Deno.mkdir(dirname(join(tmp, r)), { recursive: true });
      await Deno.rename(join(out, r), join(tmp, r));
    }
  }
  await walk("");
}

async function replaceFolder(tmp: string, out: string): Promise<void> {
  let entries: string[] = [];
  try {
    for await (const e of Deno.readDir(out)) entries.push(e.name);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    entries = [];
    await Deno.rename(tmp, out);
    return;
  }
  if (entries.length > 0 && !entries.includes(SITE_MARKER)) {
    throw new Error(
      `output folder "${out}" holds other files; pass an empty or new folder, or a previous export.`,
    );
  }
  if (entries.length > 0) await keepOthers(out, tmp, await previousExport(out));
  const old = `${out}.old-${Deno.pid}`;
  await Deno.rename(out, old);
  await Deno.rename(tmp, out);
  await Deno.remove(old, { recursive: true });
}
