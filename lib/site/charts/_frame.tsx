/**
 * The outer `<svg>` every chart draws in: its size, class, id and accessible title.
 * @module
 */
import type { ComponentChildren, JSX } from "preact";

/**
 * A chart's `<svg>`: `width` × `height` pixels (its viewBox the same), class `chart <kind>`,
 * `data-chart` the chart's id, and the role of an image labelled by its first child, the
 * `<title>` (id `<id>-title`). Cost: one SVG element and its title around `children`.
 * @example
 * ```ts
 * import { renderToString } from "preact-render-to-string";
 * import { ChartFrame } from "./_frame.tsx";
 * const svg = renderToString(ChartFrame({ id: "a", kind: "heatmap", width: 9, height: 4, title: "t" }));
 * if (!svg.includes('aria-labelledby="a-title"') || !svg.includes('<title id="a-title">t</title>')) {
 *   throw new Error(svg);
 * }
 * ```
 */
export function ChartFrame(props: {
  id: string;
  kind: string;
  width: number;
  height: number;
  title: string;
  onMouseLeave?: () => void;
  children?: ComponentChildren;
}): JSX.Element {
  const titleId = `${props.id}-title`;
  return (
    <svg
      class={`chart ${props.kind}`}
      data-chart={props.id}
      viewBox={`0 0 ${props.width} ${props.height}`}
      width={props.width}
      height={props.height}
      role="img"
      aria-labelledby={titleId}
      onMouseLeave={props.onMouseLeave}
    >
      <title id={titleId}>{props.title}</title>
      {props.children}
    </svg>
  );
}
