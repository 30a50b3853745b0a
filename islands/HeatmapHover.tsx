/**
 * Island: a heatmap whose hovered or focused cell is outlined and read out below it. Props are the
 * plain {@linkcode HeatmapData}; the server renders the same markup, so the page reads without
 * JavaScript (each cell prints its value and carries an SVG title).
 * @module
 */
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { cellText, Heatmap, type HeatmapData } from "../lib/site/charts/mod.ts";

/** Heatmap with a hover/focus readout. */
export default function HeatmapHover(props: HeatmapData): JSX.Element {
  const [active, setActive] = useState<[number, number] | null>(null);
  return (
    <div class="heatmap-hover">
      <Heatmap
        {...props}
        active={active}
        onCell={(r, c) => setActive([r, c])}
        onLeave={() => setActive(null)}
      />
      <p class="readout" aria-live="polite" data-readout={props.id}>
        {active
          ? cellText(props, active[0], active[1])
          : "Hover or focus a cell to read its value."}
      </p>
    </div>
  );
}
