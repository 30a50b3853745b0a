/**
 * `deno task analyze`: `--run SWEEP_DIR` runs a sweep's attack and ensemble experiments on its
 * complete runs and then the analysis (what a sweep does at its end, so a sharded sweep is
 * analysed by one command); `--grads FILE.npy --models FILE.json` analyses gradients exported
 * from any framework (see `lib/analysis/cli.ts` for every flag).
 *
 * @module
 */
import { parseAnalyzeArgs, runAnalyzeCli, USAGE } from "../analysis/cli.ts";
import { wantsHelp } from "../cli_args.ts";
import { analyzeSweepDir } from "./analyze.ts";

if (import.meta.main) {
  if (wantsHelp(Deno.args)) {
    console.log(USAGE);
    Deno.exit(0);
  }
  let args;
  try {
    args = parseAnalyzeArgs(Deno.args);
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    Deno.exit(2);
  }
  try {
    if ("run" in args) {
      const { gpu: _gpu, ...analysis } = args.options;
      await analyzeSweepDir(args.run, {
        cpu: args.options.gpu === "cpu",
        log: args.quiet ? undefined : (line) => console.log(line),
        analysis,
      });
    } else {
      await runAnalyzeCli(Deno.args);
    }
  } catch (e) {
    console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
    Deno.exit(1);
  }
}
