/**
 * `/sweeps/:sweep/similarity/`: p(k1, k2) per family and across families, mean-direction
 * similarity beside its split-half control, spherical variance by width, and Table 1.
 * Accepts `?family=NAME` to show one family.
 * @module
 */
import type { JSX } from "preact";
import type { SimilarityFile, Table1File } from "../../../lib/analysis/schema.ts";
import {
  columnFormat,
  type HeatmapData,
  LineChart,
  matrixRange,
  type Series,
  seriesColor,
} from "../../../lib/site/charts/mod.ts";
import {
  AnalysisPage,
  AnalysisSection,
  DataTable,
  estimateNumbers,
  estimateText,
  Figure,
  intervalText,
  WidthTable,
} from "../../../lib/site/components.tsx";
import { Island } from "../../../lib/site/island.tsx";
import HeatmapHover from "../../../islands/HeatmapHover.tsx";
import {
  EXPECTED_SIMILARITY_DEFINITION,
  familyHeatmaps,
  pairDetails,
} from "../../../lib/site/similarity_figures.ts";
import type { RouteContext } from "../../../lib/site/router.ts";
import type { Loaded } from "../../../lib/site/store_reader.ts";
import {
  analysis,
  type AnalysisPageData,
  loadAnalysisPage,
  pageFamily,
} from "../../../lib/site/sweep_data.ts";

/** Query keys accepted. */
export const queryKeys = ["family"] as const;

interface Data extends AnalysisPageData<"similarity"> {
  table1: Loaded<Table1File>;
}

/** Loads similarity.json and table1.json; validates `?family=`. */
export async function load(ctx: RouteContext): Promise<Data> {
  const page = await loadAnalysisPage(ctx, "similarity");
  const { base, file } = page;
  const table1 = await analysis(ctx, base, "table1");
  const family = pageFamily(
    ctx,
    base,
    file.status === "ok" ? (file.value.groups ?? []).map((g) => g.family) : [],
    table1.status === "ok" ? (table1.value.rows ?? []).map((r) => r.family) : [],
  );
  return { ...page, table1, family };
}

/** Page title. */
export function title(data: Data): string {
  return `${data.base.name} — similarity`;
}

function groupLabel(g: { family: string; k: number }): string {
  return `${g.family} k=${g.k}`;
}

function SimilaritySections(
  { s, ctx, sweep, family }: {
    s: SimilarityFile;
    ctx: RouteContext;
    sweep: string;
    family: string | null;
  },
): JSX.Element {
  const fams = s.byFamily.filter((f) => family === null || f.family === family);
  const groups = s.groups.filter((g) => family === null || g.family === family);
  const across = new Set(s.groups.map((g) => g.family)).size > 1 && family === null;
  // The families' p(k1, k2) heatmaps share one colour scale, so colours compare across them.
  const heatmaps = familyHeatmaps(fams);
  const shared = heatmaps[0]?.min !== undefined;
  const pFormat = columnFormat([heatmaps[0]?.min, heatmaps[0]?.max]);
  // Mean directions sit near 1: their scale spans their own values, so the spread shows.
  const [mdLo, mdHi] = matrixRange(
    s.meanDirection.map((row) => row.map((c) => c?.mean ?? null)),
  );
  const mdHeat = (fam: string): HeatmapData => {
    const gs = s.groups.filter((g) => g.family === fam).sort((a, b) => a.k - b.k);
    return {
      id: `md-${fam}`,
      title: `Mean-direction similarity, ${fam}`,
      xLabel: "k2",
      yLabel: "k1",
      rowLabels: gs.map((g) => String(g.k)),
      colLabels: gs.map((g) => String(g.k)),
      values: gs.map((a) => gs.map((b) => s.meanDirection[a.index]?.[b.index]?.mean ?? null)),
      min: mdLo,
      max: mdHi,
    };
  };
  const families = [...new Set(groups.map((g) => g.family))];
  const svSeries: Series[] = families.flatMap((f, i) => {
    const rows = s.sphericalVariance.filter((r) => r.family === f).sort((a, b) => a.k - b.k);
    return [
      {
        name: `${f} corrected`,
        group: f,
        color: seriesColor(i),
        mode: "both" as const,
        points: rows.map((r) => [r.k, r.corrected.mean ?? NaN] as [number, number]),
        intervals: rows.map((r) =>
          r.corrected.ci ? [r.corrected.ci.lo, r.corrected.ci.hi] as [number, number] : null
        ),
      },
      {
        name: `${f} raw (n seeds)`,
        group: f,
        color: seriesColor(i),
        dashed: true,
        mode: "both" as const,
        points: rows.map((r) => [r.k, r.estimate.mean ?? NaN] as [number, number]),
      },
    ];
  });
  return (
    <>
      <section>
        <h2>Expected similarity p(k1, k2)</h2>
        <p>
          {EXPECTED_SIMILARITY_DEFINITION}; {s.gradients.samples} probe samples, dimension{" "}
          {s.gradients.dimension}, gradient of {s.gradients.scalar ?? "an unknown scalar"}
          {s.zeroGradients > 0 ? `; ${s.zeroGradients} zero gradients left out` : ""}
          {(s.nonFiniteGradients ?? 0) > 0
            ? `; ${s.nonFiniteGradients} gradients holding NaN or ±Inf left out (models.csv counts them per model)`
            : ""}.
          {shared &&
            ` The families' heatmaps share one colour scale (${pFormat(heatmaps[0]?.min)} to ${
              pFormat(heatmaps[0]?.max)
            }), so their colours compare.`}
        </p>
        {heatmaps.map((h, i) => (
          <Figure
            title={`p(k1, k2), ${fams[i]!.family}`}
            ctx={ctx}
            sweep={sweep}
            file="similarity.json"
          >
            <Island component={HeatmapHover} props={h} />
          </Figure>
        ))}
        {across && (
          <Figure title="p(g1, g2) across families" ctx={ctx} sweep={sweep} file="similarity.json">
            <Island
              component={HeatmapHover}
              props={{
                id: "p-across",
                title: "Expected similarity across families and widths",
                xLabel: "group 2",
                yLabel: "group 1",
                rowLabels: s.groups.map(groupLabel),
                colLabels: s.groups.map(groupLabel),
                values: s.expected.map((row) =>
                  row.map((c) =>
                    c.mean
                  )
                ),
                details: pairDetails(
                  s.expected.map((row) => row.map((c) => c.std)),
                  s.expected.map((row) => row.map((c) => c.modelPairs)),
                ),
              }}
            />
          </Figure>
        )}
      </section>
      <section>
        <h2>Mean-direction similarity</h2>
        <p>
          mean over x of cos(μ_k1(x), μ_k2(x)) (H2: near 1 across widths); the colour scale spans
          the values' own range, so their spread shows. Averaging alone raises it, so read it beside
          the split-half control below; the diagonal is left empty.
        </p>
        {families.map((f, i) => (
          <Figure
            title={`Mean-direction similarity, ${f}`}
            ctx={ctx}
            sweep={sweep}
            file="similarity.json"
            csv="mean_direction.csv"
            anchor={i === 0 ? "fig-mean-direction" : undefined}
          >
            <Island component={HeatmapHover} props={mdHeat(f)} />
          </Figure>
        ))}
        {across && (
          <Figure
            title="Mean-direction similarity across families"
            ctx={ctx}
            sweep={sweep}
            file="similarity.json"
            csv="mean_direction.csv"
          >
            <Island
              component={HeatmapHover}
              props={{
                id: "md-across",
                title: "Mean-direction similarity across families and widths",
                xLabel: "group 2",
                yLabel: "group 1",
                rowLabels: s.groups.map(groupLabel),
                colLabels: s.groups.map(groupLabel),
                values: s.meanDirection.map((row) => row.map((c) => c?.mean ?? null)),
                min: mdLo,
                max: mdHi,
              }}
            />
          </Figure>
        )}
        <Figure
          title="Split-half control"
          ctx={ctx}
          sweep={sweep}
          file="similarity.json"
          csv="split_half.csv"
        >
          <SplitHalfTable
            rows={s.splitHalf.filter((r) => family === null || r.family === family)}
          />
        </Figure>
      </section>
      <section>
        <h2>Spherical variance by width</h2>
        <Figure
          title="Spherical variance 1 − ‖m(x)‖ by width k"
          ctx={ctx}
          sweep={sweep}
          file="similarity.json"
          csv="spherical_variance.csv"
          anchor="fig-spherical-variance"
        >
          <LineChart
            id="spherical-variance"
            title="Spherical variance by width k (solid: corrected for n; dashed: raw)"
            xLabel="width k"
            yLabel="spherical variance"
            xLog
            xTicks={[...new Set(groups.map((g) => g.k))]}
            series={svSeries}
          />
        </Figure>
      </section>
    </>
  );
}

/** The split-half control per width, its estimates and intervals in one notation. */
function SplitHalfTable({ rows }: { rows: SimilarityFile["splitHalf"] }): JSX.Element {
  const f = columnFormat(rows.flatMap((r) => estimateNumbers(r.estimate)));
  return (
    <DataTable head={["Family", "k", "Halves", "Splits", "mean ± std", "Interval"]}>
      {rows.map((r) => (
        <tr>
          <td>{r.family}</td>
          <td>{r.k}</td>
          <td>{r.halfSizes.join(" + ")}</td>
          <td>{r.splits}</td>
          <td class="num">{estimateText(r.estimate, f)}</td>
          <td class="num">{intervalText(r.estimate.ci, f)}</td>
        </tr>
      ))}
    </DataTable>
  );
}

function Table1Section(
  { t, ctx, sweep, family }: {
    t: Table1File;
    ctx: RouteContext;
    sweep: string;
    family: string | null;
  },
): JSX.Element {
  const rows = t.rows.filter((r) => family === null || r.family === family);
  const families = [...new Set(rows.map((r) => r.family))];
  const ks = [...new Set(rows.map((r) => r.k))].sort((a, b) => a - b);
  const w1 = columnFormat(rows.flatMap((r) => [r.mean, r.std]), 4);
  return (
    <Figure
      title="Table 1: Wasserstein distance between models of one family (mean ± std)"
      ctx={ctx}
      sweep={sweep}
      file="table1.json"
      anchor="fig-table1"
      caption={`W1 between the distributions over x of each model's ${t.basis} values, over pairs f1 ≠ f2 in F(k); the upper bound is ${t.upperBound}.`}
    >
      <WidthTable
        class="data table1"
        ks={ks}
        rows={families}
        label={(f) => f}
        cell={(f, k) => {
          const r = rows.find((x) => x.family === f && x.k === k);
          return (
            <td
              title={r ? `${r.modelPairs} model pairs, ${r.samplesPerModel} samples per model` : ""}
            >
              {r && r.mean !== null ? `${w1(r.mean)} ± ${w1(r.std)}` : "–"}
            </td>
          );
        }}
      />
    </Figure>
  );
}

/** The similarity page. */
export default function Similarity({ data, ctx }: { data: Data; ctx: RouteContext }): JSX.Element {
  const { base, table1, family } = data;
  return (
    <AnalysisPage
      heading="Similarity"
      current="similarity"
      ctx={ctx}
      data={data}
      render={(s) => <SimilaritySections s={s} ctx={ctx} sweep={base.name} family={family} />}
    >
      <section>
        <h2>Table 1</h2>
        <AnalysisSection
          kind="table1"
          loaded={table1}
          base={base}
          render={(t) => <Table1Section t={t} ctx={ctx} sweep={base.name} family={family} />}
        />
      </section>
    </AnalysisPage>
  );
}
