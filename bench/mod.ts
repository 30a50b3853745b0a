/**
 * `deno task bench`: runs every benchmark in {@link BENCHES} in order, prints each one's table
 * as it finishes, and at the end prints all of them again as Markdown for the README.
 *
 * Usage: `deno task bench [--quick] [--scale=<x>] [--only=<size>=<v,…>] [name ...]` — `--quick`
 * runs small sizes (a smoke test of the harness, numbers not meaningful); `--scale=<x>`
 * multiplies the work of every measurement (raise it on a hardware GPU, where the default sizes
 * finish in milliseconds); `--only=M=16,256` keeps the cases with those sizes (the analysis
 * bench's sizes are M and D; repeat the flag for both); names pick benchmarks (default: all).
 *
 * Adding a benchmark: write `bench/<name>_bench.ts` exporting `run(ctx: BenchContext):
 * Promise<BenchReport>` (see `_harness.ts`) and add one line to {@link BENCHES}.
 *
 * @module
 */

import type { BenchContext, BenchModule, BenchReport } from "./_harness.ts";

/** Every benchmark, by name, in the order `deno task bench` runs them. One line each. */
export const BENCHES: ReadonlyArray<readonly [string, () => Promise<BenchModule>]> = [
  ["analysis", () => import("./analysis_bench.ts")],
  ["npy", () => import("./npy_bench.ts")],
  ["train", () => import("./train_bench.ts")],
];

/**
 * Runs the named benchmarks (all when `names` is empty) and returns their reports.
 *
 * @throws {RangeError} naming an unknown benchmark.
 *
 * @example
 * ```ts
 * import { rejects } from "node:assert/strict";
 * import { runBenches } from "./mod.ts";
 * await rejects(runBenches(["nonesuch"], { quick: true, scale: 1, log: () => {} }), RangeError);
 * ```
 */
export async function runBenches(names: string[], ctx: BenchContext): Promise<BenchReport[]> {
  const known = BENCHES.map(([n]) => n);
  for (const n of names) {
    if (!known.includes(n)) {
      throw new RangeError(`bench: unknown benchmark "${n}"; expected one of ${known.join(", ")}.`);
    }
  }
  const reports: BenchReport[] = [];
  for (const [name, load] of BENCHES) {
    if (names.length > 0 && !names.includes(name)) continue;
    ctx.log(`== ${name}`);
    reports.push(await (await load()).run(ctx));
  }
  return reports;
}

if (import.meta.main) {
  const flags = Deno.args.filter((a) => a.startsWith("--"));
  const names = Deno.args.filter((a) => !a.startsWith("--"));
  let scale = 1;
  const only: Record<string, number[]> = {};
  for (const f of flags) {
    const m = /^--scale=(.+)$/.exec(f);
    const o = /^--only=([A-Za-z]+)=([0-9,]+)$/.exec(f);
    if (m) scale = Number(m[1]);
    else if (o) only[o[1]!] = o[2]!.split(",").filter((v) => v !== "").map(Number);
    else if (f !== "--quick") {
      throw new RangeError(
        `bench: unknown flag ${f}; expected --quick, --scale=<x> or --only=<size>=<v,…> (e.g. --only=M=16,256).`,
      );
    }
  }
  if (!(scale > 0)) throw new RangeError(`bench: --scale is ${scale}, expected a number > 0.`);
  const ctx: BenchContext = {
    quick: flags.includes("--quick"),
    scale,
    only,
    log: (line) => console.error(line),
  };
  const reports = await runBenches(names, ctx);
  console.log("\n## Markdown (for the README)\n");
  for (const r of reports) console.log(`### ${r.title}\n\n${r.markdown}\n`);
}
