/**
 * Benchmark of the analysis's reduction end to end, as `analyzeGradients` runs it: read a
 * gradient batch from a `.npy` file, normalise (scaled norms, zero rows flagged), per-sample
 * Grams, the group sums (per-block pair sums, row sums over groups, set-pair sums over groups
 * and split halves) and `GramReducer`'s per-sample statistics from them (leave-one-out t, split
 * halves, cosines between group means and to other groups' means), for M ∈ {16, 64, 256}
 * models in four groups × N samples × D ∈ {784, 3072}, measured side by side in one run with
 *
 * - our kernels (`groupSums` on the adapter: Grams and group sums on the device, only the
 *   summaries read back; then `GramReducer.addSums`),
 * - the Grams on the device but the group sums on the CPU (`sampleGrams` reads the M×M Grams
 *   back, then the float64 `reference.groupSums`): what moving the reductions to the device
 *   gained,
 * - where the model count picks another Gram tile than 16 × 16, ours with 16 × 16 tiles (the
 *   kernel before larger tiles),
 * - the TypeScript path (the float64 reference of both), timed on the first samples only,
 * - NumPy float32 doing the same reductions on the same file (`analysis_peer.py`, run when a
 *   `python3` with NumPy exists: `python3`, then `/usr/bin/python3`),
 * - the adapter's multiply-add ceiling (`_roofline.ts`),
 * - the floor of every device path: each batch read, uploaded as the Gram's input texture and
 *   one submit awaited, with no kernel run ("read+upload"; "(read+upload)/TS" bounds ours/TS
 *   from above: where it is under 10, moving the data alone costs more than a tenth of the
 *   TypeScript path's time).
 *
 * The paths take turns for two rounds (one when a round of ours takes a minute or more) and
 * each keeps its best (the load average is printed
 * beside every row); the last three ratios compare CPU seconds per sample (all threads: the
 * software adapter's, NumPy's BLAS), which other work on a shared machine moves less. Throughput is samples per second; GFLOP/s count the Gram's M(M+1)·D flops per sample (using
 * symmetry; NumPy's matmul does 2M²·D but is credited the same). The file holds one batch of
 * samples, re-read for every batch (from the page cache), so N can exceed what fits on disk.
 * Targets: at least ¼ of NumPy's throughput and 10× the TypeScript path for every M.
 *
 * @module
 */
import { type Gpu, groupSums, reference, requestGpu, sampleGrams } from "../kernels/mod.ts";
import { runPrograms, runUnit, TEX_WIDTH } from "../kernels/gpu/mod.ts";
import { gramTile } from "../kernels/sample_grams/mod.ts";
import {
  type BatchStream,
  GramReducer,
  type Group,
  modelMajorStream,
  reduceBatch,
  streamBatchSize,
} from "../lib/analysis/mod.ts";
import { openNpy, writeNpy } from "../lib/npy/mod.ts";
import { seededUniform } from "../lib/stats/mod.ts";
import {
  type BenchContext,
  type BenchReport,
  cpuSeconds,
  fmt,
  loadAverage,
  markdownTable,
  ratio,
  textTable,
} from "./_harness.ts";
import { measureRoofline } from "./_roofline.ts";

/** Model counts benchmarked. */
export const MODEL_COUNTS = [16, 64, 256] as const;
/** Gradient sizes benchmarked: 1×28×28 (Fashion-MNIST) and 3×32×32 (CIFAR). */
export const DIMS = [784, 3072] as const;
/** Samples per configuration at `--scale=1`. */
const SAMPLES = 1000;
/** Groups the models form (widths), and random halvings of each. */
const GROUPS = 4, SPLITS = 8;
/** Rounds each path is timed (best kept), unless one round of ours takes LONG_ROUND_S or more. */
const ROUNDS = 2, LONG_ROUND_S = 60;
/** Most multiply-adds the TypeScript path is timed on per configuration. */
const TS_FLOPS = 3e8;
/** Targets: fraction of NumPy's throughput, and speed-up over the TypeScript path. */
export const TARGET_VS_NUMPY = 0.25, TARGET_VS_TS = 10;

/** Correlated seeded gradients `[M][B][D]`: a shared direction per sample plus noise. */
function gradients(m: number, b: number, d: number): Float32Array {
  const r = seededUniform(m * 7 + d);
  const shared = new Float32Array(b * d).map(() => r() - 0.5);
  const out = new Float32Array(m * b * d);
  for (let i = 0; i < m; i++) {
    for (let k = 0; k < b * d; k++) out[i * b * d + k] = shared[k]! + 2 * (r() - 0.5);
  }
  return out;
}

function groupsOf(m: number): { groups: Group[]; halves: Array<Array<[number[], number[]]>> } {
  const size = m / GROUPS;
  const groups = Array.from({ length: GROUPS }, (_, g) => ({
    family: "bench",
    k: g,
    members: Array.from({ length: size }, (_, i) => g * size + i),
  }));
  const r = seededUniform(1);
  const halves = groups.map((g) =>
    Array.from({ length: SPLITS }, () => {
      const p = [...g.members].sort(() => r() - 0.5);
      const h = Math.floor(p.length / 2);
      return [p.slice(0, h), p.slice(h, 2 * h)] as [number[], number[]];
    })
  );
  return { groups, halves };
}

/** The Gram tile the "tile16" path compares with the default one. */
const OLD_TILE = 16;

/**
 * Where the work runs: everything on the device ("device"; "tile16" with 16 × 16 Gram tiles),
 * the Grams on the device and the group sums on the CPU ("grams"), the float64 reference of
 * both ("ts"), or no reduction at all ("upload": each batch read, uploaded as the Gram's input
 * texture and one submit with a read-back awaited, the least any device path pays per batch).
 */
type Path = "device" | "tile16" | "grams" | "ts" | "upload";

/** The "upload" path's batch: the Gram stage's texture upload and one empty submit, awaited. */
async function uploadOnly(gpu: Gpu, data: Float32Array): Promise<void> {
  await runUnit(gpu, "upload floor", async (device, buffers) => {
    gpu.uploadTexture(device, "upload floor", data, TEX_WIDTH);
    await runPrograms(gpu, device, buffers, [], [[buffers.storage("upload floor", 16, true), 16]]);
  }, () => {});
}

/** Wall and CPU seconds of one timed run. */
interface Timed {
  seconds: number;
  cpu: number;
}

/**
 * Reduces `samples` samples in batches of the file's B, read through `stream` as the analysis
 * reads a model-major file (one kept buffer, the last batch short); returns wall and CPU seconds.
 */
async function reduceFile(
  stream: BatchStream,
  gpu: Gpu,
  samples: number,
  where: Path,
): Promise<Timed> {
  const { models: m, samples: b, dim: d } = stream;
  const { groups, halves } = groupsOf(m);
  const reducer = new GramReducer(m, samples, groups, { halves });
  const t0 = performance.now(), c0 = cpuSeconds();
  for (let start = 0; start < samples; start += b) {
    const n = Math.min(b, samples - start);
    // The file holds B samples: every batch re-reads its first n.
    for await (const { data } of stream.batches(b, { end: n, reuseBuffer: true })) {
      if (where === "upload") {
        await uploadOnly(gpu, data);
      } else if (where === "grams") {
        const sg = await sampleGrams(gpu, data, { models: m, samples: n, dim: d });
        reducer.addSums(start, reference.groupSums(sg, reducer.plan, reducer.blockIds(start, n)));
      } else if (where === "tile16") {
        const shape = { models: m, samples: n, dim: d, tile: OLD_TILE };
        reducer.addSums(
          start,
          await groupSums(gpu, data, shape, reducer.plan, reducer.blockIds(start, n)),
        );
      } else {
        const dims = { models: m, start, count: n, dim: d };
        await reduceBatch(where === "device" ? gpu : null, reducer, data, dims);
      }
    }
  }
  return { seconds: (performance.now() - t0) / 1000, cpu: cpuSeconds() - c0 };
}

/** The first python that imports NumPy, or null. */
async function findPython(): Promise<string | null> {
  for (const cmd of ["python3", "/usr/bin/python3"]) {
    try {
      const out = await new Deno.Command(cmd, { args: ["-c", "import numpy"], stderr: "null" })
        .output();
      if (out.success) return cmd;
    } catch {
      // not installed
    }
  }
  return null;
}

async function numpySeconds(
  python: string,
  path: string,
  samples: number,
  b: number,
): Promise<Timed> {
  const script = new URL("./analysis_peer.py", import.meta.url).pathname;
  const out = await new Deno.Command(python, {
    args: [script, path, String(samples), String(b), String(GROUPS), String(SPLITS)],
    env: { OMP_NUM_THREADS: String(navigator.hardwareConcurrency) },
  }).output();
  if (!out.success) {
    throw new Error(`analysis_peer.py failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  const r = JSON.parse(new TextDecoder().decode(out.stdout));
  return { seconds: r.seconds as number, cpu: r.cpuSeconds as number };
}

/** Runs the benchmark (see the module doc). */
export async function run(ctx: BenchContext): Promise<BenchReport> {
  const gpu = await requestGpu();
  const adapter = gpu.describe();
  ctx.log(`analysis: ${adapter}`);
  const python = await findPython();
  ctx.log(`analysis: NumPy peer ${python ?? "absent (no python3 with NumPy)"}`);
  const peak = gpu.device
    ? (await measureRoofline(gpu.device, ctx.quick ? { minSeconds: 0.02, reps: 1 } : {})).peak
    : NaN;
  const dir = await Deno.makeTempDir({ prefix: "analysis_bench" });
  const rows: string[][] = [];
  const header = [
    "M",
    "D",
    "N",
    "batch",
    "ours samples/s",
    "ours GFLOP/s",
    "% of FMA peak",
    "tile",
    "16×16 tile samples/s",
    "Grams+CPU sums samples/s",
    "TS samples/s",
    "NumPy samples/s",
    "read+upload samples/s",
    "ours/NumPy",
    "ours/TS",
    "ours/(Grams+CPU sums)",
    "ours/16×16",
    "(read+upload)/TS",
    "CPU time: NumPy/ours",
    "TS/ours",
    "(Grams+CPU sums)/ours",
    "16×16/ours",
    "load",
  ];
  try {
    const keep = (name: string, v: number) => !ctx.only?.[name] || ctx.only[name]!.includes(v);
    const cases = (ctx.quick ? [[16, 784]] : MODEL_COUNTS.flatMap((m) => DIMS.map((d) => [m, d])))
      .filter(([m, d]) => keep("M", m!) && keep("D", d!));
    for (const [m, d] of cases as Array<[number, number]>) {
      const samples = ctx.quick ? 32 : Math.max(1000, Math.round(SAMPLES * ctx.scale));
      const b = Math.min(streamBatchSize(m, d), samples);
      const path = `${dir}/g_${m}_${d}.npy`;
      await writeNpy(path, [m, b, d], gradients(m, b, d));
      using file = await openNpy(path);
      // One stream per case, as one analysis holds one: its kept buffer serves every pass.
      const stream = modelMajorStream([m, b, d], (at, n, dst) => file.readElements(at, n, dst));
      const flopsPerSample = m * (m + 1) * d;
      await reduceFile(stream, gpu, b, "device"); // warm-up: pipelines, page cache
      await reduceFile(stream, gpu, b, "grams");
      const tile = gramTile(m), other = tile !== OLD_TILE;
      if (other) await reduceFile(stream, gpu, b, "tile16");
      const tsSamples = Math.max(1, Math.min(samples, Math.floor(TS_FLOPS / flopsPerSample)));
      // The paths take turns, ROUNDS times, and each keeps its best round: on a shared machine a
      // burst of other work then slows one round of every path rather than one path.
      // Samples per wall second (best round) and CPU seconds per sample (least round).
      const best = {
        ours: 0,
        tile16: other ? 0 : NaN,
        split: 0,
        ts: 0,
        numpy: python ? 0 : NaN,
        upload: gpu.device ? 0 : NaN,
      };
      const cpu = {
        upload: gpu.device ? Infinity : NaN,
        ours: Infinity,
        tile16: other ? Infinity : NaN,
        split: Infinity,
        ts: Infinity,
        numpy: python ? Infinity : NaN,
      };
      const keep = (name: keyof typeof best, n: number, t: Timed) => {
        best[name] = Math.max(best[name], n / t.seconds);
        cpu[name] = Math.min(cpu[name], t.cpu / n);
      };
      for (let round = 0; round < (ctx.quick ? 1 : ROUNDS); round++) {
        // A round of a minute or more already averages over bursts of other work: one is enough.
        if (round > 0 && samples / best.ours > LONG_ROUND_S) break;
        keep("ours", samples, await reduceFile(stream, gpu, samples, "device"));
        if (other) keep("tile16", samples, await reduceFile(stream, gpu, samples, "tile16"));
        keep("split", samples, await reduceFile(stream, gpu, samples, "grams"));
        keep("ts", tsSamples, await reduceFile(stream, gpu, tsSamples, "ts"));
        if (python) keep("numpy", samples, await numpySeconds(python, path, samples, b));
        if (gpu.device) keep("upload", samples, await reduceFile(stream, gpu, samples, "upload"));
      }
      const { ours, tile16, split, ts, numpy, upload } = best;
      await Deno.remove(path);
      const gflops = (ours * flopsPerSample) / 1e9;
      const row = [
        String(m),
        String(d),
        String(samples),
        String(b),
        fmt(ours),
        fmt(gflops),
        fmt((100 * gflops) / peak),
        `${tile}×${tile}`,
        other ? fmt(tile16) : "–",
        fmt(split),
        fmt(ts),
        fmt(numpy),
        fmt(upload),
        ratio(ours / numpy),
        ratio(ours / ts),
        ratio(ours / split),
        other ? ratio(ours / tile16) : "–",
        ratio(upload / ts),
        ratio(cpu.numpy / cpu.ours),
        ratio(cpu.ts / cpu.ours),
        ratio(cpu.split / cpu.ours),
        other ? ratio(cpu.tile16 / cpu.ours) : "–",
        fmt(loadAverage() ?? NaN),
      ];
      ctx.log(textTable(header, [row]));
      rows.push(row);
    }
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    gpu.destroy();
  }
  const misses = rows.filter((r) =>
    !(parseFloat(r[header.indexOf("ours/TS")]!) >= TARGET_VS_TS) ||
    (python && !(parseFloat(r[header.indexOf("ours/NumPy")]!) >= TARGET_VS_NUMPY))
  ).map((r) => `M ${r[0]} D ${r[1]}`);
  const note = `${adapter}; FMA peak ${
    fmt(peak)
  } GFLOP/s; targets ≥ ${TARGET_VS_NUMPY}× NumPy, ≥ ${TARGET_VS_TS}× TS: ${
    misses.length === 0 ? "met" : `missed at ${misses.join(", ")}`
  }`;
  ctx.log(note);
  ctx.log(textTable(header, rows));
  return {
    title: "Analysis end to end (read, normalise, Grams, group sums, group statistics)",
    markdown: `${markdownTable(header, rows)}\n\n${note}`,
  };
}
