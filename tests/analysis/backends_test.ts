// The whole gradient analysis on WebGPU (the group reductions on the device) against the
// float64 reference path: every number of every file within tolerance, with groups, split
// halves, models outside the groups, zero rows and batches that cut the bootstrap's blocks.
import { analyzeGradients } from "../../lib/analysis/mod.ts";
import { requestGpu } from "../../kernels/mod.ts";
import { gpuTest } from "../_shared/gpu.ts";
import { assert, assertEquals, plant, streamOf, withOtherBatchSize } from "./_synthetic.ts";
import { analysisJson, jsonDiff } from "./_compare.ts";

gpuTest(
  "analyzeGradients() writes the same files on WebGPU as on the float64 reference",
  async () => {
    const p = plant({
      families: ["MLP", "CNNSmall"],
      ks: [1, 2, 4],
      seeds: 4,
      samples: 45,
      dim: 37,
      sigma: (k) => 3 / k,
      seed: 9,
    });
    // Two more models at another batch size: outside every group, still compared to the means.
    const { models, data } = withOtherBatchSize(p, {
      family: "MLP",
      k: 4,
      seeds: 2,
      sigma: 1,
      as: (m) => ({ ...m, seed: m.seed + 10, batchSize: 16 }),
    });
    data.fill(0, 3 * 45 * 37 + 5 * 37, 3 * 45 * 37 + 6 * 37); // model 3, sample 5: zero
    const stream = streamOf({ models, data, samples: 45, dim: 37 });
    const options = { resamples: 80, batchSize: 7, blocks: 10, splits: 3 };
    const gpu = await requestGpu();
    try {
      assertEquals(gpu.backend, "webgpu");
      const onGpu = analysisJson(await analyzeGradients(stream, models, { ...options, gpu }));
      const onCpu = analysisJson(await analyzeGradients(stream, models, options));
      const sim = onCpu.similarity as { zeroGradients: number; models: unknown[] };
      assertEquals(sim.zeroGradients, 1);
      assertEquals(sim.models.length, 26);
      const d = jsonDiff(onGpu, onCpu);
      assert(d <= 1e-4, `WebGPU and the float64 reference differ by ${d} (relative)`);
    } finally {
      gpu.destroy();
    }
  },
);
