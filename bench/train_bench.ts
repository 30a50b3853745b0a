/**
 * Training and salience throughput per family and width k, on the WebGPU backend and on the
 * CPU backend side by side (28×28×1 inputs, 10 classes, the default batch 64), plus each
 * backend's conformance check; then, on WebGPU, population training and salience (S models of one
 * family and width in one stacked step, and their input gradients on one batch in one stacked
 * pass: aggregate samples/s beside one model's), batch norm as
 * tfjs's ops beside our fused kernels (CNNSmall(8) population steps at S = 1 and 4, measured
 * alternately) with a per-kernel profile of each (time, share, GFLOP/s and fraction of the
 * adapter's multiply-add peak, bytes and GB/s) and that peak, measured in the same run; beside
 * them PyTorch on this machine's CPU (`train_peer.py`: the same families, recipe and batch) where
 * a `python3` imports torch. Run: `deno task bench train` (or `deno run -A
 * bench/train_bench.ts`; `--batch-norm` runs only the batch-norm comparison; `--case=CNNSmall:8,CNNLarge:8`
 * restricts the tables to those families and widths).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { BenchContext, BenchReport } from "./_harness.ts";
import { fmt, loadAverage, markdownTable, textTable, timeIt } from "./_harness.ts";
import { hasWebGpuAdapter, initTf, type TfReport } from "../lib/tf/mod.ts";
import { createModel, type Family } from "../lib/models/mod.ts";
import { createOptimizer, populationStep, StackedModel, trainStep } from "../lib/train/mod.ts";
import { measureRoofline } from "./_roofline.ts";
import { inputGradients, populationInputGradients } from "../lib/salience/mod.ts";
import { torchPeer } from "./_train_peer.ts";
import { presetConfig } from "../lib/sweep/mod.ts";

type Cell = { train: number; salience: number } | null;
type Column = "webgpu" | "tfjs" | "cpu";

function syntheticBatch(n: number, per: number, seed: number) {
  let s = seed >>> 0 || 1;
  const images = new Float32Array(n * per);
  for (let i = 0; i < images.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    images[i] = s / 2147483648 - 1;
  }
  const labels = new Int32Array(n).map((_, i) => i % 10);
  return { images, labels };
}

async function measure(
  family: Family,
  k: number,
  opts: { batch: number; size: number; reps: number; warmup: number },
): Promise<{ train: number; salience: number }> {
  const shape = { channels: 1, height: opts.size, width: opts.size };
  const m = createModel({ family, k, seed: 0, shape, classes: 10 });
  const opt = createOptimizer("sgd", 0.01);
  const batch = syntheticBatch(opts.batch, opts.size * opts.size, k);
  const step = async () => {
    const l = trainStep(m, opt, batch);
    await l.data();
    l.dispose();
  };
  const t = await timeIt(step, { warmup: opts.warmup, reps: opts.reps });
  const s = await timeIt(() => inputGradients(m, batch, { batchSize: opts.batch }), {
    warmup: opts.warmup,
    reps: opts.reps,
  });
  opt.dispose();
  m.dispose();
  return { train: opts.batch / t.median, salience: opts.batch / s.median };
}

/**
 * Aggregate samples/s of S models of `family`(k) together: training (one stacked step of S·batch
 * images) and, with `salience`, the input gradients of all S models on the same batch of
 * images (`populationInputGradients`, one stacked pass); null without it.
 */
async function measurePopulation(
  family: Family,
  k: number,
  S: number,
  opts: { batch: number; size: number; reps: number; fusedBatchNorm?: boolean; salience?: boolean },
): Promise<{ train: number; salience: number | null }> {
  const shape = { channels: 1, height: opts.size, width: opts.size };
  const models = Array.from(
    { length: S },
    (_, seed) => createModel({ family, k, seed, shape, classes: 10 }),
  );
  const stacked = StackedModel.from(models, { fusedBatchNorm: opts.fusedBatchNorm ?? true });
  const opt = createOptimizer("sgd", 0.01);
  const batch = syntheticBatch(S * opts.batch, opts.size * opts.size, k);
  const t = await timeIt(async () => {
    const l = populationStep(stacked, opt, batch);
    await l.data();
    l.dispose();
  }, { warmup: 1, reps: opts.reps });
  stacked.dispose();
  opt.dispose();
  let salience: number | null = null;
  if (opts.salience) {
    const probe = {
      images: batch.images.subarray(0, opts.batch * opts.size * opts.size),
      labels: batch.labels.subarray(0, opts.batch),
    };
    const s = await timeIt(
      () => populationInputGradients(models, probe, { batchSize: opts.batch }),
      { warmup: 1, reps: opts.reps },
    );
    salience = (S * opts.batch) / s.median;
  }
  models.forEach((m) => m.dispose());
  return { train: (S * opts.batch) / t.median, salience };
}

/** One kernel's share of a profiled training step. */
interface KernelRow {
  name: string;
  calls: number;
  ms: number;
  /** Multiply-add FLOPs (convolutions and matMul only; 0 where not counted). */
  flops: number;
  /** Bytes of the kernel's inputs and outputs (float32), each counted once per call. */
  bytes: number;
}

const prod = (a: number[]) => a.reduce((x, y) => x * y, 1);

/** FLOPs of one convolution kernel call from its shapes (2 per multiply-add). */
function convFlops(name: string, inputs: number[][], output: number[]): number {
  if (name === "Conv2D" || name === "FusedConv2D" || name === "SalienceGroupedConv2D") {
    const f = inputs[1]!.slice(-4);
    return 2 * prod(output) * f[0]! * f[1]! * f[2]!;
  }
  if (name === "Conv2DBackpropInput" || name === "SalienceGroupedConv2DBackpropInput") {
    const dy = inputs[0]!, f = inputs[1]!.slice(-4);
    return 2 * prod(dy) * f[0]! * f[1]! * f[2]!;
  }
  if (name === "Conv2DBackpropFilter" || name === "SalienceGroupedConv2DBackpropFilter") {
    const dy = inputs[1]!, f = output.slice(-4);
    return 2 * prod(dy) * f[0]! * f[1]! * f[2]!;
  }
  return 0;
}

/**
 * Per-kernel profile of one population training step of S models (tfjs's kernel timer: GPU
 * timestamps on WebGPU), grouped by kernel name, longest first.
 */
async function profileStep(
  family: Family,
  k: number,
  opts: { batch: number; size: number; S: number; fusedBatchNorm: boolean },
): Promise<KernelRow[]> {
  const shape = { channels: 1, height: opts.size, width: opts.size };
  const models = Array.from(
    { length: opts.S },
    (_, seed) => createModel({ family, k, seed, shape, classes: 10 }),
  );
  const stacked = StackedModel.from(models, { fusedBatchNorm: opts.fusedBatchNorm });
  const opt = createOptimizer("sgd", 0.01);
  const batch = syntheticBatch(opts.S * opts.batch, opts.size * opts.size, k);
  await populationStep(stacked, opt, batch).data(); // warm-up (pipelines compiled)
  const p = await tf.profile(() => {
    populationStep(stacked, opt, batch).dispose();
  });
  const rows = new Map<string, KernelRow>();
  for (const kk of p.kernels) {
    const t = await (kk.kernelTimeMs as unknown as Promise<number | { error: string }>);
    const r = rows.get(kk.name) ?? { name: kk.name, calls: 0, ms: 0, flops: 0, bytes: 0 };
    r.calls++;
    r.ms += typeof t === "number" ? t : NaN;
    r.flops += convFlops(kk.name, kk.inputShapes, kk.outputShapes[0] ?? []);
    r.bytes += 4 * [...kk.inputShapes, ...kk.outputShapes].reduce((a, s) => a + prod(s ?? []), 0);
    rows.set(kk.name, r);
  }
  stacked.dispose();
  opt.dispose();
  models.forEach((m) => m.dispose());
  return [...rows.values()].filter((r) => r.ms > 0).sort((a, b) => b.ms - a.ms);
}

/** The profile as a table: time, share, FLOP rate and fraction of the peak, bytes moved. */
function profileTable(prof: KernelRow[], peak: number): { header: string[]; rows: string[][] } {
  const total = prof.reduce((a, r) => a + r.ms, 0);
  const header = ["kernel", "calls", "ms", "share", "GFLOP/s", "of peak", "MB", "GB/s"];
  const rows = prof.slice(0, 16).map((r) => [
    r.name,
    String(r.calls),
    fmt(r.ms),
    `${fmt((100 * r.ms) / total)} %`,
    r.flops ? fmt(r.flops / r.ms / 1e6) : "–",
    r.flops ? `${fmt((100 * r.flops) / r.ms / 1e6 / peak)} %` : "–",
    fmt(r.bytes / 1e6),
    fmt(r.bytes / r.ms / 1e6),
  ]);
  rows.push(["total", String(prof.reduce((a, r) => a + r.calls, 0)), fmt(total), "100 %"]);
  return { header, rows };
}

/**
 * Training-mode batch norm as tfjs's ops against our fused kernels, in one run: aggregate
 * samples/s of a population step of `family`(k) at each S, the two paths measured alternately
 * (tfjs, fused, tfjs, fused) so that load changes hit both; and each path's per-kernel profile at
 * the largest S.
 */
export async function batchNormComparison(
  ctx: BenchContext,
  opts: { family: Family; k: number; sizes: number[]; batch: number; size: number; peak: number },
): Promise<string> {
  const header = ["S", "tfjs batch norm", "fused batch norm", "fused/tfjs"];
  const rows: string[][] = [];
  const loadBefore = loadAverage();
  for (const S of opts.sizes) {
    const got = { tfjs: [] as number[], fused: [] as number[] };
    for (let rep = 0; rep < 2; rep++) {
      for (const fused of [false, true]) {
        const v = await measurePopulation(opts.family, opts.k, S, {
          batch: opts.batch,
          size: opts.size,
          reps: 1,
          fusedBatchNorm: fused,
        }).then((r) => r.train);
        got[fused ? "fused" : "tfjs"].push(v);
        ctx.log(
          `  batch norm ${fused ? "fused" : "tfjs"} ${opts.family} ${opts.k} S=${S}: ${fmt(v)}/s`,
        );
      }
    }
    const best = (a: number[]) => Math.max(...a);
    rows.push([
      String(S),
      fmt(best(got.tfjs)),
      fmt(best(got.fused)),
      `${fmt(best(got.fused) / best(got.tfjs))}×`,
    ]);
  }
  const S = Math.max(...opts.sizes);
  const profiles: string[] = [];
  for (const fused of [false, true]) {
    const t = profileTable(
      await profileStep(opts.family, opts.k, {
        batch: opts.batch,
        size: opts.size,
        S,
        fusedBatchNorm: fused,
      }),
      opts.peak,
    );
    ctx.log(`profile, ${fused ? "fused" : "tfjs"} batch norm, S = ${S}:`);
    ctx.log(textTable(t.header, t.rows));
    profiles.push(
      `Per-kernel profile of one ${opts.family}(${opts.k}) step, S = ${S}, ${
        fused ? "fused" : "tfjs's"
      } batch norm (FLOPs counted for convolutions; MB: each kernel's inputs and outputs):\n\n${
        markdownTable(t.header, t.rows)
      }`,
    );
  }
  ctx.log(textTable(header, rows));
  return `Batch norm as tfjs's ops against our fused kernels, ${opts.family}(${opts.k}) population ` +
    `step at batch ${opts.batch} per model, ${opts.size}×${opts.size}×1, aggregate samples/s (best ` +
    `of 2, measured alternately); load average ${loadBefore ?? "n/a"} before, ${
      loadAverage() ?? "n/a"
    } after:\n\n${markdownTable(header, rows)}\n\n${profiles.join("\n\n")}`;
}

/** Runs the benchmark (see the module doc). */
export async function run(
  ctx: BenchContext,
  only?: readonly (readonly [Family, number])[],
): Promise<BenchReport> {
  const keep = (f: Family, k: number) => !only || only.some(([g, j]) => g === f && j === k);
  const size = ctx.quick ? 8 : 28;
  const batch = ctx.quick ? 16 : 64;
  const reps = ctx.quick ? 1 : Math.max(1, Math.round(3 * ctx.scale));
  const gpuCases: [Family, number][] = ctx.quick ? [["CNNSmall", 2]] : [
    ["CNNSmall", 2],
    ["CNNSmall", 4],
    ["CNNSmall", 8],
    ["CNNLarge", 4],
    ["ResNetSmall", 4],
    ["ResNetLarge", 4],
    ["MLP", 4],
    ["ViT", 4],
  ].filter(([f, k]) => keep(f as Family, k as number)) as [Family, number][];
  // The CPU backend is two orders slower: measure it where it finishes in reasonable time.
  const cpuKeys = new Set(ctx.quick ? ["CNNSmall/2"] : ["CNNSmall/2", "CNNSmall/4", "MLP/4"]);
  const results = new Map<string, Record<Column, Cell>>();
  const reports: TfReport[] = [];
  const sizes = { batch, height: size, width: size, channels: 1 };
  // "webgpu": the backend as initTf configures it (our conv kernels on software adapters);
  // "tfjs": the same adapter with tfjs-backend-webgpu's own kernels only.
  for (const column of ["webgpu", "tfjs", "cpu"] as const) {
    if (column !== "cpu" && !(await hasWebGpuAdapter())) {
      ctx.log("no WebGPU adapter: WebGPU columns left empty");
      continue;
    }
    const r = column === "cpu" ? await initTf({ backend: "cpu" }) : await initTf({
      backend: "webgpu",
      sizes,
      ownKernels: column === "tfjs" ? "never" : "auto",
    });
    if (column !== "tfjs") reports.push(r);
    ctx.log(`${column}: ${r.note}`);
    for (const [family, k] of gpuCases) {
      const key = `${family}/${k}`;
      if (column === "cpu" && !cpuKeys.has(key)) continue;
      const cell = await measure(family, k, {
        batch,
        size,
        reps: column === "cpu" ? 1 : reps,
        warmup: 1,
      });
      ctx.log(`  ${column} ${key}: train ${fmt(cell.train)}/s, salience ${fmt(cell.salience)}/s`);
      const row = results.get(key) ?? { webgpu: null, tfjs: null, cpu: null };
      row[column] = cell;
      results.set(key, row);
    }
  }
  // PyTorch on the same CPU, for every case of both tables, while nothing of ours runs.
  const popFamilies: Family[] = ctx.quick
    ? ["CNNSmall"]
    : ["CNNSmall", "ResNetSmall", "CNNLarge", "ResNetLarge"];
  const popWidths = ctx.quick ? [2] : [2, 4, 8];
  // The grid, or exactly the asked cases of stackable families (a width outside the grid too).
  const popCases: [Family, number][] = only
    ? only.filter(([f]) => popFamilies.includes(f)).map(([f, k]) => [f, k])
    : popFamilies.flatMap((f) => popWidths.map((k): [Family, number] => [f, k]));
  const peerCases = [
    ...new Set([
      ...gpuCases.map(([f, k]) => `${f}/${k}`),
      ...popCases.map(([f, k]) => `${f}/${k}`),
    ]),
  ].map((key) => [key.split("/")[0]!, Number(key.split("/")[1])] as const);
  const peerLoad = loadAverage();
  const peer = await torchPeer(peerCases, {
    batch,
    size,
    reps: ctx.quick ? 1 : 3,
    minSeconds: ctx.quick ? 0.05 : 0.2,
  });
  const peerNote = peer.ok
    ? `PyTorch ${peer.torch} on the CPU (${peer.threads} threads, ${peer.python}, best of OpenMP's default wait policy and PASSIVE), load average ${
      peerLoad ?? "n/a"
    } when it started`
    : `PyTorch ${peer.reason}`;
  ctx.log(`peer: ${peerNote}`);
  const torchOf = (key: string) => (peer.ok ? peer.rows.get(key) ?? null : null);
  const torchCell = (key: string, f: "train" | "salience") => {
    const t = torchOf(key);
    return t ? fmt(t[f]) : peer.ok ? "–" : "not installed";
  };
  const vsTorch = (ours: number | undefined, key: string, f: "train" | "salience" = "train") => {
    const t = torchOf(key);
    return t && ours ? `${fmt(ours / t[f])}×` : "–";
  };
  // The one-model table now, so that it is on the log before the long population part.
  const header = [
    "family k",
    "train/s webgpu",
    "train/s webgpu (tfjs kernels)",
    "train/s cpu",
    "train/s PyTorch CPU",
    "webgpu/tfjs",
    "webgpu/cpu",
    "webgpu/PyTorch",
    "salience/s webgpu",
    "salience/s webgpu (tfjs kernels)",
    "salience/s cpu",
    "salience/s PyTorch CPU",
  ];
  const v = (c: Cell, f: "train" | "salience") => (c ? fmt(c[f]) : "–");
  const q = (a: Cell, b: Cell) => (a && b ? `${fmt(a.train / b.train)}×` : "–");
  const rows = [...results].map(([key, r]) => [
    key.replace("/", " "),
    v(r.webgpu, "train"),
    v(r.tfjs, "train"),
    v(r.cpu, "train"),
    torchCell(key, "train"),
    q(r.webgpu, r.tfjs),
    q(r.webgpu, r.cpu),
    vsTorch(r.webgpu?.train, key),
    v(r.webgpu, "salience"),
    v(r.tfjs, "salience"),
    v(r.cpu, "salience"),
    torchCell(key, "salience"),
  ]);
  const caption = `Samples/s at batch ${batch}, ${size}×${size}×1, 10 classes; median of ${reps} ` +
    `(CPU: 1) after one warm-up; load average ${loadAverage() ?? "n/a"} at the end of these ` +
    `columns. ${peerNote}.`;
  ctx.log(caption);
  ctx.log(textTable(header, rows));
  // Population training and the per-kernel profile, on the WebGPU backend as initTf configures it.
  let popMarkdown = "";
  if (await hasWebGpuAdapter()) {
    await initTf({ backend: "webgpu", sizes });
    const device = (tf.backend() as unknown as { device: GPUDevice }).device;
    const roof = await measureRoofline(device, { minSeconds: ctx.quick ? 0.05 : 0.25 });
    ctx.log(`roofline: ${fmt(roof.peak)} GFLOP/s multiply-add, ${fmt(roof.bandwidth)} GB/s copy`);
    const bnMarkdown = await batchNormComparison(ctx, {
      family: "CNNSmall",
      k: ctx.quick ? 2 : 8,
      sizes: ctx.quick ? [1, 2] : [1, 4],
      batch,
      size,
      peak: roof.peak,
    });
    const sizesS = ctx.quick ? [1, 2] : [1, 4, 8, 16];
    const popHeader = [
      "family k",
      "alone",
      ...sizesS.map((S) => `S = ${S}`),
      "best/alone",
      "PyTorch CPU",
      "best/PyTorch",
    ];
    const popRows: Record<"train" | "salience", string[][]> = { train: [], salience: [] };
    for (const [family, k] of popCases) {
      const alone = await measure(family, k, { batch, size, reps: 1, warmup: 1 });
      const cells: { train: number; salience: number }[] = [];
      for (const S of sizesS) {
        const r = await measurePopulation(family, k, S, { batch, size, reps: 1, salience: true });
        cells.push({ train: r.train, salience: r.salience! });
        ctx.log(
          `  population ${family} ${k} S=${S}: train ${fmt(cells.at(-1)!.train)}/s, salience ${
            fmt(cells.at(-1)!.salience)
          }/s`,
        );
      }
      for (const f of ["train", "salience"] as const) {
        const best = Math.max(...cells.map((c) => c[f]));
        popRows[f].push([
          `${family} ${k}`,
          fmt(alone[f]),
          ...cells.map((c) => fmt(c[f])),
          `${fmt(best / alone[f])}×`,
          torchCell(`${family}/${k}`, f),
          vsTorch(best, `${family}/${k}`, f),
        ]);
      }
    }
    ctx.log(textTable(popHeader, popRows.train));
    ctx.log("population salience (input gradients of S models on one batch, one stacked pass):");
    ctx.log(textTable(popHeader, popRows.salience));
    popMarkdown = `\n\nPopulation training (aggregate samples/s of S models in one stacked step; ` +
      `"alone": one model's trainStep), WebGPU, load average ${loadAverage() ?? "n/a"}; ` +
      `${peerNote}; ` +
      `adapter multiply-add peak ${fmt(roof.peak)} GFLOP/s, copy ${fmt(roof.bandwidth)} GB/s ` +
      `(measured in this run):\n\n${markdownTable(popHeader, popRows.train)}\n\n` +
      `Population salience in the same run (aggregate samples/s: the input gradients of S models ` +
      `on one batch of ${batch} images in one stacked pass, populationInputGradients; "alone": ` +
      `one model's inputGradients; PyTorch: one model's):\n\n` +
      `${markdownTable(popHeader, popRows.salience)}\n\n${bnMarkdown}`;
  }
  await tf.setBackend("cpu");
  const checkHeader = [
    "backend",
    "adapter",
    ...(reports.find((r) => r.checks.length)?.checks.map((c) => c.op) ?? []),
  ];
  const checkRows = reports.map((r) => [
    r.backend,
    r.adapter ?? "–",
    ...(r.checks.length
      ? r.checks.map((c) => `${c.pass ? "ok" : "FAIL"} ${c.maxError.toExponential(1)}`)
      : checkHeader.slice(2).map(() => "reference")),
  ]);
  ctx.log(textTable(checkHeader, checkRows));
  return {
    title: "Training and salience throughput (TensorFlow.js backends)",
    markdown: `${caption}\n\n${
      markdownTable(header, rows)
    }\n\nConformance (relative error against the CPU backend at batch ${batch}):\n\n${
      markdownTable(checkHeader, checkRows)
    }\n\n${reports.map((r) => `- ${r.note}`).join("\n")}${popMarkdown}`,
  };
}

/**
 * The default sweep's shapes (CNNSmall and ResNetSmall at k = 2, 3, 4, populations of S = 4 at
 * batch 32, 28×28×1): wall time of one population step beside the sum of its kernels' GPU time,
 * and the per-kernel profile of each, so that dispatch overhead and kernel time can be told apart.
 */
export async function defaultShapesProfile(
  ctx: BenchContext,
  opts: { peak: number; cases?: [Family, number][]; S?: number; batch?: number; reps?: number },
): Promise<string> {
  const S = opts.S ?? 4, batch = opts.batch ?? 32, size = 28;
  const cases = opts.cases ?? [
    ["CNNSmall", 2],
    ["CNNSmall", 3],
    ["CNNSmall", 4],
    ["ResNetSmall", 2],
    ["ResNetSmall", 3],
    ["ResNetSmall", 4],
  ];
  // PyTorch first, while nothing of ours runs: one model at a time at the same batch.
  const peerLoad = loadAverage();
  const peer = await torchPeer(cases, { batch, size, reps: 3, minSeconds: 0.2 });
  const peerNote = peer.ok
    ? `PyTorch ${peer.torch} on the CPU (${peer.threads} threads, one model at a time), load ` +
      `average ${peerLoad ?? "n/a"} when it started`
    : `PyTorch ${peer.reason}`;
  ctx.log(`peer: ${peerNote}`);
  // Steps per population of the default preset (its training images × epochs at this batch).
  const preset = presetConfig("default");
  const steps = Math.ceil((preset.dataset.trainImages ?? 0) / batch) * preset.training.epochs;
  const header = [
    "family k",
    "step ms (wall)",
    "kernels ms",
    "dispatches",
    "samples/s per model",
    "PyTorch samples/s per model",
    "ours/PyTorch",
    `min per population (${steps} steps)`,
  ];
  const rows: string[][] = [];
  const profiles: string[] = [];
  const load = loadAverage();
  for (const [family, k] of cases) {
    const perModel = (await measurePopulation(family, k, S, {
      batch,
      size,
      reps: opts.reps ?? 5,
    })).train / S;
    const prof = await profileStep(family, k, { batch, size, S, fusedBatchNorm: true });
    const kernelMs = prof.reduce((a, r) => a + r.ms, 0);
    const calls = prof.reduce((a, r) => a + r.calls, 0);
    const torch = peer.ok ? peer.rows.get(`${family}/${k}`)?.train : undefined;
    rows.push([
      `${family} ${k}`,
      fmt((1000 * batch) / perModel),
      fmt(kernelMs),
      String(calls),
      fmt(perModel),
      torch ? fmt(torch) : peer.ok ? "–" : "not installed",
      torch ? `${fmt(perModel / torch)}×` : "–",
      fmt((steps * batch) / perModel / 60),
    ]);
    const t = profileTable(prof, opts.peak);
    ctx.log(`${family}(${k}) S = ${S} batch ${batch}: ${fmt(perModel)}/s per model`);
    ctx.log(textTable(t.header, t.rows));
    profiles.push(
      `Per-kernel profile, ${family}(${k}), S = ${S}, batch ${batch}:\n\n${
        markdownTable(t.header, t.rows)
      }`,
    );
  }
  ctx.log(textTable(header, rows));
  return `Population step at the default sweep's shapes (S = ${S}, batch ${batch} per model, ` +
    `${size}×${size}×1), load average ${load ?? "n/a"} before, ${loadAverage() ?? "n/a"} after; ` +
    `${peerNote}:` +
    `\n\n${markdownTable(header, rows)}\n\n${profiles.join("\n\n")}`;
}

/** `--case=CNNSmall:8,CNNLarge:8`: the (family, k) cases to measure; undefined without the flag. */
function casesArg(): [Family, number][] | undefined {
  const only = Deno.args.find((a) => a.startsWith("--case="))?.slice(7);
  return only?.split(",").map((c) => {
    const [family, k] = c.split(":");
    if (!family || !Number.isInteger(Number(k)) || Number(k) < 1) {
      throw new RangeError(`--case: '${c}' is not family:k (e.g. --case=CNNSmall:8,CNNLarge:8).`);
    }
    return [family as Family, Number(k)];
  });
}

if (import.meta.main && Deno.args.includes("--batch-norm")) {
  // Only the batch-norm comparison (tfjs's ops against the fused kernels) and its profiles.
  const quick = Deno.args.includes("--quick");
  const size = quick ? 8 : 28, batch = quick ? 16 : 64;
  await initTf({ backend: "webgpu", sizes: { batch, height: size, width: size, channels: 1 } });
  const device = (tf.backend() as unknown as { device: GPUDevice }).device;
  const roof = await measureRoofline(device, { minSeconds: quick ? 0.05 : 0.25 });
  const log = (l: string) => console.error(l);
  log(`roofline: ${fmt(roof.peak)} GFLOP/s multiply-add, ${fmt(roof.bandwidth)} GB/s copy`);
  const md = await batchNormComparison({ quick, scale: 1, log }, {
    family: "CNNSmall",
    k: quick ? 2 : 8,
    sizes: quick ? [1, 2] : [1, 4],
    batch,
    size,
    peak: roof.peak,
  });
  console.log(`adapter multiply-add peak ${fmt(roof.peak)} GFLOP/s (this run)\n\n${md}`);
} else if (import.meta.main && Deno.args.includes("--default-shapes")) {
  // Only the population step at the default sweep's shapes, with per-kernel profiles.
  await initTf({ backend: "webgpu", sizes: { batch: 32, height: 28, width: 28, channels: 1 } });
  const device = (tf.backend() as unknown as { device: GPUDevice }).device;
  const roof = await measureRoofline(device, { minSeconds: 0.25 });
  const log = (l: string) => console.error(l);
  log(`roofline: ${fmt(roof.peak)} GFLOP/s multiply-add, ${fmt(roof.bandwidth)} GB/s copy`);
  const cases = casesArg();
  const md = await defaultShapesProfile({ quick: false, scale: 1, log }, {
    peak: roof.peak,
    cases,
  });
  console.log(`adapter multiply-add peak ${fmt(roof.peak)} GFLOP/s (this run)\n\n${md}`);
} else if (import.meta.main) {
  const quick = Deno.args.includes("--quick");
  const r = await run({ quick, scale: 1, log: (l) => console.error(l) }, casesArg());
  console.log(`### ${r.title}\n\n${r.markdown}`);
}
