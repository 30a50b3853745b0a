/**
 * Real-browser test of the report site (Debian's chromium + playwright-core): serves the synthetic
 * fixture sweep on 127.0.0.1 with an ephemeral port, and also the static export of it from a plain
 * file server (no site code, only files), and runs `tests/browser/check_site.ts` against both.
 * Without chromium it is skipped with a visible reason, except under CI=true, where it fails.
 * Screenshots go to a temporary folder (or SITE_SCREENSHOT_DIR) and their paths are printed.
 */
import { join } from "node:path";
import { pathToFileURL as toFileUrl } from "node:url";
import { assert, assertEquals } from "./_assert.ts";
import { createApp, exportSite } from "../../lib/site/mod.ts";
import { checkSites } from "../browser/check_site.ts";
import { writeFixtureSweep } from "./fixture.ts";
import { assertChartDownload, browserTest, serveFolder, serveLocal } from "./_browser.ts";
import { SITE } from "../../site.ts";

browserTest(
  "checkSites() in chromium, served and static export: heatmap renders, hover shows the value, toggles work, no console errors",
  async ({ chromium, shotDir }) => {
    const root = await Deno.makeTempDir({ prefix: "site-browser-" });
    const sweep = await writeFixtureSweep(root);
    const app = await createApp({ root, site: SITE });
    const live = serveLocal(app.fetch);
    const exported = join(root, "..", `${sweep}-static-${Deno.pid}`);
    await exportSite({ root, out: exported, site: SITE });
    const files = serveFolder(exported);
    try {
      const results = await checkSites(
        [
          { label: "served", sweepUrl: `${live.origin}/sweeps/${sweep}/` },
          { label: "static", sweepUrl: `${files.origin}/sweeps/${sweep}/` },
          {
            label: "file",
            sweepUrl: new URL(`sweeps/${sweep}/`, toFileUrl(exported + "/")).href,
            indexFiles: true,
          },
        ],
        shotDir,
        chromium,
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
        assertEquals(r.narrow.map((n) => n.page), [
          "",
          "claims",
          "similarity",
          "distributions",
          "gallery",
        ]);
        for (const n of r.narrow) {
          assert(n.scrollWidth <= 760, `${label} ${n.page}: ${n.scrollWidth} px wide at 760`);
          assertEquals(n.wrapped, [], `${label} ${n.page}: numbers wrapped`);
        }
        assert(
          r.narrow.find((n) => n.page === "claims")!.numbers >= 10,
          `${label}: claims numbers`,
        );
        for (const d of r.downloads) assertChartDownload(d, sweep, label);
        assert(r.galleryImages >= 3, `${label}: ${r.galleryImages} gallery images decoded`);
        assertEquals(r.screenshots.length, 5, `${label}: screenshots`);
      }
      assertEquals(Object.keys(results).length, 3);
    } finally {
      await live.server.shutdown();
      await files.server.shutdown();
      await Deno.remove(root, { recursive: true });
      await Deno.remove(exported, { recursive: true });
    }
  },
);
