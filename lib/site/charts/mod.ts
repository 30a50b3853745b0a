/**
 * SVG chart components of the report site: heatmaps and line/scatter charts rendered on the
 * server, plus the scales and colours they share. Browser-safe (no Deno APIs): islands import
 * them too.
 * @module
 */
export {
  cellText,
  Heatmap,
  type HeatmapData,
  heatmapFormat,
  type HeatmapProps,
  matrixRange,
} from "./heatmap.tsx";
export {
  DASHES,
  dashFor,
  LineChart,
  type LineChartData,
  type LineChartProps,
  type RefLine,
  type Series,
} from "./line_chart.tsx";
export {
  columnFormat,
  formatNumber,
  makeScale,
  MAX_FIXED_DECIMALS,
  type NumberFormat,
  PALETTE,
  rampColor,
  type Scale,
  seriesColor,
  ticks,
  viridis,
} from "./scale.ts";
