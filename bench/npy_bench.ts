/**
 * Benchmark of the gradient reader (`lib/npy`): streaming throughput of `GradientSource.batches()`
 * over both layouts (M per-model `[N, D]` files, one `[M, N, D]` file), beside one plain
 * `Deno.readFile` of the same bytes, all from a warm page cache. It shows whether reading the
 * gradient store can keep up with the kernels.
 *
 * @module
 */

import { openGradientSource, writeNpy, writeSidecar } from "../lib/npy/mod.ts";
import type { GradientMeta } from "../lib/npy/mod.ts";
import {
  type BenchContext,
  type BenchReport,
  fmt,
  markdownTable,
  textTable,
  timeIt,
} from "./_harness.ts";

function meta(models: number, n: number, d: number, first = 0): GradientMeta {
  return {
    format: "salience-gradients",
    version: 1,
    scalar: "true-class-logit",
    pooling: null,
    input: { channels: 1, height: 1, width: d },
    models: Array.from({ length: models }, (_, i) => ({ family: "bench", k: 1, seed: first + i })),
    probe: { dataset: "bench", split: "test", count: n },
    note: "benchmark data",
  };
}

/**
 * Runs the benchmark; prints its table and returns it as Markdown. Cost: writes and reads a
 * 192 MiB temporary store at `scale` 1 (`quick`: 12 MiB), removed afterwards.
 *
 * @example
 * ```ts
 * import { run } from "./npy_bench.ts";
 * const report = await run({ quick: true, scale: 1, log: () => {} });
 * if (!report.markdown.includes("GB/s")) throw new Error(report.markdown);
 * ```
 */
export async function run(ctx: BenchContext): Promise<BenchReport> {
  const [M, D] = [16, 3072];
  const N = Math.max(8, Math.round((ctx.quick ? 64 : 1024) * ctx.scale));
  const bytes = 4 * M * N * D;
  const dir = await Deno.makeTempDir({ prefix: "npy_bench_" });
  const reps = ctx.quick ? 1 : 3;
  try {
    ctx.log(`writing ${fmt(bytes / 2 ** 20)} MiB of gradients (M=${M}, N=${N}, D=${D})`);
    const data = new Float32Array(M * N * D).map((_, i) => (i % 1000) / 1000);
    const perModel: string[] = [];
    for (let m = 0; m < M; m++) {
      const path = `${dir}/m${m}.npy`;
      await writeNpy(path, [N, D], data.subarray(m * N * D, (m + 1) * N * D));
      await writeSidecar(path, meta(1, N, D, m));
      perModel.push(path);
    }
    const stacked = `${dir}/all.npy`;
    await writeNpy(stacked, [M, N, D], data);
    await writeSidecar(stacked, meta(M, N, D));

    const rows: string[][] = [];
    const raw = await timeIt(() => Deno.readFile(stacked), { warmup: 1, reps });
    rows.push(["Deno.readFile (whole file)", "–", fmt(bytes / raw.median / 1e9)]);
    for (
      const [label, paths] of [["M per-model files", perModel], [
        "one [M, N, D] file",
        stacked,
      ]] as const
    ) {
      for (const batch of [8, 64]) {
        using src = await openGradientSource(paths);
        let seen = 0;
        const t = await timeIt(async () => {
          seen = 0;
          for await (const b of src.batches(batch)) seen += b.data.length;
        }, { warmup: 1, reps });
        if (seen !== M * N * D) {
          throw new Error(`${label}: read ${seen} floats, expected ${M * N * D}.`);
        }
        rows.push([`batches(${batch}), ${label}`, String(batch), fmt(bytes / t.median / 1e9)]);
      }
    }
    const header = ["reader", "batch", "GB/s"];
    const title = "Gradient reader (lib/npy)";
    const note = `${fmt(bytes / 2 ** 20)} MiB of float32 gradients, M = ${M}, N = ${N}, ` +
      `D = ${D}, warm page cache, median of ${reps}.`;
    console.log(`\n${title}\n\n${note}\n\n${textTable(header, rows)}\n`);
    return { title, markdown: `${note}\n\n${markdownTable(header, rows)}` };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
