/**
 * `/compare/`: two or more sweeps or external analyses of the results directory side by side:
 * their p(k,k) trends against width overlaid in one chart (one line per sweep and family), and
 * each claim's verdict per sweep. `?sweep=NAME` (repeatable) picks which; default: all.
 * @module
 */
import type { JSX } from "preact";
import type { ClaimsFile, SimilarityFile } from "../lib/analysis/schema.ts";
import { dashFor, LineChart, type Series, seriesColor } from "../lib/site/charts/mod.ts";
import { ClaimsSideBySide, diagonalSeries } from "../lib/site/findings.tsx";
import { sweepPath } from "../lib/site/links.ts";
import { HttpError, type RouteContext } from "../lib/site/router.ts";
import { listSweepEntries, type Loaded, readAnalysis } from "../lib/site/store_reader.ts";

/** Query keys accepted. */
export const queryKeys = ["sweep"] as const;

interface Entry {
  name: string;
  kind: "sweep" | "external";
  similarity: Loaded<SimilarityFile>;
  claims: Loaded<ClaimsFile>;
}

/** Loads similarity.json and claims.json of every sweep compared. */
export async function load(ctx: RouteContext): Promise<Entry[]> {
  const all = await listSweepEntries(ctx.store);
  const wanted = ctx.query.getAll("sweep");
  const names = all.map((e) => e.name);
  for (const w of wanted) {
    if (!names.includes(w)) {
      throw new HttpError(
        400,
        `No sweep or analysis of that name in the results directory; pick among: ${
          names.join(", ") || "(none)"
        }.`,
      );
    }
  }
  const picked = wanted.length ? all.filter((e) => wanted.includes(e.name)) : all;
  return await Promise.all(picked.map(async (e) => ({
    name: e.name,
    kind: e.kind,
    similarity: await readAnalysis(ctx.store, e.name, "similarity"),
    claims: await readAnalysis(ctx.store, e.name, "claims"),
  })));
}

/** Page title. */
export function title(): string {
  return "Compare sweeps — salience convergence report";
}

/** The comparison page. */
export default function Compare({ data, ctx }: { data: Entry[]; ctx: RouteContext }): JSX.Element {
  const series: Series[] = [];
  let si = 0;
  for (const e of data) {
    if (e.similarity.status !== "ok") continue;
    const color = seriesColor(si++);
    diagonalSeries(e.similarity.value).forEach((f, fi) => {
      series.push({
        name: `${e.name}: ${f.family}`,
        group: e.name,
        color,
        dash: dashFor(fi),
        mode: "both",
        points: f.ks.map((k, j) => [k, f.mean[j] ?? NaN] as [number, number]),
        intervals: f.interval,
      });
    });
  }
  const ks = [...new Set(series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
  const ids = [
    ...new Set(
      data.flatMap((e) => e.claims.status === "ok" ? e.claims.value.claims.map((c) => c.id) : []),
    ),
  ];
  return (
    <>
      <h1>Compare sweeps</h1>
      {data.length < 2 && (
        <div class="notice missing" role="status">
          <p>
            A comparison needs two or more sweeps or external analyses in the results directory;
            this one has{" "}
            {data.length}. Run another sweep (<code>deno task sweep --preset NAME</code>) or analyse
            exported gradients (<code>deno task analyze --grads G.npy --models M.json</code>), then
            reload.
          </p>
        </div>
      )}
      <p class="compared">
        {data.map((e, i) => (
          <>
            {i > 0 && " · "}
            <a href={ctx.href(sweepPath(e.name))}>{e.name}</a>
            {e.kind === "external" && <span class="badge external">external</span>}
          </>
        ))}
      </p>
      {series.length > 0 && (
        <figure class="figure" id="fig-compare-pkk">
          <figcaption>
            <h3>p(k,k) against width k, overlaid</h3>
          </figcaption>
          <p class="caption">
            Colour: sweep; dash: family. Bars: each sweep's bootstrap intervals. Data sets, widths
            and seeds may differ between sweeps: read each line with its own sweep's caveats.
          </p>
          <div class="figure-body">
            <LineChart
              id="compare-pkk"
              title="p(k,k) against width k for each sweep and family"
              xLabel="width k"
              yLabel="p(k,k)"
              xLog={ks.length > 1 && (ks[0] ?? 0) > 0}
              xTicks={ks}
              series={series}
            />
          </div>
        </figure>
      )}
      {ids.length > 0 && (
        <>
          <h2>Claims side by side</h2>
          <ClaimsSideBySide
            class="data compare"
            missing="not checked"
            columns={data.map((e) => ({
              label: e.name,
              claims: e.claims.status === "ok" ? e.claims.value.claims : null,
              absent: "no claims.json",
            }))}
          />
        </>
      )}
    </>
  );
}
