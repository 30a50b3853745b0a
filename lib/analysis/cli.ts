/**
 * `deno task analyze`: re-analyse a sweep folder, or analyse gradients exported from any
 * framework.
 *
 * ```sh
 * deno task analyze --run results/<sweep-id>
 * deno task analyze --grads grads.npy --models models.json [--out DIR]
 * ```
 *
 * Options: `--out DIR` (where the JSON goes; default `<sweep>/analysis`, or `analysis/` beside
 * the gradients file), `--cpu` (pure-TypeScript kernels), `--resamples N`, `--seed N`,
 * `--batch N` (samples per streamed batch).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { analyzeExternal, type AnalyzeOptions, type AnalyzeResult, analyzeSweep } from "./sweep.ts";

const USAGE = `usage:
  deno task analyze --run SWEEP_DIR [--out DIR] [--cpu] [--resamples N] [--seed N] [--batch N]
  deno task analyze --grads FILE.npy --models FILE.json [--out DIR] [--cpu] [--resamples N] [--seed N] [--batch N]

FILE.npy holds float32 gradients [M, N, D] (C order); FILE.json lists each model in order:
  [{"family": "CNNSmall", "k": 10, "seed": 0}, ...]
or {"models": [...], "scalar": "true-class-logit", "pooling": 8, "inputShape": [3, 32, 32]}.`;

/**
 * Runs the CLI on `args` and returns what was written (prints a one-line verdict per claim).
 *
 * @throws {TypeError} on missing or contradictory arguments (the message includes the usage).
 *
 * @example
 * ```ts
 * import { runAnalyzeCli } from "./cli.ts";
 * let threw = false;
 * try { await runAnalyzeCli([]); } catch { threw = true; }
 * if (!threw) throw new Error("expected a usage error");
 * ```
 */
export async function runAnalyzeCli(args: string[]): Promise<AnalyzeResult> {
  const { values } = parseArgs({
    args,
    options: {
      run: { type: "string" },
      grads: { type: "string" },
      models: { type: "string" },
      out: { type: "string" },
      cpu: { type: "boolean", default: false },
      resamples: { type: "string" },
      seed: { type: "string" },
      batch: { type: "string" },
      quiet: { type: "boolean", default: false },
    },
    strict: true,
  });
  const int = (name: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new RangeError(`--${name} is ${JSON.stringify(v)}; expected a non-negative integer.`);
    }
    return n;
  };
  const options: AnalyzeOptions = {
    gpu: values.cpu ? "cpu" : "auto",
    outDir: values.out,
    resamples: int("resamples", values.resamples),
    seed: int("seed", values.seed),
    batchSize: int("batch", values.batch),
  };
  let result: AnalyzeResult;
  if (values.run !== undefined && values.grads === undefined) {
    result = await analyzeSweep(values.run, options);
  } else if (
    values.grads !== undefined && values.models !== undefined && values.run === undefined
  ) {
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
  } else {
    throw new TypeError(`give either --run SWEEP_DIR or both --grads and --models.\n${USAGE}`);
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
    for (const c of result.claims.claims) {
      console.log(`  ${c.verdict.padEnd(12)} ${c.id}: ${c.reason}`);
    }
  }
  return result;
}

if (import.meta.main) {
  try {
    await runAnalyzeCli(Deno.args);
  } catch (e) {
    console.error((e as Error).message);
    Deno.exit(1);
  }
}
