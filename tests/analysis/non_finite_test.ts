// Gradients holding NaN or ±Inf: counted per model, reported, left out exactly like a zero
// gradient on every backend, and an error when asked.
import { writeNpy } from "../../lib/npy/mod.ts";
import { parseAnalyzeArgs, runAnalyzeCli } from "../../lib/cli/analyze.ts";
import { analyzeGradients, type GradientAnalysis } from "../../lib/analysis/mod.ts";
import { validateConfig } from "../../lib/sweep/config.ts";
import { presetConfig } from "../../lib/sweep/presets.ts";
import { requestGpu } from "../../kernels/mod.ts";
import { assertRejects } from "../_shared/assert.ts";
import { gpuTest } from "../_shared/gpu.ts";
import { assert, assertEquals, plant, streamOf } from "./_synthetic.ts";
import { jsonDiff } from "./_compare.ts";

const p = plant({
  families: ["MLP"],
  ks: [1, 2],
  seeds: 3,
  samples: 12,
  dim: 10,
  sigma: (k) => 2 / k,
  seed: 7,
});
const N = p.samples, D = p.dim;
/** (model, sample, value) of the planted non-finite entries. */
const BAD: Array<[number, number, number]> = [[1, 3, NaN], [1, 8, Infinity], [4, 0, -Infinity]];

function withBad(): Float32Array {
  const data = p.data.slice();
  for (const [m, x, v] of BAD) data[(m * N + x) * D + 5] = v;
  return data;
}

function withZeros(): Float32Array {
  const data = p.data.slice();
  for (const [m, x] of BAD) data.fill(0, (m * N + x) * D, (m * N + x + 1) * D);
  return data;
}

const stream = (data: Float32Array) => streamOf({ ...p, data });
const options = { resamples: 60, batchSize: 5 };

/** Every figure of the analysis files as JSON, without the counts that differ by design. */
function figures(a: GradientAnalysis): unknown {
  const { generatedAt: _g, models, zeroGradients: _z, nonFiniteGradients: _n, ...sim } =
    a.similarity;
  return JSON.parse(JSON.stringify({
    sim,
    models: models.map(({ zeroGradients: _a, nonFiniteGradients: _b, ...m }) => m),
    table1: { ...a.table1, generatedAt: null },
    marginals: { ...a.marginals, generatedAt: null },
    claims: a.claims,
  }));
}

Deno.test("analyzeGradients() counts NaN/±Inf gradients per model and leaves them out like zero gradients", async () => {
  const bad = await analyzeGradients(stream(withBad()), p.models, options);
  const zero = await analyzeGradients(stream(withZeros()), p.models, options);
  assertEquals(bad.similarity.models.map((m) => m.nonFiniteGradients), [0, 2, 0, 0, 1, 0]);
  assertEquals(bad.similarity.models.map((m) => m.zeroGradients), [0, 0, 0, 0, 0, 0]);
  assertEquals(bad.similarity.nonFiniteGradients, 3);
  assertEquals(bad.similarity.zeroGradients, 0);
  assertEquals(zero.similarity.zeroGradients, 3);
  assertEquals(zero.similarity.nonFiniteGradients, 0);
  assertEquals(Array.from(bad.reduced.nonFinite), [0, 2, 0, 0, 1, 0]);
  // Left out of every pair: p_ind's counts drop by the samples either model lost.
  assertEquals(bad.similarity.pInd.counts[0]![1], N - 2);
  assertEquals(bad.similarity.pInd.counts[1]![4], N - 3);
  // The same figures as when those rows are zero: no NaN or shifted value leaks in.
  assertEquals(figures(bad), figures(zero));
  const w = bad.warnings.find((m) => m.includes("NaN"));
  assert(w !== undefined && w.includes("3 gradients") && w.includes("seed 1): 2"), String(w));
});

Deno.test("analyzeGradients() with nonFinite: 'error' stops and names the model", async () => {
  const e = await assertRejects(
    () => analyzeGradients(stream(withBad()), p.models, { ...options, nonFinite: "error" }),
    RangeError,
    "NaN or ±Inf",
  );
  assert(e.message.includes("MLP k=1 seed 1"), e.message);
  assert(e.message.includes('"exclude"'), e.message);
  // A clean stream passes under the same option.
  const ok = await analyzeGradients(stream(p.data), p.models, { ...options, nonFinite: "error" });
  assertEquals(ok.similarity.nonFiniteGradients, 0);
  await assertRejects(
    () =>
      analyzeGradients(stream(p.data), p.models, {
        ...options,
        nonFinite: "drop" as unknown as "error",
      }),
    RangeError,
    'expected one of "exclude", "error"',
  );
});

gpuTest(
  "analyzeGradients() excludes NaN/±Inf gradients the same way on WebGPU as in TypeScript",
  async () => {
    const gpu = await requestGpu();
    try {
      assertEquals(gpu.backend, "webgpu");
      const onGpu = await analyzeGradients(stream(withBad()), p.models, { ...options, gpu });
      const onCpu = await analyzeGradients(stream(withBad()), p.models, options);
      assertEquals(
        onGpu.similarity.models.map((m) => [m.zeroGradients, m.nonFiniteGradients]),
        onCpu.similarity.models.map((m) => [m.zeroGradients, m.nonFiniteGradients]),
      );
      assertEquals(onGpu.similarity.pInd.counts, onCpu.similarity.pInd.counts);
      const d = jsonDiff(figures(onGpu), figures(onCpu));
      assert(d <= 1e-4, `WebGPU and the float64 reference differ by ${d} (relative)`);
    } finally {
      gpu.destroy();
    }
  },
);

Deno.test("deno task analyze --non-finite: reported in summary.json, an error when asked, a bad value refused", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeNpy(`${dir}/g.npy`, [p.models.length, N, D], withBad());
    await Deno.writeTextFile(`${dir}/m.json`, JSON.stringify(p.models));
    const base = ["--grads", `${dir}/g.npy`, "--models", `${dir}/m.json`, "--cpu", "--quiet"];
    const r = await runAnalyzeCli([...base, "--resamples", "40", "--out", `${dir}/a`]);
    assertEquals(r.summary.counts.nonFiniteGradients, 3);
    assertEquals(r.summary.counts.nonZeroPairs, p.models.length * N - 3);
    assert(r.summary.warnings.some((w) => w.includes("NaN or ±Inf")), r.summary.warnings.join());
    await assertRejects(
      () => runAnalyzeCli([...base, "--non-finite", "error", "--out", `${dir}/b`]),
      RangeError,
      "NaN or ±Inf",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  assertEquals(
    parseAnalyzeArgs(["--run", "x", "--non-finite", "error"]).options.nonFinite,
    "error",
  );
  let msg = "";
  try {
    parseAnalyzeArgs(["--run", "x", "--non-finite", "skip"]);
  } catch (e) {
    msg = (e as Error).message;
  }
  assert(msg.includes('--non-finite is "skip"; expected exclude or error'), msg);
});

Deno.test("validateConfig() takes analysis.nonFinite 'exclude' or 'error' and refuses others", () => {
  const tiny = presetConfig("tiny");
  validateConfig({ ...tiny, analysis: { nonFinite: "error" } }, "a.json");
  validateConfig({ ...tiny, analysis: { nonFinite: "exclude", minTestAccuracy: null } }, "a.json");
  let msg = "";
  try {
    validateConfig({ ...tiny, analysis: { nonFinite: "ignore" } }, "a.json");
  } catch (e) {
    msg = (e as Error).message;
  }
  assert(msg.includes("'analysis.nonFinite'"), msg);
});
