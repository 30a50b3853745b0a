/**
 * `/sweeps/:sweep/data/:file`: the data behind the charts. `<analysis>.json` is the analysis file
 * verbatim, `sweep.json` and `plan.json` the store's, `runs.json` the records of every run that
 * has one. The `.csv` files are tidy tables (one row per observation, named columns):
 * `runs.csv` (one row per run and epoch), `plan.csv` (one row per planned run) and the tables of
 * `lib/site/tidy.ts` drawn from the analysis files (`pkk.csv`, `similarity.csv`, …).
 * @module
 */
import { ANALYSIS_FILES } from "../../../../lib/analysis/schema.ts";
import type { RunJson } from "../../../../lib/store/mod.ts";
import { jsonToCsv } from "../../../../lib/site/csv.ts";
import { epochsTable, stackedTable, TIDY_TABLES, tidyCsv } from "../../../../lib/site/tidy.ts";
import { HttpError, type RouteContext } from "../../../../lib/site/router.ts";
import {
  type Loaded,
  readAnalysis,
  readEpochs,
  readMethodAnalysis,
  readMethodsIndex,
  readPlanJson,
  readRawFile,
  readRuns,
  type SiteStore,
  sweepExists,
} from "../../../../lib/site/store_reader.ts";

const STORE_FILES = ["sweep.json", "plan.json"] as const;

async function rawJson(store: SiteStore, sweep: string, base: string): Promise<Loaded<string>> {
  if ((STORE_FILES as readonly string[]).includes(`${base}.json`)) {
    return await readRawFile(store, [sweep, `${base}.json`]);
  }
  if ((Object.values(ANALYSIS_FILES) as string[]).includes(`${base}.json`)) {
    return await readRawFile(store, [sweep, "analysis", `${base}.json`]);
  }
  if (base === "epochs") return await readRawFile(store, [sweep, "analysis", "epochs.json"]);
  if (base === "methods") {
    return await readRawFile(store, [sweep, "analysis", "methods", "index.json"]);
  }
  if (base === "runs") {
    const plan = await readPlanJson(store, sweep);
    if (plan.status !== "ok") return plan;
    const runs = (await readRuns(store, sweep, plan.value))
      .map((r) => r.run)
      .filter((r): r is RunJson => r !== null);
    return { status: "ok", value: JSON.stringify(runs, null, 2) + "\n" };
  }
  return { status: "missing", file: `${base}.json` };
}

function runsCsv(runs: RunJson[]): string {
  const rows = runs.flatMap((r) =>
    r.history.map((h) => ({
      runId: r.runId,
      family: r.family,
      k: r.k,
      seed: r.seed,
      batchSize: r.batchSize,
      params: r.params,
      epoch: h.epoch,
      trainLoss: h.trainLoss,
      testLoss: h.testLoss,
      testAcc: h.testAcc,
      lr: h.lr,
      seconds: h.seconds,
    }))
  );
  return rows.length > 0 ? jsonToCsv(rows) : "runId,epoch\r\n";
}

/** The CSV of `name`, or null when its source is absent or unreadable. */
async function csvOf(store: SiteStore, sweep: string, name: string): Promise<string | null> {
  const spec = TIDY_TABLES[name];
  if (spec) {
    const file = await readAnalysis(store, sweep, spec.from);
    if (file.status !== "ok") return null;
    return tidyCsv(spec.columns, spec.rows(file.value));
  }
  if (name === "epochs.csv") {
    const e = await readEpochs(store, sweep);
    if (e.status !== "ok") return null;
    const t = epochsTable(e.value);
    return tidyCsv(t.columns, t.rows);
  }
  if (name === "methods_pkk.csv" || name === "methods_claims.csv") {
    const index = await readMethodsIndex(store, sweep);
    if (index.status !== "ok") return null;
    const kind = name === "methods_pkk.csv" ? "similarity" : "claims";
    const parts: [string, never][] = [];
    for (const m of index.value.methods) {
      const f = await readMethodAnalysis(store, sweep, m.method, kind);
      if (f.status === "ok") parts.push([m.method, f.value as never]);
    }
    const t = stackedTable(
      "method",
      TIDY_TABLES[kind === "similarity" ? "pkk.csv" : "claims.csv"]!,
      parts,
    );
    return tidyCsv(t.columns, t.rows);
  }
  if (name === "runs.csv" || name === "plan.csv") {
    const raw = await rawJson(store, sweep, name.replace(/\.csv$/, ""));
    if (raw.status !== "ok") return null;
    const parsed = JSON.parse(raw.value);
    return name === "runs.csv"
      ? runsCsv(parsed as RunJson[])
      : jsonToCsv((parsed as { runs: unknown[] }).runs);
  }
  return null;
}

/** Every data file that exists for a sweep (used by the static export). */
export async function listFiles(store: SiteStore, sweep: string): Promise<string[]> {
  const bases = [
    "sweep",
    "plan",
    "runs",
    "epochs",
    "methods",
    ...Object.values(ANALYSIS_FILES).map((f) => f.replace(/\.json$/, "")),
  ];
  const out: string[] = [];
  for (const base of bases) {
    if ((await rawJson(store, sweep, base)).status === "ok") out.push(`${base}.json`);
  }
  const extra = ["plan.csv", "runs.csv", "epochs.csv", "methods_pkk.csv", "methods_claims.csv"];
  for (const name of [...extra, ...Object.keys(TIDY_TABLES)]) {
    if ((await csvOf(store, sweep, name)) !== null) out.push(name);
  }
  return out;
}

/** Serves one data file. */
export async function GET(ctx: RouteContext): Promise<Response> {
  const sweep = ctx.params.sweep ?? "";
  const file = ctx.params.file ?? "";
  const m = /^([a-z0-9_]+)\.(json|csv)$/.exec(file);
  if (!m || !(await sweepExists(ctx.store, sweep))) throw new HttpError(404, "No such data file.");
  const [, base = "", ext] = m;
  if (ext === "csv") {
    const csv = await csvOf(ctx.store, sweep, file);
    if (csv === null) throw new HttpError(404, "No such data file, or its source is unreadable.");
    return new Response(csv, { headers: { "Content-Type": "text/csv; charset=utf-8" } });
  }
  const raw = await rawJson(ctx.store, sweep, base);
  if (raw.status === "missing") throw new HttpError(404, "No such data file.");
  if (raw.status === "invalid") throw new HttpError(404, "This data file is unreadable.");
  return new Response(raw.value, {
    headers: { "Content-Type": "application/json; charset=utf-8" },
  });
}
