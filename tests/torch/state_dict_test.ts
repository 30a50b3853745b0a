// Reading state dicts: torch.save archives written by PyTorch (tests/torch/oracle.py, task
// "archives"), .safetensors files, and the one clear error for each kind of bad input.
import * as tf from "@tensorflow/tfjs-core";
import { createModel, type ModelSpec, modelSpec } from "../../lib/models/mod.ts";
import { loadCheckpointModel, saveCheckpoint } from "../../lib/train/mod.ts";
import { initTf } from "../../lib/tf/mod.ts";
import {
  encodeSafetensors,
  exportSafetensors,
  loadTorchModel,
  parseSafetensors,
  parseTorchArchive,
  readStateDict,
  toStateDict,
  writeSafetensors,
} from "../../lib/torch/mod.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "../_shared/assert.ts";
import { oracleOnce, relativeError, torchTest } from "./_oracle.ts";

await initTf({ backend: "cpu" });

const spec: ModelSpec = {
  family: "CNNSmall",
  k: 2,
  seed: 3,
  shape: { channels: 1, height: 8, width: 8 },
  classes: 3,
};

async function exported(): Promise<string> {
  const m = createModel(spec);
  const path = `${await Deno.makeTempDir()}/m.safetensors`;
  await exportSafetensors(m, path);
  m.dispose();
  return path;
}

Deno.test("exportSafetensors() then loadTorchModel() gives back the same weights", async () => {
  const m = createModel(spec);
  const path = `${await Deno.makeTempDir()}/m.safetensors`;
  await exportSafetensors(m, path);
  const back = await loadTorchModel(path, { ...spec, seed: 99 });
  const a = m.getWeights(), b = back.getWeights();
  assertEquals(a.length, b.length);
  for (let i = 0; i < a.length; i++) {
    assertEquals(Array.from(await b[i]!.data()), Array.from(await a[i]!.data()));
  }
  m.dispose();
  back.dispose();
});

Deno.test("a checkpoint our training wrote exports as .safetensors that loads back the same", async () => {
  const m = createModel(spec);
  const dir = await Deno.makeTempDir();
  const folder = await saveCheckpoint(`${dir}/checkpoint`, m, {
    state: {
      format: "salience-train-checkpoint",
      version: 1,
      epochsDone: 1,
      history: [],
      optimizerStep: 0,
      rngState: 0,
      config: {},
    },
    optimizerWeights: [],
  });
  const loaded = await loadCheckpointModel(folder);
  assertEquals(modelSpec(loaded), spec);
  await exportSafetensors(loaded, `${dir}/m.safetensors`);
  const back = await loadTorchModel(`${dir}/m.safetensors`, spec);
  const a = m.getWeights(), b = back.getWeights();
  for (let i = 0; i < a.length; i++) {
    assertEquals(Array.from(await b[i]!.data()), Array.from(await a[i]!.data()));
  }
  for (const x of [m, loaded, back]) x.dispose();
});

Deno.test("loadTorchModel() names a missing key, an unexpected key and a wrong shape", async () => {
  const before = tf.memory().numTensors;
  const path = await exported();
  const sd = await readStateDict(path);
  const dir = await Deno.makeTempDir();
  const without = new Map(sd);
  without.delete("stages.3.0.bn.running_var");
  await writeSafetensors(`${dir}/missing.safetensors`, without);
  await assertRejects(
    () => loadTorchModel(`${dir}/missing.safetensors`, spec),
    TypeError,
    'lacks "stages.3.0.bn.running_var" (float [16]) that CNNSmall(2)',
  );
  const extra = new Map(sd).set("fc2.weight", sd.get("fc.weight")!);
  await writeSafetensors(`${dir}/extra.safetensors`, extra);
  await assertRejects(
    () => loadTorchModel(`${dir}/extra.safetensors`, spec),
    TypeError,
    'unexpected key "fc2.weight"',
  );
  await assertRejects(
    () => loadTorchModel(path, { ...spec, k: 3 }),
    TypeError,
    '"stages.0.0.conv.weight" has shape [2, 1, 3, 3], but CNNSmall(3) with 1×8×8 input and 3 classes expects [3, 1, 3, 3]',
  );
  const ints = new Map(sd).set("fc.bias", {
    shape: [3],
    dtype: "int64",
    values: new BigInt64Array(3),
  });
  await writeSafetensors(`${dir}/ints.safetensors`, ints);
  await assertRejects(
    () => loadTorchModel(`${dir}/ints.safetensors`, spec),
    TypeError,
    '"fc.bias" is int64, expected a floating-point tensor',
  );
  assertEquals(tf.memory().numTensors, before);
});

Deno.test("parseSafetensors() refuses a truncated file and an unsupported dtype", () => {
  const bytes = encodeSafetensors(
    new Map([["w", { shape: [2, 2], dtype: "float32", values: new Float32Array(4) }]]),
  );
  assertThrows(
    () => parseSafetensors(bytes.subarray(0, bytes.length - 3), "t"),
    SyntaxError,
    '"w" spans bytes 0–16',
  );
  assertThrows(() => parseSafetensors(bytes.subarray(0, 20), "t"), SyntaxError, "truncated");
  const text = new TextDecoder().decode(bytes).replace('"F32"', '"I32"');
  assertThrows(
    () => parseSafetensors(new TextEncoder().encode(text), "t"),
    TypeError,
    '"w" has dtype I32; expected F32, F16, BF16, F64 or I64',
  );
});

Deno.test("toStateDict() uses PyTorch's layouts: OIHW convolutions and [out, in] linear weights", async () => {
  const m = createModel(spec);
  const sd = await toStateDict(m);
  assertEquals(sd.get("stages.0.0.conv.weight")!.shape, [2, 1, 3, 3]);
  assertEquals(sd.get("fc.weight")!.shape, [3, 16]);
  const kernel = await m.getLayer("conv_1").getWeights()[0]!.data(); // HWIO [3, 3, 1, 2]
  // OIHW (o = 1, i = 0, h = 2, w = 0) is HWIO (h = 2, w = 0, i = 0, o = 1).
  assertEquals(sd.get("stages.0.0.conv.weight")!.values[9 + 6], kernel[(2 * 3 + 0) * 2 + 1]);
  m.dispose();
});

const archives = oracleOnce({ task: "archives" });

torchTest("parseTorchArchive() reads PyTorch's dtypes, parameters and strided views", async () => {
  const { dir, manifest } = await archives();
  const sd = await readStateDict(`${dir}/wrapped.pt`);
  const expected = manifest.expected as Record<string, number[]>;
  for (const [name, values] of Object.entries(expected)) {
    const t = sd.get(name)!;
    const tol = name === "half" || name === "bfloat" ? 0 : 1e-7;
    assert(relativeError(t.values as Float32Array, values) <= tol, `${name} differs`);
  }
  assertEquals(sd.get("transposed")!.shape, [4, 3]);
  assertEquals(sd.get("offset")!.shape, [4]);
  assertEquals(sd.get("half")!.dtype, "float16");
  assertEquals(sd.get("count")!.values, new BigInt64Array([7n]));
});

torchTest(
  "parseTorchArchive() refuses a pickle that calls a function, without calling it",
  async () => {
    const { dir, manifest } = await archives();
    await assertRejects(
      () => readStateDict(`${dir}/evil.pt`),
      TypeError,
      "the global posix.system",
    );
    assert(!(await Deno.stat(manifest.marker as string).catch(() => null)), "the command ran");
  },
);

torchTest("parseTorchArchive() names an unsupported dtype and a truncated archive", async () => {
  const { dir } = await archives();
  await assertRejects(
    () => readStateDict(`${dir}/int32.pt`),
    TypeError,
    'tensor "w" is stored as torch.IntStorage; expected float32',
  );
  const bytes = await Deno.readFile(`${dir}/wrapped.pt`);
  assertThrows(
    () => parseTorchArchive(bytes.subarray(0, bytes.length >> 1), "cut.pt"),
    SyntaxError,
    "cut.pt is truncated or not a zip archive",
  );
  const damaged = bytes.slice();
  const at = damaged.length >> 1;
  damaged[at] = damaged[at]! ^ 0xff;
  assertThrows(() => parseTorchArchive(damaged, "bad.pt"), SyntaxError, "bad.pt");
});
