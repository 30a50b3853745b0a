/**
 * `/sweeps/:sweep/batch_size/`: similarity, test loss and accuracy by training batch size (the
 * paper's Figure 18), per family and width.
 * @module
 */
import type { JSX } from "preact";
import type { BatchSizeFile } from "../../../lib/analysis/schema.ts";
import { LineChart, type Series, seriesColor } from "../../../lib/site/charts/mod.ts";
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

/** `load` reads batch_size.json; `title` names the page. */
export const { load, title } = analysisRoute("batchSize", "batch size");

function Sections(
  { file: b, ctx, sweep }: SectionsProps<BatchSizeFile>,
): JSX.Element {
  const sizes = [...new Set(b.rows.map((r) => r.batchSize))].sort((x, y) => x - y);
  const keys = [...new Set(b.rows.map((r) => `${r.family}\u0000${r.k}`))];
  const families = [...new Set(b.rows.map((r) => r.family))];
  const make = (
    pick: (r: BatchSizeFile["rows"][number]) => number | null,
    withCi: boolean,
  ): Series[] =>
    keys.map((key, idx) => {
      const [family = "", kText = ""] = key.split("\u0000");
      const rows = sizes.map((s) =>
        b.rows.find((r) => r.family === family && String(r.k) === kText && r.batchSize === s)
      );
      return {
        name: `${family} k=${kText}`,
        group: family,
        color: seriesColor(families.indexOf(family)),
        dashed: idx % 2 === 1,
        mode: "both" as const,
        points: rows.map((r, i) => [i, r ? pick(r) ?? NaN : NaN] as [number, number]),
        intervals: withCi
          ? rows.map((r) =>
            r?.similarity.ci ? [r.similarity.ci.lo, r.similarity.ci.hi] as [number, number] : null
          )
          : undefined,
      };
    });
  const chart = (id: string, what: string, yLabel: string, series: Series[]) => (
    <LineChart
      id={id}
      title={`${what} by batch size`}
      xLabel="batch size"
      yLabel={yLabel}
      xCategories={sizes.map(String)}
      series={series}
    />
  );
  // One notation per column of the table.
  const f = tableFormats({
    similarity: b.rows.flatMap((r) => estimateNumbers(r.similarity)),
    loss: b.rows.map((r) => r.loss),
    accuracy: b.rows.map((r) => r.accuracy),
  }, 4);
  return (
    <>
      <Figure title="Similarity by batch size" ctx={ctx} sweep={sweep} file="batch_size.json">
        {chart(
          "bs-sim",
          "Mean pairwise cosine between seeds",
          "mean pairwise cosine",
          make((r) => r.similarity.mean, true),
        )}
      </Figure>
      <Figure
        title="Test loss and accuracy by batch size"
        ctx={ctx}
        sweep={sweep}
        file="batch_size.json"
      >
        {chart("bs-loss", "Mean test loss", "test cross-entropy", make((r) => r.loss, false))}
        {chart("bs-acc", "Mean test accuracy", "test accuracy", make((r) => r.accuracy, false))}
      </Figure>
      <DataTable
        head={["Family", "k", "Batch", "Models", "Similarity", "Interval", "Loss", "Accuracy"]}
      >
        {b.rows.map((r) => (
          <tr>
            <td>{r.family}</td>
            <td>{r.k}</td>
            <td>{r.batchSize}</td>
            <td>{r.models}</td>
            <td class="num">{estimateText(r.similarity, f.similarity)}</td>
            <td class="num">{intervalText(r.similarity.ci, f.similarity)}</td>
            <td class="num">{f.loss(r.loss)}</td>
            <td class="num">{f.accuracy(r.accuracy)}</td>
          </tr>
        ))}
      </DataTable>
    </>
  );
}

/** The batch-size page. */
export default analysisPage<"batchSize">(
  { heading: "Batch size", current: "batch_size" },
  Sections,
);
