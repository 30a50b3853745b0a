/**
 * `/sweeps/:sweep/`: the sweep's configuration, the state of its runs, the trained models with
 * their accuracy and loss curves, and the parameter counts by family and width. For an external
 * analysis (gradients exported from another framework, no `sweep.json`) it says so and shows
 * what the analysis summary records instead.
 * @module
 */
import type { JSX } from "preact";
import type { ClaimsFile, PaperFile, SimilarityFile } from "../../../lib/analysis/schema.ts";
import type { PlanJson } from "../../../lib/store/mod.ts";
import {
  columnFormat,
  dashFor,
  LineChart,
  type Series,
  seriesColor,
} from "../../../lib/site/charts/mod.ts";
import {
  AnalysisNotice,
  DataLinks,
  DataTable,
  Figure,
  SweepNav,
  tableFormats,
  WidthTable,
} from "../../../lib/site/components.tsx";
import { Findings } from "../../../lib/site/findings.tsx";
import { dataPath } from "../../../lib/site/links.ts";
import type { RouteContext } from "../../../lib/site/router.ts";
import {
  type Loaded,
  readAnalysis,
  readPlanJson,
  readRuns,
  type RunEntry,
} from "../../../lib/site/store_reader.ts";
import {
  gradientDetails,
  isExternal,
  requireSweep,
  type SweepBase,
  sweepFolder,
} from "../../../lib/site/sweep_data.ts";

interface Data {
  base: SweepBase;
  plan: Loaded<PlanJson>;
  runs: RunEntry[];
  claims: Loaded<ClaimsFile>;
  similarity: Loaded<SimilarityFile>;
  paper: Loaded<PaperFile>;
}

/** Loads sweep.json, plan.json, every run.json, summary.json, claims.json and similarity.json. */
export async function load(ctx: RouteContext): Promise<Data> {
  const base = await requireSweep(ctx);
  const claims = await readAnalysis(ctx.store, base.name, "claims");
  const similarity = await readAnalysis(ctx.store, base.name, "similarity");
  const paper = await readAnalysis(ctx.store, base.name, "paper");
  const files = { claims, similarity, paper };
  if (isExternal(base)) {
    return { base, plan: { status: "missing", file: "plan.json" }, runs: [], ...files };
  }
  const plan = await readPlanJson(ctx.store, base.name);
  const runs = plan.status === "ok" ? await readRuns(ctx.store, base.name, plan.value) : [];
  return { base, plan, runs, ...files };
}

/** Page title. */
export function title(data: Data): string {
  return `${data.base.name} — ${isExternal(data.base) ? "external analysis" : "overview"}`;
}

/** The overview's heading, navigation and findings; `command` is the one that writes the analysis. */
function OverviewHead(
  { data, ctx, command }: { data: Data; ctx: RouteContext; command: string },
): JSX.Element {
  const { base } = data;
  const external = isExternal(base);
  return (
    <>
      <h1>{external ? "External analysis" : "Sweep"} {base.name}</h1>
      <SweepNav ctx={ctx} sweep={base.name} current="" external={external} />
      <Findings
        ctx={ctx}
        sweep={base.name}
        claims={data.claims}
        similarity={data.similarity}
        paper={data.paper}
        summary={base.summary.status === "ok" ? base.summary.value : null}
        command={command}
      />
    </>
  );
}

/** The overview of an external analysis: what it is, and what its summary records. */
function ExternalOverview({ data, ctx }: { data: Data; ctx: RouteContext }): JSX.Element {
  const { base } = data;
  const summary = base.summary.status === "ok" ? base.summary.value : null;
  const gradients = data.similarity.status === "ok" ? data.similarity.value.gradients : null;
  return (
    <>
      <OverviewHead
        data={data}
        ctx={ctx}
        command="deno task analyze --grads G.npy --models M.json"
      />
      <section>
        <h2>What this is</h2>
        <div class="notice external" role="note">
          <p>
            This is an analysis of external gradients: gradients exported from another framework and
            analysed with{" "}
            <code>deno task analyze --grads</code>. There are no training records here: no config,
            no plan and no runs, so training curves, accuracies and parameter counts are not
            available. The analysis pages below are drawn from the gradients alone.
          </p>
        </div>
        {base.summary.status !== "ok" && (
          <AnalysisNotice kind="summary" loaded={base.summary} sweep={base.name} external />
        )}
        {summary && (
          <table class="kv">
            <tbody>
              <tr>
                <th>Models</th>
                <td>{summary.counts.models}</td>
              </tr>
              <tr>
                <th>Families</th>
                <td>{summary.counts.families}</td>
              </tr>
              <tr>
                <th>Probe samples</th>
                <td>{summary.counts.samples}</td>
              </tr>
              <tr>
                <th>Dimension</th>
                <td>{summary.counts.dimension}</td>
              </tr>
              <tr>
                <th>Zero gradients left out</th>
                <td>{summary.counts.zeroGradients}</td>
              </tr>
              {summary.counts.nonFiniteGradients !== undefined && (
                <tr>
                  <th>Gradients with NaN or ±Inf left out</th>
                  <td>{summary.counts.nonFiniteGradients}</td>
                </tr>
              )}
              {gradientDetails(summary, gradients).map(([k, v]) => (
                <tr>
                  <th>{k}</th>
                  <td>{v}</td>
                </tr>
              ))}
              <tr>
                <th>Analysis backend</th>
                <td>
                  {summary.backend.kind}
                  {summary.backend.adapter
                    ? ` (${summary.backend.adapter}${
                      summary.backend.software ? ", software adapter" : ""
                    })`
                    : ""}
                </td>
              </tr>
              <tr>
                <th>Files written</th>
                <td>{summary.files.join(", ") || "–"}</td>
              </tr>
            </tbody>
          </table>
        )}
        {summary && summary.warnings.length > 0 && (
          <ul class="warnings">{summary.warnings.map((w, i) => <li key={i}>{w}</li>)}</ul>
        )}
        {summary && (
          <p class="data-links">
            Data: <a href={ctx.href(dataPath(base.name, "summary.json"))}>summary.json</a>
          </p>
        )}
      </section>
    </>
  );
}

interface GroupCurve {
  family: string;
  k: number;
  batchSize: number;
  runs: RunEntry[];
}

function groups(runs: RunEntry[]): GroupCurve[] {
  const map = new Map<string, GroupCurve>();
  for (const r of runs) {
    if (!r.run || r.run.history.length === 0) continue;
    const key = `${r.family}\u0000${r.k}\u0000${r.batchSize}`;
    const g = map.get(key) ?? { family: r.family, k: r.k, batchSize: r.batchSize, runs: [] };
    g.runs.push(r);
    map.set(key, g);
  }
  return [...map.values()].sort((a, b) =>
    a.family.localeCompare(b.family) || a.k - b.k || a.batchSize - b.batchSize
  );
}

/** A per-epoch field of a run's history drawn as a training curve. */
type CurveField = "testAcc" | "testLoss" | "trainLoss";

/** Mean over the group's seeds of one history field per epoch. */
function meanCurve(g: GroupCurve, field: CurveField): [number, number][] {
  const byEpoch = new Map<number, number[]>();
  for (const r of g.runs) {
    for (const h of r.run?.history ?? []) {
      const v = h[field];
      if (Number.isFinite(v)) byEpoch.set(h.epoch, [...(byEpoch.get(h.epoch) ?? []), v]);
    }
  }
  return [...byEpoch.entries()].sort((a, b) => a[0] - b[0])
    .map(([e, vs]) => [e, vs.reduce((s, v) => s + v, 0) / vs.length]);
}

function curveSeries(gs: GroupCurve[], field: CurveField): Series[] {
  const families = [...new Set(gs.map((g) => g.family))];
  const batches = new Set(gs.map((g) => g.batchSize));
  return gs.map((g) => {
    const fi = families.indexOf(g.family);
    const ks = gs.filter((x) => x.family === g.family).map((x) => x.k);
    return {
      name: `${g.family} k=${g.k}${
        batches.size > 1 ? ` b=${g.batchSize}` : ""
      } (${g.runs.length} seeds)`,
      group: g.family,
      points: meanCurve(g, field),
      color: seriesColor(fi),
      dash: dashFor(ks.indexOf(g.k)),
      mode: "both" as const,
    };
  });
}

/** The resolved config as `path: value` rows (arrays joined), whatever fields it has. */
function configRows(config: unknown): [string, string][] {
  const rows: [string, string][] = [];
  const walk = (v: unknown, path: string) => {
    if (Array.isArray(v) && v.every((x) => x === null || typeof x !== "object")) {
      rows.push([path, v.map(String).join(", ")]);
    } else if (typeof v === "object" && v !== null) {
      for (const [k, x] of Object.entries(v)) walk(x, path ? `${path}.${k}` : k);
    } else rows.push([path, v === null ? "null" : String(v)]);
  };
  walk(config, "");
  return rows;
}

/** The sweep overview. */
export default function Overview({ data, ctx }: { data: Data; ctx: RouteContext }): JSX.Element {
  const { base, plan, runs } = data;
  if (isExternal(base)) {
    return <ExternalOverview data={data} ctx={ctx} />;
  }
  const s = base.sweep.status === "ok" ? base.sweep.value : null;
  const c = s?.config;
  const counts = {
    complete: runs.filter((r) => r.status === "complete").length,
    partial: runs.filter((r) => r.status === "partial").length,
    missing: runs.filter((r) => r.status === "missing").length,
  };
  const gs = groups(runs);
  const families = [...new Set(runs.map((r) => r.family))];
  const paramSeries: Series[] = families.map((f, i) => {
    const byK = new Map<number, number>();
    for (const r of runs) if (r.family === f && r.run) byK.set(r.k, r.run.params);
    return {
      name: f,
      group: f,
      points: [...byK.entries()].sort((a, b) => a[0] - b[0]),
      color: seriesColor(i),
      mode: "both" as const,
    };
  });
  const ks = [...new Set(runs.map((r) => r.k))].sort((a, b) => a - b);
  // One notation per table column (116,280 parameters never beside 1.16e5).
  const paramFormat = columnFormat(paramSeries.flatMap((ps) => ps.points.map((p) => p[1])));
  const runFormat = {
    ...tableFormats({
      params: runs.map((r) => r.run?.params),
      accuracy: runs.map((r) => r.run?.final.testAcc),
      loss: runs.map((r) => r.run?.final.testLoss),
    }),
    seconds: columnFormat(runs.map((r) => r.run?.seconds?.train), 1),
  };
  const epochs = [...new Set(runs.flatMap((r) => r.run?.history.map((h) => h.epoch) ?? []))]
    .sort((a, b) => a - b);
  const epochTicks = epochs.length <= 12 ? epochs : undefined;
  const summary = base.summary.status === "ok" ? base.summary.value : null;
  const curveChart = (id: string, what: string, yLabel: string, field: CurveField) => (
    <LineChart
      id={id}
      title={`${what} by epoch (mean over seeds)`}
      xLabel="epoch"
      xTicks={epochTicks}
      yLabel={yLabel}
      series={curveSeries(gs, field)}
    />
  );
  return (
    <>
      <OverviewHead
        data={data}
        ctx={ctx}
        command={`deno task analyze --run ${sweepFolder(base)}`}
      />
      <section>
        <h2>Configuration</h2>
        {base.sweep.status === "invalid" && (
          <div class="notice error" role="alert">
            sweep.json could not be read: {base.sweep.message}
          </div>
        )}
        {s && c && (
          <p class="config-line">
            {c.dataset.name}, {c.families.join(" and ")} at widths k = {c.widths.join(", ")},{" "}
            {c.seeds} seeds each, {c.training.epochs} epochs at batch size{" "}
            {c.training.batchSizes.join(", ")}; salience of the {c.salience.scalar}
            {c.salience.pool === null
              ? ", unpooled"
              : `, pooled ${c.salience.pool}×${c.salience.pool}`}.
          </p>
        )}
        {s && c && (
          <details class="config">
            <summary>All {configRows(c).length + 4} settings</summary>
            <table class="kv">
              <tbody>
                <tr>
                  <th>Sweep id</th>
                  <td>{s.sweepId}</td>
                </tr>
                <tr>
                  <th>Config hash</th>
                  <td>
                    <code>{s.configHash}</code>
                  </td>
                </tr>
                <tr>
                  <th>Created</th>
                  <td>{s.created}</td>
                </tr>
                <tr>
                  <th>Toolkit</th>
                  <td>{s.toolkit.name} {s.toolkit.version}</td>
                </tr>
                {configRows(c).map(([k, v]) => (
                  <tr>
                    <th>{k}</th>
                    <td>{v}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        )}
        <p class="data-links">
          Data: <a href={ctx.href(dataPath(base.name, "sweep.json"))}>sweep.json</a> ·{" "}
          <a href={ctx.href(dataPath(base.name, "plan.json"))}>plan.json</a> ·{" "}
          <a href={ctx.href(dataPath(base.name, "plan.csv"))}>plan.csv</a>
        </p>
      </section>
      <section>
        <h2>Runs</h2>
        {plan.status !== "ok"
          ? (
            <div class="notice missing">
              plan.json{" "}
              {plan.status === "missing" ? "is absent" : `is unreadable: ${plan.message}`}; the
              sweep writes it first (<code>deno task sweep</code>).
            </div>
          )
          : (
            <p>
              {plan.value.runs.length} planned: {counts.complete} complete, {counts.partial}{" "}
              in progress or partial, {counts.missing} not started.
            </p>
          )}
        {summary && (
          <p>
            Analysis backend: {summary.backend.kind}
            {summary.backend.adapter
              ? ` (${summary.backend.adapter}${
                summary.backend.software ? ", software adapter" : ""
              })`
              : ""}; {summary.counts.models} models, {summary.counts.samples}{" "}
            probe samples of dimension {summary.counts.dimension}, {summary.counts.zeroGradients}
            {" "}
            zero gradients left out
            {(summary.counts.nonFiniteGradients ?? 0) > 0
              ? `, ${summary.counts.nonFiniteGradients} gradients holding NaN or ±Inf left out`
              : ""}.
            {summary.warnings.length > 0 && (
              <ul class="warnings">{summary.warnings.map((w, i) => <li key={i}>{w}</li>)}</ul>
            )}
          </p>
        )}
        {base.summary.status !== "ok" && (
          <AnalysisNotice kind="summary" loaded={base.summary} sweep={base.name} />
        )}
      </section>
      {gs.length > 0 && (
        <section>
          <h2>Training curves</h2>
          <Figure
            title="Test accuracy by epoch (mean over seeds)"
            ctx={ctx}
            sweep={base.name}
            file="runs.json"
          >
            {curveChart("acc-curves", "Test accuracy", "test accuracy", "testAcc")}
          </Figure>
          <Figure
            title="Test and training loss by epoch (mean over seeds)"
            ctx={ctx}
            sweep={base.name}
            file="runs.json"
          >
            {curveChart("test-loss-curves", "Test loss", "test cross-entropy", "testLoss")}
            {curveChart(
              "train-loss-curves",
              "Training loss",
              "training cross-entropy",
              "trainLoss",
            )}
          </Figure>
          <Figure
            title="Trainable parameters by family and width k"
            ctx={ctx}
            sweep={base.name}
            file="runs.json"
          >
            <LineChart
              id="params"
              title="Trainable parameters by family and width k"
              xLabel="width k"
              yLabel="trainable parameters"
              xLog
              yLog
              xTicks={ks}
              series={paramSeries}
            />
            <WidthTable
              ks={ks}
              rows={paramSeries}
              label={(ps) => ps.name}
              cell={(ps, k) => (
                <td key={k}>{paramFormat(ps.points.find((p) => p[0] === k)?.[1] ?? null)}</td>
              )}
            />
          </Figure>
        </section>
      )}
      {runs.length > 0 && (
        <section>
          <h2>Models</h2>
          <DataTable
            head={[
              "Run",
              "Family",
              "k",
              "Seed",
              "Batch",
              "Status",
              "Parameters",
              "Test accuracy",
              "Test loss",
              "Backend",
              "Training s",
            ]}
          >
            {runs.map((r) => (
              <tr>
                <td>
                  <code>{r.runId}</code>
                </td>
                <td>{r.family}</td>
                <td>{r.k}</td>
                <td>{r.seed}</td>
                <td>{r.batchSize}</td>
                <td>
                  <span class={`badge ${r.status}`}>{r.status}</span>
                  {r.problem && <span class="problem">{r.problem}</span>}
                </td>
                <td class="num">{runFormat.params(r.run?.params)}</td>
                <td class="num">{runFormat.accuracy(r.run?.final.testAcc)}</td>
                <td class="num">{runFormat.loss(r.run?.final.testLoss)}</td>
                <td>
                  {r.run
                    ? `${r.run.backend?.tfjs ?? "?"}${r.run.backend?.software ? " (software)" : ""}`
                    : "–"}
                </td>
                <td class="num">{runFormat.seconds(r.run?.seconds?.train)}</td>
              </tr>
            ))}
          </DataTable>
          <DataLinks ctx={ctx} sweep={base.name} file="runs.json" tag="p" />
        </section>
      )}
    </>
  );
}
