/**
 * The chart downloads as a Preact component, for islands that draw charts after hydration (the
 * in-browser analysis): the page script's `attachDownloads` adds the same buttons under the
 * server's charts, but must not touch markup that Preact owns. Browser-safe.
 * @module
 */
import type { ComponentChildren, JSX } from "preact";
import { useState } from "preact/hooks";
import { CHART_DOWNLOADS, type ChartFormat, downloadChart } from "./downloads.ts";

/**
 * A chart (`children`, whose `svg.chart` has `data-chart` = `id`) above its SVG and PNG download
 * buttons, in the same `.chart-wrap` column and markup as `attachDownloads` gives server charts.
 * @example
 * ```ts
 * import { renderToString } from "preact-render-to-string";
 * import { h } from "preact";
 * import { ChartWithTools } from "./chart_tools.tsx";
 * const html = renderToString(h(ChartWithTools, { id: "c" }, h("svg", { class: "chart" })));
 * if (!html.includes('data-for="c"') || !html.includes('data-download="png"')) throw new Error(html);
 * ```
 */
export function ChartWithTools(
  { id, children }: { id: string; children?: ComponentChildren },
): JSX.Element {
  const [failed, setFailed] = useState<ChartFormat | null>(null);
  return (
    <div class="chart-wrap">
      {children}
      <div class="chart-tools" data-for={id}>
        {CHART_DOWNLOADS.map(({ label, ext }) => (
          <button
            type="button"
            data-download={ext}
            title={`Download this chart as ${label}`}
            onClick={() =>
              downloadChart(id, ext).catch((err) => {
                setFailed(ext);
                console.warn(`download of ${id} as ${ext} failed: ${(err as Error).message}`);
              })}
          >
            {failed === ext ? `${label} failed` : label}
          </button>
        ))}
      </div>
    </div>
  );
}
