/**
 * Typed readers and writers of the results store: sweep folders, plans, run folders, the
 * completion marker and its checksums.
 *
 * @module
 */
import { join } from "node:path";
import { exists, listFiles, readJson, sha256File, sha256Hex, writeJson } from "./io.ts";
import {
  checkStoreFile,
  type CompleteJson,
  type FileChecksum,
  type PlanEntry,
  type PlanJson,
  type RunJson,
  type RunStatus,
  SCHEMA_VERSION,
  type SweepJson,
} from "./schema.ts";

/** Names of the files and folders inside a sweep folder. */
export const SWEEP_FILES = {
  sweep: "sweep.json",
  plan: "plan.json",
  runs: "runs",
  analysis: "analysis",
} as const;

/** Names of the files and folders inside a run folder. */
export const RUN_FILES = {
  run: "run.json",
  checkpoint: "checkpoint",
  salience: "salience.npy",
  salienceSidecar: "salience.json",
  logits: "logits.npy",
  complete: "COMPLETE",
} as const;

/**
 * JSON text of `value` with object keys sorted at every level and no whitespace: equal values
 * give equal text whatever their key order. Cost: linear in the size of `value`.
 *
 * @throws {TypeError} for values JSON cannot represent (functions, non-finite numbers).
 * @example
 * ```ts
 * import { canonicalJson } from "./store.ts";
 * if (canonicalJson({ b: 1, a: [2, { d: 3, c: 4 }] }) !== '{"a":[2,{"c":4,"d":3}],"b":1}') {
 *   throw new Error("not canonical");
 * }
 * ```
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === "string" || typeof value === "boolean") {
    return JSON.stringify(value);
  }
  if (typeof value === "number") {
    if (!Number.isFinite(value)) {
      throw new TypeError(`Cannot hash the number ${value}; expected a finite number.`);
    }
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object") {
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(",")}}`;
  }
  throw new TypeError(`Cannot hash a value of type ${typeof value}; expected JSON data.`);
}

/**
 * SHA-256 (lowercase hex) of {@link canonicalJson}`(value)`: the config hash of sweeps and runs.
 *
 * @example
 * ```ts
 * import { hashConfig } from "./store.ts";
 * if (hashConfig({ a: 1, b: 2 }) !== hashConfig({ b: 2, a: 1 })) throw new Error("order matters");
 * ```
 */
export function hashConfig(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/**
 * Folder name of a run: `<family>-k<k>-s<seed>-<first 8 hex digits of configHash>`.
 *
 * @throws {RangeError} when the family is not a plain name, k is not a positive integer, the
 *   seed is not a non-negative integer, or the hash is shorter than 8 hex digits.
 * @example
 * ```ts
 * import { runIdOf } from "./store.ts";
 * const id = runIdOf({ family: "CNNSmall", k: 4, seed: 0, configHash: "0123456789abcdef" });
 * if (id !== "CNNSmall-k4-s0-01234567") throw new Error(id);
 * ```
 */
export function runIdOf(
  run: { family: string; k: number; seed: number; configHash: string },
): string {
  if (!NAME_RE.test(run.family)) {
    throw new RangeError(
      `Family name '${run.family}' is not a plain name; expected letters, digits, '_', '.', '-'.`,
    );
  }
  if (!Number.isInteger(run.k) || run.k < 1) {
    throw new RangeError(`Width k = ${run.k} is invalid; expected a positive integer.`);
  }
  if (!Number.isInteger(run.seed) || run.seed < 0) {
    throw new RangeError(`Seed ${run.seed} is invalid; expected a non-negative integer.`);
  }
  if (!/^[0-9a-f]{8,}$/.test(run.configHash)) {
    throw new RangeError(
      `Config hash '${run.configHash}' is invalid; expected at least 8 lowercase hex digits.`,
    );
  }
  return `${run.family}-k${run.k}-s${run.seed}-${run.configHash.slice(0, 8)}`;
}

/**
 * Sweep id: `<name>-<first 8 hex digits of configHash>`.
 *
 * @throws {RangeError} when the name is not a plain name or the hash is too short.
 * @example
 * ```ts
 * import { sweepIdOf } from "./store.ts";
 * if (sweepIdOf("tiny", "abcdef0123") !== "tiny-abcdef01") throw new Error("wrong id");
 * ```
 */
export function sweepIdOf(name: string, configHash: string): string {
  if (!NAME_RE.test(name)) {
    throw new RangeError(
      `Sweep name '${name}' is not a plain name; expected letters, digits, '_', '.', '-'.`,
    );
  }
  if (!/^[0-9a-f]{8,}$/.test(configHash)) {
    throw new RangeError(
      `Config hash '${configHash}' is invalid; expected at least 8 lowercase hex digits.`,
    );
  }
  return `${name}-${configHash.slice(0, 8)}`;
}

/**
 * Path of a run's folder inside a sweep folder: `<sweepDir>/runs/<runId>`.
 *
 * @example
 * ```ts
 * import { runDirOf } from "./store.ts";
 * if (runDirOf("results/x", "A-k1-s0-01234567") !== "results/x/runs/A-k1-s0-01234567") throw new Error();
 * ```
 */
export function runDirOf(sweepDir: string, runId: string): string {
  return join(sweepDir, SWEEP_FILES.runs, runId);
}

/**
 * Writes `sweep.json` atomically into `sweepDir` (created if needed).
 *
 * @throws {RangeError} when `sweep.schemaVersion` is not {@link SCHEMA_VERSION}.
 * @example
 * ```ts
 * import { readSweep, writeSweep } from "./store.ts";
 * const dir = await Deno.makeTempDir();
 * await writeSweep(dir, {
 *   schemaVersion: 1, kind: "sweep", sweepId: "x-01234567", configHash: "01234567",
 *   created: new Date().toISOString(), toolkit: { name: "t", version: "0" },
 *   config: {} as never,
 * });
 * if ((await readSweep(dir)).sweepId !== "x-01234567") throw new Error("round trip");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeSweep(sweepDir: string, sweep: SweepJson): Promise<void> {
  checkStoreFile(sweep, join(sweepDir, SWEEP_FILES.sweep), "sweep");
  await writeJson(join(sweepDir, SWEEP_FILES.sweep), sweep);
}

/**
 * Reads and checks `sweep.json` of a sweep folder.
 *
 * @throws {Deno.errors.NotFound} when the folder has no `sweep.json`.
 * @throws {SyntaxError} when it is not JSON; {@link RangeError} on a schema-version mismatch.
 * @example
 * ```ts
 * import { readSweep } from "./store.ts";
 * const dir = await Deno.makeTempDir();
 * let threw = false;
 * try { await readSweep(dir); } catch { threw = true; }
 * if (!threw) throw new Error("expected NotFound");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readSweep(sweepDir: string): Promise<SweepJson> {
  const path = join(sweepDir, SWEEP_FILES.sweep);
  return checkStoreFile(await readJson(path), path, "sweep");
}

/**
 * Writes `plan.json` atomically.
 *
 * @throws {RangeError} when an entry's `index` is not its position or run ids repeat.
 * @example
 * ```ts
 * import { readPlan, writePlan } from "./store.ts";
 * const dir = await Deno.makeTempDir();
 * await writePlan(dir, {
 *   schemaVersion: 1, kind: "plan", sweepId: "x-01234567", configHash: "01234567",
 *   runs: [], sharding: { rule: "round-robin", description: "index % n" },
 * });
 * if ((await readPlan(dir)).runs.length !== 0) throw new Error("round trip");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writePlan(sweepDir: string, plan: PlanJson): Promise<void> {
  const path = join(sweepDir, SWEEP_FILES.plan);
  checkStoreFile(plan, path, "plan");
  checkPlanEntries(plan.runs, path);
  await writeJson(path, plan);
}

function checkPlanEntries(runs: PlanEntry[], path: string): void {
  const seen = new Set<string>();
  runs.forEach((r, i) => {
    if (r.index !== i) {
      throw new RangeError(
        `${path} run ${r.runId} has index ${r.index}; expected its position ${i}.`,
      );
    }
    if (seen.has(r.runId)) {
      throw new RangeError(`${path} lists run ${r.runId} twice; expected unique run ids.`);
    }
    seen.add(r.runId);
  });
}

/**
 * Reads and checks `plan.json` of a sweep folder.
 *
 * @throws {Deno.errors.NotFound}, {@link SyntaxError}, {@link RangeError} as {@link readSweep}.
 * @example
 * ```ts
 * import { readPlan } from "./store.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/plan.json`, '{"schemaVersion": 9, "kind": "plan"}');
 * let msg = "";
 * try { await readPlan(dir); } catch (e) { msg = (e as Error).message; }
 * if (!msg.includes("schemaVersion 9")) throw new Error(msg);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readPlan(sweepDir: string): Promise<PlanJson> {
  const path = join(sweepDir, SWEEP_FILES.plan);
  const plan = checkStoreFile(await readJson(path), path, "plan");
  checkPlanEntries(plan.runs, path);
  return plan;
}

/** One sweep found under a results root. */
export interface SweepListing {
  /** Path of the sweep folder. */
  dir: string;
  sweep: SweepJson;
}

/**
 * Lists the sweep folders directly under `root` (folders holding a `sweep.json`), oldest
 * first by `created`, then by id. A missing root gives an empty list.
 *
 * @throws {SyntaxError} or {@link RangeError} naming the file when a `sweep.json` is
 *   unreadable or of another schema version.
 * @example
 * ```ts
 * import { listSweeps } from "./store.ts";
 * const dir = await Deno.makeTempDir();
 * if ((await listSweeps(`${dir}/none`)).length !== 0) throw new Error("expected empty");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function listSweeps(root: string): Promise<SweepListing[]> {
  const out: SweepListing[] = [];
  try {
    for await (const e of Deno.readDir(root)) {
      if (!e.isDirectory) continue;
      const dir = join(root, e.name);
      if (!(await exists(join(dir, SWEEP_FILES.sweep)))) continue;
      out.push({ dir, sweep: await readSweep(dir) });
    }
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
  return out.sort((a, b) =>
    a.sweep.created < b.sweep.created
      ? -1
      : a.sweep.created > b.sweep.created
      ? 1
      : a.sweep.sweepId.localeCompare(b.sweep.sweepId)
  );
}

/**
 * Writes `run.json` atomically into a run folder.
 *
 * @throws {TypeError} when a required field is missing or a number is not finite.
 * @example
 * ```ts
 * import { writeRun } from "./store.ts";
 * const dir = await Deno.makeTempDir();
 * let threw = false;
 * try { await writeRun(dir, { schemaVersion: 1, kind: "run" } as never); } catch { threw = true; }
 * if (!threw) throw new Error("expected a TypeError for missing fields");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeRun(runDir: string, run: RunJson): Promise<void> {
  const path = join(runDir, RUN_FILES.run);
  checkStoreFile(run, path, "run");
  await writeJson(path, run);
}

/**
 * Reads and checks `run.json` of a run folder.
 *
 * @throws {Deno.errors.NotFound}, {@link SyntaxError}, {@link RangeError} as {@link readSweep}.
 * @example
 * ```ts
 * import { readRun } from "./store.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/run.json`, "[1,");
 * let threw = false;
 * try { await readRun(dir); } catch (e) { threw = e instanceof SyntaxError; }
 * if (!threw) throw new Error("expected a SyntaxError");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readRun(runDir: string): Promise<RunJson> {
  const path = join(runDir, RUN_FILES.run);
  return checkStoreFile(await readJson(path), path, "run");
}

/**
 * The artifacts a run record declares (its salience, sidecar and logits files), relative to the
 * run folder; a marker must list each. Fields absent from `run` declare nothing.
 */
function declaredArtifacts(run: unknown): string[] {
  if (typeof run !== "object" || run === null) return [];
  const r = run as {
    salience?: { file?: unknown; sidecar?: unknown };
    logits?: { file?: unknown };
  };
  return [r.salience?.file, r.salience?.sidecar, r.logits?.file].filter(
    (f): f is string => typeof f === "string",
  );
}

/**
 * Writes the completion marker `COMPLETE` of a run folder: the size and SHA-256 of every file
 * in the folder (recursively, temporaries excluded). Write it last, after every artifact is in
 * place. Cost: one read of every artifact.
 *
 * @throws {RangeError} when the folder has no `run.json` (a run without its record is not
 *   complete) or an artifact `run.json` declares is missing.
 * @example
 * ```ts
 * import { markComplete, verifyRun } from "./store.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/run.json`, "{}");
 * await markComplete(dir, "CNNSmall-k1-s0-01234567");
 * if ((await verifyRun(dir)).status !== "complete") throw new Error("not complete");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function markComplete(runDir: string, runId: string): Promise<CompleteJson> {
  const names = await listFiles(runDir, [RUN_FILES.complete]);
  if (!names.includes(RUN_FILES.run)) {
    throw new RangeError(
      `${runDir} has no ${RUN_FILES.run}; write the run record before marking the run complete.`,
    );
  }
  const missing = declaredArtifacts(await readJson(join(runDir, RUN_FILES.run)))
    .filter((f) => !names.includes(f));
  if (missing.length > 0) {
    throw new RangeError(
      `${runDir}/${RUN_FILES.run} declares ${missing.join(", ")}, which the folder lacks; ` +
        `rerun the sweep to write them before marking the run complete.`,
    );
  }
  const files: FileChecksum[] = [];
  for (const path of names) {
    const abs = join(runDir, path);
    const st = await Deno.stat(abs);
    files.push({ path, bytes: st.size, sha256: await sha256File(abs) });
  }
  const marker: CompleteJson = {
    schemaVersion: SCHEMA_VERSION,
    kind: "complete",
    runId,
    completed: new Date().toISOString(),
    files,
  };
  await writeJson(join(runDir, RUN_FILES.complete), marker);
  return marker;
}

/**
 * Reads a run folder's completion marker; `null` when there is none.
 *
 * @throws {SyntaxError} or {@link RangeError} when the marker is unreadable.
 * @example
 * ```ts
 * import { readComplete } from "./store.ts";
 * const dir = await Deno.makeTempDir();
 * if ((await readComplete(dir)) !== null) throw new Error("expected null");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readComplete(runDir: string): Promise<CompleteJson | null> {
  const path = join(runDir, RUN_FILES.complete);
  if (!(await exists(path))) return null;
  return checkStoreFile(await readJson(path), path, "complete");
}

/**
 * Removes a run folder's completion marker (before one of its artifacts is redone).
 *
 * @example
 * ```ts
 * import { clearComplete } from "./store.ts";
 * const dir = await Deno.makeTempDir();
 * await clearComplete(dir); // no marker: nothing to do
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function clearComplete(runDir: string): Promise<void> {
  await Deno.remove(join(runDir, RUN_FILES.complete)).catch((err) => {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  });
}

/** One artifact that failed verification. */
export interface ArtifactProblem {
  /** Path relative to the run folder. */
  path: string;
  /** `missing`: listed but absent; `size` or `checksum`: present but different. */
  problem: "missing" | "size" | "checksum";
}

/** Result of {@link verifyRun}. */
export interface RunVerification {
  /** `complete` only when the marker is valid and every listed artifact matches it. */
  status: RunStatus;
  /**
   * `valid`: the marker parses, lists every file of the folder and every artifact `run.json`
   * declares (its artifacts may still fail, see `problems`); `missing`: no marker; `invalid`:
   * unreadable, or it leaves a file out. Without a valid marker no artifact is trusted.
   */
  marker: "valid" | "missing" | "invalid";
  /** Artifacts whose size or checksum differs from a valid marker, or that are missing. */
  problems: ArtifactProblem[];
  /** Why a present folder is `partial`, in one sentence; `null` when complete or missing. */
  reason: string | null;
}

/**
 * Recomputes the checksums of a run folder against its `COMPLETE` marker. A folder without a
 * marker, with an unreadable one, with one that does not list every file of the folder (or
 * every artifact `run.json` declares), or with any mismatching artifact is `partial` (the sweep
 * re-verifies or redoes its artifacts); no folder is `missing`. Cost: one read of every artifact.
 *
 * @example
 * ```ts
 * import { markComplete, verifyRun } from "./store.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/run.json`, "{}");
 * await Deno.writeTextFile(`${dir}/salience.npy`, "abc");
 * await markComplete(dir, "CNNSmall-k1-s0-01234567");
 * await Deno.writeTextFile(`${dir}/salience.npy`, "abd");
 * const v = await verifyRun(dir);
 * if (v.status !== "partial" || v.problems[0]?.path !== "salience.npy") throw new Error("missed");
 * await Deno.writeTextFile(`${dir}/extra.npy`, "x");
 * if ((await verifyRun(dir)).marker !== "invalid") throw new Error("unlisted file trusted");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function verifyRun(runDir: string): Promise<RunVerification> {
  if (!(await exists(runDir))) {
    return { status: "missing", marker: "missing", problems: [], reason: null };
  }
  let marker: CompleteJson | null;
  try {
    marker = await readComplete(runDir);
  } catch (err) {
    return { status: "partial", marker: "invalid", problems: [], reason: (err as Error).message };
  }
  if (marker === null) {
    return {
      status: "partial",
      marker: "missing",
      problems: [],
      reason: `${runDir} has no ${RUN_FILES.complete} marker.`,
    };
  }
  const listed = new Set(marker.files.map((f) => f.path));
  const present = await listFiles(runDir, [RUN_FILES.complete]);
  let declared: string[] = [];
  if (present.includes(RUN_FILES.run)) {
    declared = declaredArtifacts(await readJson(join(runDir, RUN_FILES.run)).catch(() => null));
  }
  const unlisted = [...new Set([...present, ...declared, RUN_FILES.run])]
    .filter((p) => !listed.has(p)).sort();
  if (unlisted.length > 0) {
    return {
      status: "partial",
      marker: "invalid",
      problems: [],
      reason: `${runDir}/${RUN_FILES.complete} does not list ${unlisted.join(", ")}; ` +
        `a marker lists every artifact, so none of them is trusted.`,
    };
  }
  const problems: ArtifactProblem[] = [];
  for (const f of marker.files) {
    const abs = join(runDir, f.path);
    let size: number;
    try {
      size = (await Deno.stat(abs)).size;
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) {
        problems.push({ path: f.path, problem: "missing" });
        continue;
      }
      throw err;
    }
    if (size !== f.bytes) problems.push({ path: f.path, problem: "size" });
    else if ((await sha256File(abs)) !== f.sha256) {
      problems.push({ path: f.path, problem: "checksum" });
    }
  }
  if (problems.length > 0) {
    return {
      status: "partial",
      marker: "valid",
      problems,
      reason: `${runDir}: ${problems.map((p) => `${p.path} (${p.problem})`).join(", ")} ` +
        `differ from the ${RUN_FILES.complete} marker.`,
    };
  }
  return { status: "complete", marker: "valid", problems, reason: null };
}

/**
 * The runs of a sweep that readers may use: those whose `COMPLETE` marker verifies (every
 * checksum recomputed). Runs without a marker (not finished yet) are left out; a run whose
 * marker exists but fails is an error naming the file and the fix, since analysing around it
 * would silently change results. Cost: one read of every artifact of every marked run.
 *
 * @throws {RangeError} naming the run folder, the failing file(s) and the fix.
 * @example
 * ```ts
 * import { verifiedRuns, writePlan } from "./store.ts";
 * const dir = await Deno.makeTempDir();
 * await writePlan(dir, {
 *   schemaVersion: 1, kind: "plan", sweepId: "x-01234567", configHash: "01234567",
 *   runs: [{ index: 0, runId: "CNNSmall-k1-s0-01234567", family: "CNNSmall", k: 1, seed: 0,
 *     batchSize: 64, configHash: "01234567" }],
 *   sharding: { rule: "round-robin", description: "index % n" },
 * });
 * if ((await verifiedRuns(dir)).length !== 0) throw new Error("a missing run is not complete");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function verifiedRuns(sweepDir: string): Promise<RunListing[]> {
  const out: RunListing[] = [];
  for (const r of await listRuns(sweepDir, { verify: true })) {
    if (r.status === "complete") out.push(r);
    else if (r.status === "partial" && r.marker !== "missing") {
      throw new RangeError(
        `${r.reason} Rerun the sweep (the same deno task sweep command, or its shard) to ` +
          `redo ${r.runId}, then analyse again.`,
      );
    }
  }
  return out;
}

/** A planned run with its folder and status in the store. */
export interface RunListing extends PlanEntry {
  /** Path of the run folder. */
  dir: string;
  status: RunStatus;
  /** Set when `verify` was asked and the status is `partial`. */
  problems?: ArtifactProblem[];
  /** Set when `verify` was asked: the marker's state (see {@link RunVerification}). */
  marker?: RunVerification["marker"];
  /** Set when `verify` was asked and the status is `partial`: why, in one sentence. */
  reason?: string | null;
}

/**
 * Lists every run of a sweep's plan with its status: `complete` (a valid `COMPLETE` marker;
 * with `verify: true` also every checksum matches), `partial` (the folder exists but is not
 * complete), `missing` (no folder yet). Readers use {@link verifiedRuns}, which verifies.
 * Cost: one stat per run; with `verify`, one read of every artifact.
 *
 * @throws as {@link readPlan}.
 * @example
 * ```ts
 * import { listRuns, writePlan } from "./store.ts";
 * const dir = await Deno.makeTempDir();
 * await writePlan(dir, {
 *   schemaVersion: 1, kind: "plan", sweepId: "x-01234567", configHash: "01234567",
 *   runs: [{ index: 0, runId: "CNNSmall-k1-s0-01234567", family: "CNNSmall", k: 1, seed: 0,
 *     batchSize: 64, configHash: "01234567" }],
 *   sharding: { rule: "round-robin", description: "index % n" },
 * });
 * const runs = await listRuns(dir);
 * if (runs[0]?.status !== "missing") throw new Error("expected missing");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function listRuns(
  sweepDir: string,
  options: { verify?: boolean } = {},
): Promise<RunListing[]> {
  const plan = await readPlan(sweepDir);
  const out: RunListing[] = [];
  for (const entry of plan.runs) {
    const dir = runDirOf(sweepDir, entry.runId);
    if (options.verify) {
      const v = await verifyRun(dir);
      out.push({
        ...entry,
        dir,
        status: v.status,
        marker: v.marker,
        ...(v.status === "partial" ? { problems: v.problems, reason: v.reason } : {}),
      });
      continue;
    }
    let status: RunStatus = "missing";
    if (await exists(dir)) {
      status = "partial";
      try {
        if ((await readComplete(dir)) !== null) status = "complete";
      } catch {
        status = "partial";
      }
    }
    out.push({ ...entry, dir, status });
  }
  return out;
}
