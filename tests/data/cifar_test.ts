import {
  CIFAR100_COARSE_CLASSES,
  CIFAR100_FINE_CLASSES,
  CIFAR10_CLASSES,
  loadCifar100Raw,
  loadCifar10Raw,
  loadDataset,
} from "../../lib/data/mod.ts";
import { join } from "node:path";
import { assert, assertClose, assertEquals, assertRejects, tempDir } from "./_helpers.ts";

/** The pixel byte the fixtures store for record r, channel c, row y, column x. */
const pix = (r: number, c: number, y: number, x: number) =>
  (r * 31 + c * 101 + y * 7 + x * 3) % 256;

/** `labels.length` records in the distribution layout: label bytes, then R, G, B planes. */
function records(labels: number[][], first = 0): Uint8Array {
  const lb = labels[0]?.length ?? 1;
  const rec = lb + 3072;
  const out = new Uint8Array(labels.length * rec);
  labels.forEach((ys, i) => {
    out.set(ys, i * rec);
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 32; y++) {
        for (let x = 0; x < 32; x++) {
          out[i * rec + lb + c * 1024 + y * 32 + x] = pix(first + i, c, y, x);
        }
      }
    }
  });
  return out;
}

async function writeCifar10(dir: string, perBatch = 3): Promise<void> {
  for (let b = 1; b <= 5; b++) {
    const ys = Array.from({ length: perBatch }, (_, i) => [((b - 1) * perBatch + i) % 10]);
    await Deno.writeFile(join(dir, `data_batch_${b}.bin`), records(ys, (b - 1) * perBatch));
  }
  await Deno.writeFile(join(dir, "test_batch.bin"), records([[9], [8], [7], [6]], 100));
}

Deno.test("loadCifar10Raw() reads the five batches in order as NHWC with their labels", async () => {
  await using tmp = await tempDir("cifar10-");
  await writeCifar10(tmp.dir);
  const raw = await loadCifar10Raw(tmp.dir);
  assertEquals([raw.train.count, raw.test.count], [15, 4], "counts");
  assertEquals(raw.shape, { channels: 3, height: 32, width: 32 }, "shape");
  assertEquals(
    Array.from(raw.train.labels),
    Array.from({ length: 15 }, (_, i) => i % 10),
    "labels",
  );
  assertEquals(Array.from(raw.test.labels), [9, 8, 7, 6], "test labels");
  assertEquals(raw.classes, [...CIFAR10_CLASSES], "classes");
  for (const [r, c, y, x] of [[0, 0, 0, 0], [7, 2, 31, 5], [14, 1, 3, 30]] as const) {
    assertEquals(
      raw.train.pixels[((r * 32 + y) * 32 + x) * 3 + c],
      pix(r, c, y, x),
      `pixel ${r},${c},${y},${x}`,
    );
  }
  assertEquals(raw.test.pixels[((2 * 32 + 4) * 32 + 9) * 3 + 1], pix(102, 1, 4, 9), "test pixel");
});

Deno.test("loadCifar10Raw() finds the files in a cifar-10-batches-bin subfolder", async () => {
  await using tmp = await tempDir("cifar10-");
  const inner = join(tmp.dir, "cifar-10-batches-bin");
  await Deno.mkdir(inner);
  await writeCifar10(inner, 1);
  const raw = await loadCifar10Raw(tmp.dir);
  assertEquals(raw.train.count, 5, "count");
  assertEquals(raw.source, inner, "source");
});

Deno.test("loadCifar10Raw() names a missing batch, what to put there and --data-dir", async () => {
  await using tmp = await tempDir("cifar10-");
  await writeCifar10(tmp.dir, 1);
  await Deno.remove(join(tmp.dir, "data_batch_3.bin"));
  await assertRejects(() => loadCifar10Raw(tmp.dir), Deno.errors.NotFound, [
    `CIFAR-10 file ${join(tmp.dir, "data_batch_3.bin")} is missing`,
    `put the binary version (cifar-10-batches-bin`,
    `in ${tmp.dir} or pass --data-dir`,
  ]);
});

Deno.test("loadCifar10Raw() reports a truncated batch with its size and the full size", async () => {
  await using tmp = await tempDir("cifar10-");
  await writeCifar10(tmp.dir, 2);
  await Deno.writeFile(join(tmp.dir, "data_batch_2.bin"), records([[1], [2]]).subarray(0, 5000));
  await assertRejects(() => loadCifar10Raw(tmp.dir), SyntaxError, [
    "data_batch_2.bin holds 5,000 bytes, expected 30,730,000 (10,000 records of 3,073 bytes)",
    "download cifar-10-binary.tar.gz again",
  ]);
});

Deno.test("loadCifar10Raw() reports a label outside 0–9 with its record and file", async () => {
  await using tmp = await tempDir("cifar10-");
  await writeCifar10(tmp.dir, 1);
  await Deno.writeFile(join(tmp.dir, "test_batch.bin"), records([[0], [1], [2], [3], [4], [12]]));
  await assertRejects(() => loadCifar10Raw(tmp.dir), RangeError, [
    "label 12 at record 5 of CIFAR-10 file",
    "test_batch.bin is outside 0–9",
  ]);
});

Deno.test("loadCifar10Raw() rejects CIFAR-100 records as a size that is not whole records", async () => {
  await using tmp = await tempDir("cifar10-");
  await writeCifar10(tmp.dir, 1);
  await Deno.writeFile(join(tmp.dir, "test_batch.bin"), records([[1, 2], [3, 4]]));
  await assertRejects(() => loadCifar10Raw(tmp.dir), SyntaxError, ["holds 6,148 bytes"]);
});

async function writeCifar100(dir: string): Promise<void> {
  await Deno.writeFile(join(dir, "train.bin"), records([[0, 4], [19, 99], [5, 50]]));
  await Deno.writeFile(join(dir, "test.bin"), records([[3, 30], [7, 77]], 50));
}

Deno.test("loadCifar100Raw() uses fine labels by default and coarse on request", async () => {
  await using tmp = await tempDir("cifar100-");
  await writeCifar100(tmp.dir);
  const fine = await loadCifar100Raw(tmp.dir);
  assertEquals(Array.from(fine.train.labels), [4, 99, 50], "fine labels");
  assertEquals(fine.classes.length, 100, "fine classes");
  const coarse = await loadCifar100Raw(tmp.dir, { labelKind: "coarse" });
  assertEquals(Array.from(coarse.train.labels), [0, 19, 5], "coarse labels");
  assertEquals(Array.from(coarse.test.labels), [3, 7], "coarse test labels");
  assertEquals(coarse.classes.length, 20, "coarse classes");
  assertEquals(
    coarse.train.pixels[((1 * 32 + 2) * 32 + 3) * 3 + 2],
    pix(1, 2, 2, 3),
    "pixel after two label bytes",
  );
  assertEquals(coarse.test.pixels[3 * 1024 + 2], pix(51, 2, 0, 0), "test pixel");
});

Deno.test("CIFAR class lists have the distribution's lengths and ends", () => {
  assertEquals(
    [CIFAR10_CLASSES.length, CIFAR100_FINE_CLASSES.length, CIFAR100_COARSE_CLASSES.length],
    [10, 100, 20],
    "lengths",
  );
  assertEquals([CIFAR100_FINE_CLASSES[0], CIFAR100_FINE_CLASSES[99], CIFAR100_COARSE_CLASSES[19]], [
    "apple",
    "worm",
    "vehicles_2",
  ], "ends");
  assertEquals(new Set(CIFAR100_FINE_CLASSES).size, 100, "distinct");
});

Deno.test("loadCifar100Raw() reports a fine label outside 0–99 and a missing test.bin", async () => {
  await using tmp = await tempDir("cifar100-");
  await writeCifar100(tmp.dir);
  await Deno.writeFile(join(tmp.dir, "train.bin"), records([[0, 4], [1, 100]]));
  await assertRejects(() => loadCifar100Raw(tmp.dir), RangeError, [
    "label 100 at record 1 of",
    "train.bin is outside 0–99",
  ]);
  await Deno.remove(join(tmp.dir, "test.bin"));
  await assertRejects(
    () => loadCifar100Raw(tmp.dir, { labelKind: "coarse" }),
    Deno.errors.NotFound,
    [
      "CIFAR-100 file",
      "test.bin is missing: put the binary version (cifar-100-binary",
    ],
  );
});

Deno.test("loadDataset() cifar10 without dir says to pass one", async () => {
  await assertRejects(() => loadDataset("cifar10"), TypeError, [
    "CIFAR-10 needs a folder",
    "--data-dir",
  ]);
});

Deno.test("loadDataset() cifar10 normalises each RGB channel to mean 0 and std 1", async () => {
  await using tmp = await tempDir("cifar10-");
  await writeCifar10(tmp.dir, 4);
  const d = await loadDataset("cifar10", { dir: tmp.dir });
  assert(d.mean.length === 3 && d.std.length === 3, "three channels");
  for (let c = 0; c < 3; c++) {
    let s = 0, ss = 0, n = 0;
    for (let i = c; i < d.train.images.length; i += 3) {
      s += d.train.images[i]!;
      ss += d.train.images[i]! ** 2;
      n++;
    }
    assertClose(s / n, 0, 1e-5, `channel ${c} mean`);
    assertClose(Math.sqrt(ss / n - (s / n) ** 2), 1, 1e-4, `channel ${c} std`);
  }
});
