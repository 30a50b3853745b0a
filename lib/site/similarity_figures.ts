/**
 * The expected-similarity heatmaps of a similarity analysis as plain heatmap data: one p(k1, k2)
 * heatmap per family, the families on one colour scale, each cell's readout naming its std and
 * model pairs. The similarity page renders them on the server and the in-browser analysis island
 * in the reader's browser, from this one function. Browser-safe (no Deno APIs).
 * @module
 */
import type { FamilyMatrix } from "../analysis/schema.ts";
import { columnFormat, type HeatmapData, matrixRange } from "./charts/mod.ts";

/** What p(k1, k2) is, as the pages that show it say. */
export const EXPECTED_SIMILARITY_DEFINITION =
  "Mean over model pairs f1 ∈ F(k1), f2 ∈ F(k2), f1 ≠ f2, of p_ind = mean over x of " +
  "cos(g_f1(x), g_f2(x))";

/**
 * `± std, n model pairs` for every cell's readout, the stds in one notation for the whole matrix
 * (no `± …` where a cell has no std).
 * @example
 * ```ts
 * import { pairDetails } from "./similarity_figures.ts";
 * const d = pairDetails([[0.5, null]], [[6, 0]]);
 * if (d[0]![0] !== "± 0.500, 6 model pairs" || d[0]![1] !== "0 model pairs") throw new Error(d[0]![0]);
 * ```
 */
export function pairDetails(
  std: (number | null)[][],
  modelPairs: (number | undefined)[][],
): string[][] {
  const f = columnFormat(std.flat());
  return std.map((row, i) =>
    row.map((sd, j) => `${sd === null ? "" : `± ${f(sd)}, `}${modelPairs[i]?.[j] ?? 0} model pairs`)
  );
}

/**
 * One p(k1, k2) heatmap per family of `byFamily` (id `<idPrefix><family>`), sharing one colour
 * scale (the range over all of them) when there are several, so their colours compare.
 * Cost: one pass over the matrices.
 * @example
 * ```ts
 * import { familyHeatmaps } from "./similarity_figures.ts";
 * const m = (v: number) => ({ family: `F${v}`, ks: [2], mean: [[v]], std: [[null]], modelPairs: [[3]] });
 * const [a, b] = familyHeatmaps([m(0.1), m(0.3)], "p-");
 * if (a!.id !== "p-F0.1" || a!.max !== 0.3 || b!.min !== 0.1) throw new Error(JSON.stringify(a));
 * ```
 */
export function familyHeatmaps(byFamily: FamilyMatrix[], idPrefix = "p-"): HeatmapData[] {
  const [lo, hi] = matrixRange(byFamily.flatMap((f) => f.mean));
  const shared = byFamily.length > 1;
  return byFamily.map((f) => ({
    id: `${idPrefix}${f.family}`,
    title: `Expected similarity p(k1, k2), ${f.family}`,
    xLabel: "k2",
    yLabel: "k1",
    rowLabels: f.ks.map(String),
    colLabels: f.ks.map(String),
    values: f.mean,
    ...(shared ? { min: lo, max: hi } : {}),
    details: pairDetails(
      f.mean.map((row, i) => row.map((_, j) => f.std[i]?.[j] ?? null)),
      f.modelPairs,
    ),
  }));
}
