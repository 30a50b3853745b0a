/**
 * Real-browser test of the report site (Debian's chromium + playwright-core): serves the synthetic
 * fixture sweep on 127.0.0.1 with an ephemeral port, and also the static export of it from a plain
 * file server (no site code, only files), and runs `tests/browser/check_site.ts` against both.
 * Without chromium it is skipped with a visible reason, except under CI=true, where it fails.
 * Screenshots go to a temporary folder (or SITE_SCREENSHOT_DIR) and their paths are printed.
 */
import { extname, join } from "node:path";
import { pathToFileURL as toFileUrl } from "node:url";
import { assert, assertEquals } from "./_assert.ts";
import { createApp, exportSite } from "../../lib/site/mod.ts";
import { checkSites } from "../browser/check_site.ts";
import { writeFixtureSweep } from "./fixture.ts";
import { testNeeding } from "../_shared/requires.ts";
import { SITE } from "../../site.ts";

const CHROMIUM = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";
const present = await Deno.stat(CHROMIUM).then((s) => s.isFile).catch(() => false);
const NO_CHROMIUM = `no chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".csv": "text/csv",
};

/** A plain static file server over `dir`, as any static host would be (no headers added). */
function serveFolder(dir: string): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
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

testNeeding(present, NO_CHROMIUM, {
  name:
    "checkSites() in chromium, served and static export: heatmap renders, hover shows the value, toggles work, no console errors",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    if (!present) {
      throw new Error(
        `CI=true but no chromium at ${CHROMIUM}; install it (apt-get install chromium) so the browser test runs.`,
      );
    }
    const root = await Deno.makeTempDir({ prefix: "site-browser-" });
    const sweep = await writeFixtureSweep(root);
    const app = await createApp({ root, site: SITE });
    const live = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, app.fetch);
    const exported = join(root, "..", `${sweep}-static-${Deno.pid}`);
    await exportSite({ root, out: exported, site: SITE });
    const files = serveFolder(exported);
    const shotDir = Deno.env.get("SITE_SCREENSHOT_DIR") ??
      await Deno.makeTempDir({ prefix: "site-screenshots-" });
    try {
      const results = await checkSites(
        [
          { label: "served", sweepUrl: `http://127.0.0.1:${live.addr.port}/sweeps/${sweep}/` },
          { label: "static", sweepUrl: `http://127.0.0.1:${files.addr.port}/sweeps/${sweep}/` },
          {
            label: "file",
            sweepUrl: new URL(`sweeps/${sweep}/`, toFileUrl(exported + "/")).href,
            indexFiles: true,
          },
        ],
        shotDir,
        CHROMIUM,
      );
      for (const [label, r] of Object.entries(results)) {
        console.log(`${label} screenshots: ${r.screenshots.join(", ")}`);
        assertEquals(r.errors, [], label);
        assertEquals(r.status, 200, label);
        assertEquals(r.heatmapCells, 9, label);
        assertEquals(r.activeOutlined, 1, label);
        assert(r.readout.startsWith("k1 = 8, k2 = 4: "), `${label}: readout was "${r.readout}"`);
        const shown = Number(/: (-?[0-9.]+(?:e-?[0-9]+)?)/.exec(r.readout)?.[1]);
        assert(
          r.readout.includes("model pairs"),
          `${label}: readout lacks details: ${r.readout}`,
        );
        assert(Math.abs(shown - r.cellValue) < 5e-4, `${label}: ${shown} vs ${r.cellValue}`);
        assert(
          r.toggle.before > 0 && r.toggle.after === 0,
          `${label}: ${JSON.stringify(r.toggle)}`,
        );
        for (const s of r.screenshots) assert((await Deno.stat(s)).size > 10_000, s);
        assertEquals(r.downloads.map((d) => d.name.replace(/^.*-(\w+\.\w+)$/, "$1")), [
          "CNNSmall.svg",
          "CNNSmall.png",
          "headline.svg",
          "headline.png",
        ], label);
        assertEquals(r.narrow.map((n) => n.page), ["", "claims", "similarity", "gallery"]);
        for (const n of r.narrow) {
          assert(n.scrollWidth <= 760, `${label} ${n.page}: ${n.scrollWidth} px wide at 760`);
          assertEquals(n.wrapped, [], `${label} ${n.page}: numbers wrapped`);
        }
        assert(
          r.narrow.find((n) => n.page === "claims")!.numbers >= 10,
          `${label}: claims numbers`,
        );
        for (const d of r.downloads) {
          assert(d.name.startsWith(`${sweep}-`), `${label}: ${d.name}`);
          if (d.name.endsWith(".svg")) {
            const text = new TextDecoder().decode(d.bytes);
            assert(text.startsWith("<svg") && text.includes('xmlns="http://www.w3.org/2000/svg"'));
            assert(text.includes("<text") && text.includes('font-family="'), `${label}: styles`);
          } else {
            assertEquals([...d.bytes.slice(0, 4)], [0x89, 0x50, 0x4e, 0x47], `${label}: PNG`);
            const width = new DataView(d.bytes.buffer, d.bytes.byteOffset).getUint32(16);
            assertEquals(width, Math.round(d.chartWidth * 2), `${label}: PNG at 2×`);
          }
        }
      }
      assertEquals(Object.keys(results).length, 3);
    } finally {
      await live.shutdown();
      await files.shutdown();
      await Deno.remove(root, { recursive: true });
      await Deno.remove(exported, { recursive: true });
    }
  },
});
