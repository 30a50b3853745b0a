/**
 * The results store: one folder per sweep holding its resolved config (`sweep.json`), its plan
 * (`plan.json`), one folder per run (`runs/<family>-k<k>-s<seed>-<hash8>/`) with the trained
 * checkpoint, the probe-set salience and a `COMPLETE` marker carrying the SHA-256 of every
 * artifact, and an `analysis/` folder of JSON. Schema version 1; the layout and every field are
 * described in `docs/store.md`.
 *
 * Every write is atomic (temporary name, then rename), so a reader or a killed writer never
 * sees half a file. The sweep writes the store, the analysis adds to it, the site only reads it.
 *
 * @example
 * ```ts
 * import { listRuns, listSweeps, readRun } from "./mod.ts";
 * for (const { dir } of await listSweeps("results")) {
 *   for (const run of await listRuns(dir)) {
 *     if (run.status === "complete") console.log((await readRun(run.dir)).final.testAcc);
 *   }
 * }
 * ```
 *
 * @module
 */
export * from "./schema.ts";
export {
  acquireLock,
  describeHolder,
  type LockHolder,
  lockPathOf,
  LOCKS_DIR,
  readLockHolder,
  type StoreLock,
} from "./lock.ts";
export {
  CHECKSUMS_FILE,
  exists,
  isTemporaryName,
  listFiles,
  readJson,
  recoverDir,
  removeIfPresent,
  replaceDir,
  sha256File,
  sha256Hex,
  temporaryPathOf,
  TMP_MARK,
  verifyChecksums,
  writeAll,
  writeChecksums,
  writeDirAsUnit,
  writeFileAtomic,
  writeJson,
} from "./io.ts";
export {
  type ArtifactProblem,
  canonicalJson,
  clearComplete,
  hashConfig,
  listRuns,
  listSweeps,
  markComplete,
  readComplete,
  readPlan,
  readRun,
  readSweep,
  RUN_FILES,
  runDirOf,
  runIdOf,
  type RunListing,
  type RunVerification,
  SWEEP_FILES,
  sweepIdOf,
  type SweepListing,
  verifiedRuns,
  verifyRun,
  writePlan,
  writeRun,
  writeSweep,
} from "./store.ts";
