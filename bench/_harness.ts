/**
 * What every benchmark shares: timing with warm-up and a median over repetitions, and tables
 * printed both aligned for the terminal and as Markdown for the README.
 *
 * @module
 */
import { quantile } from "../lib/stats/mod.ts";

/** Options every benchmark receives from `bench/mod.ts`. */
export interface BenchContext {
  /** Small sizes and fewer repetitions: checks the harness end to end in seconds. */
  quick: boolean;
  /** Multiplies the work of each measurement (`--scale=<x>`, default 1): raise it on a GPU. */
  scale: number;
  /**
   * Only the cases whose sizes are listed (`--only=M=16,256`, `--only=D=784`: name=values;
   * repeat the flag for several names); a benchmark ignores names it does not have.
   */
  only?: Record<string, number[]>;
  /** Prints one progress line (to stderr, so stdout keeps only the results). */
  log(line: string): void;
}

/** What a benchmark returns: its title and its result as a Markdown section. */
export interface BenchReport {
  title: string;
  markdown: string;
}

/** A benchmark module: `bench/mod.ts` imports it and calls `run`. */
export interface BenchModule {
  run(ctx: BenchContext): Promise<BenchReport>;
}

/** Timings of one measured operation, in seconds. */
export interface Timing {
  median: number;
  min: number;
  times: number[];
}

/** Options of {@link timeIt}. */
export interface TimeOptions {
  /** Untimed runs first (JIT, pipeline compilation, caches). Default 1. */
  warmup?: number;
  /** Timed runs. Default 3. */
  reps?: number;
}

/**
 * Runs `fn` `warmup` times untimed, then `reps` times timed; returns the median and minimum in
 * seconds. `fn` must not return before its work is done (await GPU reads inside it).
 *
 * @example
 * ```ts
 * import { timeIt } from "./_harness.ts";
 * const t = await timeIt(() => new Promise((r) => setTimeout(r, 5)), { warmup: 0, reps: 3 });
 * if (!(t.median >= 0.004)) throw new Error(`median ${t.median}`);
 * ```
 */
export async function timeIt(
  fn: () => unknown | Promise<unknown>,
  options: TimeOptions = {},
): Promise<Timing> {
  const { warmup = 1, reps = 3 } = options;
  if (!Number.isInteger(reps) || reps < 1) {
    throw new RangeError(`timeIt: reps is ${reps}, expected a positive integer.`);
  }
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    times.push((performance.now() - t0) / 1000);
  }
  return { median: quantile(times, 0.5), min: Math.min(...times), times };
}

/**
 * A number with `digits` significant digits, without exponent for everyday magnitudes.
 *
 * @example
 * ```ts
 * import { fmt } from "./_harness.ts";
 * if (fmt(3.14159) !== "3.14" || fmt(1.5e-7, 2) !== "1.5e-7") throw new Error("fmt");
 * ```
 */
export function fmt(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return "0";
  const a = Math.abs(x);
  if (a >= 1e6 || a < 1e-3) return x.toExponential(digits - 1);
  return Number(x.toPrecision(digits)).toString();
}

/**
 * A ratio as `12.3×`.
 *
 * @example
 * ```ts
 * import { ratio } from "./_harness.ts";
 * if (ratio(12.34) !== "12.3×") throw new Error("ratio");
 * ```
 */
export function ratio(x: number): string {
  return `${fmt(x)}×`;
}

/**
 * Rows of cells aligned in columns for the terminal (first column left, others right).
 *
 * @example
 * ```ts
 * import { textTable } from "./_harness.ts";
 * if (textTable(["a", "bb"], [["x", "1"]]) !== "a  bb\n-  --\nx   1") throw new Error("table");
 * ```
 */
export function textTable(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? "").length)));
  const line = (r: string[]) =>
    r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join(
    "\n",
  );
}

/**
 * The same rows as a Markdown table (first column left-aligned, others right-aligned).
 *
 * @example
 * ```ts
 * import { markdownTable } from "./_harness.ts";
 * const t = markdownTable(["M", "GB/s"], [["16", "1.5"]]);
 * if (t !== "| M | GB/s |\n| --- | ---: |\n| 16 | 1.5 |") throw new Error(t);
 * ```
 */
export function markdownTable(header: string[], rows: string[][]): string {
  const esc = (s: string) => s.replaceAll("|", "\\|");
  const line = (r: string[]) => `| ${r.map(esc).join(" | ")} |`;
  const align = header.map((_, c) => (c === 0 ? "---" : "---:"));
  return [line(header), `| ${align.join(" | ")} |`, ...rows.map(line)].join("\n");
}

/**
 * The host's 1-minute load average, or null where it cannot be read (other load skews timings).
 *
 * @example
 * ```ts
 * import { loadAverage } from "./_harness.ts";
 * const l = loadAverage();
 * if (l !== null && !(l >= 0)) throw new Error(`load ${l}`);
 * ```
 */
export function loadAverage(): number | null {
  try {
    return Number(Deno.readTextFileSync("/proc/loadavg").split(" ")[0]);
  } catch {
    return null;
  }
}

/**
 * CPU seconds this process has used, all its threads (a software adapter's included), from
 * `/proc/self/stat` at 100 ticks per second; NaN where that file does not exist. Less moved by
 * other work on a shared machine than wall time.
 *
 * @example
 * ```ts
 * import { cpuSeconds } from "./_harness.ts";
 * const c = cpuSeconds();
 * if (!(Number.isNaN(c) || c >= 0)) throw new Error();
 * ```
 */
export function cpuSeconds(): number {
  try {
    const fields = Deno.readTextFileSync("/proc/self/stat").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}
