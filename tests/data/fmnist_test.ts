import {
  encodeIdx,
  FASHION_MNIST_SUBSET_DIR,
  FASHION_MNIST_SUBSET_FILES,
  loadDataset,
  loadFashionMnistRaw,
  makeFashionMnistSubset,
  parseIdx,
} from "../../lib/data/mod.ts";
import { gunzipSync, gzipSync } from "node:zlib";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  assert,
  assertClose,
  assertEquals,
  assertRejects,
  bytesEqual,
  ignoreWithoutFullFashionMnist,
  tempDir,
} from "./_helpers.ts";

const histogram = (labels: Int32Array, k: number) => {
  const h = new Array(k).fill(0);
  labels.forEach((y) => h[y]++);
  return h;
};

Deno.test({
  name: "loadDataset() reads the full Fashion-MNIST with 60,000/10,000 balanced images",
  ignore: ignoreWithoutFullFashionMnist(),
  async fn() {
    const d = await loadDataset("fmnist");
    assertEquals([d.train.count, d.test.count], [60000, 10000], "counts");
    assertEquals(d.shape, { channels: 1, height: 28, width: 28 }, "shape");
    assertEquals(histogram(d.train.labels, 10), new Array(10).fill(6000), "train histogram");
    assertEquals(histogram(d.test.labels, 10), new Array(10).fill(1000), "test histogram");
    // The published training statistics of Fashion-MNIST: mean 0.2860, std 0.3530.
    assertClose(d.mean[0]!, 0.2860, 5e-4, "mean");
    assertClose(d.std[0]!, 0.3530, 5e-4, "std");
    assertEquals(d.train.images.length, 60000 * 784, "train values");
    assertEquals(d.probe.count, 10000, "probe is the whole test split by default");
  },
});

Deno.test({
  name: "makeFashionMnistSubset() reproduces the committed embedded bytes exactly",
  ignore: ignoreWithoutFullFashionMnist(),
  async fn() {
    await using tmp = await tempDir("fmnist-subset-");
    await makeFashionMnistSubset(undefined, tmp.dir);
    for (const name of [...FASHION_MNIST_SUBSET_FILES, "SHA256SUMS"]) {
      const committed = await Deno.readFile(new URL(name, FASHION_MNIST_SUBSET_DIR));
      const fresh = await Deno.readFile(join(tmp.dir, name));
      if (bytesEqual(committed, fresh)) continue;
      const sameContent = name.endsWith(".gz") &&
        bytesEqual(gunzipSync(committed), gunzipSync(fresh));
      throw new Error(
        sameContent
          ? `${name}: same images and labels, but this Deno's zlib compresses them to other bytes`
          : `${name} differs from the regenerated file`,
      );
    }
  },
});

Deno.test("loadDataset() embedded default is class-balanced 4,000/1,000 and deterministic", async () => {
  const a = await loadDataset("fmnist-default");
  assertEquals([a.train.count, a.test.count], [4000, 1000], "counts");
  assertEquals(histogram(a.train.labels, 10), new Array(10).fill(400), "train histogram");
  assertEquals(histogram(a.test.labels, 10), new Array(10).fill(100), "test histogram");
  assertEquals(a.classes.length, 10, "classes");
  const b = await loadDataset("fmnist-default");
  assert(bytesEqual(a.train.images, b.train.images), "two loads differ");
  assert(bytesEqual(a.test.labels, b.test.labels), "two loads differ in labels");
});

Deno.test("embedded default files match their SHA256SUMS", async () => {
  const sums = await Deno.readTextFile(new URL("SHA256SUMS", FASHION_MNIST_SUBSET_DIR));
  const lines = sums.trim().split("\n");
  assertEquals(lines.map((l) => l.split("  ")[1]), FASHION_MNIST_SUBSET_FILES, "listed files");
  for (const line of lines) {
    const [hex, name] = line.split("  ") as [string, string];
    const bytes = await Deno.readFile(new URL(name, FASHION_MNIST_SUBSET_DIR));
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    const got = Array.from(digest, (x) => x.toString(16).padStart(2, "0")).join("");
    assertEquals(got, hex, `sha256 of ${name}`);
  }
});

Deno.test("embedded default LICENSE holds the MIT text and the attribution", async () => {
  const licence = await Deno.readTextFile(new URL("LICENSE", FASHION_MNIST_SUBSET_DIR));
  assert(
    licence.includes("Zalando SE") && licence.includes("Permission is hereby granted"),
    "MIT text",
  );
  const readme = await Deno.readTextFile(new URL("README.md", FASHION_MNIST_SUBSET_DIR));
  assert(readme.includes("arXiv:1708.07747") && readme.includes("Xiao"), "attribution");
});

Deno.test("loadDataset() normalises the training split to mean 0 and std 1", async () => {
  const d = await loadDataset("fmnist-default");
  let s = 0, ss = 0;
  for (const v of d.train.images) {
    s += v;
    ss += v * v;
  }
  const n = d.train.images.length;
  assertClose(s / n, 0, 1e-5, "normalised mean");
  assertClose(Math.sqrt(ss / n - (s / n) ** 2), 1, 1e-5, "normalised std");
});

// ---- idx fixtures and errors ----

const tinyIdx = (n: number, labels: number[] = Array.from({ length: n }, (_, i) => i % 10)) => ({
  images: encodeIdx([n, 2, 3], Uint8Array.from({ length: n * 6 }, (_, i) => (i * 37) % 256)),
  labels: encodeIdx([n], Uint8Array.from(labels)),
});

async function writeFmnist(
  dir: string,
  train = tinyIdx(20),
  test = tinyIdx(10),
  gz = true,
): Promise<void> {
  const put = (name: string, bytes: Uint8Array) =>
    Deno.writeFile(join(dir, gz ? name + ".gz" : name), gz ? gzipSync(bytes) : bytes);
  await put("train-images-idx3-ubyte", train.images);
  await put("train-labels-idx1-ubyte", train.labels);
  await put("t10k-images-idx3-ubyte", test.images);
  await put("t10k-labels-idx1-ubyte", test.labels);
}

Deno.test("loadFashionMnistRaw() reads gzipped and plain idx files alike", async () => {
  for (const gz of [true, false]) {
    await using tmp = await tempDir("fmnist-");
    await writeFmnist(tmp.dir, undefined, undefined, gz);
    const raw = await loadFashionMnistRaw(tmp.dir);
    assertEquals(raw.shape, { channels: 1, height: 2, width: 3 }, "shape");
    assertEquals([raw.train.count, raw.test.count], [20, 10], "counts");
    assertEquals(
      Array.from(raw.train.pixels.subarray(0, 8)),
      [0, 37, 74, 111, 148, 185, 222, 3],
      "pixels",
    );
    assertEquals(Array.from(raw.test.labels), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], "labels");
  }
});

Deno.test("loadFashionMnistRaw() names a missing file and the fix", async () => {
  await using tmp = await tempDir("fmnist-");
  await writeFmnist(tmp.dir);
  await Deno.remove(join(tmp.dir, "t10k-labels-idx1-ubyte.gz"));
  await assertRejects(() => loadFashionMnistRaw(tmp.dir), Deno.errors.NotFound, [
    join(tmp.dir, "t10k-labels-idx1-ubyte.gz"),
    "is missing",
    "dataset-fashion-mnist",
    "--data-dir",
  ]);
});

Deno.test("loadFashionMnistRaw() reports a truncated image file with its size and the expected one", async () => {
  await using tmp = await tempDir("fmnist-");
  const train = tinyIdx(20);
  await writeFmnist(tmp.dir, { ...train, images: train.images.subarray(0, 100) });
  await assertRejects(() => loadFashionMnistRaw(tmp.dir), SyntaxError, [
    "train-images-idx3-ubyte.gz holds 100 bytes, expected 136",
    "20 images of 2×3 bytes",
    "truncated",
  ]);
});

Deno.test("loadFashionMnistRaw() reports swapped image and label files by their magic numbers", async () => {
  await using tmp = await tempDir("fmnist-");
  const t = tinyIdx(10);
  await writeFmnist(tmp.dir, undefined, { images: t.labels, labels: t.images });
  await assertRejects(() => loadFashionMnistRaw(tmp.dir), SyntaxError, [
    "t10k-images-idx3-ubyte.gz starts with magic 2049 (an idx label file), expected 2051",
  ]);
});

Deno.test("loadFashionMnistRaw() reports an image/label count mismatch", async () => {
  await using tmp = await tempDir("fmnist-");
  await writeFmnist(tmp.dir, { images: tinyIdx(20).images, labels: tinyIdx(19).labels });
  await assertRejects(() => loadFashionMnistRaw(tmp.dir), TypeError, [
    "holds 20 images but",
    "holds 19 labels",
  ]);
});

Deno.test("loadFashionMnistRaw() reports a label outside 0–9 with its record", async () => {
  await using tmp = await tempDir("fmnist-");
  const labels = Array.from({ length: 10 }, (_, i) => i);
  labels[5] = 12;
  await writeFmnist(tmp.dir, undefined, tinyIdx(10, labels));
  await assertRejects(() => loadFashionMnistRaw(tmp.dir), RangeError, [
    "label 12 at record 5 of",
    "t10k-labels-idx1-ubyte.gz is outside 0–9",
  ]);
});

Deno.test("loadFashionMnistRaw() reports a corrupt gzip stream", async () => {
  await using tmp = await tempDir("fmnist-");
  await writeFmnist(tmp.dir);
  const path = join(tmp.dir, "train-labels-idx1-ubyte.gz");
  const bytes = await Deno.readFile(path);
  await Deno.writeFile(path, bytes.subarray(0, bytes.length - 12));
  await assertRejects(() => loadFashionMnistRaw(tmp.dir), SyntaxError, [
    "train-labels-idx1-ubyte.gz is not a complete gzip stream",
  ]);
});

Deno.test("parseIdx() reports trailing bytes", () => {
  const file = new Uint8Array([...encodeIdx([2], Uint8Array.from([1, 2])), 9]);
  let message = "";
  try {
    parseIdx(file, { magic: 2049, name: "labels.idx" });
  } catch (e) {
    message = (e as Error).message;
  }
  assert(message.includes("holds 11 bytes, expected 10") && message.includes("trailing"), message);
});

Deno.test("FASHION_MNIST_SUBSET_DIR points into the repository's data folder", () => {
  assert(
    fileURLToPath(FASHION_MNIST_SUBSET_DIR).replaceAll("\\", "/").endsWith(
      "data/fashion-mnist-subset/",
    ),
    "location",
  );
});

Deno.test("loadFashionMnistRaw() stops a gzip bomb at the size its idx header declares", async () => {
  await using tmp = await tempDir("fmnist-");
  await writeFmnist(tmp.dir);
  // A header declaring 20 images of 2×3 bytes, followed by 64 MiB of zeros (64 kB gzipped).
  const small = tinyIdx(20).images;
  const bomb = new Uint8Array(small.length + 64 * 2 ** 20);
  bomb.set(small);
  await Deno.writeFile(join(tmp.dir, "train-images-idx3-ubyte.gz"), gzipSync(bomb, { level: 1 }));
  let message = "";
  await loadFashionMnistRaw(tmp.dir).catch((e) => message = (e as Error).message);
  assert(
    message.includes("train-images-idx3-ubyte.gz expands past the 136 bytes its header declares"),
    message,
  );
  const already = Number(/already ([\d,]+)/.exec(message)![1]!.replaceAll(",", ""));
  assert(already <= 2 ** 20, `decompressed ${already} bytes before stopping`);
});
