/**
 * `/sweeps/:sweep/data/:file`: the data behind the charts. `<analysis>.json` is the analysis file
 * verbatim, `sweep.json` and `plan.json` the store's, `runs.json` the records of every run that
 * has one; each `.csv` is its conversion (`runs.csv`: one row per run and epoch).
 * @module
 */
import { ANALYSIS_FILES } from "../../../../lib/analysis/schema.ts";
import type { RunJson } from "../../../../lib/store/mod.ts";
import { jsonToCsv } from "../../../../lib/site/csv.ts";
import { HttpError, type RouteContext } from "../../../../lib/site/router.ts";
import {
  type Loaded,
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

/** Every data file that exists for a sweep (used by the static export). */
export async function listFiles(store: SiteStore, sweep: string): Promise<string[]> {
  const bases = [
    "sweep",
    "plan",
    "runs",
    ...Object.values(ANALYSIS_FILES).map((f) => f.replace(/\.json$/, "")),
  ];
  const out: string[] = [];
  for (const base of bases) {
    if ((await rawJson(store, sweep, base)).status === "ok") {
      out.push(`${base}.json`, `${base}.csv`);
    }
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
  const raw = await rawJson(ctx.store, sweep, base);
  if (raw.status === "missing") throw new HttpError(404, "No such data file.");
  if (raw.status === "invalid") throw new HttpError(404, "This data file is unreadable.");
  if (ext === "json") {
    return new Response(raw.value, {
      headers: { "Content-Type": "application/json; charset=utf-8" },
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.value);
  } catch {
    throw new HttpError(404, "This data file is not valid JSON, so it has no CSV form.");
  }
  const csv = base === "runs" ? runsCsv(parsed as RunJson[]) : jsonToCsv(parsed);
  return new Response(csv, { headers: { "Content-Type": "text/csv; charset=utf-8" } });
}
