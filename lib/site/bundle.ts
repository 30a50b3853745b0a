/**
 * Bundles the page scripts for the browser with esbuild (the pinned npm package; its native
 * binary runs under Deno). Each page gets the script of exactly the islands it renders (as Fresh
 * ships per-island code), so the in-browser analysis and its kernels load only where that island
 * is, and a page of charts alone gets the small script that adds their downloads. Every script is
 * one self-contained classic script (no modules, no chunks): the static export runs from
 * `file://`, where module scripts are refused. Bare `preact` imports are resolved through Deno's
 * own resolution (the import map in deno.json), so a script uses exactly the pinned Preact and
 * holds one copy of it.
 * @module
 */
import * as esbuild from "esbuild";
import { fileURLToPath as fromFileUrl } from "node:url";

/** Site path prefix of the page scripts. */
export const PAGE_SCRIPT_DIR = "/_islands/";

/**
 * The site path of the page script for a page rendering the islands `names`:
 * `/_islands/page.js` for none, else `/_islands/page-A-B.js` over the sorted, distinct names
 * (island names are identifiers, so `-` cannot occur in one).
 * @example
 * ```ts
 * import { pageScriptPath } from "./bundle.ts";
 * if (pageScriptPath(["B", "A", "B"]) !== "/_islands/page-A-B.js") throw new Error();
 * if (pageScriptPath([]) !== "/_islands/page.js") throw new Error();
 * ```
 */
export function pageScriptPath(names: Iterable<string>): string {
  const sorted = [...new Set(names)].sort();
  return `${PAGE_SCRIPT_DIR}page${sorted.map((n) => `-${n}`).join("")}.js`;
}

/**
 * The island names of a page-script path, or null when `path` is not one in the canonical form
 * {@linkcode pageScriptPath} writes (sorted, distinct, identifier names).
 * @example
 * ```ts
 * import { pageScriptIslands } from "./bundle.ts";
 * if (pageScriptIslands("/_islands/page-A-B.js")?.join() !== "A,B") throw new Error();
 * if (pageScriptIslands("/_islands/page-B-A.js") !== null) throw new Error("not canonical");
 * ```
 */
export function pageScriptIslands(path: string): string[] | null {
  const m = /^\/_islands\/page((?:-[A-Za-z_$][\w$]*)*)\.js$/.exec(path);
  if (!m) return null;
  const names = m[1] ? m[1].slice(1).split("-") : [];
  return pageScriptPath(names) === path ? names : null;
}

const cached = new Map<string, Promise<string>>();
// esbuild runs one build at a time here: each build stops its service when done, which would
// cut off a build still running beside it.
let queue: Promise<unknown> = Promise.resolve();

const denoResolver: esbuild.Plugin = {
  name: "deno-npm-resolver",
  setup(build) {
    build.onResolve({ filter: /^preact(\/.*)?$/ }, (args) => ({
      path: fromFileUrl(import.meta.resolve(args.path)),
    }));
  },
};

/** Options of {@linkcode islandBundle}. */
export interface BundleOptions {
  /** The folder of the island files, `<Name>.tsx` each (the site's `islands/`). */
  islandsDir?: URL;
  /** The islands the script hydrates (default: none, only the chart downloads). */
  names?: string[];
}

/**
 * The page script (a classic script, minified) that hydrates the islands `names`, each the
 * default export of `islandsDir/<name>.tsx`, and adds the chart downloads when it runs. Built
 * once per process and set of islands, and cached; builds run one at a time.
 * Cost: one esbuild run (about 0.1–0.5 s).
 * @throws Error when esbuild fails, with its messages; TypeError when names are given without
 *   `islandsDir`.
 * @example
 * ```ts
 * import { islandBundle } from "./bundle.ts";
 * const js = await islandBundle();
 * if (/^\s*(import|export)\b/m.test(js)) throw new Error("a classic script, not a module");
 * ```
 */
export function islandBundle(options: BundleOptions = {}): Promise<string> {
  const names = [...new Set(options.names ?? [])].sort();
  if (names.length > 0 && !options.islandsDir) {
    throw new TypeError(`islands ${names.join(", ")} need the site's islandsDir to be bundled.`);
  }
  const key = `${options.islandsDir?.href ?? ""}\n${names.join(",")}`;
  const hit = cached.get(key);
  if (hit) return hit;
  const client = fromFileUrl(new URL("./_client.ts", import.meta.url));
  const imports = names.map((n) =>
    `import ${n} from ${JSON.stringify(fromFileUrl(new URL(`${n}.tsx`, options.islandsDir)))};\n`
  ).join("");
  const contents = `${imports}import { start } from ${JSON.stringify(client)};\n` +
    `start({ ${names.join(", ")} });\n`;
  const built = queue.then(() => build(contents));
  queue = built.catch(() => {});
  cached.set(key, built);
  built.catch(() => cached.delete(key));
  return built;
}

async function build(contents: string): Promise<string> {
  try {
    const result = await esbuild.build({
      stdin: {
        contents,
        resolveDir: fromFileUrl(new URL(".", import.meta.url)),
        sourcefile: "page-script.ts",
        loader: "ts",
      },
      bundle: true,
      format: "iife",
      platform: "browser",
      target: "es2022",
      minify: true,
      write: false,
      jsx: "automatic",
      jsxImportSource: "preact",
      legalComments: "none",
      plugins: [denoResolver],
      logLevel: "silent",
    });
    const out = result.outputFiles[0];
    if (!out) throw new Error("esbuild produced no output for the page script.");
    return out.text;
  } finally {
    await esbuild.stop();
  }
}
