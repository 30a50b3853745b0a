/**
 * End-to-end check of the report site against what the toolkit really writes: runs the `tiny`
 * sweep preset (seconds, synthetic data) into a temporary results folder, then renders every page
 * and data file of it and exports the static site. Catches any drift between the analysis's
 * writers and the site's readers (a file the site cannot read shows as "could not be read").
 */
import { join } from "node:path";
import { assert, assertEquals, assertStringIncludes } from "./_assert.ts";
import { createApp, exportSite } from "../../lib/site/mod.ts";
import { SITE } from "../../site.ts";

const PAGES = [
  "",
  "similarity/",
  "distributions/",
  "attacks/",
  "ensembles/",
  "batch_size/",
  "small_predicts_large/",
  "claims/",
  "gallery/",
  "methods/",
  "epochs/",
];

Deno.test({
  name: "createApp() renders every page of a real tiny sweep without unreadable files",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "site-real-" });
    try {
      const cli = new URL("../../lib/cli/sweep.ts", import.meta.url).pathname;
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-all", cli, "--preset", "tiny", "--out", root],
        cwd: new URL("../../", import.meta.url).pathname,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const log = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      assert(out.success, `the tiny sweep failed:\n${log.slice(-2000)}`);
      const sweeps = [...Deno.readDirSync(root)].filter((e) => e.isDirectory).map((e) => e.name);
      assertEquals(sweeps.length, 1);
      const sweep = sweeps[0] as string;
      const summary = JSON.parse(
        await Deno.readTextFile(join(root, sweep, "analysis", "summary.json")),
      ) as { files: string[]; skipped: { file: string; reason: string }[] };
      const app = await createApp({ root, site: SITE });
      for (const page of PAGES) {
        const res = await app.fetch(new Request(`http://127.0.0.1/sweeps/${sweep}/${page}`));
        const text = await res.text();
        assertEquals(res.status, 200, page);
        assert(
          !text.includes("could not be read"),
          `${page}: ${/could not be read[^<]*/.exec(text)}`,
        );
        for (const m of text.matchAll(/href="((?:\.\.\/)?data\/[^"]+)"/g)) {
          const url = new URL(m[1] as string, `http://127.0.0.1/sweeps/${sweep}/${page}`);
          const r = await app.fetch(new Request(url));
          await r.body?.cancel();
          assertEquals(r.status, 200, `${page} links ${m[1]}`);
        }
      }
      // The hints name the sweep's own preset and results directory, ready to paste.
      const epochs =
        await (await app.fetch(new Request(`http://127.0.0.1/sweeps/${sweep}/epochs/`))).text();
      assertStringIncludes(
        epochs,
        `deno task sweep --preset tiny --out ${root} --epochs-analysed 1,2,5`,
      );
      const methods =
        await (await app.fetch(new Request(`http://127.0.0.1/sweeps/${sweep}/methods/`))).text();
      assertStringIncludes(methods, `deno task sweep --config CONFIG.json --out ${root}`);
      assertStringIncludes(methods, "&quot;preset&quot;: &quot;tiny&quot;");
      // Files the analysis skipped show its reason on their page.
      for (const s of summary.skipped) {
        const page = {
          "attacks.json": "attacks/",
          "ensembles.json": "ensembles/",
          "batch_size.json": "batch_size/",
        }[s.file];
        if (!page) continue;
        const text =
          await (await app.fetch(new Request(`http://127.0.0.1/sweeps/${sweep}/${page}`))).text();
        assertStringIncludes(text, "is absent from this sweep");
        assertStringIncludes(text, "The last analysis skipped it");
      }
      assert(summary.files.includes("similarity.json"));
      // The gallery shows each probe image itself (the data set reloads) beside its maps.
      const gallery =
        await (await app.fetch(new Request(`http://127.0.0.1/sweeps/${sweep}/gallery/`))).text();
      assertEquals(
        (gallery.match(/<img src="data:image\/png;base64,[^"]+" alt="probe image /g) ?? []).length,
        6,
      );
      assertEquals((gallery.match(/alt="CNNSmall k=1 mean direction/g) ?? []).length, 6);
      assert(!gallery.includes("image not available"), "every probe image is shown");
      const site = await exportSite({
        root,
        out: join(root, "..", `${sweep}-site-${Deno.pid}`),
        site: SITE,
      });
      // The two site pages, the in-browser analysis page (analyze/) and the sweep's pages.
      const html = site.files.filter((f) => f.endsWith(".html"));
      assert(html.includes("analyze/index.html"), html.join(", "));
      assertEquals(html.length, 3 + PAGES.length, html.join(", "));
      await Deno.remove(join(root, "..", `${sweep}-site-${Deno.pid}`), { recursive: true });
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});
