/**
 * The axis titles shared by the charts: the x title centred under the plot and the y title turned
 * a quarter left beside it.
 * @module
 */
import type { JSX } from "preact";

/**
 * Both axis titles of a chart: `x` is drawn centred at `xAt`, `y` rotated by −90° about `yAt`.
 * Cost: two SVG text nodes.
 * @example
 * ```ts
 * import { renderToString } from "preact-render-to-string";
 * import { AxisTitles } from "./_axes.tsx";
 * const svg = renderToString(AxisTitles({ x: "k2", y: "k1", xAt: [50, 90], yAt: [14, 40] }));
 * if (!svg.includes('transform="rotate(-90 14 40)"')) throw new Error(svg);
 * ```
 */
export function AxisTitles(
  props: { x: string; y: string; xAt: [number, number]; yAt: [number, number] },
): JSX.Element {
  const [xx, xy] = props.xAt;
  const [yx, yy] = props.yAt;
  return (
    <>
      <text x={xx} y={xy} text-anchor="middle" class="axis-label">{props.x}</text>
      <text
        x={yx}
        y={yy}
        text-anchor="middle"
        class="axis-label"
        transform={`rotate(-90 ${yx} ${yy})`}
      >
        {props.y}
      </text>
    </>
  );
}
