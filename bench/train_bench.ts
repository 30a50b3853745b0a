/**
 * Training and salience throughput per family and width k, on the WebGPU backend and on the
 * CPU backend side by side (28×28×1 inputs, 10 classes, the default batch 64), plus each
 * backend's conformance check. Run: `deno task bench train` (or
 * `deno run -A bench/train_bench.ts`).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { BenchContext, BenchReport } from "./_harness.ts";
import { fmt, loadAverage, markdownTable, textTable, timeIt } from "./_harness.ts";
import { hasWebGpuAdapter, initTf, type TfReport } from "../lib/tf/mod.ts";
import { createModel, type Family } from "../lib/models/mod.ts";
import { createOptimizer, trainStep } from "../lib/train/mod.ts";
import { inputGradients } from "../lib/salience/mod.ts";

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

/** Runs the benchmark (see the module doc). */
export async function run(ctx: BenchContext): Promise<BenchReport> {
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
  ];
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
  await tf.setBackend("cpu");
  const header = [
    "family k",
    "train/s webgpu",
    "train/s webgpu (tfjs kernels)",
    "train/s cpu",
    "webgpu/tfjs",
    "webgpu/cpu",
    "salience/s webgpu",
    "salience/s webgpu (tfjs kernels)",
    "salience/s cpu",
  ];
  const v = (c: Cell, f: "train" | "salience") => (c ? fmt(c[f]) : "–");
  const q = (a: Cell, b: Cell) => (a && b ? `${fmt(a.train / b.train)}×` : "–");
  const rows = [...results].map(([key, r]) => [
    key.replace("/", " "),
    v(r.webgpu, "train"),
    v(r.tfjs, "train"),
    v(r.cpu, "train"),
    q(r.webgpu, r.tfjs),
    q(r.webgpu, r.cpu),
    v(r.webgpu, "salience"),
    v(r.tfjs, "salience"),
    v(r.cpu, "salience"),
  ]);
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
  const load = loadAverage();
  const caption = `Samples/s at batch ${batch}, ${size}×${size}×1, 10 classes; median of ${reps} ` +
    `(CPU: 1) after one warm-up; load average ${load ?? "n/a"}.`;
  ctx.log(textTable(header, rows));
  ctx.log(textTable(checkHeader, checkRows));
  return {
    title: "Training and salience throughput (TensorFlow.js backends)",
    markdown: `${caption}\n\n${
      markdownTable(header, rows)
    }\n\nConformance (relative error against the CPU backend at batch ${batch}):\n\n${
      markdownTable(checkHeader, checkRows)
    }\n\n${reports.map((r) => `- ${r.note}`).join("\n")}`,
  };
}

if (import.meta.main) {
  const quick = Deno.args.includes("--quick");
  const r = await run({ quick, scale: 1, log: (l) => console.error(l) });
  console.log(`### ${r.title}\n\n${r.markdown}`);
}
