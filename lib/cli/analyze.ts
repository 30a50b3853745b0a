/**
 * `deno task analyze`: `--run SWEEP_DIR` runs a sweep's attack and ensemble experiments on its
 * complete runs and then the analysis (what a sweep does at its end, so a sharded sweep is
 * analysed by one command); `--grads FILE.npy --models FILE.json` analyses gradients exported
 * from any framework.
 *
 * ```sh
 * deno task analyze --run results/<sweep-id>
 * deno task analyze --grads grads.npy --models models.json [--out DIR]
 * ```
 *
 * Options: `--out DIR` (where the JSON goes; default `<sweep>/analysis`, or `analysis/` beside
 * the gradients file), `--cpu` (pure-TypeScript kernels), `--resamples N`, `--seed N`,
 * `--batch N` (samples per streamed batch), `--non-finite exclude|error` (gradients holding NaN or
 * ±Inf: counted and left out, the default, or an error), `--quiet`.
 *
 * @module
 */

import { parseFlags, UsageError, wantsHelp } from "./args.ts";
import { NON_FINITE_POLICIES, type NonFinitePolicy } from "../analysis/gradients.ts";
import {
  analyzeExternal,
  type AnalyzeOptions,
  type AnalyzeResult,
  analyzeSweep,
} from "../analysis/sweep.ts";
import { analyzeSweepDir } from "../sweep/analyze.ts";

/** The usage `deno task analyze --help` prints. */
export const ANALYZE_USAGE = `usage:
  deno task analyze --run SWEEP_DIR [--out DIR] [--cpu] [--resamples N] [--seed N] [--batch N] [--non-finite exclude|error]
  deno task analyze --grads FILE.npy --models FILE.json [--out DIR] [--cpu] [--resamples N] [--seed N] [--batch N] [--non-finite exclude|error]

FILE.npy holds float32 gradients [M, N, D] (C order); FILE.json lists each model in order:
  [{"family": "CNNSmall", "k": 10, "seed": 0}, ...]
or {"models": [...], "scalar": "true-class-logit", "pooling": 8, "inputShape": [3, 32, 32]}.`;

/** The parsed command line of `deno task analyze`: a sweep folder or an exported file. */
export type AnalyzeArgs =
  & {
    /** `--quiet`: print nothing. */
    quiet: boolean;
    /** Options for the analysis (`--out`, `--cpu`, `--resamples`, `--seed`, `--batch`). */
    options: AnalyzeOptions;
  }
  & (
    /** `--run`: the sweep folder to re-analyse. */
    | { run: string }
    /** `--grads` (an exported `[M, N, D]` float32 `.npy`) with `--models` (its JSON model list). */
    | { grads: string; models: string }
  );

/**
 * Parses `deno task analyze`'s arguments; exactly one of `--run` or `--grads` with `--models`.
 *
 * @throws {TypeError} on an unknown flag or a missing/contradictory pair (with the usage).
 * @throws {RangeError} when a count is not a non-negative integer.
 *
 * @example
 * ```ts
 * import { parseAnalyzeArgs } from "./analyze.ts";
 * const a = parseAnalyzeArgs(["--run", "results/x", "--cpu", "--seed", "3"]);
 * if (!("run" in a) || a.run !== "results/x" || a.options.seed !== 3) throw new Error();
 * ```
 */
export function parseAnalyzeArgs(args: string[]): AnalyzeArgs {
  const parsed = parseFlags("deno task analyze", args, {
    run: { type: "string" },
    grads: { type: "string" },
    models: { type: "string" },
    out: { type: "string" },
    cpu: { type: "boolean", default: false },
    resamples: { type: "string" },
    seed: { type: "string" },
    batch: { type: "string" },
    "non-finite": { type: "string" },
    quiet: { type: "boolean", default: false },
  });
  if (parsed.help) throw new UsageError(ANALYZE_USAGE);
  const values = {
    ...parsed.values,
    cpu: parsed.values.cpu ?? false,
    quiet: parsed.values.quiet ?? false,
  };
  const int = (name: string, v: string | undefined, min = 0) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < min) {
      throw new RangeError(
        `--${name} is ${JSON.stringify(v)}; expected ${
          min === 0 ? "a non-negative" : "a positive"
        } integer.`,
      );
    }
    return n;
  };
  if (values.out !== undefined && values.out.trim() === "") {
    throw new RangeError("--out is ''; pass --out DIR with a folder name.");
  }
  const nonFinite = values["non-finite"];
  if (nonFinite !== undefined && !(NON_FINITE_POLICIES as readonly string[]).includes(nonFinite)) {
    throw new RangeError(
      `--non-finite is ${JSON.stringify(nonFinite)}; expected ${
        NON_FINITE_POLICIES.join(" or ")
      } (count gradients holding NaN or ±Inf and leave them out, or stop with an error).`,
    );
  }
  const common = {
    quiet: values.quiet,
    options: {
      gpu: values.cpu ? "cpu" as const : "auto" as const,
      outDir: values.out,
      resamples: int("resamples", values.resamples),
      seed: int("seed", values.seed),
      batchSize: int("batch", values.batch, 1),
      nonFinite: nonFinite as NonFinitePolicy | undefined,
    },
  };
  const { run, grads, models } = values;
  if (run !== undefined && grads === undefined && models === undefined) return { ...common, run };
  if (grads !== undefined && models !== undefined && run === undefined) {
    return { ...common, grads, models };
  }
  throw new TypeError(
    `give either --run SWEEP_DIR or both --grads and --models.\n${ANALYZE_USAGE}`,
  );
}

/**
 * Analyses what `args` name and returns what was written (prints a one-line verdict per claim).
 * `--run` here analyses the gradients only; `deno task analyze` ({@linkcode analyzeMain}) also
 * runs the attack and ensemble experiments of a sweep first.
 *
 * @throws {TypeError} on missing or contradictory arguments (the message includes the usage).
 *
 * @example
 * ```ts
 * import { runAnalyzeCli } from "./analyze.ts";
 * let threw = false;
 * try { await runAnalyzeCli([]); } catch { threw = true; }
 * if (!threw) throw new Error("expected a usage error");
 * ```
 */
export async function runAnalyzeCli(args: string[]): Promise<AnalyzeResult> {
  const values = parseAnalyzeArgs(args);
  const options = values.options;
  let result: AnalyzeResult;
  if ("run" in values) {
    result = await analyzeSweep(values.run, options);
  } else {
    let models: unknown;
    try {
      models = JSON.parse(await Deno.readTextFile(values.models));
    } catch (e) {
      if (e instanceof SyntaxError) {
        throw new SyntaxError(
          `${values.models} is not valid JSON (${e.message}); expected a list of {family, k, seed}.`,
        );
      }
      throw e;
    }
    result = await analyzeExternal(
      values.grads,
      models as Parameters<typeof analyzeExternal>[1],
      options,
    );
  }
  if (!values.quiet) {
    const s = result.summary;
    console.log(
      `analysed ${s.counts.models} models × ${s.counts.samples} samples (D = ${s.counts.dimension}) on ` +
        `${s.backend.kind}${
          s.backend.adapter
            ? ` (${s.backend.adapter}${s.backend.software ? ", software" : ""})`
            : ""
        } ` +
        `in ${s.timings.total} ms → ${result.outDir}`,
    );
    const bad = s.counts.nonFiniteGradients ?? 0;
    if (s.counts.zeroGradients > 0 || bad > 0) {
      console.log(
        `  left out: ${s.counts.zeroGradients} zero gradients, ${bad} holding NaN or ±Inf (per model in similarity.json)`,
      );
    }
    for (const c of result.claims.claims) {
      console.log(`  ${c.verdict.padEnd(12)} ${c.id}: ${c.reason}`);
    }
  }
  return result;
}

/**
 * Runs `deno task analyze` on `args`; returns the process exit code (0 done, 1 the analysis
 * failed, 2 bad arguments). Unlike {@linkcode runAnalyzeCli}, `--run` first runs the sweep's
 * attack and ensemble experiments on its complete runs.
 *
 * @example
 * ```ts
 * import { analyzeMain } from "./analyze.ts";
 * if ((await analyzeMain(["--help"])) !== 0) throw new Error();
 * ```
 */
export async function analyzeMain(args: string[]): Promise<number> {
  if (wantsHelp(args)) {
    console.log(ANALYZE_USAGE);
    return 0;
  }
  let parsed;
  try {
    parsed = parseAnalyzeArgs(args);
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    return 2;
  }
  try {
    if ("run" in parsed) {
      const { gpu: _gpu, ...analysis } = parsed.options;
      await analyzeSweepDir(parsed.run, {
        cpu: parsed.options.gpu === "cpu",
        log: parsed.quiet ? undefined : (line) => console.log(line),
        analysis,
      });
    } else {
      await runAnalyzeCli(args);
    }
    return 0;
  } catch (e) {
    console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

if (import.meta.main) {
  Deno.exit(await analyzeMain(Deno.args));
}
