/**
 * `/sweeps/:sweep/claims/`: the paper-claims checklist: each claim with the measured figure, its
 * bootstrap interval, the threshold and the verdict (holds / fails / inconclusive).
 * @module
 */
import type { JSX } from "preact";
import { AnalysisPage, DataTable, Figure, tableFormats } from "../../../lib/site/components.tsx";
import { CLAIM_FIGURES, claimFigureHref, hrefWithAnchor } from "../../../lib/site/claim_links.ts";
import type { RouteContext } from "../../../lib/site/router.ts";
import { analysis, type AnalysisPageData, loadAnalysisPage } from "../../../lib/site/sweep_data.ts";
import type { Loaded } from "../../../lib/site/store_reader.ts";
import type { PaperFile, PoolingFile } from "../../../lib/analysis/schema.ts";
import { PaperSection, PoolingSection } from "../../../lib/site/comparison_sections.tsx";

type Data = AnalysisPageData<"claims"> & {
  pooling: Loaded<PoolingFile>;
  paper: Loaded<PaperFile>;
};

/** Loads claims.json, and pooling.json and paper.json when the analysis wrote them. */
export async function load(ctx: RouteContext): Promise<Data> {
  const page = await loadAnalysisPage(ctx, "claims");
  return {
    ...page,
    pooling: await analysis(ctx, page.base, "pooling"),
    paper: await analysis(ctx, page.base, "paper"),
  };
}

/** Page title. */
export function title(data: Data): string {
  return `${data.base.name} — paper claims`;
}

const VERDICTS = new Set(["holds", "fails", "inconclusive"]);

/** The claims page. */
export default function Claims({ data, ctx }: { data: Data; ctx: RouteContext }): JSX.Element {
  return (
    <AnalysisPage
      heading="Paper claims"
      current="claims"
      ctx={ctx}
      data={data}
      guard={false}
      render={(c) => {
        // One notation per column: the values with their intervals' ends, and the thresholds.
        const f = tableFormats({
          value: c.claims.flatMap((x) => [x.value, x.interval?.lo, x.interval?.hi]),
          threshold: c.claims.map((x) => x.threshold),
        }, 4);
        return (
          <>
            <Figure
              title="Claims checklist"
              ctx={ctx}
              sweep={data.base.name}
              file="claims.json"
              caption="A claim holds when its bootstrap interval lies entirely on the claimed side of the threshold, fails when it lies entirely on the other side, and is inconclusive otherwise."
            >
              <DataTable
                head={[
                  "Claim",
                  "Measured",
                  "Value",
                  "Interval",
                  "Threshold",
                  "Verdict",
                  "Why",
                  "Figure",
                ]}
                class="data claims"
              >
                {c.claims.map((c) => (
                  <tr id={`claim-${c.id}`}>
                    <td data-label="Claim">
                      {c.statement}
                      <br />
                      <code>{c.id}</code>
                    </td>
                    <td data-label="Measured">
                      {c.measure}
                      <br />({c.pairs} (model, sample) pairs)
                    </td>
                    <td class="num" data-label="Value">{f.value(c.value)}</td>
                    <td data-label="Interval">
                      {c.interval
                        ? (
                          <>
                            <span class="nw">
                              [{f.value(c.interval.lo)}, {f.value(c.interval.hi)}]
                            </span>{" "}
                            <span class="muted">
                              {Math.round(c.interval.level * 100)} %, {c.interval.resamples}{" "}
                              resamples over {c.interval.over.join(" + ")}
                            </span>
                          </>
                        )
                        : "–"}
                    </td>
                    <td class="num" data-label="Threshold">{f.threshold(c.threshold)}</td>
                    <td data-label="Verdict">
                      <span class={`badge ${VERDICTS.has(c.verdict) ? c.verdict : "inconclusive"}`}>
                        {c.verdict}
                      </span>
                    </td>
                    <td data-label="Why">{c.reason}</td>
                    <td data-label="Figure">
                      {claimFigureHref(data.base.name, c.id)
                        ? (
                          <a href={hrefWithAnchor(ctx, claimFigureHref(data.base.name, c.id)!)}>
                            {CLAIM_FIGURES[c.id]!.label}
                          </a>
                        )
                        : "–"}
                    </td>
                  </tr>
                ))}
              </DataTable>
            </Figure>
            {data.pooling.status === "ok" && (
              <PoolingSection file={data.pooling.value} ctx={ctx} sweep={data.base.name} />
            )}
            {data.paper.status === "ok" && (
              <PaperSection file={data.paper.value} ctx={ctx} sweep={data.base.name} />
            )}
          </>
        );
      }}
    />
  );
}
