/**
 * What the site's real-browser tests share: Debian's chromium (or CHROMIUM_PATH), registration
 * through `testNeeding` (skipped with a visible reason without chromium, failing under CI=true),
 * the screenshot folder (a temporary one, or SITE_SCREENSHOT_DIR) and local servers on 127.0.0.1
 * with an ephemeral port.
 */
import { extname, join } from "node:path";
import { testNeeding } from "../_shared/requires.ts";
import { assert, assertEquals } from "./_assert.ts";

/** The chromium the browser tests drive. */
export const CHROMIUM: string = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";
const present = await Deno.stat(CHROMIUM).then((s) => s.isFile).catch(() => false);

/** What a browser test is handed: the chromium to launch and where its screenshots go. */
export interface BrowserEnv {
  chromium: string;
  shotDir: string;
}

/**
 * Registers a test that drives chromium: without it the test is skipped with the reason, except
 * under CI=true, where it fails saying what to install. Resource and op sanitizers are off (the
 * browser's pipes outlive the test's own bookkeeping).
 */
export function browserTest(name: string, fn: (env: BrowserEnv) => Promise<void>): void {
  testNeeding(
    present,
    `no chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`,
    {
      name,
      sanitizeResources: false,
      sanitizeOps: false,
      async fn() {
        if (!present) {
          throw new Error(
            `CI=true but no chromium at ${CHROMIUM}; install it (apt-get install chromium) so the browser test runs.`,
          );
        }
        const shotDir = Deno.env.get("SITE_SCREENSHOT_DIR") ??
          await Deno.makeTempDir({ prefix: "site-screenshots-" });
        await fn({ chromium: CHROMIUM, shotDir });
      },
    },
  );
}

/** A server on 127.0.0.1 at an ephemeral port, and its origin (`http://127.0.0.1:PORT`). */
export function serveLocal(
  handler: (req: Request) => Response | Promise<Response>,
): { server: Deno.HttpServer<Deno.NetAddr>; origin: string } {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handler);
  return { server, origin: `http://127.0.0.1:${server.addr.port}` };
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".csv": "text/csv",
};

/** A plain static file server over `dir`, as any static host would be (no headers added). */
export function serveFolder(dir: string): ReturnType<typeof serveLocal> {
  return serveLocal(async (req) => {
    let path = decodeURIComponent(new URL(req.url).pathname);
    if (path.includes("..")) return new Response("no", { status: 404 });
    if (path.endsWith("/")) path += "index.html";
    try {
      const body = await Deno.readFile(join(dir, path));
      return new Response(body, {
        headers: { "Content-Type": TYPES[extname(path)] ?? "application/octet-stream" },
      });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
}

/**
 * Throws unless `d` is a chart download of page `prefix` as the site writes them: a standalone
 * SVG (namespace, text with its font written on) or a PNG at twice the chart's width.
 */
export function assertChartDownload(
  d: { name: string; bytes: Uint8Array; chartWidth: number },
  prefix: string,
  label: string,
): void {
  assert(d.name.startsWith(`${prefix}-`), `${label}: ${d.name}`);
  if (d.name.endsWith(".svg")) {
    const text = new TextDecoder().decode(d.bytes);
    assert(text.startsWith("<svg") && text.includes('xmlns="http://www.w3.org/2000/svg"'), label);
    assert(text.includes("<text") && text.includes('font-family="'), `${label}: styles`);
  } else {
    assertEquals([...d.bytes.slice(0, 4)], [0x89, 0x50, 0x4e, 0x47], `${label}: PNG`);
    const width = new DataView(d.bytes.buffer, d.bytes.byteOffset).getUint32(16);
    assertEquals(width, Math.round(d.chartWidth * 2), `${label}: PNG at 2×`);
  }
}
