/**
 * The command-line entry points, one file per command, apart from the library modules they
 * drive (which never import them), and the argument parser they share (`args.ts`):
 *
 * | command | file | drives |
 * | --- | --- | --- |
 * | `deno task sweep` | `sweep.ts` | `lib/sweep` (plan, training, salience, analysis), `--dry-run` |
 * | `deno task analyze` | `analyze.ts` | `lib/analysis` and the sweep's experiments |
 * | `deno task serve` | `serve.ts`, through `site.ts` | `lib/site`'s app |
 * | `deno task report` | `report.ts`, through `site.ts` | `lib/site`'s static export |
 * | `deno task models` | `models.ts` | `lib/models`' parameter counts |
 *
 * Every command answers `--help` with its usage and a mistake with one line naming it (exit 2).
 * `serve` and `report` start at the project's `site.ts`, which hands its pages to
 * {@linkcode siteMain}.
 *
 * @example
 * ```ts
 * import { parseSweepArgs } from "./mod.ts";
 * const args = await parseSweepArgs(["--preset", "tiny", "--dry-run"], {});
 * if (args.help || !args.dryRun || args.config.name !== "tiny") throw new Error();
 * ```
 *
 * @module
 */
export { parseFlags, UsageError, wantsHelp } from "./args.ts";
export {
  dryRunReport,
  parseEpochList,
  parseSweepArgs,
  SWEEP_USAGE,
  type SweepArgs,
  sweepMain,
} from "./sweep.ts";
export {
  ANALYZE_USAGE,
  type AnalyzeArgs,
  analyzeMain,
  parseAnalyzeArgs,
  runAnalyzeCli,
} from "./analyze.ts";
export { locateRun, REPORT_USAGE, reportCli } from "./report.ts";
export { SERVE_USAGE, serveCli } from "./serve.ts";
export { siteMain } from "./site.ts";
export { MODELS_USAGE, modelsMain, parameterTable, parseShape } from "./models.ts";
