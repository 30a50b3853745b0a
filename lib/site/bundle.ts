/**
 * Bundles the islands for the browser with esbuild (the pinned npm package; its native binary
 * runs under Deno). Bare `preact` imports are resolved through Deno's own resolution (the import
 * map in deno.json), so the bundle uses exactly the pinned Preact and holds one copy of it.
 * @module
 */
import * as esbuild from "esbuild";
import { fileURLToPath as fromFileUrl } from "node:url";

let cached: Promise<string> | undefined;

const denoResolver: esbuild.Plugin = {
  name: "deno-npm-resolver",
  setup(build) {
    build.onResolve({ filter: /^preact(\/.*)?$/ }, (args) => ({
      path: fromFileUrl(import.meta.resolve(args.path)),
    }));
  },
};

/**
 * The page script (a classic script, minified) that hydrates the islands and adds the chart
 * downloads when it runs. Built once per process and cached.
 * Cost: one esbuild run (about 0.1–0.5 s).
 * @throws Error when esbuild fails, with its messages.
 * @example
 * ```ts
 * import { islandBundle } from "./bundle.ts";
 * const js = await islandBundle();
 * if (/^\s*(import|export)\b/m.test(js)) throw new Error("a classic script, not a module");
 * ```
 */
export function islandBundle(): Promise<string> {
  cached ??= (async () => {
    try {
      const result = await esbuild.build({
        entryPoints: [fromFileUrl(new URL("./_client.ts", import.meta.url))],
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
  return cached;
}
