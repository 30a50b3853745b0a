/**
 * `/`: the sweeps found in the results directory, with their configuration at a glance, how many
 * runs are complete and the claims verdicts when the analysis has run; then the external analyses
 * (gradients exported from another framework) with what their summary says.
 * @module
 */
import type { JSX } from "preact";
import type { ClaimsFile, SimilarityFile, SummaryFile } from "../lib/analysis/schema.ts";
import type { PlanJson } from "../lib/store/mod.ts";
import { DataTable } from "../lib/site/components.tsx";
import { sweepPath } from "../lib/site/links.ts";
import type { RouteContext } from "../lib/site/router.ts";
import {
  listSweepEntries,
  type Loaded,
  readAnalysis,
  readPlanJson,
  type SweepEntry,
} from "../lib/site/store_reader.ts";
import { gradientDetails } from "../lib/site/sweep_data.ts";

interface Row {
  entry: SweepEntry;
  plan: Loaded<PlanJson>;
  claims: Loaded<ClaimsFile>;
  summary: Loaded<SummaryFile>;
  /** Read for external analyses only (for what it records about the gradients). */
  similarity: Loaded<SimilarityFile> | null;
}

/** Loads every sweep's header, plan, claims and summary. */
export async function load(ctx: RouteContext): Promise<Row[]> {
  const entries = await listSweepEntries(ctx.store);
  return await Promise.all(entries.map(async (entry) => ({
    entry,
    plan: await readPlanJson(ctx.store, entry.name),
    claims: await readAnalysis(ctx.store, entry.name, "claims"),
    summary: await readAnalysis(ctx.store, entry.name, "summary"),
    similarity: entry.kind === "external"
      ? await readAnalysis(ctx.store, entry.name, "similarity")
      : null,
  })));
}

/** Page title. */
export function title(): string {
  return "Sweeps — salience convergence report";
}

function ExternalTable({ rows, ctx }: { rows: Row[]; ctx: RouteContext }): JSX.Element {
  return (
    <section>
      <h2>External analyses</h2>
      <p>
        Gradients exported from another framework and analysed with{" "}
        <code>deno task analyze --grads</code>; there are no training records for these.
      </p>
      <DataTable head={["Analysis", "Models", "Samples", "Dimension", "Details", "Paper claims"]}>
        {rows.map(({ entry, claims, summary, similarity }) => {
          const s = summary.status === "ok" ? summary.value : null;
          const extras = gradientDetails(
            s,
            similarity?.status === "ok" ? similarity.value.gradients : null,
          );
          return (
            <tr>
              <td>
                <a href={ctx.href(sweepPath(entry.name))}>{entry.name}</a>
                <span class="badge external">external</span>
                {summary.status === "invalid" && (
                  <span class="badge fails">summary.json unreadable</span>
                )}
              </td>
              <td>{s?.counts.models ?? "–"}</td>
              <td>{s?.counts.samples ?? "–"}</td>
              <td>{s?.counts.dimension ?? "–"}</td>
              <td>{extras.length > 0 ? extras.map(([k, v]) => `${k}: ${v}`).join("; ") : "–"}</td>
              <td>{verdicts(claims)}</td>
            </tr>
          );
        })}
      </DataTable>
    </section>
  );
}

function verdicts(claims: Loaded<ClaimsFile>): string {
  if (claims.status !== "ok") return claims.status === "missing" ? "not analysed" : "unreadable";
  const n = (v: string) => claims.value.claims.filter((c) => c.verdict === v).length;
  return `${n("holds")} hold, ${n("fails")} fail, ${n("inconclusive")} inconclusive`;
}

/** The index of sweeps. */
export default function Index({ data, ctx }: { data: Row[]; ctx: RouteContext }): JSX.Element {
  const external = data.filter((r) => r.entry.kind === "external");
  const sweeps = data.filter((r) => r.entry.kind === "sweep");
  return (
    <>
      <h1>Sweeps</h1>
      <p>
        Gradients of your own?{" "}
        <a href={ctx.href("/analyze/")}>Analyse them in your browser</a>: drop an [M, N, D]{" "}
        <code>.npy</code> and its models JSON; nothing is uploaded.
      </p>
      {data.length >= 2 && (
        <p>
          <a href={ctx.href("/compare/")}>Compare them side by side</a>: p(k,k) trends overlaid and
          each claim's verdict per sweep.
        </p>
      )}
      {data.length === 0
        ? (
          <div class="notice missing">
            <p>
              No sweep folders (folders holding a sweep.json) and no external analyses (folders
              holding analysis/summary.json) in the results directory yet.
            </p>
            <p>
              Run <code>deno task sweep</code>, then reload, or serve another folder with{" "}
              <code>deno task serve --run DIR</code>.
            </p>
          </div>
        )
        : sweeps.length === 0
        ? <p>No sweep folders; only external analyses.</p>
        : (
          <DataTable
            head={[
              "Sweep",
              "Created",
              "Data set",
              "Families",
              "Widths k",
              "Seeds",
              "Planned runs",
              "Paper claims",
            ]}
          >
            {sweeps.map(({ entry, plan, claims }) => {
              const s = entry.sweep.status === "ok" ? entry.sweep.value : null;
              return (
                <tr>
                  <td>
                    <a href={ctx.href(sweepPath(entry.name))}>{entry.name}</a>
                    {entry.sweep.status === "invalid" && (
                      <span class="badge fails">sweep.json unreadable</span>
                    )}
                  </td>
                  <td>{s?.created ?? "–"}</td>
                  <td>{s?.config.dataset.name ?? "–"}</td>
                  <td>{s?.config.families.join(", ") ?? "–"}</td>
                  <td>{s?.config.widths.join(", ") ?? "–"}</td>
                  <td>{s?.config.seeds ?? "–"}</td>
                  <td>{plan.status === "ok" ? plan.value.runs.length : "–"}</td>
                  <td>{verdicts(claims)}</td>
                </tr>
              );
            })}
          </DataTable>
        )}
      {external.length > 0 && <ExternalTable rows={external} ctx={ctx} />}
    </>
  );
}
