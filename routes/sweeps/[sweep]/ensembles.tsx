/**
 * `/sweeps/:sweep/ensembles/`: E_x[t] of single models and deep ensembles against their test
 * loss (the paper's Figure 9/24), and the ensemble curves by size.
 * @module
 */
import type { JSX } from "preact";
import type { EnsemblesFile } from "../../../lib/analysis/schema.ts";
import { LineChart, rampColor, type Series, seriesColor } from "../../../lib/site/charts/mod.ts";
import {
  analysisPage,
  DataTable,
  estimateNumbers,
  estimateText,
  Figure,
  type SectionsProps,
  tableFormats,
} from "../../../lib/site/components.tsx";
import { analysisRoute } from "../../../lib/site/sweep_data.ts";

/** `load` reads ensembles.json; `title` names the page. */
export const { load, title } = analysisRoute("ensembles", "ensembles");

function Sections(
  { file: e, ctx, sweep }: SectionsProps<EnsemblesFile>,
): JSX.Element {
  const families = [
    ...new Set([...e.curves.map((c) => c.family), ...e.singles.map((s) => s.family)]),
  ];
  // Colour: family; shade: width (light = small k), so widths read in order.
  const ksOf = (f: string) =>
    [
      ...new Set([
        ...e.curves.filter((c) => c.family === f).map((c) => c.k),
        ...e.singles.filter((s) => s.family === f).map((s) => s.k),
      ]),
    ].sort((a, b) => a - b);
  const color = (f: string, k: number) =>
    rampColor(seriesColor(families.indexOf(f)), ksOf(f).indexOf(k), ksOf(f).length);
  const series: Series[] = [
    ...families.flatMap((f) =>
      ksOf(f).map((k) => {
        const ss = e.singles.filter((s) => s.family === f && s.k === k);
        return {
          name: `${f} k=${k} single models`,
          group: f,
          color: color(f, k),
          mode: "markers" as const,
          points: ss.map((s) => [s.point.meanT.mean ?? NaN, s.point.loss] as [number, number]),
          labels: ss.map((s) => `${f} k=${k} seed ${s.seed}`),
        };
      }).filter((s) => s.points.length > 0)
    ),
    ...e.curves.map((c) => ({
      name: `${c.family} k=${c.k} ensembles of 1…${Math.max(...c.points.map((p) => p.members))}`,
      group: c.family,
      color: color(c.family, c.k),
      dashed: true,
      mode: "both" as const,
      points: [...c.points].sort((a, b) => a.members - b.members).map((p) =>
        [p.meanT.mean ?? NaN, p.loss] as [number, number]
      ),
      labels: [...c.points].sort((a, b) => a.members - b.members).map((p) =>
        `${c.family} k=${c.k}, ${p.members} members (${p.draws} draws)`
      ),
    })),
  ];
  return (
    <>
      <p>
        E_x[t]: cosine between the salience of a model or an ensemble (logits averaged) and the mean
        direction μ of seeds outside it; {e.samples} samples.
      </p>
      <Figure
        title="E_x[t] against test loss"
        ctx={ctx}
        sweep={sweep}
        file="ensembles.json"
        anchor="fig-ensembles"
      >
        <LineChart
          id="ensembles"
          title="Test loss against E_x[t] for single models and deep ensembles"
          xLabel="E_x[t]"
          yLabel="test cross-entropy"
          series={series}
        />
      </Figure>
      <Figure title="Ensemble curves" ctx={ctx} sweep={sweep} file="ensembles.json">
        <p>
          "Predicted" is what the width's p(k, k) alone gives for independent members of equal norm
          (the claim compares the measured rise with it).
        </p>
        <CurveTable curves={e.curves} />
      </Figure>
    </>
  );
}

/** Every ensemble size of every width: E_x[t] beside its prediction, loss and accuracy. */
function CurveTable({ curves }: { curves: EnsemblesFile["curves"] }): JSX.Element {
  const points = curves.flatMap((c) => c.points);
  // E_x[t] and its prediction are one quantity: one notation for both columns.
  const f = tableFormats({
    t: points.flatMap((p) => [...estimateNumbers(p.meanT), p.predictedT]),
    loss: points.map((p) => p.loss),
    accuracy: points.map((p) => p.accuracy),
  }, 4);
  return (
    <DataTable
      head={["Family", "k", "Members", "Draws", "E_x[t]", "Predicted", "Test loss", "Accuracy"]}
    >
      {curves.flatMap((c) =>
        c.points.map((p) => (
          <tr>
            <td>{c.family}</td>
            <td>{c.k}</td>
            <td>{p.members}</td>
            <td>{p.draws}</td>
            <td class="num">{estimateText(p.meanT, f.t)}</td>
            <td class="num">{f.t(p.predictedT)}</td>
            <td class="num">{f.loss(p.loss)}</td>
            <td class="num">{f.accuracy(p.accuracy)}</td>
          </tr>
        ))
      )}
    </DataTable>
  );
}

/** The ensembles page. */
export default analysisPage<"ensembles">(
  { heading: "Deep ensembles", current: "ensembles" },
  Sections,
);
