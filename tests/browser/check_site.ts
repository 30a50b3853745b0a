/**
 * Real-browser check of the report site: Debian's chromium driven by playwright-core (pinned in
 * deno.json), with a fresh profile. Loads the similarity and distributions pages of a served
 * sweep, checks that the heatmap renders, that hovering a cell shows its value, that a family
 * toggle hides its curves, that the overview's headline chart and a heatmap download as SVG and
 * PNG, that the pages fit 760 px without numbers wrapping and the gallery's images decode, and
 * that the console stays free of errors (CSP violations included), and saves screenshots.
 * @module
 */
import { join } from "node:path";
import type { Page } from "playwright-core";
import { type ChartDownload, download, pageErrors, withChromium } from "./_chromium.ts";

/** What the check saw. */
export interface BrowserCheck {
  status: number | null;
  heatmapCells: number;
  cellValue: number;
  readout: string;
  activeOutlined: number;
  toggle: { group: string | null; before: number; after: number };
  /** Files the download buttons gave: suggested name, bytes, and the chart's viewBox size. */
  downloads: ChartDownload[];
  /** At 760 px wide: each page's document width and the numbers that wrapped over lines. */
  narrow: { page: string; scrollWidth: number; numbers: number; wrapped: string[] }[];
  /** Salience images of the gallery page that the browser decoded (at 760 px). */
  galleryImages: number;
  errors: string[];
  screenshots: string[];
}

/** One site to check: a label (used in screenshot names) and the sweep's overview URL. */
export interface Target {
  label: string;
  /** The sweep's overview URL, ending in `/`. */
  sweepUrl: string;
  /** Pages are folders whose `index.html` must be named (a `file://` static export). */
  indexFiles?: boolean;
}

function pageUrl(t: Target, page: string): string {
  return `${t.sweepUrl}${page ? `${page}/` : ""}${t.indexFiles ? "index.html" : ""}`;
}

/**
 * Runs the check against every target in one browser, writing screenshots into `shotDir`.
 * Cost: one browser launch (about 5 s here) and two page loads per target.
 */
export async function checkSites(
  targets: Target[],
  shotDir: string,
  executablePath: string,
): Promise<Record<string, BrowserCheck>> {
  return await withChromium(executablePath, {}, async (context) => {
    const results: Record<string, BrowserCheck> = {};
    for (const t of targets) {
      const page = await context.newPage();
      try {
        results[t.label] = await checkOne(page, t, shotDir);
      } finally {
        await page.close();
      }
    }
    return results;
  });
}

async function checkOne(page: Page, target: Target, shotDir: string): Promise<BrowserCheck> {
  const errors = pageErrors(page);
  const screenshots: string[] = [];
  const res = await page.goto(pageUrl(target, "similarity"), { waitUntil: "load" });
  const heatmap = page.locator('[data-island="HeatmapHover"] svg.heatmap').first();
  await heatmap.waitFor({ state: "visible", timeout: 10_000 });
  const heatmapCells = await heatmap.locator("g.cell").count();
  const cell = heatmap.locator('g.cell[data-row="2"][data-col="1"]');
  const cellValue = Number(await cell.getAttribute("data-value"));
  const readoutEl = page.locator(".readout").first();
  // Hydration is asynchronous: hover until the island answers (at most 10 s).
  let readout = "";
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    await page.mouse.move(0, 0);
    await cell.locator("rect").hover();
    readout = (await readoutEl.textContent()) ?? "";
    if (!readout.startsWith("Hover")) break;
    await page.waitForTimeout(100);
  }
  const activeOutlined = await heatmap.locator("g.cell.active").count();
  screenshots.push(join(shotDir, `${target.label}-similarity.png`));
  await page.screenshot({ path: screenshots[0] });

  const heatmapId = await heatmap.getAttribute("data-chart") ?? "";
  const downloads = [
    await download(page, heatmapId, "svg"),
    await download(page, heatmapId, "png"),
  ];
  await page.goto(pageUrl(target, "distributions"), { waitUntil: "load" });
  const kde = page.locator('[data-island="KdeFamilies"]').first();
  await kde.waitFor({ state: "visible", timeout: 10_000 });
  await page.waitForFunction(
    () =>
      !(document.querySelector('[data-island="KdeFamilies"] input[type=checkbox]') as
        | HTMLInputElement
        | null)?.disabled,
    null,
    { timeout: 10_000 },
  );
  const box = kde.locator("input[type=checkbox]").first();
  const group = await box.getAttribute("data-group");
  const before = await kde.locator(`g.series[data-group="${group}"]`).count();
  await box.uncheck();
  const after = await kde.locator(`g.series[data-group="${group}"]`).count();
  screenshots.push(join(shotDir, `${target.label}-distributions.png`));
  await page.screenshot({ path: screenshots[1] });
  await page.goto(pageUrl(target, ""), { waitUntil: "load" });
  downloads.push(await download(page, "headline", "svg"), await download(page, "headline", "png"));
  screenshots.push(join(shotDir, `${target.label}-overview.png`));
  await page.screenshot({ path: screenshots[2], fullPage: true });
  await page.setViewportSize({ width: 760, height: 900 });
  const narrow: BrowserCheck["narrow"] = [];
  let galleryImages = 0;
  for (const p of ["", "claims", "similarity", "distributions", "gallery"]) {
    await page.goto(pageUrl(target, p), { waitUntil: "load" });
    narrow.push({
      page: p,
      ...await page.evaluate(() => {
        // A number wraps when its text spans more than one line box.
        const els = Array.from(document.querySelectorAll("td.num, .nw"));
        const wrapped = els.filter((el) => {
          const range = document.createRange();
          range.selectNodeContents(el);
          const tops = new Set(Array.from(range.getClientRects()).map((r) => Math.round(r.top)));
          return tops.size > 1;
        }).map((el) => el.textContent ?? "");
        return {
          scrollWidth: document.documentElement.scrollWidth,
          numbers: els.length,
          wrapped,
        };
      }),
    });
    if (p === "claims") {
      screenshots.push(join(shotDir, `${target.label}-claims-760.png`));
      await page.screenshot({ path: screenshots[3], fullPage: true });
    }
    if (p === "gallery") {
      // The server's PNGs, decoded by the browser (no script draws them).
      galleryImages = await page.evaluate(() =>
        Array.from(document.querySelectorAll<HTMLImageElement>("main img"))
          .filter((img) => img.complete && img.naturalWidth > 0).length
      );
      screenshots.push(join(shotDir, `${target.label}-gallery-760.png`));
      await page.screenshot({ path: screenshots[4], fullPage: true });
    }
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  return {
    status: res?.status() ?? null,
    heatmapCells,
    cellValue,
    readout,
    activeOutlined,
    toggle: { group, before, after },
    downloads,
    narrow,
    galleryImages,
    errors,
    screenshots,
  };
}
