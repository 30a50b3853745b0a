/**
 * Progress of a sweep: runs done of total, the current model and epoch, and an ETA from the
 * cost model (FLOPs still to do divided by the FLOP rate measured so far). On a terminal it is
 * one line updated in place; otherwise plain log lines, one per finished epoch and run.
 *
 * @module
 */

/** Where progress goes: a writer of text and whether it is a terminal. */
export interface ProgressSink {
  write(text: string): void;
  isTerminal: boolean;
}

/**
 * The sink for the process's stdout (a terminal gets one updating line).
 *
 * @example
 * ```ts
 * import { stdoutSink } from "./progress.ts";
 * if (typeof stdoutSink().isTerminal !== "boolean") throw new Error();
 * ```
 */
export function stdoutSink(): ProgressSink {
  const enc = new TextEncoder();
  return {
    write: (t) => {
      Deno.stdout.writeSync(enc.encode(t));
    },
    isTerminal: Deno.stdout.isTerminal(),
  };
}

/**
 * Formats seconds as `1h02m`, `3m05s` or `42s`.
 *
 * @example
 * ```ts
 * import { formatDuration } from "./progress.ts";
 * if (formatDuration(185) !== "3m05s") throw new Error(formatDuration(185));
 * ```
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** The run being worked on. */
export interface CurrentRun {
  runId: string;
  /** FLOPs the whole run costs (cost model). */
  flops: number;
  epochs: number;
}

/**
 * Tracks and prints progress. Call {@link Progress.startRun}, then {@link Progress.update} during
 * training, {@link Progress.phase} for the later steps, and {@link Progress.endRun}.
 *
 * @example
 * ```ts
 * import { Progress } from "./progress.ts";
 * let text = "";
 * const p = new Progress({ write: (t) => { text += t; }, isTerminal: false }, 2, 0, 200);
 * p.startRun({ runId: "A-k1-s0-01234567", flops: 100, epochs: 1 });
 * p.epochDone(0, "loss 1.0");
 * p.endRun("complete");
 * if (!text.includes("[1/2] A-k1-s0-01234567: complete")) throw new Error(text);
 * ```
 */
export class Progress {
  #sink: ProgressSink;
  #total: number;
  #done: number;
  #remainingFlops: number;
  #doneFlops = 0;
  #workSeconds = 0;
  #runStart = 0;
  #current: CurrentRun | null = null;
  #fraction = 0;
  #status = "";
  #lastDraw = 0;
  #drawn = false;

  /**
   * @param total runs this process owns
   * @param done of those, already complete
   * @param remainingFlops FLOPs of the runs still to do
   */
  constructor(sink: ProgressSink, total: number, done: number, remainingFlops: number) {
    this.#sink = sink;
    this.#total = total;
    this.#done = done;
    this.#remainingFlops = remainingFlops;
  }

  /** Prints a log line (above the progress line on a terminal). */
  log(line: string): void {
    if (this.#sink.isTerminal && this.#drawn) this.#sink.write("\r\x1b[2K");
    this.#sink.write(line + "\n");
    this.#drawn = false;
    if (this.#sink.isTerminal && this.#current) this.#draw(true);
  }

  /** Seconds still needed, from the FLOP rate measured so far; NaN before any work is timed. */
  eta(): number {
    const elapsed = this.#workSeconds +
      (this.#current ? (performance.now() - this.#runStart) / 1000 : 0);
    const doneFlops = this.#doneFlops + (this.#current ? this.#current.flops * this.#fraction : 0);
    if (doneFlops <= 0 || elapsed <= 0) return NaN;
    return (this.#remainingFlops - doneFlops) / (doneFlops / elapsed);
  }

  /** Starts a run. */
  startRun(run: CurrentRun): void {
    this.#current = run;
    this.#runStart = performance.now();
    this.#fraction = 0;
    this.#status = "starting";
    if (this.#sink.isTerminal) this.#draw(true);
    else this.#sink.write(`${this.#prefix()} ${run.runId}: start\n`);
  }

  /**
   * Reports training progress: `epoch` (0-based) of `epochs`, `batchFraction` of it done.
   * Training counts for 90 % of a run in the ETA, salience and logits for the rest.
   */
  update(epoch: number, batchFraction: number, detail: string): void {
    if (!this.#current) return;
    this.#fraction = 0.9 * Math.min(1, (epoch + batchFraction) / this.#current.epochs);
    this.#status = `epoch ${epoch + 1}/${this.#current.epochs} ${detail}`;
    if (this.#sink.isTerminal) this.#draw(false);
  }

  /** Reports a finished epoch (a log line when not on a terminal). */
  epochDone(epoch: number, detail: string): void {
    if (!this.#current) return;
    this.#fraction = 0.9 * Math.min(1, (epoch + 1) / this.#current.epochs);
    this.#status = `epoch ${epoch + 1}/${this.#current.epochs} ${detail}`;
    if (this.#sink.isTerminal) this.#draw(true);
    else {
      this.#sink.write(
        `${this.#prefix()} ${this.#current.runId}: epoch ${
          epoch + 1
        }/${this.#current.epochs} ${detail}, ETA ${formatDuration(this.eta())}\n`,
      );
    }
  }

  /** Reports a later step of the run (salience, logits, checksums). */
  phase(name: string): void {
    if (!this.#current) return;
    this.#fraction = Math.max(this.#fraction, 0.9);
    this.#status = name;
    if (this.#sink.isTerminal) this.#draw(true);
  }

  /** Ends the current run; `skipped` runs cost nothing and do not move the ETA. */
  endRun(summary: string): void {
    const run = this.#current;
    if (!run) return;
    this.#workSeconds += (performance.now() - this.#runStart) / 1000;
    this.#doneFlops += run.flops;
    this.#done++;
    this.#current = null;
    this.log(`${this.#prefix()} ${run.runId}: ${summary}`);
  }

  /**
   * Ends a population started as one run ({@link Progress.startRun} with the population's
   * label and summed FLOPs): one line per member run, each counted as a finished run.
   */
  endRuns(members: ReadonlyArray<{ runId: string; summary: string }>): void {
    const run = this.#current;
    if (!run) return;
    this.#workSeconds += (performance.now() - this.#runStart) / 1000;
    this.#doneFlops += run.flops;
    this.#current = null;
    for (const m of members) {
      this.#done++;
      this.log(`${this.#prefix()} ${m.runId}: ${m.summary}`);
    }
  }

  #prefix(): string {
    return `[${this.#done}/${this.#total}]`;
  }

  #draw(force: boolean): void {
    const now = performance.now();
    if (!force && now - this.#lastDraw < 250) return;
    this.#lastDraw = now;
    const run = this.#current;
    const cols = (() => {
      try {
        return Deno.consoleSize().columns;
      } catch {
        return 100;
      }
    })();
    let line = `${this.#prefix()} ETA ${formatDuration(this.eta())} · ${
      run?.runId ?? ""
    } ${this.#status}`;
    if (line.length > cols - 1) line = line.slice(0, cols - 2) + "…";
    this.#sink.write(`\r\x1b[2K${line}`);
    this.#drawn = true;
  }

  /** Clears the progress line (call before exiting). */
  finish(): void {
    if (this.#sink.isTerminal && this.#drawn) this.#sink.write("\r\x1b[2K");
    this.#drawn = false;
  }
}

/**
 * Wall time per phase of a sweep (training per family, evaluation, precise BN, salience,
 * experiments, analysis, …), summed over runs, for the end-of-sweep summary. Phases keep the
 * order they were first timed in.
 *
 * @example
 * ```ts
 * import { PhaseTimes } from "./progress.ts";
 * const t = new PhaseTimes();
 * t.add("training CNNSmall", 90);
 * t.add("salience", 30);
 * t.add("training CNNSmall", 30);
 * if (t.seconds("training CNNSmall") !== 120) throw new Error();
 * if (!t.summary(200).startsWith("time by phase: training CNNSmall 2m00s (60 %)")) throw new Error(t.summary(200));
 * ```
 */
export class PhaseTimes {
  readonly #seconds = new Map<string, number>();

  /** Adds `seconds` to `phase`. @throws {RangeError} for negative or non-finite seconds. */
  add(phase: string, seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) {
      throw new RangeError(`Phase "${phase}" got ${seconds} s; expected a finite time ≥ 0.`);
    }
    this.#seconds.set(phase, (this.#seconds.get(phase) ?? 0) + seconds);
  }

  /** Runs `fn` and adds its wall time to `phase` (also when it throws). */
  async time<T>(phase: string, fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      this.add(phase, (performance.now() - t0) / 1000);
    }
  }

  /** Seconds spent in `phase` so far (0 when never timed). */
  seconds(phase: string): number {
    return this.#seconds.get(phase) ?? 0;
  }

  /** Every phase and its seconds, in the order first timed. */
  entries(): [string, number][] {
    return [...this.#seconds];
  }

  /**
   * One line: each phase's time and share of `total` seconds (the sweep's wall time; phases
   * under half a second left out), then what no phase accounts for (checksums, writing records).
   */
  summary(total: number): string {
    const pct = (s: number) => total > 0 ? ` (${Math.round((100 * s) / total)} %)` : "";
    const parts = this.entries().filter(([, s]) => s >= 0.5).map(([p, s]) =>
      `${p} ${formatDuration(s)}${pct(s)}`
    );
    const rest = total - this.entries().reduce((a, [, s]) => a + s, 0);
    if (rest > 0.5) parts.push(`other ${formatDuration(rest)}${pct(rest)}`);
    return `time by phase: ${parts.length ? parts.join(", ") : "none timed"}`;
  }
}
