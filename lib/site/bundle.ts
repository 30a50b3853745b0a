/**
 * Bundles the islands for the browser with esbuild (the pinned npm package; its native binary
 * runs under Deno). Bare `preact` imports are resolved through Deno's own resolution (the import
 * map in deno.json), so the bundle uses exactly the pinned Preact and holds one copy of it.
 * @module
 */
import * as esbuild from "esbuild";
import { fileURLToPath as fromFileUrl } from "node:url";

const cached = new Map<string, Promise<string>>();

const denoResolver: esbuild.Plugin = {
  name: "deno-npm-resolver",
  setup(build) {
    build.onResolve({ filter: /^preact(\/.*)?$/ }, (args) => ({
      path: fromFileUrl(import.meta.resolve(args.path)),
    }));
  },
};

/**
 * The page script (a classic script, minified) that hydrates the islands of the registry module
 * `islands` (a module whose default export is the site's {@linkcode IslandRegistry}, e.g. the
 * site's `islands.gen.ts`; absent: no islands) and adds the chart downloads when it runs. Built
 * once per process and registry, and cached.
 * Cost: one esbuild run (about 0.1–0.5 s).
 * @throws Error when esbuild fails, with its messages.
 * @example
 * ```ts
 * import { islandBundle } from "./bundle.ts";
 * const js = await islandBundle();
 * if (/^\s*(import|export)\b/m.test(js)) throw new Error("a classic script, not a module");
 * ```
 */
export function islandBundle(islands?: URL): Promise<string> {
  const key = islands?.href ?? "";
  const hit = cached.get(key);
  if (hit) return hit;
  const client = fromFileUrl(new URL("./_client.ts", import.meta.url));
  const entry = islands
    ? `import islands from ${JSON.stringify(fromFileUrl(islands))};\n`
    : "const islands = {};\n";
  const built = (async () => {
    try {
      const result = await esbuild.build({
        stdin: {
          contents: `${entry}import { start } from ${JSON.stringify(client)};\nstart(islands);\n`,
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
      if (!out) throw new Error("esbuild produced no output for the island bundle.");
      return out.text;
    } finally {
      await esbuild.stop();
    }
  })();
  cached.set(key, built);
  built.catch(() => cached.delete(key));
  return built;
}
