import { writeNpy } from "../../lib/npy/mod.ts";
import { runAnalyzeCli } from "../../lib/cli/analyze.ts";
import { analyzeGradients, assertAnalysisFile } from "../../lib/analysis/mod.ts";
import { requestGpu } from "../../kernels/mod.ts";
import { assert, assertAlmostEquals, assertEquals, plant, streamOf } from "./_synthetic.ts";

Deno.test("runAnalyzeCli() analyses an external [M, N, D] file into the analysis schema", async () => {
  const p = plant({
    families: ["ViT"],
    ks: [2, 8],
    seeds: 3,
    samples: 24,
    dim: 20,
    sigma: (k) => 4 / k,
    seed: 11,
  });
  const dir = await Deno.makeTempDir();
  try {
    await writeNpy(`${dir}/grads.npy`, [p.models.length, p.samples, p.dim], p.data);
    await Deno.writeTextFile(
      `${dir}/models.json`,
      JSON.stringify(p.models.map(({ family, k, seed }) => ({ family, k, seed }))),
    );
    const out = `${dir}/out`;
    const r = await runAnalyzeCli([
      "--grads",
      `${dir}/grads.npy`,
      "--models",
      `${dir}/models.json`,
      "--out",
      out,
      "--cpu",
      "--resamples",
      "100",
      "--quiet",
    ]);
    assertEquals(r.outDir, out);
    for (
      const kind of [
        "similarity",
        "table1",
        "marginals",
        "smallPredictsLarge",
        "claims",
        "summary",
      ] as const
    ) {
      const name = {
        similarity: "similarity.json",
        table1: "table1.json",
        marginals: "marginals.json",
        smallPredictsLarge: "small_predicts_large.json",
        claims: "claims.json",
        summary: "summary.json",
      }[kind];
      assertAnalysisFile(JSON.parse(await Deno.readTextFile(`${out}/${name}`)), kind);
    }
    const sim = assertAnalysisFile(
      JSON.parse(await Deno.readTextFile(`${out}/similarity.json`)),
      "similarity",
    );
    const direct = await analyzeGradients(streamOf(p), p.models, { resamples: 100 });
    for (let a = 0; a < 2; a++) {
      for (let b = 0; b < 2; b++) {
        assertAlmostEquals(
          sim.expected[a]![b]!.mean!,
          direct.similarity.expected[a]![b]!.mean!,
          1e-9,
        );
      }
    }
    const summary = assertAnalysisFile(
      JSON.parse(await Deno.readTextFile(`${out}/summary.json`)),
      "summary",
    );
    assertEquals(summary.counts.models, 6);
    assertEquals(summary.backend.kind, "reference");
    assert(summary.skipped.some((s) => s.file === "attacks.json"));
    // No temporary files are left behind.
    for await (const e of Deno.readDir(out)) assert(!e.name.includes(".tmp-"), e.name);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runAnalyzeCli() rejects a models list of the wrong length", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeNpy(`${dir}/g.npy`, [2, 3, 4], new Float32Array(24).fill(1));
    await Deno.writeTextFile(`${dir}/m.json`, JSON.stringify([{ family: "MLP", k: 1, seed: 0 }]));
    let message = "";
    try {
      await runAnalyzeCli([
        "--grads",
        `${dir}/g.npy`,
        "--models",
        `${dir}/m.json`,
        "--cpu",
        "--quiet",
      ]);
    } catch (e) {
      assert(e instanceof TypeError);
      message = e.message;
    }
    assert(message.includes("M = 2"), message);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const gpu = await requestGpu();
const noAdapter = gpu.backend !== "webgpu";
gpu.destroy();
if (noAdapter && Deno.env.get("CI") === "true") {
  throw new Error("CI=true but no WebGPU adapter was found; install mesa-vulkan-drivers.");
}

Deno.test({
  name: "analyzeGradients() gives the same figures with the WebGPU kernels as in TypeScript",
  ignore: noAdapter,
  fn: async () => {
    const p = plant({
      families: ["MLP"],
      ks: [1, 2],
      seeds: 3,
      samples: 19,
      dim: 37,
      sigma: (k) => 2 / k,
      seed: 4,
    });
    const g = await requestGpu();
    try {
      const a = await analyzeGradients(streamOf(p), p.models, {
        gpu: g,
        resamples: 50,
        batchSize: 5,
      });
      const b = await analyzeGradients(streamOf(p), p.models, { resamples: 50, batchSize: 5 });
      for (let i = 0; i < 6; i++) {
        for (let j = 0; j < 6; j++) {
          assertAlmostEquals(
            a.similarity.pInd.values[i]![j]!,
            b.similarity.pInd.values[i]![j]!,
            1e-5,
          );
        }
      }
      for (let q = 0; q < a.reduced.t.length; q++) {
        assertAlmostEquals(a.reduced.t[q]!, b.reduced.t[q]!, 1e-4);
      }
    } finally {
      g.destroy();
    }
  },
});
