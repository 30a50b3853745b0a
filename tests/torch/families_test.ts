// Our six families against PyTorch: lib/torch/families.py writes seeded checkpoints with
// non-trivial batch-norm running statistics (tests/torch/oracle.py, task "families"); we load
// them and compare logits and true-class-logit input gradients in evaluation mode.
import * as tf from "@tensorflow/tfjs-core";
import { FAMILIES, type Family } from "../../lib/models/mod.ts";
import { readNpy } from "../../lib/npy/mod.ts";
import { inputGradients, predictLogits } from "../../lib/salience/mod.ts";
import { initTf } from "../../lib/tf/mod.ts";
import { loadTorchModel } from "../../lib/torch/mod.ts";
import { assert } from "../_shared/assert.ts";
import { cosine, nchwToNhwc, oracleOnce, relativeError, torchTest } from "./_oracle.ts";

await initTf({ backend: "cpu" });

const WIDTHS: Record<Family, [number, number]> = {
  CNNSmall: [2, 3],
  CNNLarge: [2, 3],
  ResNetSmall: [2, 3],
  ResNetLarge: [2, 3],
  MLP: [1, 2],
  ViT: [2, 4],
};
const SHAPE = { channels: 3, height: 12, width: 8 }, CLASSES = 5, COUNT = 4;
const cases = FAMILIES.flatMap((family) =>
  WIDTHS[family].map((k, i) => ({
    name: `${family}-${k}`,
    family,
    k,
    seed: 10 + i,
    shape: [SHAPE.channels, SHAPE.height, SHAPE.width],
    classes: CLASSES,
    count: COUNT,
  }))
);
const oracle = oracleOnce({ task: "families", cases });

for (const family of FAMILIES) {
  torchTest(
    `loadTorchModel() of ${family} at k = ${
      WIDTHS[family].join(", ")
    } gives PyTorch's logits and input gradients`,
    async () => {
      const { dir, manifest } = await oracle();
      for (const c of cases.filter((c) => c.family === family)) {
        const before = tf.memory().numTensors;
        const model = await loadTorchModel(`${dir}/${c.name}.pt`, {
          family,
          k: c.k,
          seed: c.seed,
          shape: SHAPE,
          classes: CLASSES,
        });
        const x = await readNpy(`${dir}/${c.name}.x.npy`);
        const images = nchwToNhwc(x.data, COUNT, SHAPE.channels, SHAPE.height, SHAPE.width);
        const labels = new Int32Array((manifest[c.name] as { labels: number[] }).labels);
        const logits = await predictLogits(model, images);
        const grads = await inputGradients(model, { images, labels });
        model.dispose();
        const eLogits = (await readNpy(`${dir}/${c.name}.logits.npy`)).data;
        const eGrads = (await readNpy(`${dir}/${c.name}.grads.npy`)).data;
        const le = relativeError(logits, eLogits);
        assert(le <= 1e-4, `${c.name}: logits differ by ${le} relative`);
        const per = grads.length / COUNT;
        for (let i = 0; i < COUNT; i++) {
          const g = grads.subarray(i * per, (i + 1) * per);
          const e = eGrads.subarray(i * per, (i + 1) * per);
          const ge = relativeError(g, e), cos = cosine(g, e);
          assert(ge <= 1e-4, `${c.name} sample ${i}: gradients differ by ${ge} relative`);
          assert(cos >= 0.9999, `${c.name} sample ${i}: gradient cosine ${cos}`);
        }
        assert(tf.memory().numTensors === before, `${c.name}: tensors leaked`);
      }
    },
  );
}
