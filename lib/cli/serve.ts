/**
 * `deno task serve [--run DIR] [--port N] [--hostname H]`: serves the report site for a results
 * directory (default `results/`), one sweep folder, or one external analysis (the folder holding
 * `analysis/`, or that `analysis/` folder) on 127.0.0.1, read-only.
 * @module
 */
import { parseFlags, UsageError } from "./args.ts";
import { createApp, type SiteDefinition } from "../site/mod.ts";
import { locateRun } from "./report.ts";

/** The usage `deno task serve --help` prints. */
export const SERVE_USAGE = `usage: deno task serve [--run DIR] [--port N] [--hostname H]

Serves the report site, read-only.
  --run DIR       a results directory (default: results), one sweep folder, or the folder of an
                  external analysis (the same flag as deno task report)
  --port N        port (default 8000; 0 picks a free one)
  --hostname H    address to listen on (default 127.0.0.1)
  --help          this text`;

/**
 * Parses the command line and starts the server (`--help` throws the usage, which the command
 * prints); returns it (tests stop it with `shutdown`).
 * @example
 * ```ts
 * import { serveCli } from "./serve.ts";
 * const root = await Deno.makeTempDir();
 * import { page } from "../site/router.ts";
 * import { h } from "preact";
 * const home = page({ load: () => Promise.resolve(0), title: () => "Home", default: () => h("p", null, "hi") });
 * const server = await serveCli(["--runs", root, "--port", "0"], { manifest: { "index.tsx": home }, islands: {} });
 * const res = await fetch(`http://127.0.0.1:${server.addr.port}/`);
 * await res.body?.cancel();
 * await server.shutdown();
 * await Deno.remove(root);
 * if (res.status !== 200) throw new Error(String(res.status));
 * ```
 */
export async function serveCli(
  args: string[],
  site: SiteDefinition,
): Promise<Deno.HttpServer<Deno.NetAddr>> {
  const parsed = parseFlags("deno task serve", args, {
    run: { type: "string" },
    runs: { type: "string" }, // the flag's earlier name; report and serve now share --run
    port: { type: "string", default: "8000" },
    hostname: { type: "string", default: "127.0.0.1" },
  });
  if (parsed.help) throw new UsageError(SERVE_USAGE);
  const values = { ...parsed.values, runs: parsed.values.run ?? parsed.values.runs ?? "results" };
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`--port ${values.port} is not a port number; pass an integer in 0…65535.`);
  }
  const { root, only } = await locateRun(values.runs);
  const app = await createApp({ root, site, sweeps: only === null ? undefined : [only] });
  return Deno.serve({
    port,
    hostname: values.hostname,
    onListen: ({ hostname, port }) =>
      console.log(`Report site for ${values.runs} at http://${hostname}:${port}/ (read-only)`),
  }, app.fetch);
}
