/**
 * `deno task analyze`: `--run SWEEP_DIR` runs a sweep's attack and ensemble experiments on its
 * complete runs and then the analysis (what a sweep does at its end, so a sharded sweep is
 * analysed by one command); `--grads FILE.npy --models FILE.json` analyses gradients exported
 * from any framework (see `lib/analysis/cli.ts` for every flag).
 *
 * @module
 */
import { parseAnalyzeArgs, runAnalyzeCli } from "../analysis/mod.ts";
import { analyzeSweepDir } from "./analyze.ts";

if (import.meta.main) {
  try {
    const args = parseAnalyzeArgs(Deno.args);
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
    console.error(e instanceof Error ? e.message : String(e));
    Deno.exit(1);
  }
}
