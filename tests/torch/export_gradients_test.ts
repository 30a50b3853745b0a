// lib/torch/export_gradients.py against our own salience: PyTorch's input gradients of our
// exported models, written as .npy + sidecar, equal inputGradients() and analyse with
// `deno task analyze --grads G.npy --models G.json` (the sidecar as the model list).
import { reference } from "../../kernels/mod.ts";
import { analyzeExternal } from "../../lib/analysis/mod.ts";
import { createModel, type ModelSpec } from "../../lib/models/mod.ts";
import { readNpy, readSidecar, validateGradientMeta, writeNpy } from "../../lib/npy/mod.ts";
import { inputGradients } from "../../lib/salience/mod.ts";
import { initTf } from "../../lib/tf/mod.ts";
import { uniformFloats } from "../../lib/stats/mod.ts";
import { exportSafetensors } from "../../lib/torch/mod.ts";
import { assert, assertEquals } from "../_shared/assert.ts";
import { cosine, nchwToNhwc, relativeError, TORCH_PYTHON, torchTest } from "./_oracle.ts";

await initTf({ backend: "cpu" });

const SCRIPT = new URL("../../lib/torch/export_gradients.py", import.meta.url).pathname;
const SHAPE = { channels: 2, height: 12, width: 12 }, N = 5, CLASSES = 4;
const SPECS: ModelSpec[] = [
  { family: "CNNSmall", k: 2, seed: 0, shape: SHAPE, classes: CLASSES },
  { family: "CNNSmall", k: 2, seed: 1, shape: SHAPE, classes: CLASSES },
  { family: "MLP", k: 1, seed: 0, shape: SHAPE, classes: CLASSES },
];

async function exportGradients(args: string[]): Promise<string> {
  const r = await new Deno.Command(TORCH_PYTHON!, {
    args: [SCRIPT, ...args],
    stderr: "piped",
    stdout: "piped",
  })
    .output();
  const err = new TextDecoder().decode(r.stderr);
  assert(r.success, `export_gradients.py failed: ${err}`);
  return new TextDecoder().decode(r.stdout);
}

torchTest(
  "export_gradients.py writes our models' input gradients as .npy + sidecar that analyze reads",
  async () => {
    const dir = await Deno.makeTempDir();
    await Deno.mkdir(`${dir}/ckpts`);
    const { channels: c, height: h, width: w } = SHAPE;
    const nchw = uniformFloats(N * c * h * w, 3);
    const images = nchwToNhwc(nchw, N, c, h, w);
    const labels = new Int32Array([0, 3, 1, 2, 3]);
    await writeNpy(`${dir}/x.npy`, [N, c, h, w], nchw);
    await writeNpy(`${dir}/y.npy`, [N], Float32Array.from(labels));
    const ours: Float32Array[] = [];
    for (const s of SPECS) {
      const m = createModel(s);
      await exportSafetensors(m, `${dir}/ckpts/${s.family}_k${s.k}_s${s.seed}.safetensors`);
      ours.push(await inputGradients(m, { images, labels }));
      m.dispose();
    }
    const common = [
      "--checkpoints",
      `${dir}/ckpts`,
      "--images",
      `${dir}/x.npy`,
      "--labels",
      `${dir}/y.npy`,
      "--classes",
      String(CLASSES),
      "--dataset",
      "toy",
    ];
    await exportGradients([...common, "--out", `${dir}/g.npy`]);
    await exportGradients([...common, "--pool", "5", "--out", `${dir}/p.npy`]);

    // File order is the folder's sorted names: CNNSmall s0, CNNSmall s1, MLP s0.
    const g = await readNpy(`${dir}/g.npy`);
    assertEquals(g.shape, [3, N, c * h * w]);
    const meta = validateGradientMeta(await readSidecar(`${dir}/g.npy`), { shape: g.shape });
    assertEquals(meta.models, SPECS.map(({ family, k, seed }) => ({ family, k, seed })));
    assertEquals(meta.probe, { dataset: "toy", split: "test", count: N });
    const p = await readNpy(`${dir}/p.npy`);
    assertEquals(
      validateGradientMeta(await readSidecar(`${dir}/p.npy`), { shape: p.shape }).pooling,
      5,
    );
    const D = c * h * w, P = c * 25;
    for (let m = 0; m < SPECS.length; m++) {
      for (let i = 0; i < N; i++) {
        const mine = ours[m]!.subarray(i * D, (i + 1) * D);
        const theirs = g.data.subarray((m * N + i) * D, (m * N + i + 1) * D);
        const err = relativeError(mine, theirs), cos = cosine(mine, theirs);
        assert(err <= 1e-4 && cos >= 0.9999, `model ${m} sample ${i}: error ${err}, cosine ${cos}`);
        const pooled = reference.areaPool(mine, { ...SHAPE, size: 5 });
        const perr = relativeError(pooled, p.data.subarray((m * N + i) * P, (m * N + i + 1) * P));
        assert(perr <= 1e-4, `model ${m} sample ${i}: pooled error ${perr}`);
      }
    }
    const sidecar = JSON.parse(await Deno.readTextFile(`${dir}/g.json`));
    const result = await analyzeExternal(`${dir}/g.npy`, sidecar, {
      gpu: "cpu",
      outDir: `${dir}/analysis`,
    });
    assertEquals(result.summary.counts.models, 3);
    assertEquals(result.summary.counts.samples, N);
  },
);
