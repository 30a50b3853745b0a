/**
 * Server-rendered SVG line/scatter chart with axes, ticks, optional log axes, error bars, a
 * legend and reference lines. The KDE island reuses it and hides whole groups of series.
 * @module
 */
import type { JSX } from "preact";
import { AxisTitles } from "./_axes.tsx";
import { ChartFrame } from "./_frame.tsx";
import { formatNumber, makeScale, seriesColor, ticks } from "./scale.ts";

/** One series of points `[x, y]`; `errors[i]` draws ±errors[i] around point i. */
export interface Series {
  name: string;
  /** Series sharing a group (e.g. a model family) are toggled together. */
  group?: string;
  points: [number, number][];
  /** Symmetric error bars: ±errors[i] around point i. */
  errors?: number[];
  /** Interval bars: `[lo, hi]` around point i (e.g. a bootstrap interval), or null. */
  intervals?: ([number, number] | null)[];
  color?: string;
  dashed?: boolean;
  /** Explicit SVG dash pattern (overrides `dashed`), e.g. `"2 3"`. */
  dash?: string;
  /** "line" (default), "markers", or "both". */
  mode?: "line" | "markers" | "both";
  /** Each point's name in its tooltip (e.g. family, k and seed), instead of the series name. */
  labels?: string[];
}

/** A horizontal or vertical reference line. */
export interface RefLine {
  axis: "x" | "y";
  value: number;
  label: string;
}

/** Plain, serialisable description of a line chart. */
export interface LineChartData {
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  xLog?: boolean;
  yLog?: boolean;
  /** Labels for integer x positions (categorical axis, e.g. widths or batch sizes). */
  xCategories?: string[];
  /** Explicit x tick positions (e.g. the widths k on a log axis). */
  xTicks?: number[];
  xDomain?: [number, number];
  yDomain?: [number, number];
  refLines?: RefLine[];
}

/** Props of {@linkcode LineChart}: the data plus the groups an island has hidden. */
export interface LineChartProps extends LineChartData {
  hiddenGroups?: string[];
}

function extent(values: number[], log: boolean): [number, number] {
  const v = values.filter((x) => Number.isFinite(x) && (!log || x > 0));
  if (v.length === 0) return log ? [0.1, 1] : [0, 1];
  return [Math.min(...v), Math.max(...v)];
}

/** Dash patterns that tell apart the widths of one family: solid, dashed, dotted, dash-dot. */
export const DASHES: readonly (string | undefined)[] = [undefined, "6 4", "2 3", "10 3 2 3"];

/**
 * The dash pattern for the i-th series of a group (cycling).
 * @example
 * ```ts
 * import { dashFor } from "./line_chart.tsx";
 * if (dashFor(0) !== undefined || dashFor(1) !== "6 4") throw new Error();
 * ```
 */
export function dashFor(i: number): string | undefined {
  return DASHES[((i % DASHES.length) + DASHES.length) % DASHES.length];
}

/**
 * SVG chart; see {@linkcode LineChartData}. Points that are not finite (or ≤ 0 on a log axis) are skipped.
 * @example
 * ```ts
 * import { renderToString } from "preact-render-to-string";
 * import { LineChart } from "./line_chart.tsx";
 * const svg = renderToString(
 *   LineChart({ id: "l", title: "T", xLabel: "x", yLabel: "y", series: [{ name: "s", points: [[0, 0], [1, 1]] }] }),
 * );
 * if (!svg.includes("<path")) throw new Error(svg);
 * ```
 */
export function LineChart(props: LineChartProps): JSX.Element {
  const width = 640;
  const legendRows = props.series.length;
  const left = 70;
  const right = 16;
  const top = 14;
  const plotH = 260;
  const legendTop = top + plotH + 52;
  const height = legendTop + Math.ceil(legendRows / 2) * 18 + 8;
  const plotW = width - left - right;
  const hidden = new Set(props.hiddenGroups ?? []);
  const xLog = props.xLog ?? false;
  const yLog = props.yLog ?? false;
  const xs: number[] = [];
  const ys: number[] = [];
  for (const s of props.series) {
    s.points.forEach(([x, y], i) => {
      xs.push(x);
      const e = s.errors?.[i] ?? 0;
      ys.push(y - e, y + e, y);
      const iv = s.intervals?.[i];
      if (iv) ys.push(iv[0], iv[1]);
    });
  }
  for (const r of props.refLines ?? []) (r.axis === "x" ? xs : ys).push(r.value);
  let xd = props.xDomain ?? extent(xs, xLog);
  if (!props.xDomain && xLog && xd[1] > xd[0]) xd = [xd[0] / 1.15, xd[1] * 1.15];
  let yd = props.yDomain ?? extent(ys, yLog);
  if (!props.yDomain && yLog && yd[1] > yd[0]) yd = [yd[0] / 1.15, yd[1] * 1.15];
  if (!props.yDomain && !yLog) {
    const pad = (yd[1] - yd[0]) * 0.05;
    yd = [yd[0] - pad, yd[1] + pad];
  }
  const sx = makeScale(
    props.xCategories ? [-0.5, props.xCategories.length - 0.5] : xd,
    [left, left + plotW],
    { log: xLog },
  );
  const sy = makeScale(yd, [top + plotH, top], { log: yLog });
  const xt = props.xCategories
    ? props.xCategories.map((_, i) => i)
    : props.xTicks ?? ticks(sx.domain[0], sx.domain[1], 6, xLog);
  const yt = ticks(sy.domain[0], sy.domain[1], 5, yLog);
  const ok = (x: number, y: number) =>
    Number.isFinite(x) && Number.isFinite(y) && (!xLog || x > 0) && (!yLog || y > 0);
  return (
    <ChartFrame
      id={props.id}
      kind="line-chart"
      width={width}
      height={height}
      title={props.title}
    >
      <rect x={left} y={top} width={plotW} height={plotH} fill="#ffffff" stroke="#888888" />
      {yt.map((v) => (
        <g>
          <line x1={left} x2={left + plotW} y1={sy(v)} y2={sy(v)} stroke="#eeeeee" />
          <text x={left - 6} y={sy(v) + 4} text-anchor="end" font-size="11">
            {formatNumber(v, 3)}
          </text>
        </g>
      ))}
      {xt.map((v) => (
        <text x={sx(v)} y={top + plotH + 16} text-anchor="middle" font-size="11">
          {props.xCategories ? props.xCategories[v] : formatNumber(v, 3)}
        </text>
      ))}
      <AxisTitles
        x={props.xLabel}
        y={props.yLabel}
        xAt={[left + plotW / 2, top + plotH + 38]}
        yAt={[14, top + plotH / 2]}
      />
      {(props.refLines ?? []).map((r) =>
        r.axis === "y"
          ? (
            <g class="ref-line">
              <line
                x1={left}
                x2={left + plotW}
                y1={sy(r.value)}
                y2={sy(r.value)}
                stroke="#555555"
                stroke-dasharray="2 3"
              />
              <text x={left + plotW - 4} y={sy(r.value) - 4} text-anchor="end" font-size="10">
                {r.label}
              </text>
            </g>
          )
          : (
            <g class="ref-line">
              <line
                x1={sx(r.value)}
                x2={sx(r.value)}
                y1={top}
                y2={top + plotH}
                stroke="#555555"
                stroke-dasharray="2 3"
              />
              <text x={sx(r.value) + 4} y={top + 12} font-size="10">{r.label}</text>
            </g>
          )
      )}
      {props.series.map((s, i) => {
        if (s.group !== undefined && hidden.has(s.group)) return null;
        const color = s.color ?? seriesColor(i);
        const pts = s.points.filter(([x, y]) => ok(x, y));
        const mode = s.mode ?? "line";
        const d = pts.map(([x, y], j) =>
          `${j === 0 ? "M" : "L"}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`
        )
          .join("");
        return (
          <g class="series" data-series={s.name} data-group={s.group ?? ""}>
            <title>{s.name}</title>
            {mode !== "markers" && pts.length > 1 && (
              <path
                d={d}
                fill="none"
                stroke={color}
                stroke-width="2"
                stroke-dasharray={s.dash ?? (s.dashed ? "6 4" : undefined)}
              />
            )}
            {s.points.map(([x, y], j) => {
              const e = s.errors?.[j];
              if (!ok(x, y) || e === undefined || !Number.isFinite(e) || e <= 0) return null;
              const lo = yLog ? Math.max(y - e, sy.domain[0]) : y - e;
              return (
                <line key={j} x1={sx(x)} x2={sx(x)} y1={sy(lo)} y2={sy(y + e)} stroke={color} />
              );
            })}
            {s.points.map(([x, y], j) => {
              const iv = s.intervals?.[j];
              if (!ok(x, y) || !iv || !Number.isFinite(iv[0]) || !Number.isFinite(iv[1])) {
                return null;
              }
              const lo = yLog ? Math.max(iv[0], sy.domain[0]) : iv[0];
              return (
                <line
                  class="interval"
                  x1={sx(x)}
                  x2={sx(x)}
                  y1={sy(lo)}
                  y2={sy(iv[1])}
                  stroke={color}
                  stroke-width="1.5"
                />
              );
            })}
            {mode !== "line" &&
              s.points.map(([x, y], j) =>
                ok(x, y)
                  ? (
                    <circle cx={sx(x)} cy={sy(y)} r="3.5" fill={color}>
                      <title>
                        {`${s.labels?.[j] ?? s.name}: ${formatNumber(x, 3)}, ${formatNumber(y, 4)}`}
                      </title>
                    </circle>
                  )
                  : null
              )}
          </g>
        );
      })}
      {props.series.map((s, i) => {
        const x = left + (i % 2) * (plotW / 2);
        const y = legendTop + Math.floor(i / 2) * 18;
        const off = s.group !== undefined && hidden.has(s.group);
        return (
          <g class={off ? "legend off" : "legend"}>
            {s.mode !== "markers" && (
              <line
                x1={x}
                x2={x + 22}
                y1={y - 4}
                y2={y - 4}
                stroke={s.color ?? seriesColor(i)}
                stroke-width="3"
                stroke-dasharray={s.dash ?? (s.dashed ? "6 4" : undefined)}
              />
            )}
            {(s.mode === "markers" || s.mode === "both") && (
              <circle cx={x + 11} cy={y - 4} r="3.5" fill={s.color ?? seriesColor(i)} />
            )}
            <text x={x + 28} y={y} font-size="11">{s.name}{off ? " (hidden)" : ""}</text>
          </g>
        );
      })}
    </ChartFrame>
  );
}
