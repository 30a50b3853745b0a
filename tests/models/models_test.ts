import {
  deepStrictEqual as assertEquals,
  notDeepStrictEqual as assertNotEquals,
  throws as assertThrows,
} from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { initTf } from "../../lib/tf/mod.ts";
import {
  countParams,
  createModel,
  FAMILIES,
  type Family,
  modelSpec,
} from "../../lib/models/mod.ts";
import { parameterTable, parseShape } from "../../lib/cli/models.ts";

await initTf({ backend: "cpu" });
const cifar = { channels: 3, height: 32, width: 32 };
const fmnist = { channels: 1, height: 28, width: 28 };

Deno.test("countParams() equals the PyTorch definitions at 3×32×32, 10 classes, k = 10", () => {
  // Values from the authors' PyTorch models: sum(p.numel() for p in model.parameters()).
  const expected: Record<string, number> = {
    CNNSmall: 39330,
    CNNLarge: 116280,
    ResNetSmall: 124420,
    ResNetLarge: 276180,
  };
  for (const [family, n] of Object.entries(expected)) {
    const m = createModel({ family: family as Family, k: 10, seed: 0, shape: cifar, classes: 10 });
    assertEquals(countParams(m), n, family);
    m.dispose();
  }
});

Deno.test("countParams() of ResNetLarge(64) equals torchvision's ResNet-18 with 10 classes", () => {
  // torchvision resnet18: 11,689,512 with a 1000-class head; 10 classes: 11,689,512 − 513,000 + 5,130.
  const m = createModel({ family: "ResNetLarge", k: 64, seed: 0, shape: cifar, classes: 10 });
  assertEquals(countParams(m), 11_181_642);
  m.dispose();
});

Deno.test("countParams() of MLP and ViT equals their closed forms", () => {
  for (const k of [2, 6]) {
    const h = 16 * k, d = 28 * 28, c = 10;
    const mlp = createModel({ family: "MLP", k, seed: 0, shape: fmnist, classes: c });
    assertEquals(countParams(mlp), d * h + h + h * h + h + h * c + c);
    mlp.dispose();
    const e = 4 * k, t = 49;
    const block = 2 * e + (e * 3 * e + 3 * e) + (e * e + e) + 2 * e + (e * 2 * e + 2 * e) +
      (2 * e * e + e);
    const vit = createModel({ family: "ViT", k, seed: 0, shape: fmnist, classes: c });
    assertEquals(countParams(vit), 16 * e + e + e + (t + 1) * e + 6 * block + 2 * e + e * c + c);
    vit.dispose();
  }
});

Deno.test("createModel() gives [batch, classes] logits for every family on 28×28 and 32×32", () => {
  for (const shape of [fmnist, cifar]) {
    for (const family of FAMILIES) {
      const m = createModel({ family, k: 2, seed: 1, shape, classes: 7 });
      const y = tf.tidy(() =>
        m.predict(tf.zeros([3, shape.height, shape.width, shape.channels])) as tf.Tensor
      );
      assertEquals(y.shape, [3, 7], `${family} ${shape.height}`);
      y.dispose();
      m.dispose();
    }
  }
});

Deno.test("createModel() ResNet stem and stride-2 stages give PyTorch's output sizes", () => {
  // PyTorch: floor((H + 2p − k)/s) + 1: 28 → 14 (stem) → 14 → 7 → 4 → 2; 32 → 16 → 16 → 8 → 4 → 2.
  for (const [shape, sizes] of [[fmnist, [14, 7, 4, 2]], [cifar, [16, 8, 4, 2]]] as const) {
    const m = createModel({ family: "ResNetSmall", k: 2, seed: 0, shape, classes: 10 });
    const adds = m.layers.filter((l) => l.name.startsWith("add"));
    const spatial = adds.map((l) => l.outputShape[1]);
    assertEquals(spatial, [sizes[0], sizes[0], sizes[1], sizes[2], sizes[3]]);
    m.dispose();
  }
});

Deno.test("createModel() with the same seed gives the same weights, another seed different ones", async () => {
  const spec = { family: "CNNSmall" as const, k: 2, seed: 5, shape: fmnist, classes: 10 };
  const a = createModel(spec), b = createModel(spec), c = createModel({ ...spec, seed: 6 });
  const read = (m: typeof a) => Promise.all(m.getWeights().map((w) => w.data()));
  const [wa, wb, wc] = [await read(a), await read(b), await read(c)];
  assertEquals(wa, wb);
  assertNotEquals(wa[0], wc[0]);
  assertEquals(modelSpec(a)?.seed, 5);
  for (const m of [a, b, c]) m.dispose();
});

Deno.test("createModel() initialises conv kernels within PyTorch's ±1/√fan_in", async () => {
  const m = createModel({ family: "CNNSmall", k: 4, seed: 0, shape: cifar, classes: 10 });
  const w = m.getWeights()[0]!; // first conv kernel [3, 3, 3, 4], fan_in 27
  const v = await w.data();
  const bound = 1 / Math.sqrt(27);
  assertEquals(v.every((x) => Math.abs(x) <= bound), true);
  assertEquals(Math.max(...v.map(Math.abs)) > 0.8 * bound, true);
  m.dispose();
});

Deno.test("createModel() rejects odd ViT widths and non-integer k", () => {
  assertThrows(
    () => createModel({ family: "ViT", k: 3, seed: 0, shape: fmnist, classes: 10 }),
    RangeError,
  );
  assertThrows(
    () => createModel({ family: "MLP", k: 1.5, seed: 0, shape: fmnist, classes: 10 }),
    RangeError,
  );
  assertThrows(
    () => createModel({ family: "Nope" as Family, k: 2, seed: 0, shape: fmnist, classes: 10 }),
    RangeError,
  );
});

Deno.test("parameterTable() lists every family and marks unbuildable cells", () => {
  const text = parameterTable(parseShape("1x8x8"), 4, [1, 2]);
  for (const f of FAMILIES) assertEquals(text.includes(f), true);
  assertEquals(text.split("\n").find((l) => l.startsWith("ViT"))!.includes("–"), true);
  assertThrows(() => parseShape("3x32"), RangeError);
});
