/**
 * Server-rendered SVG heatmap (a matrix of values with row and column labels, a colour bar and
 * the value printed in each cell), readable and printable without JavaScript. The hover island
 * reuses it and passes `active`/`onCell` to highlight a cell.
 * @module
 */
import type { JSX } from "preact";
import { AxisTitles } from "./_axes.tsx";
import { ChartFrame } from "./_frame.tsx";
import { columnFormat, type NumberFormat, viridis } from "./scale.ts";

/** Plain, serialisable description of a heatmap. `values[r][c]` is row `r`, column `c`. */
export interface HeatmapData {
  /** Unique on its page; used to link the SVG title for screen readers. */
  id: string;
  title: string;
  /** Label of the column axis (bottom). */
  xLabel: string;
  /** Label of the row axis (left). */
  yLabel: string;
  colLabels: string[];
  rowLabels: string[];
  values: (number | null)[][];
  /** Colour-scale bounds; default: the finite range of `values`. */
  min?: number;
  max?: number;
  digits?: number;
  /** Extra text per cell shown after the value (e.g. `± 0.004, 6 model pairs`), same layout. */
  details?: (string | null)[][];
}

/** Props of {@linkcode Heatmap}: the data plus optional interaction from an island. */
export interface HeatmapProps extends HeatmapData {
  active?: [number, number] | null;
  onCell?: (row: number, col: number) => void;
  onLeave?: () => void;
}

/**
 * The finite min and max of a matrix, or `[0, 1]` when it has no finite value.
 * @example
 * ```ts
 * import { matrixRange } from "./heatmap.tsx";
 * const [lo, hi] = matrixRange([[1, null], [3, 2]]);
 * if (lo !== 1 || hi !== 3) throw new Error("range");
 * ```
 */
export function matrixRange(values: (number | null)[][]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const row of values) {
    for (const v of row) {
      if (v !== null && Number.isFinite(v)) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
  }
  return Number.isFinite(lo) ? [lo, hi] : [0, 1];
}

/**
 * The one number format of a heatmap (its cells, their readouts and its colour bar), picked by
 * {@linkcode columnFormat} from every value and the colour-scale bounds, so a matrix never mixes
 * `0.500` with `4.00e-4`. `digits` defaults to the data's `digits`, else 3.
 * Cost: one pass over the matrix.
 * @example
 * ```ts
 * import { heatmapFormat } from "./heatmap.tsx";
 * const d = { id: "h", title: "", xLabel: "k2", yLabel: "k1", rowLabels: ["1", "2"], colLabels: ["1"], values: [[0.5], [0.0004]] };
 * const f = heatmapFormat(d);
 * if (f(0.5) !== "0.50000" || f(0.0004) !== "0.00040") throw new Error(f(0.5));
 * ```
 */
export function heatmapFormat(d: HeatmapData, digits = d.digits ?? 3): NumberFormat {
  return columnFormat([...d.values.flat(), d.min, d.max], digits);
}

/**
 * Text readout of one cell, as shown on hover and in the cell's SVG title, in the heatmap's one
 * format (`format`, default {@linkcode heatmapFormat} of `d`; pass it when reading many cells).
 * @example
 * ```ts
 * import { cellText } from "./heatmap.tsx";
 * const d = { id: "h", title: "", xLabel: "k2", yLabel: "k1", rowLabels: ["1"], colLabels: ["2"], values: [[0.5]] };
 * if (cellText(d, 0, 0) !== "k1 = 1, k2 = 2: 0.500") throw new Error(cellText(d, 0, 0));
 * ```
 */
export function cellText(
  d: HeatmapData,
  r: number,
  c: number,
  format: NumberFormat = heatmapFormat(d),
): string {
  const v = d.values[r]?.[c] ?? null;
  const extra = d.details?.[r]?.[c];
  return `${d.yLabel} = ${d.rowLabels[r] ?? r}, ${d.xLabel} = ${d.colLabels[c] ?? c}: ${format(v)}${
    extra ? ` (${extra})` : ""
  }`;
}

/**
 * SVG heatmap; see {@linkcode HeatmapData}.
 * @example
 * ```ts
 * import { renderToString } from "preact-render-to-string";
 * import { Heatmap } from "./heatmap.tsx";
 * const svg = renderToString(
 *   Heatmap({ id: "h", title: "T", xLabel: "k2", yLabel: "k1", rowLabels: ["1"], colLabels: ["1"], values: [[1]] }),
 * );
 * if (!svg.startsWith("<svg")) throw new Error(svg);
 * ```
 */
export function Heatmap(props: HeatmapProps): JSX.Element {
  const rows = props.rowLabels.length;
  const cols = props.colLabels.length;
  const [autoLo, autoHi] = matrixRange(props.values);
  const lo = props.min ?? autoLo;
  const hi = props.max ?? autoHi;
  const cell = Math.max(28, Math.min(56, Math.floor(420 / Math.max(rows, cols, 1))));
  const charW = 6.4; // approximate advance of an 11 px label character
  const rowChars = Math.max(1, ...props.rowLabels.map((l) => l.length));
  const colChars = Math.max(1, ...props.colLabels.map((l) => l.length));
  const left = Math.max(56, Math.ceil(34 + rowChars * charW));
  const rotate = colChars * charW > cell - 4;
  const colBand = rotate ? Math.ceil(colChars * charW * 0.72) + 12 : 20;
  const top = 12;
  const gridW = cols * cell;
  const gridH = rows * cell;
  const barX = left + gridW + 18;
  const width = barX + 70;
  const height = top + gridH + colBand + 30;
  // Cell labels have less room than readouts: fewer digits in small cells, one format for all.
  const cellFormat = heatmapFormat(props, props.digits ?? (cell >= 44 ? 3 : 2));
  const readFormat = heatmapFormat(props);
  const fontSize = cell >= 44 ? 11 : 9;
  const norm = (v: number) => (hi > lo ? (v - lo) / (hi - lo) : 0.5);
  const stops = Array.from({ length: 11 }, (_, i) => i / 10);
  return (
    <ChartFrame
      id={props.id}
      kind="heatmap"
      width={width}
      height={height}
      title={props.title}
      onMouseLeave={props.onLeave}
    >
      <defs>
        <linearGradient id={`${props.id}-bar`} x1="0" y1="1" x2="0" y2="0">
          {stops.map((s) => <stop key={s} offset={`${s * 100}%`} stop-color={viridis(s).color} />)}
        </linearGradient>
      </defs>
      {props.values.map((row, r) =>
        row.map((v, c) => {
          const x = left + c * cell;
          const y = top + r * cell;
          const finite = v !== null && Number.isFinite(v);
          const col = finite ? viridis(norm(v)) : { color: "#dddddd", darkText: true };
          const isActive = props.active?.[0] === r && props.active?.[1] === c;
          return (
            <g
              class={isActive ? "cell active" : "cell"}
              data-row={r}
              data-col={c}
              data-value={finite ? String(v) : ""}
              tabIndex={props.onCell ? 0 : undefined}
              onMouseEnter={props.onCell ? () => props.onCell?.(r, c) : undefined}
              onFocus={props.onCell ? () => props.onCell?.(r, c) : undefined}
            >
              <title>{cellText(props, r, c, readFormat)}</title>
              <rect
                x={x}
                y={y}
                width={cell}
                height={cell}
                fill={col.color}
                stroke={isActive ? "#ff2d55" : "#ffffff"}
                stroke-width={isActive ? 3 : 1}
              />
              <CellLabel
                x={x + cell / 2}
                y={y + cell / 2 + 4}
                room={cell - 4}
                size={fontSize}
                fill={col.darkText ? "#111111" : "#ffffff"}
                text={finite ? cellFormat(v) : "n/a"}
              />
            </g>
          );
        })
      )}
      {props.rowLabels.map((label, r) => (
        <text x={left - 6} y={top + r * cell + cell / 2 + 4} text-anchor="end" font-size="11">
          {label}
        </text>
      ))}
      {props.colLabels.map((label, c) => {
        const x = left + c * cell + cell / 2;
        const y = top + gridH + 16;
        return rotate
          ? (
            <text
              x={x + 4}
              y={y - 4}
              text-anchor="end"
              font-size="11"
              transform={`rotate(-45 ${x + 4} ${y - 4})`}
            >
              {label}
            </text>
          )
          : <text key={c} x={x} y={y} text-anchor="middle" font-size="11">{label}</text>;
      })}
      <AxisTitles
        x={props.xLabel}
        y={props.yLabel}
        xAt={[left + gridW / 2, top + gridH + colBand + 20]}
        yAt={[16, top + gridH / 2]}
      />
      <rect x={barX} y={top} width={14} height={gridH} fill={`url(#${props.id}-bar)`} />
      <text x={barX + 18} y={top + 10} font-size="10">{readFormat(hi)}</text>
      <text x={barX + 18} y={top + gridH} font-size="10">{readFormat(lo)}</text>
    </ChartFrame>
  );
}

/**
 * A cell's value, centred; a label wider than the cell's `room` (digits and signs take about
 * 0.56 em, a point 0.28 em) is drawn condensed to fit (`textLength`), so a value never spills
 * into its neighbours.
 */
function CellLabel(
  p: { x: number; y: number; room: number; size: number; fill: string; text: string },
): JSX.Element {
  let em = 0;
  for (const ch of p.text) em += ch === "." || ch === "," ? 0.28 : 0.56;
  const wide = em * p.size > p.room;
  return (
    <text
      x={p.x}
      y={p.y}
      text-anchor="middle"
      font-size={p.size}
      fill={p.fill}
      textLength={wide ? p.room : undefined}
      lengthAdjust={wide ? "spacingAndGlyphs" : undefined}
    >
      {p.text}
    </text>
  );
}
