/**
 * `/sweeps/:sweep/small_predicts_large/`: how well the mean direction of small models predicts
 * the salience of large ones, beside the individual similarity of small and large models.
 * @module
 */
import type { JSX } from "preact";
import type { SmallPredictsLargeFile } from "../../../lib/analysis/schema.ts";
import { LineChart, type Series } from "../../../lib/site/charts/mod.ts";
import {
  analysisPage,
  DataTable,
  estimateNumbers,
  estimateText,
  Figure,
  intervalText,
  type SectionsProps,
  tableFormats,
} from "../../../lib/site/components.tsx";
import { analysisRoute } from "../../../lib/site/sweep_data.ts";

/** `load` reads small_predicts_large.json; `title` names the page. */
export const { load, title } = analysisRoute(
  "smallPredictsLarge",
  "small models predict large ones",
);

function Sections(
  { file: s, ctx, sweep }: SectionsProps<SmallPredictsLargeFile>,
): JSX.Element {
  const families = [...new Set(s.rows.map((r) => r.family))];
  return (
    <>
      <p>
        For each pair of widths k_small &lt; k_large: the mean over large models f and x of
        cos(μ_small(x), g_f(x)), with μ over all small seeds, against the mean individual similarity
        cos(g_small(x), g_large(x)) over model pairs.
      </p>
      {families.map((f) => {
        const rows = s.rows.filter((r) => r.family === f).sort((a, b) =>
          a.kSmall - b.kSmall || a.kLarge - b.kLarge
        );
        const cats = rows.map((r) => `${r.kSmall}→${r.kLarge}`);
        // One notation per column: mean direction (with its interval) and individual.
        const cols = tableFormats({
          meanDirection: rows.flatMap((r) => estimateNumbers(r.meanDirection)),
          individual: rows.flatMap((r) => estimateNumbers(r.individual)),
        }, 4);
        const series: Series[] = [
          {
            name: "mean direction of small models",
            color: "#0072B2",
            mode: "both",
            points: rows.map((r, i) => [i, r.meanDirection.mean ?? NaN]),
            intervals: rows.map((r) =>
              r.meanDirection.ci ? [r.meanDirection.ci.lo, r.meanDirection.ci.hi] : null
            ),
          },
          {
            name: "individual small model",
            color: "#D55E00",
            dashed: true,
            mode: "both",
            points: rows.map((r, i) => [i, r.individual.mean ?? NaN]),
            intervals: rows.map((r) =>
              r.individual.ci ? [r.individual.ci.lo, r.individual.ci.hi] : null
            ),
          },
        ];
        return (
          <Figure
            title={`Small predicts large, ${f}`}
            ctx={ctx}
            sweep={sweep}
            file="small_predicts_large.json"
          >
            <LineChart
              id={`spl-${f}`}
              title={`Cosine to large models' salience, ${f}`}
              xLabel="k_small → k_large"
              yLabel="mean cosine"
              xCategories={cats}
              series={series}
            />
            <DataTable
              head={[
                "k_small",
                "k_large",
                "Mean direction",
                "Interval",
                "Individual",
                "Small / large models",
              ]}
            >
              {rows.map((r) => (
                <tr>
                  <td>{r.kSmall}</td>
                  <td>{r.kLarge}</td>
                  <td class="num">{estimateText(r.meanDirection, cols.meanDirection)}</td>
                  <td class="num">{intervalText(r.meanDirection.ci, cols.meanDirection)}</td>
                  <td class="num">{estimateText(r.individual, cols.individual)}</td>
                  <td>{r.smallModels} / {r.largeModels}</td>
                </tr>
              ))}
            </DataTable>
          </Figure>
        );
      })}
    </>
  );
}

/** The small-predicts-large page. */
export default analysisPage<"smallPredictsLarge">(
  { heading: "Small models predict large ones", current: "small_predicts_large" },
  Sections,
);
