/**
 * The end of a sweep: the attack and ensemble experiments, then the analysis of every complete
 * run (`analyzeSweep()` of `lib/analysis`), written into `<sweep>/analysis/`.
 *
 * @module
 */
import { type AnalyzeResult, analyzeSweep } from "../analysis/mod.ts";

/** Options of {@link analyzeSweepDir}. */
export interface AnalyzeSweepDirOptions {
  /** Receives one line per claim and a summary line (default: none). */
  log?: (line: string) => void;
  /** Kernels on the CPU reference instead of WebGPU. */
  cpu?: boolean;
}

/**
 * Runs the experiments and the analysis over the complete runs of a sweep folder and reports
 * each claim's verdict.
 *
 * Cost: one pass over the gradients plus the experiments (see `lib/analysis`).
 *
 * @throws {RangeError} when the sweep has no complete run.
 */
export async function analyzeSweepDir(
  sweepDir: string,
  options: AnalyzeSweepDirOptions = {},
): Promise<AnalyzeResult> {
  const log = options.log ?? (() => {});
  const result = await analyzeSweep(sweepDir, { gpu: options.cpu ? "cpu" : "auto" });
  const s = result.summary;
  log(
    `analysed ${s.counts.models} models × ${s.counts.samples} samples (D = ${s.counts.dimension}) on ${s.backend.kind}` +
      `${
        s.backend.adapter
          ? ` (${s.backend.adapter}${s.backend.software ? ", software adapter" : ""})`
          : ""
      } → ${result.outDir}`,
  );
  for (const c of result.claims.claims) log(`  ${c.verdict.padEnd(12)} ${c.id}: ${c.reason}`);
  return result;
}
