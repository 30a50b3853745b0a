/**
 * What the browser checks share: the flags Chromium runs with, one way to launch it with a fresh
 * profile (removed afterwards), the page errors they collect, and reading a chart's download.
 * @module
 */
import type { BrowserContext, Page } from "playwright-core";

/** Flags Chromium runs with: no sandbox (root in CI), no GPU, no network side traffic. */
export const CHROMIUM_ARGS: readonly string[] = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

/**
 * Flags for a Chromium with WebGPU: the usual ones, without `--disable-gpu`, with WebGPU on
 * Chromium's own SwiftShader adapter (a software Vulkan, so it runs on any machine).
 */
export const WEBGPU_ARGS: readonly string[] = [
  ...CHROMIUM_ARGS.filter((a) => a !== "--disable-gpu"),
  "--enable-unsafe-webgpu",
  "--use-webgpu-adapter=swiftshader",
];

/**
 * Runs `fn` in a headless Chromium (`executablePath`) with a fresh profile at 1280 × 900, then
 * closes it and removes the profile. Cost: one browser launch (about 5 s here).
 */
export async function withChromium<T>(
  executablePath: string,
  options: { webgpu?: boolean },
  fn: (context: BrowserContext) => Promise<T>,
): Promise<T> {
  const { chromium } = await import("playwright-core");
  const profile = await Deno.makeTempDir({ prefix: "site-browser-profile-" });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: [...(options.webgpu ? WEBGPU_ARGS : CHROMIUM_ARGS)],
    viewport: { width: 1280, height: 900 },
  });
  try {
    return await fn(context);
  } finally {
    await context.close().catch(() => {});
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
}

/** Collects the page's console errors, uncaught errors and failed requests (CSP violations too). */
export function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(`console: ${msg.text()}`);
  });
  page.on("pageerror", (err) => errors.push(`pageerror: ${err.message}`));
  page.on("requestfailed", (req) => errors.push(`requestfailed: ${req.url()}`));
  return errors;
}

/** A file a chart's download button gave: suggested name, bytes, and the chart's viewBox width. */
export interface ChartDownload {
  name: string;
  bytes: Uint8Array;
  chartWidth: number;
}

/** Clicks the download button `ext` of chart `chart` and reads the file it gives. */
export async function download(
  page: Page,
  chart: string,
  ext: "svg" | "png",
): Promise<ChartDownload> {
  const button = page.locator(`.chart-tools[data-for="${chart}"] button[data-download="${ext}"]`);
  await button.waitFor({ state: "visible", timeout: 10_000 });
  const [dl] = await Promise.all([page.waitForEvent("download"), button.click()]);
  const path = await dl.path();
  const chartWidth = await page.locator(`svg[data-chart="${chart}"]`).first().evaluate((el) =>
    (el as SVGSVGElement).viewBox.baseVal.width
  );
  return { name: dl.suggestedFilename(), bytes: await Deno.readFile(path), chartWidth };
}
