/**
 * Real-browser check of the in-browser analysis page (`/analyze/`): Debian's chromium driven by
 * playwright-core, with a fresh profile. Drops a `.npy` and its models JSON on the page's drop
 * zone (a real `drop` event carrying a `DataTransfer` of two files), waits for the analysis to
 * finish in the page, and reads back which path ran, every p(k1, k2) heatmap cell and every
 * claim's value and verdict, with a screenshot and the console's errors.
 * @module
 */
import { type ChartDownload, download, pageErrors, withChromium } from "./_chromium.ts";

/** What the page showed after the drop. */
export interface AnalyzeCheck {
  status: number | null;
  /** The page's statement of which path ran ("webgpu" or "reference") and its text. */
  backend: string | null;
  ran: string;
  /** Heatmap id → `values[r][c]` as the cells carry them (null where empty). */
  heatmaps: Record<string, (number | null)[][]>;
  claims: { id: string; value: number | null; verdict: string }[];
  /** The SVG and PNG that the first heatmap's download buttons gave. */
  downloads: ChartDownload[];
  errors: string[];
  screenshot: string;
}

/** The files to drop: the gradients' bytes and the models JSON's text. */
export interface DroppedFiles {
  npy: Uint8Array;
  npyName: string;
  models: string;
  modelsName: string;
}

/**
 * Opens `url` (the analysis page), drops `files` on it and reads the result. Cost: one browser
 * launch (about 5 s here) and the analysis itself (seconds for small inputs on the reference).
 */
export async function checkAnalyze(
  url: string,
  files: DroppedFiles,
  shot: string,
  options: { executablePath: string; webgpu?: boolean },
): Promise<AnalyzeCheck> {
  return await withChromium(options.executablePath, options, async (context) => {
    const page = await context.newPage();
    const errors = pageErrors(page);
    const res = await page.goto(url, { waitUntil: "load" });
    const zone = page.locator('[data-island="BrowserAnalysis"] .dropzone');
    await zone.waitFor({ state: "visible", timeout: 10_000 });
    // Hydration is asynchronous: drop once the island says it is live.
    await page.locator('[data-island="BrowserAnalysis"] .browser-analysis[data-ready]')
      .waitFor({ state: "attached", timeout: 10_000 });
    const transfer = await page.evaluateHandle((f) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(f.npy)], f.npyName));
      dt.items.add(new File([f.models], f.modelsName, { type: "application/json" }));
      return dt;
    }, { ...files, npy: Array.from(files.npy) });
    await zone.dispatchEvent("drop", { dataTransfer: transfer });
    const status = page.locator('[data-island="BrowserAnalysis"] .status');
    await page.waitForFunction(
      () => {
        const s = document.querySelector('[data-island="BrowserAnalysis"] .status');
        const kind = (s as HTMLElement | null)?.dataset.status;
        return kind === "done" || kind === "error";
      },
      undefined,
      { timeout: 120_000 },
    );
    if ((await status.getAttribute("data-status")) === "error") {
      errors.push(`analysis: ${await status.textContent()}`);
    }
    const ranEl = page.locator(".browser-result .ran");
    const backend = await ranEl.count() ? await ranEl.getAttribute("data-ran") : null;
    const ran = await ranEl.count() ? (await ranEl.textContent()) ?? "" : "";
    const heatmaps = await page.evaluate(() => {
      const out: Record<string, (number | null)[][]> = {};
      for (const svg of Array.from(document.querySelectorAll(".browser-result svg.heatmap"))) {
        const id = svg.getAttribute("data-chart") ?? svg.id;
        const rows: (number | null)[][] = [];
        for (const cell of Array.from(svg.querySelectorAll("g.cell"))) {
          const r = Number(cell.getAttribute("data-row")),
            c = Number(cell.getAttribute("data-col"));
          const v = cell.getAttribute("data-value");
          (rows[r] ??= [])[c] = v === null || v === "" ? null : Number(v);
        }
        out[id] = rows;
      }
      return out;
    });
    const claims = await page.evaluate(() =>
      Array.from(document.querySelectorAll(".browser-claims tr[data-claim]")).map((tr) => {
        const v = tr.getAttribute("data-value");
        return {
          id: tr.getAttribute("data-claim") ?? "",
          value: v === null || v === "" ? null : Number(v),
          verdict: tr.querySelector(".badge")?.textContent ?? "",
        };
      })
    );
    const first = Object.keys(heatmaps)[0];
    const downloads = first === undefined
      ? []
      : [await download(page, first, "svg"), await download(page, first, "png")];
    const screenshot = shot;
    await page.screenshot({ path: screenshot, fullPage: true });
    return {
      status: res?.status() ?? null,
      backend,
      ran,
      heatmaps,
      claims,
      downloads,
      errors,
      screenshot,
    };
  });
}
