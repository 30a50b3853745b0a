/**
 * Read-only access to a results directory for the report site. Every path is resolved strictly
 * inside the directory (symlinks followed and checked), every name is validated, files are size
 * capped, and every JSON file is checked against the store's or the analysis's schema before use.
 * Nothing here writes.
 * @module
 */
import {
  ANALYSIS_FILES,
  type AnalysisFile,
  type AnalysisKind,
  assertAnalysisFile,
} from "../analysis/schema.ts";
import {
  checkStoreFile,
  type PlanJson,
  RUN_FILES,
  type RunJson,
  SWEEP_FILES,
  type SweepJson,
} from "../store/mod.ts";
import type { EpochsJson } from "../sweep/epochs.ts";
import type { MethodsIndexJson } from "../sweep/salience_methods.ts";
import { isSafeName, resolveInside } from "./safety.ts";

/** Largest file the site reads (bytes); larger files are reported as unreadable. */
export const MAX_FILE_BYTES = 64 * 1024 * 1024;

/** A results directory opened for reading. */
export interface SiteStore {
  /** The directory as given. */
  root: string;
  /** Its real path (symlinks resolved); every read stays inside it. */
  realRoot: string;
  /** When set, only these sweep folders exist for the site. */
  only?: ReadonlySet<string>;
}

/** Outcome of reading one file: present and valid, absent, or present but unusable. */
export type Loaded<T> =
  | { status: "ok"; value: T }
  | { status: "missing"; file: string }
  | { status: "invalid"; file: string; message: string };

/**
 * Opens a results directory for reading; a directory that does not exist yet is allowed (it lists
 * no sweeps).
 * @throws TypeError when `root` exists but is not a directory.
 * @example
 * ```ts
 * import { openStore } from "./store_reader.ts";
 * const dir = await Deno.makeTempDir();
 * const store = await openStore(dir);
 * if (store.root !== dir) throw new Error();
 * await Deno.remove(dir);
 * ```
 */
export async function openStore(
  root: string,
  options: { only?: string[] } = {},
): Promise<SiteStore> {
  const only = options.only ? new Set(options.only) : undefined;
  let realRoot: string;
  try {
    realRoot = await Deno.realPath(root);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return { root, realRoot: root, only };
    throw err;
  }
  const st = await Deno.stat(realRoot);
  if (!st.isDirectory) {
    throw new TypeError(`results path "${root}" is not a directory; pass the results folder.`);
  }
  return { root, realRoot, only };
}

async function readTextInside(store: SiteStore, segments: string[]): Promise<Loaded<string>> {
  const file = segments.join("/");
  const path = await resolveInside(store.realRoot, segments);
  if (path === null) return { status: "missing", file };
  const st = await Deno.stat(path);
  if (!st.isFile) return { status: "missing", file };
  if (st.size > MAX_FILE_BYTES) {
    return {
      status: "invalid",
      file,
      message: `${file} is ${st.size} bytes, over the site's limit of ${MAX_FILE_BYTES}.`,
    };
  }
  return { status: "ok", value: await Deno.readTextFile(path) };
}

/**
 * Raw bytes (as text) of a file inside the results directory, or missing/invalid. Used to serve
 * JSON files verbatim.
 * @example
 * ```ts
 * import { openStore, readRawFile } from "./store_reader.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.json`, "{}");
 * const store = await openStore(dir);
 * if ((await readRawFile(store, ["a.json"])).status !== "ok") throw new Error();
 * if ((await readRawFile(store, ["..", "a.json"])).status !== "missing") throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function readRawFile(store: SiteStore, segments: string[]): Promise<Loaded<string>> {
  return readTextInside(store, segments);
}

async function readChecked<T>(
  store: SiteStore,
  segments: string[],
  check: (value: unknown, file: string) => T,
): Promise<Loaded<T>> {
  const text = await readTextInside(store, segments);
  if (text.status !== "ok") return text;
  const file = segments.join("/");
  try {
    return { status: "ok", value: check(JSON.parse(text.value), file) };
  } catch (err) {
    return { status: "invalid", file, message: (err as Error).message };
  }
}

/** One sweep folder found under the results directory. */
export interface SweepEntry {
  /** Folder name (the URL segment). */
  name: string;
  /**
   * `sweep`: a folder written by the sweep runner (holds `sweep.json`); `external`: a folder
   * holding only `analysis/summary.json`, the analysis of gradients exported from another
   * framework, with no training records.
   */
  kind: "sweep" | "external";
  sweep: Loaded<SweepJson>;
}

async function hasExternalAnalysis(store: SiteStore, name: string): Promise<boolean> {
  const path = await resolveInside(store.realRoot, [
    name,
    SWEEP_FILES.analysis,
    ANALYSIS_FILES.summary,
  ]);
  return path !== null && (await Deno.stat(path)).isFile;
}

/**
 * The sweep folders directly under the results directory whose names are URL-safe and that hold a
 * `sweep.json` (valid or not), plus the external analyses: folders without `sweep.json` that hold
 * `analysis/summary.json` (kind `external`). Sorted by creation time (external ones first, as they
 * have none) then name. Folders with unsafe names and symlinks that lead outside the directory are
 * left out. Cost: one read of each `sweep.json`, one stat per other folder.
 * @example
 * ```ts
 * import { listSweepEntries, openStore } from "./store_reader.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/s1`);
 * await Deno.writeTextFile(`${dir}/s1/sweep.json`, "{}");
 * await Deno.mkdir(`${dir}/ext/analysis`, { recursive: true });
 * await Deno.writeTextFile(`${dir}/ext/analysis/summary.json`, "{}");
 * const entries = await listSweepEntries(await openStore(dir));
 * if (entries[0]?.name !== "ext" || entries[0].kind !== "external") throw new Error();
 * if (entries[1]?.name !== "s1" || entries[1].sweep.status !== "invalid") throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function listSweepEntries(store: SiteStore): Promise<SweepEntry[]> {
  const out: SweepEntry[] = [];
  try {
    for await (const e of Deno.readDir(store.realRoot)) {
      if (!isSafeName(e.name) || (store.only && !store.only.has(e.name))) continue;
      const dir = await resolveInside(store.realRoot, [e.name]);
      if (dir === null || !(await Deno.stat(dir)).isDirectory) continue;
      const sweep = await readSweepJson(store, e.name);
      if (sweep.status !== "missing") out.push({ name: e.name, kind: "sweep", sweep });
      else if (await hasExternalAnalysis(store, e.name)) {
        out.push({ name: e.name, kind: "external", sweep });
      }
    }
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
  const created = (s: SweepEntry) => (s.sweep.status === "ok" ? s.sweep.value.created : "");
  return out.sort((a, b) =>
    created(a) < created(b) ? -1 : created(a) > created(b) ? 1 : a.name.localeCompare(b.name)
  );
}

/**
 * Whether `name` is a sweep folder of the store (safe name, inside the root, has `sweep.json`) or
 * an external analysis (has `analysis/summary.json` instead).
 * @example
 * ```ts
 * import { openStore, sweepExists } from "./store_reader.ts";
 * const dir = await Deno.makeTempDir();
 * if (await sweepExists(await openStore(dir), "..")) throw new Error();
 * await Deno.remove(dir);
 * ```
 */
export async function sweepExists(store: SiteStore, name: string): Promise<boolean> {
  if (!isSafeName(name) || (store.only && !store.only.has(name))) return false;
  const path = await resolveInside(store.realRoot, [name, SWEEP_FILES.sweep]);
  return path !== null || await hasExternalAnalysis(store, name);
}

/**
 * Reads and checks `<sweep>/sweep.json`.
 * @example
 * ```ts
 * import { openStore, readSweepJson } from "./store_reader.ts";
 * const dir = await Deno.makeTempDir();
 * if ((await readSweepJson(await openStore(dir), "none")).status !== "missing") throw new Error();
 * await Deno.remove(dir);
 * ```
 */
export function readSweepJson(store: SiteStore, sweep: string): Promise<Loaded<SweepJson>> {
  return readChecked(
    store,
    [sweep, SWEEP_FILES.sweep],
    (v, f) => checkStoreFile(v, f, "sweep"),
  );
}

/**
 * Reads and checks `<sweep>/plan.json`.
 * @example
 * ```ts
 * import { openStore, readPlanJson } from "./store_reader.ts";
 * const dir = await Deno.makeTempDir();
 * if ((await readPlanJson(await openStore(dir), "none")).status !== "missing") throw new Error();
 * await Deno.remove(dir);
 * ```
 */
export function readPlanJson(store: SiteStore, sweep: string): Promise<Loaded<PlanJson>> {
  return readChecked(store, [sweep, SWEEP_FILES.plan], (v, f) => checkStoreFile(v, f, "plan"));
}

/** A planned run with its record when the run folder holds a valid `run.json`. */
export interface RunEntry {
  runId: string;
  family: string;
  k: number;
  seed: number;
  batchSize: number;
  /** `complete`: has a `COMPLETE` marker; `partial`: folder without it; `missing`: no folder. */
  status: "complete" | "partial" | "missing";
  run: RunJson | null;
  /** Why `run` is null although the folder exists. */
  problem: string | null;
}

/**
 * The runs of a sweep's plan with their status and records. Run ids that are not URL-safe names
 * are reported as missing, never joined into a path. Cost: one read per run.
 * @example
 * ```ts
 * import { openStore, readRuns } from "./store_reader.ts";
 * const dir = await Deno.makeTempDir();
 * const plan = { runs: [{ index: 0, runId: "../x", family: "F", k: 1, seed: 0, batchSize: 1, configHash: "0" }] };
 * const runs = await readRuns(await openStore(dir), "s", plan as never);
 * if (runs[0]?.status !== "missing") throw new Error("unsafe ids are never joined");
 * await Deno.remove(dir);
 * ```
 */
export async function readRuns(
  store: SiteStore,
  sweep: string,
  plan: PlanJson,
): Promise<RunEntry[]> {
  const out: RunEntry[] = [];
  for (const p of plan.runs) {
    const base = {
      runId: String(p.runId),
      family: String(p.family),
      k: p.k,
      seed: p.seed,
      batchSize: p.batchSize,
    };
    if (!isSafeName(base.runId)) {
      out.push({ ...base, status: "missing", run: null, problem: "run id is not a plain name" });
      continue;
    }
    const dir = await resolveInside(store.realRoot, [sweep, SWEEP_FILES.runs, base.runId]);
    if (dir === null) {
      out.push({ ...base, status: "missing", run: null, problem: null });
      continue;
    }
    const marker = await resolveInside(store.realRoot, [
      sweep,
      SWEEP_FILES.runs,
      base.runId,
      RUN_FILES.complete,
    ]);
    const run = await readChecked(
      store,
      [sweep, SWEEP_FILES.runs, base.runId, RUN_FILES.run],
      (v, f) => checkStoreFile(v, f, "run"),
    );
    out.push({
      ...base,
      status: marker === null ? "partial" : "complete",
      run: run.status === "ok" ? run.value : null,
      problem: run.status === "ok"
        ? null
        : run.status === "missing"
        ? `${RUN_FILES.run} not written yet`
        : run.message,
    });
  }
  return out;
}

/**
 * The analysis file name of a kind, e.g. `similarity.json`.
 * @example
 * ```ts
 * import { analysisFileName } from "./store_reader.ts";
 * if (analysisFileName("batchSize") !== "batch_size.json") throw new Error();
 * ```
 */
export function analysisFileName(kind: AnalysisKind): string {
  return ANALYSIS_FILES[kind];
}

/**
 * Reads and checks `<sweep>/analysis/<file>` of the given kind.
 * @example
 * ```ts
 * import { openStore, readAnalysis } from "./store_reader.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/s/analysis`, { recursive: true });
 * await Deno.writeTextFile(`${dir}/s/analysis/claims.json`, '{"schemaVersion": 2, "kind": "claims"}');
 * const r = await readAnalysis(await openStore(dir), "s", "claims");
 * if (r.status !== "invalid") throw new Error("another schema version is refused");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function readAnalysis<K extends AnalysisKind>(
  store: SiteStore,
  sweep: string,
  kind: K,
): Promise<Loaded<Extract<AnalysisFile, { kind: K }>>> {
  return readChecked(
    store,
    [sweep, SWEEP_FILES.analysis, ANALYSIS_FILES[kind]],
    (v) => assertAnalysisFile(v, kind),
  );
}

/** Checks the header of a JSON file the sweep (not the analysis) writes under `analysis/`. */
function checkKind<T>(kind: string, value: unknown, file: string): T {
  const v = value as { schemaVersion?: unknown; kind?: unknown } | null;
  if (typeof v !== "object" || v === null || v.kind !== kind) {
    throw new TypeError(`${file} is not of kind "${kind}"; re-run the analysis.`);
  }
  if (v.schemaVersion !== 1) {
    throw new RangeError(
      `${file} has schemaVersion ${
        JSON.stringify(v.schemaVersion)
      }; expected 1 — re-run the analysis.`,
    );
  }
  return value as T;
}

/**
 * Reads `<sweep>/analysis/epochs.json` (convergence over training, `salience.epochs`).
 * @example
 * ```ts
 * import { openStore, readEpochs } from "./store_reader.ts";
 * const dir = await Deno.makeTempDir();
 * if ((await readEpochs(await openStore(dir), "none")).status !== "missing") throw new Error();
 * await Deno.remove(dir);
 * ```
 */
export function readEpochs(store: SiteStore, sweep: string): Promise<Loaded<EpochsJson>> {
  return readChecked(
    store,
    [sweep, SWEEP_FILES.analysis, "epochs.json"],
    (v, f) => checkKind<EpochsJson>("salience-epochs", v, f),
  );
}

/**
 * Reads `<sweep>/analysis/methods/index.json` (the attribution methods of `salience.methods`).
 * @example
 * ```ts
 * import { openStore, readMethodsIndex } from "./store_reader.ts";
 * const dir = await Deno.makeTempDir();
 * if ((await readMethodsIndex(await openStore(dir), "none")).status !== "missing") throw new Error();
 * await Deno.remove(dir);
 * ```
 */
export function readMethodsIndex(
  store: SiteStore,
  sweep: string,
): Promise<Loaded<MethodsIndexJson>> {
  return readChecked(
    store,
    [sweep, SWEEP_FILES.analysis, "methods", "index.json"],
    (v, f) => checkKind<MethodsIndexJson>("salience-methods-index", v, f),
  );
}

/**
 * Reads one analysis file of an attribution method's analysis folder: `analysis/` itself for the
 * gradient, `analysis/methods/<method>/` for the others. A method name that is not a plain name
 * is reported missing, never joined into a path.
 * @example
 * ```ts
 * import { openStore, readMethodAnalysis } from "./store_reader.ts";
 * const dir = await Deno.makeTempDir();
 * const r = await readMethodAnalysis(await openStore(dir), "s", "../x", "claims");
 * if (r.status !== "missing") throw new Error();
 * await Deno.remove(dir);
 * ```
 */
export function readMethodAnalysis<K extends AnalysisKind>(
  store: SiteStore,
  sweep: string,
  method: string,
  kind: K,
): Promise<Loaded<Extract<AnalysisFile, { kind: K }>>> {
  if (method === "gradient") return readAnalysis(store, sweep, kind);
  return readChecked(
    store,
    [sweep, SWEEP_FILES.analysis, "methods", method, ANALYSIS_FILES[kind]],
    (v) => assertAnalysisFile(v, kind),
  );
}
