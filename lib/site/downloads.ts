/**
 * Browser code: a "SVG" and a "PNG" download button beside every chart (`svg.chart`) of the page.
 * The SVG is the chart as drawn, standalone (namespace, white background, the page's computed
 * text styles written onto each text node so it looks the same outside the page); the PNG is
 * that SVG drawn at twice its size onto a canvas. Nothing leaves the browser.
 * @module
 */

const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * The chart as a standalone SVG document (text). Cost: one clone and one computed style per text.
 */
export function standaloneSvg(svg: SVGSVGElement): string {
  const clone = svg.cloneNode(true) as SVGSVGElement;
  clone.setAttribute("xmlns", SVG_NS);
  const { width, height } = chartSize(svg);
  clone.setAttribute("width", String(width));
  clone.setAttribute("height", String(height));
  clone.removeAttribute("class");
  const live = svg.querySelectorAll("text");
  const copies = clone.querySelectorAll("text");
  live.forEach((t, i) => {
    const c = copies[i];
    if (!c) return;
    const cs = getComputedStyle(t);
    c.setAttribute("font-family", cs.fontFamily);
    c.setAttribute("font-size", cs.fontSize);
    c.setAttribute("font-weight", cs.fontWeight);
    if (!c.getAttribute("fill")) c.setAttribute("fill", cs.fill);
  });
  const bg = document.createElementNS(SVG_NS, "rect");
  bg.setAttribute("width", "100%");
  bg.setAttribute("height", "100%");
  bg.setAttribute("fill", "#ffffff");
  clone.insertBefore(bg, clone.firstChild);
  return new XMLSerializer().serializeToString(clone);
}

function chartSize(svg: SVGSVGElement): { width: number; height: number } {
  const vb = svg.viewBox.baseVal;
  if (vb && vb.width > 0 && vb.height > 0) return { width: vb.width, height: vb.height };
  const r = svg.getBoundingClientRect();
  return { width: Math.ceil(r.width), height: Math.ceil(r.height) };
}

function save(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Draws the standalone SVG at `scale` × its size and resolves with the PNG. */
export async function chartPng(svg: SVGSVGElement, scale = 2): Promise<Blob> {
  const { width, height } = chartSize(svg);
  const img = new Image();
  img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(standaloneSvg(svg))}`;
  await img.decode();
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(width * scale);
  canvas.height = Math.round(height * scale);
  const ctx = canvas.getContext("2d");
  if (!ctx) throw new Error("this browser gives no 2D canvas, so the PNG cannot be drawn.");
  ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
  return await new Promise<Blob>((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error("canvas gave no PNG"))), "image/png")
  );
}

/** The downloads every chart offers, in their order beside it. */
export const CHART_DOWNLOADS = [
  { label: "SVG", ext: "svg" },
  { label: "PNG", ext: "png" },
] as const;

/** A chart download's format. */
export type ChartFormat = typeof CHART_DOWNLOADS[number]["ext"];

/**
 * Saves chart `id` (the `svg.chart` whose `data-chart` is `id`) as it is drawn now, as `ext`.
 * @throws Error when the page has no such chart or the PNG cannot be drawn.
 */
export async function downloadChart(id: string, ext: ChartFormat): Promise<void> {
  const svg = document.querySelector<SVGSVGElement>(`svg.chart[data-chart="${CSS.escape(id)}"]`);
  if (!svg) throw new Error(`this page has no chart "${id}" to download.`);
  const blob = ext === "svg"
    ? new Blob([standaloneSvg(svg)], { type: "image/svg+xml" })
    : await chartPng(svg);
  save(blob, fileName(svg, ext));
}

/** The file name of a chart's download: `<page name>-<chart id>.<ext>`. */
function fileName(svg: SVGSVGElement, ext: string): string {
  const prefix = document.body.dataset.name || "report";
  const id = svg.dataset.chart || "chart";
  return `${prefix}-${id}.${ext}`.replace(/[^A-Za-z0-9._-]+/g, "_");
}

/**
 * Adds the download buttons under every chart (under its island, when it is one, so hydration
 * leaves them alone), chart and buttons in one `.chart-wrap` column. A chart whose buttons are on
 * the page already (an island that draws charts after hydration renders its own
 * `ChartTools`) is left alone. Call after hydrating. Idempotent.
 */
export function attachDownloads(): void {
  for (const svg of Array.from(document.querySelectorAll<SVGSVGElement>("svg.chart"))) {
    const anchor = (svg.closest("[data-island]") as HTMLElement | null) ?? svg;
    const id = svg.dataset.chart ?? "";
    if (document.querySelector(`.chart-tools[data-for="${CSS.escape(id)}"]`)) continue;
    const tools = document.createElement("div");
    tools.className = "chart-tools";
    tools.dataset.for = id;
    for (const { label, ext } of CHART_DOWNLOADS) {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = label;
      b.dataset.download = ext;
      b.title = `Download this chart as ${label}`;
      // The island may have re-rendered the chart since: downloadChart takes the current one.
      b.addEventListener("click", () => {
        downloadChart(id, ext).catch((err) => {
          b.textContent = `${label} failed`;
          console.warn(`download of ${id} as ${ext} failed: ${(err as Error).message}`);
        });
      });
      tools.appendChild(b);
    }
    // Chart and buttons share one column, so charts laid out side by side keep their buttons.
    const wrap = document.createElement("div");
    wrap.className = "chart-wrap";
    anchor.insertAdjacentElement("beforebegin", wrap);
    wrap.append(anchor, tools);
  }
}
