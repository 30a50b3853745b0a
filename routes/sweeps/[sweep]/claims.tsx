/**
 * `/sweeps/:sweep/claims/`: the paper-claims checklist: each claim with the measured figure, its
 * bootstrap interval, the threshold and the verdict (holds / fails / inconclusive).
 * @module
 */
import type { JSX } from "preact";
import { AnalysisPage, Figure } from "../../../lib/site/components.tsx";
import { ClaimsTable } from "../../../lib/site/claims_table.tsx";
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

/** The claims page. */
export default function Claims({ data, ctx }: { data: Data; ctx: RouteContext }): JSX.Element {
  return (
    <AnalysisPage
      heading="Paper claims"
      current="claims"
      ctx={ctx}
      data={data}
      guard={false}
      render={(c) => (
        <>
          <Figure
            title="Claims checklist"
            ctx={ctx}
            sweep={data.base.name}
            file="claims.json"
            caption="A claim holds when its bootstrap interval lies entirely on the claimed side of the threshold, fails when it lies entirely on the other side, and is inconclusive otherwise."
          >
            <ClaimsTable
              claims={c.claims}
              figure={(claim) => {
                const href = claimFigureHref(data.base.name, claim.id);
                return href
                  ? <a href={hrefWithAnchor(ctx, href)}>{CLAIM_FIGURES[claim.id]!.label}</a>
                  : "–";
              }}
            />
          </Figure>
          {data.pooling.status === "ok" && (
            <PoolingSection file={data.pooling.value} ctx={ctx} sweep={data.base.name} />
          )}
          {data.paper.status === "ok" && (
            <PaperSection file={data.paper.value} ctx={ctx} sweep={data.base.name} />
          )}
        </>
      )}
    />
  );
}
