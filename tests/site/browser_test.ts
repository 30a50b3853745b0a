/**
 * Real-browser test of the report site (Debian's chromium + playwright-core): serves the
 * synthetic fixture sweep on 127.0.0.1 with an ephemeral port and runs `tests/browser/check_site.ts`.
 * Without chromium it is skipped with a visible reason, except under CI=true, where it fails.
 * Screenshots go to a temporary folder (or SITE_SCREENSHOT_DIR) and their paths are printed.
 */
import { assert, assertEquals } from "./_assert.ts";
import { createApp } from "../../lib/site/mod.ts";
import { checkSite } from "../browser/check_site.ts";
import { writeFixtureSweep } from "./fixture.ts";

const CHROMIUM = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";
const CI = Deno.env.get("CI") === "true";
const present = await Deno.stat(CHROMIUM).then((s) => s.isFile).catch(() => false);
if (!present && !CI) {
  console.warn(
    `browser test skipped: no chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH).`,
  );
}

Deno.test({
  name:
    "report site in chromium: heatmap renders, hover shows the value, toggles work, no console errors",
  ignore: !present && !CI,
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
    const app = await createApp({ root });
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, app.fetch);
    const shotDir = Deno.env.get("SITE_SCREENSHOT_DIR") ??
      await Deno.makeTempDir({ prefix: "site-screenshots-" });
    try {
      const url = `http://127.0.0.1:${server.addr.port}/sweeps/${sweep}/`;
      const r = await checkSite(url, shotDir, CHROMIUM);
      console.log(`browser screenshots: ${r.screenshots.join(", ")}`);
      assertEquals(r.errors, []);
      assertEquals(r.status, 200);
      assertEquals(r.heatmapCells, 9);
      assertEquals(r.activeOutlined, 1);
      assert(r.readout.startsWith("k1 = 8, k2 = 4: "), `readout was "${r.readout}"`);
      const shown = Number(r.readout.split(": ").pop());
      assert(Math.abs(shown - r.cellValue) < 5e-4, `readout ${shown} vs cell ${r.cellValue}`);
      assert(r.toggle.before > 0 && r.toggle.after === 0, JSON.stringify(r.toggle));
      for (const s of r.screenshots) assert((await Deno.stat(s)).size > 10_000, s);
    } finally {
      await server.shutdown();
      await Deno.remove(root, { recursive: true });
    }
  },
});
