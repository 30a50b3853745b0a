/**
 * Real-browser test of the in-browser analysis (`/analyze/`, Debian's chromium + playwright-core):
 * a small synthetic `[M, N, D]` `.npy` and its models JSON are dropped on the page, served live
 * and from the static export opened as `file://`; the heatmaps and claims it renders must equal
 * what `deno task analyze --grads --models` (here `analyzeExternal` on the reference path) writes
 * for the same files. Without chromium it is skipped with a visible reason, except under CI=true.
 * Screenshots go to a temporary folder (or SITE_SCREENSHOT_DIR) and their paths are printed.
 */
import { join } from "node:path";
import { pathToFileURL as toFileUrl } from "node:url";
import { assert, assertEquals } from "./_assert.ts";
import { assertClose } from "../_shared/assert.ts";
import { assertChartDownload, browserTest, serveLocal } from "./_browser.ts";
import { checkAnalyze } from "../browser/check_analyze.ts";
import { createApp, exportSite } from "../../lib/site/mod.ts";
import { analyzeExternal, type SimilarityFile } from "../../lib/analysis/mod.ts";
import { formatNpyHeader } from "../../lib/npy/header.ts";
import { normalSampler, seededUniform } from "../../lib/stats/mod.ts";
import { SITE } from "../../site.ts";

/**
 * Two families × widths 2, 4, 8 × 3 seeds; each gradient is a shared direction per sample plus
 * noise that shrinks with width, so p(k, k) rises with k. Returns the `.npy` bytes and models.
 */
function syntheticGradients(N = 12, D = 24) {
  const normal = normalSampler(seededUniform(7));
  const models = ["CNNSmall", "MLP"].flatMap((family) =>
    [2, 4, 8].flatMap((k) => [0, 1, 2].map((seed) => ({ family, k, seed })))
  );
  const shared = Float64Array.from({ length: N * D }, () => normal());
  const data = new Float32Array(models.length * N * D);
  models.forEach((m, i) => {
    for (let x = 0; x < N * D; x++) data[i * N * D + x] = shared[x]! + (3 / m.k) * normal();
  });
  const header = formatNpyHeader([models.length, N, D]);
  const bytes = new Uint8Array(header.length + data.byteLength);
  bytes.set(header);
  bytes.set(new Uint8Array(data.buffer), header.length);
  return { bytes, models };
}

browserTest(
  "/analyze/ in chromium: a dropped .npy and models JSON give the heatmaps and claims of analyzeExternal(), served, from file:// and on WebGPU, and the heatmaps download as SVG and PNG",
  async ({ chromium, shotDir }) => {
    const root = await Deno.makeTempDir({ prefix: "site-analyze-" });
    const { bytes, models } = syntheticGradients();
    await Deno.writeFile(join(root, "g.npy"), bytes);
    const modelsJson = JSON.stringify(models);
    // What the command line writes for the same files, on the float64 reference.
    const deno = await analyzeExternal(join(root, "g.npy"), models, {
      gpu: "cpu",
      outDir: join(root, "cli"),
    });
    const similarity = JSON.parse(
      await Deno.readTextFile(join(root, "cli", "similarity.json")),
    ) as SimilarityFile;
    const results = join(root, "results");
    await Deno.mkdir(results);
    const app = await createApp({ root: results, site: SITE });
    const live = serveLocal(app.fetch);
    const exported = join(root, "static");
    await exportSite({ root: results, out: exported, site: SITE });
    try {
      const served = `${live.origin}/analyze/`;
      const targets = [
        { label: "served", url: served, webgpu: false },
        {
          label: "file",
          url: new URL("analyze/index.html", toFileUrl(exported + "/")).href,
          webgpu: false,
        },
        // Chromium's SwiftShader WebGPU adapter: the bundled WGSL kernels themselves run.
        { label: "webgpu", url: served, webgpu: true },
      ];
      for (const { label, url, webgpu } of targets) {
        const r = await checkAnalyze(
          url,
          { npy: bytes, npyName: "g.npy", models: modelsJson, modelsName: "models.json" },
          join(shotDir, `analyze-${label}.png`),
          { executablePath: chromium, webgpu },
        );
        console.log(`${label}: ${r.ran.trim()} (screenshot ${r.screenshot})`);
        assertEquals(r.errors, [], label);
        if (label !== "file") assertEquals(r.status, 200, label);
        assertEquals(r.backend, webgpu ? "webgpu" : "reference", `${label}: ${r.ran}`);
        assert(
          r.ran.includes(r.backend === "webgpu" ? "WebGPU: " : "reference"),
          `${label}: the page must say which path ran: ${r.ran}`,
        );
        // On the reference the page runs the very code the CLI ran; on WebGPU within f32.
        const tol = r.backend === "webgpu" ? 2e-4 : 1e-12;
        assertEquals(Object.keys(r.heatmaps).sort(), ["browser-p-CNNSmall", "browser-p-MLP"]);
        for (const f of similarity.byFamily) {
          const shown = r.heatmaps[`browser-p-${f.family}`]!;
          assertEquals(shown.length, 3, `${label} ${f.family}: rows`);
          f.mean.forEach((row, i) =>
            row.forEach((v, j) => {
              if (v === null) assertEquals(shown[i]![j], null);
              else assertClose(shown[i]![j], v, tol, `${label} ${f.family} p(${i}, ${j})`);
            })
          );
        }
        // The synthetic trend is there: p(8, 8) above p(2, 2) in the page's own numbers.
        const mlp = r.heatmaps["browser-p-MLP"]!;
        assert(mlp[2]![2]! > mlp[0]![0]! + 0.1, `${label}: ${JSON.stringify(mlp)}`);
        const expected = deno.claims.claims.filter((c) =>
          !["attacks", "ensembles"].some((k) => c.id.startsWith(k))
        );
        assertEquals(r.claims.map((c) => c.id), expected.map((c) => c.id), `${label}: claims`);
        r.claims.forEach((c, i) => {
          const e = expected[i]!;
          if (e.value === null) assertEquals(c.value, null);
          else assertClose(c.value, e.value, tol, `${label} ${c.id}`);
          if (r.backend === "reference") assertEquals(c.verdict, e.verdict, `${label} ${c.id}`);
        });
        // The page's charts download like every other chart of the site.
        assertEquals(r.downloads.map((d) => d.name), [
          "report-browser-p-CNNSmall.svg",
          "report-browser-p-CNNSmall.png",
        ], label);
        for (const d of r.downloads) assertChartDownload(d, "report", label);
        assert((await Deno.stat(r.screenshot)).size > 10_000, r.screenshot);
      }
    } finally {
      await live.server.shutdown();
      await Deno.remove(root, { recursive: true });
    }
  },
);
