import { loadDataset, loadNpyRaw } from "../../lib/data/mod.ts";
import { join } from "node:path";
import { assertEquals, assertRejects, tempDir } from "./_helpers.ts";

type Descr = "|u1" | "<f4" | ">f4" | "<i4" | "<i8" | "<f8";

/** Writes a version-1 .npy file the way numpy.save does (header padded to a multiple of 64). */
function npy(
  descr: Descr,
  shape: number[],
  values: ArrayLike<number>,
  fortran = false,
): Uint8Array {
  const dict = `{'descr': '${descr}', 'fortran_order': ${fortran ? "True" : "False"}, 'shape': (${
    shape.join(", ")
  }${shape.length === 1 ? "," : ""}), }`;
  const pad = 64 - ((10 + dict.length + 1) % 64);
  const header = dict + " ".repeat(pad % 64) + "\n";
  const size = { "|u1": 1, "<f4": 4, ">f4": 4, "<i4": 4, "<i8": 8, "<f8": 8 }[descr];
  const out = new Uint8Array(10 + header.length + values.length * size);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  const body = new DataView(out.buffer, 10 + header.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (descr === "|u1") body.setUint8(i, v);
    else if (descr === "<f4") body.setFloat32(4 * i, v, true);
    else if (descr === ">f4") body.setFloat32(4 * i, v, false);
    else if (descr === "<i4") body.setInt32(4 * i, v, true);
    else if (descr === "<i8") body.setBigInt64(8 * i, BigInt(v), true);
    else body.setFloat64(8 * i, v, true);
  }
  return out;
}

async function writeSet(
  dir: string,
  files: {
    trainImages?: Uint8Array;
    trainLabels?: Uint8Array;
    testImages?: Uint8Array;
    testLabels?: Uint8Array;
  },
): Promise<void> {
  const put = (name: string, bytes: Uint8Array | undefined) =>
    bytes && Deno.writeFile(join(dir, name), bytes);
  await put("train_images.npy", files.trainImages);
  await put("train_labels.npy", files.trainLabels);
  await put("test_images.npy", files.testImages);
  await put("test_labels.npy", files.testLabels);
}

const seq = (n: number) => Array.from({ length: n }, (_, i) => i);

Deno.test("loadNpyRaw() reads uint8 N×H×W images with int64 labels as one channel", async () => {
  await using tmp = await tempDir("npy-");
  await writeSet(tmp.dir, {
    trainImages: npy("|u1", [4, 2, 3], seq(24)),
    trainLabels: npy("<i8", [4], [0, 1, 2, 1]),
    testImages: npy("|u1", [2, 2, 3], seq(12)),
    testLabels: npy("<i8", [2], [2, 0]),
  });
  const raw = await loadNpyRaw(tmp.dir);
  assertEquals(raw.shape, { channels: 1, height: 2, width: 3 }, "shape");
  assertEquals(Array.from(raw.train.labels), [0, 1, 2, 1], "labels");
  assertEquals(raw.classes, ["0", "1", "2"], "classes inferred from the largest label");
  assertEquals(raw.train.pixels instanceof Uint8Array && raw.train.pixels[23], 23, "pixels");
});

Deno.test("loadNpyRaw() transposes N×C×H×W float32 to NHWC and keeps N×H×W×C", async () => {
  // Image n, channel c, row y, column x holds 1000n + 100c + 10y + x.
  const v = (n: number, c: number, y: number, x: number) => 1000 * n + 100 * c + 10 * y + x;
  const nchw: number[] = [];
  const nhwc: number[] = [];
  for (let n = 0; n < 2; n++) {
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 4; y++) for (let x = 0; x < 5; x++) nchw.push(v(n, c, y, x));
    }
    for (let y = 0; y < 4; y++) {
      for (let x = 0; x < 5; x++) for (let c = 0; c < 3; c++) nhwc.push(v(n, c, y, x));
    }
  }
  for (
    const [layoutName, images, shape] of [["nchw", nchw, [2, 3, 4, 5]], ["nhwc", nhwc, [
      2,
      4,
      5,
      3,
    ]]] as const
  ) {
    await using tmp = await tempDir("npy-");
    await writeSet(tmp.dir, {
      trainImages: npy("<f4", [...shape], images),
      trainLabels: npy("<i4", [2], [0, 1]),
      testImages: npy(">f4", [...shape], images),
      testLabels: npy("|u1", [2], [1, 0]),
    });
    const raw = await loadNpyRaw(tmp.dir, { classes: ["a", "b"] });
    assertEquals(raw.shape, { channels: 3, height: 4, width: 5 }, `${layoutName} shape`);
    assertEquals(Array.from(raw.train.pixels), nhwc, `${layoutName} train pixels in NHWC`);
    assertEquals(Array.from(raw.test.pixels), nhwc, `${layoutName} big-endian test pixels`);
    assertEquals(raw.classes, ["a", "b"], "classes");
  }
});

Deno.test("loadNpyRaw() asks for layout when a 4-D shape is ambiguous and honours it", async () => {
  await using tmp = await tempDir("npy-");
  const images = npy("|u1", [2, 3, 4, 3], seq(72));
  const labels = npy("|u1", [2], [0, 1]);
  await writeSet(tmp.dir, {
    trainImages: images,
    trainLabels: labels,
    testImages: images,
    testLabels: labels,
  });
  await assertRejects(() => loadNpyRaw(tmp.dir), TypeError, [
    "train_images.npy has shape (2, 3, 4, 3), which could be NHWC or NCHW: pass layout",
  ]);
  const raw = await loadNpyRaw(tmp.dir, { layout: "nhwc" });
  assertEquals(raw.shape, { channels: 3, height: 3, width: 4 }, "nhwc");
  const chw = await loadNpyRaw(tmp.dir, { layout: "nchw" });
  assertEquals(chw.shape, { channels: 3, height: 4, width: 3 }, "nchw");
});

Deno.test("loadNpyRaw() reports missing, truncated, mistyped and mismatched files", async () => {
  await using tmp = await tempDir("npy-");
  const good = {
    trainImages: npy("|u1", [3, 2, 2], seq(12)),
    trainLabels: npy("<i8", [3], [0, 1, 1]),
    testImages: npy("|u1", [1, 2, 2], seq(4)),
  };
  await writeSet(tmp.dir, good);
  await assertRejects(() => loadNpyRaw(tmp.dir), Deno.errors.NotFound, [
    `.npy file ${join(tmp.dir, "test_labels.npy")} is missing`,
    "--data-dir",
  ]);
  await writeSet(tmp.dir, { testLabels: npy("<i8", [2], [0, 1]) });
  await assertRejects(() => loadNpyRaw(tmp.dir), TypeError, [
    "holds 1 images but",
    "test_labels.npy holds 2 labels",
  ]);
  await writeSet(tmp.dir, { testLabels: npy("<i8", [1], [5]) });
  await assertRejects(() => loadNpyRaw(tmp.dir, { classes: ["a", "b"] }), RangeError, [
    "label 5 at record 0 of",
    "test_labels.npy is outside 0–1",
  ]);
  await writeSet(tmp.dir, { testLabels: npy("<i8", [1], [-1]) });
  await assertRejects(() => loadNpyRaw(tmp.dir), RangeError, ["label -1 at record 0"]);
  await writeSet(tmp.dir, { testLabels: npy("<f8", [1], [1]) });
  await assertRejects(() => loadNpyRaw(tmp.dir), TypeError, [
    "test_labels.npy holds dtype '<f8', expected uint8, float32, int32 or int64",
  ]);
  await writeSet(tmp.dir, { testLabels: npy("<f4", [1], [1]) });
  await assertRejects(() => loadNpyRaw(tmp.dir), TypeError, ["holds float32 labels"]);
  const whole = npy("|u1", [3, 2, 2], seq(12));
  const cut = whole.subarray(0, whole.length - 7);
  await writeSet(tmp.dir, { testLabels: npy("<i8", [1], [0]), trainImages: cut });
  await assertRejects(() => loadNpyRaw(tmp.dir), SyntaxError, [
    `train_images.npy holds ${whole.length - 7} bytes, expected ${whole.length}`,
    "12 uint8 values of shape (3, 2, 2)",
    "truncated",
  ]);
  await writeSet(tmp.dir, { trainImages: npy("|u1", [3, 2, 2], seq(12), true) });
  await assertRejects(() => loadNpyRaw(tmp.dir), TypeError, ["Fortran order"]);
  await writeSet(tmp.dir, { trainImages: new TextEncoder().encode("P5 2 2 255\n....") });
  await assertRejects(() => loadNpyRaw(tmp.dir), SyntaxError, [
    "does not start with the .npy magic",
  ]);
  await writeSet(tmp.dir, { trainImages: npy("<f4", [3, 2, 2], seq(12)) });
  await assertRejects(() => loadNpyRaw(tmp.dir), TypeError, ["differ in dtype"]);
  await writeSet(tmp.dir, { trainImages: npy("|u1", [3, 2, 2, 2, 1], seq(24)) });
  await assertRejects(() => loadNpyRaw(tmp.dir), TypeError, [
    "expected (N, H, W), (N, H, W, C) or (N, C, H, W)",
  ]);
});

Deno.test("loadDataset() npy passes file names and options through", async () => {
  await using tmp = await tempDir("npy-");
  await Deno.writeFile(
    join(tmp.dir, "x.npy"),
    npy("|u1", [4, 1, 2, 2], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]),
  );
  await Deno.writeFile(join(tmp.dir, "y.npy"), npy("<i8", [4], [0, 1, 0, 1]));
  const d = await loadDataset("npy", {
    dir: tmp.dir,
    npy: {
      files: {
        trainImages: "x.npy",
        trainLabels: "y.npy",
        testImages: "x.npy",
        testLabels: "y.npy",
      },
    },
    testCount: 2,
  });
  assertEquals([d.name, d.train.count, d.test.count, d.shape.channels], ["npy", 4, 2, 1], "loaded");
  assertEquals(Array.from(d.test.labels).sort(), [0, 1], "balanced test subset");
});
