// Real-browser check of the report site, run by tests/site/browser_test.ts under Node:
//   node check_site.mjs <base URL of a sweep> <screenshot directory>
// Launches Debian's chromium through playwright-core (pinned in package.json) with a fresh
// profile, loads the similarity and distributions pages, checks that the heatmap renders, that
// hovering a cell shows its value, that a family toggle hides its curves, and that the console
// stays free of errors (CSP violations included). Prints one JSON line; exits 1 on failure.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [base, shotDir] = process.argv.slice(2);
if (!base || !shotDir) {
  console.error("usage: node check_site.mjs <sweep base URL> <screenshot directory>");
  process.exit(2);
}
const executablePath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const profile = mkdtempSync(join(tmpdir(), "site-browser-profile-"));
const errors = [];
const checks = {};
let context;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
    ],
    viewport: { width: 1280, height: 900 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(`console: ${msg.text()}`);
  });
  page.on("pageerror", (err) => errors.push(`pageerror: ${err.message}`));
  page.on("requestfailed", (req) => errors.push(`requestfailed: ${req.url()}`));

  // Similarity page: heatmap renders, hover shows the cell's value.
  const res = await page.goto(`${base}similarity/`, { waitUntil: "load" });
  checks.status = res?.status();
  const heatmap = page.locator('[data-island="HeatmapHover"] svg.heatmap').first();
  await heatmap.waitFor({ state: "visible", timeout: 10000 });
  checks.heatmapCells = await heatmap.locator("g.cell").count();
  const box = await heatmap.boundingBox();
  checks.heatmapSize = box ? [Math.round(box.width), Math.round(box.height)] : null;
  const cell = heatmap.locator('g.cell[data-row="2"][data-col="1"]');
  const value = Number(await cell.getAttribute("data-value"));
  const readout = page.locator(".readout").first();
  let text = "";
  const deadline = Date.now() + 10000;
  while (Date.now() < deadline) {
    await page.mouse.move(0, 0);
    await cell.locator("rect").hover();
    text = (await readout.textContent()) ?? "";
    if (text.includes(":") && !text.startsWith("Hover")) break;
    await page.waitForTimeout(100);
  }
  checks.readout = text;
  const shown = Number(text.split(":").pop());
  checks.hoverValueMatches = Number.isFinite(value) && Math.abs(shown - value) < 5e-4;
  checks.activeOutlined = await heatmap.locator("g.cell.active").count();
  await page.screenshot({ path: join(shotDir, "similarity.png"), fullPage: false });

  // Distributions page: unticking a family hides its KDE curves.
  await page.goto(`${base}distributions/`, { waitUntil: "load" });
  const kde = page.locator('[data-island="KdeFamilies"]').first();
  await kde.waitFor({ state: "visible", timeout: 10000 });
  const box0 = kde.locator("input[type=checkbox]").first();
  await page.waitForFunction(
    () => !document.querySelector('[data-island="KdeFamilies"] input[type=checkbox]')?.disabled,
    null,
    { timeout: 10000 },
  );
  const group = await box0.getAttribute("data-group");
  const before = await kde.locator(`g.series[data-group="${group}"]`).count();
  await box0.uncheck();
  const after = await kde.locator(`g.series[data-group="${group}"]`).count();
  checks.toggle = { group, before, after };
  await page.screenshot({ path: join(shotDir, "distributions.png"), fullPage: false });
} catch (err) {
  errors.push(`exception: ${err?.stack ?? err}`);
} finally {
  await context?.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
}
const ok = errors.length === 0 && checks.status === 200 && checks.heatmapCells > 0 &&
  checks.hoverValueMatches === true && checks.activeOutlined === 1 &&
  checks.toggle?.before > 0 && checks.toggle?.after === 0;
console.log(JSON.stringify({ ok, checks, errors }));
process.exit(ok ? 0 : 1);
