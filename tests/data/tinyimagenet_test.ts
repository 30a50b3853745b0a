import jpeg from "jpeg-js";
import { loadDataset, loadTinyImageNetRaw, prepareDataset } from "../../lib/data/mod.ts";
import { join } from "node:path";
import { assert, assertEquals, assertRejects, bytesEqual, tempDir } from "./_helpers.ts";

// wnids.txt order is deliberately not sorted: classes follow the sorted wnids.
const WNIDS = ["n02085620", "n01443537", "n09428293"];
const NAMES: Record<string, string> = {
  n01443537: "goldfish",
  n02085620: "Chihuahua",
  n09428293: "seashore",
};

/**
 * A flat colour per (class index in sorted order, image number): the first image of each class
 * differs from the others, so file order is visible. Colours are far apart, so JPEG loss is small.
 */
const colour = (
  k: number,
  i: number,
): [number, number, number] => [40 + 80 * k, i === 0 ? 200 : 90, 60];

// jpeg-js spends about 0.3 s setting up each encode whatever the size, so fixtures are encoded
// once per distinct image and shared by every test of this file.
const encoded = new Map<string, Uint8Array>();
function jpegOf(rgb: [number, number, number], side = 64): Uint8Array {
  const key = `${rgb.join(",")}/${side}`;
  let file = encoded.get(key);
  if (file === undefined) {
    const data = new Uint8Array(side * side * 4);
    for (let p = 0; p < side * side; p++) data.set([...rgb, 255], 4 * p);
    file = jpeg.encode({ data, width: side, height: side }, 95).data;
    encoded.set(key, file);
  }
  return file;
}

async function writeTiny(root: string, perClass = 4, perVal = 2): Promise<void> {
  await Deno.writeTextFile(join(root, "wnids.txt"), WNIDS.join("\n") + "\n");
  await Deno.writeTextFile(
    join(root, "words.txt"),
    Object.entries(NAMES).map(([w, n]) => `${w}\t${n}, other name`).join("\n") +
      "\nn00000001\tunused\n",
  );
  const sorted = [...WNIDS].sort();
  const ann: string[] = [];
  await Deno.mkdir(join(root, "val", "images"), { recursive: true });
  for (const [k, w] of sorted.entries()) {
    const dir = join(root, "train", w, "images");
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(join(root, "train", w, `${w}_boxes.txt`), "");
    for (let i = 0; i < perClass; i++) {
      await Deno.writeFile(join(dir, `${w}_${i}.JPEG`), jpegOf(colour(k, i)));
    }
    for (let i = 0; i < perVal; i++) {
      const name = `val_${k * perVal + i}.JPEG`;
      await Deno.writeFile(join(root, "val", "images", name), jpegOf(colour(k, i)));
      ann.push(`${name}\t${w}\t0\t0\t63\t63`);
    }
  }
  await Deno.writeTextFile(join(root, "val", "val_annotations.txt"), ann.join("\n") + "\n");
}

Deno.test("loadTinyImageNetRaw() reads train folders and annotated val images as 64×64×3", async () => {
  await using tmp = await tempDir("tiny-");
  await writeTiny(tmp.dir);
  const raw = await loadTinyImageNetRaw(tmp.dir);
  assertEquals(raw.classes, ["goldfish", "Chihuahua", "seashore"], "classes in sorted wnid order");
  assertEquals(raw.shape, { channels: 3, height: 64, width: 64 }, "shape");
  assertEquals([raw.train.count, raw.test.count], [12, 6], "counts");
  assertEquals(Array.from(raw.train.labels), [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2], "train labels");
  assertEquals(Array.from(raw.test.labels), [0, 0, 1, 1, 2, 2], "val labels");
  const per = 64 * 64 * 3;
  for (const [n, k, i] of [[0, 0, 0], [5, 1, 1], [11, 2, 3]] as const) {
    const want = colour(k, i);
    for (const p of [0, 2080, 4095]) {
      for (let c = 0; c < 3; c++) {
        const got = raw.train.pixels[n * per + p * 3 + c]!;
        assert(
          Math.abs(got - want[c]!) <= 4,
          `image ${n} pixel ${p} channel ${c}: ${got} vs ${want[c]}`,
        );
      }
    }
  }
});

Deno.test("loadTinyImageNetRaw() decodes exactly the images prepareDataset() would keep", async () => {
  await using tmp = await tempDir("tiny-");
  await writeTiny(tmp.dir);
  const full = prepareDataset(await loadTinyImageNetRaw(tmp.dir), {
    trainCount: 6,
    testCount: 3,
    selectionSeed: 7,
  });
  const limited = await loadDataset("tinyimagenet", {
    dir: tmp.dir,
    trainCount: 6,
    testCount: 3,
    selectionSeed: 7,
  });
  assertEquals(Array.from(limited.train.labels), [0, 0, 1, 1, 2, 2], "balanced labels");
  assert(bytesEqual(full.train.labels, limited.train.labels), "labels agree");
  // Images agree up to normalisation statistics (computed on the same kept images).
  assertEquals(full.mean, limited.mean, "means");
  assert(bytesEqual(full.train.images, limited.train.images), "images agree");
  assert(bytesEqual(full.test.images, limited.test.images), "test images agree");
});

Deno.test("loadTinyImageNetRaw() finds a tiny-imagenet-200 subfolder", async () => {
  await using tmp = await tempDir("tiny-");
  const inner = join(tmp.dir, "tiny-imagenet-200");
  await Deno.mkdir(inner);
  await writeTiny(inner, 1, 1);
  const raw = await loadTinyImageNetRaw(tmp.dir, {});
  assertEquals([raw.train.count, raw.source], [3, inner], "count and source");
});

Deno.test("loadTinyImageNetRaw() names missing files and folders", async () => {
  await using tmp = await tempDir("tiny-");
  await assertRejects(() => loadTinyImageNetRaw(tmp.dir), Deno.errors.NotFound, [
    `TinyImageNet file ${join(tmp.dir, "wnids.txt")} is missing: unpack tiny-imagenet-200.zip`,
  ]);
  await writeTiny(tmp.dir, 1, 1);
  await Deno.remove(join(tmp.dir, "train", "n09428293"), { recursive: true });
  await assertRejects(() => loadTinyImageNetRaw(tmp.dir), Deno.errors.NotFound, [
    `TinyImageNet folder ${join(tmp.dir, "train", "n09428293", "images")} is missing`,
  ]);
});

Deno.test("loadTinyImageNetRaw() reports an annotation with an unknown wnid and a missing val image", async () => {
  await using tmp = await tempDir("tiny-");
  await writeTiny(tmp.dir, 1, 1);
  const annPath = join(tmp.dir, "val", "val_annotations.txt");
  const ann = await Deno.readTextFile(annPath);
  await Deno.writeTextFile(annPath, ann + "val_9.JPEG\tn99999999\t0\t0\t1\t1\n");
  await assertRejects(() => loadTinyImageNetRaw(tmp.dir), RangeError, [
    "label n99999999 at line 4 of TinyImageNet file",
    "is not among the 3 wnids",
  ]);
  await Deno.writeTextFile(annPath, ann + `val_9.JPEG\t${WNIDS[0]}\t0\t0\t1\t1\n`);
  await assertRejects(() => loadTinyImageNetRaw(tmp.dir), Deno.errors.NotFound, [
    `${join(tmp.dir, "val", "images", "val_9.JPEG")} is missing`,
  ]);
});

Deno.test("loadTinyImageNetRaw() reports a JPEG of the wrong size and an undecodable one", async () => {
  await using tmp = await tempDir("tiny-");
  await writeTiny(tmp.dir, 1, 1);
  const path = join(tmp.dir, "train", "n01443537", "images", "n01443537_0.JPEG");
  await Deno.writeFile(path, jpegOf([1, 2, 3], 32));
  await assertRejects(() => loadTinyImageNetRaw(tmp.dir), TypeError, [
    `${path} is 32×32, expected 64×64`,
  ]);
  await Deno.writeFile(path, new TextEncoder().encode("not a jpeg"));
  await assertRejects(() => loadTinyImageNetRaw(tmp.dir), SyntaxError, [
    `${path} is not a decodable JPEG`,
  ]);
});

Deno.test("loadTinyImageNetRaw() decodes the same pixels in Web Workers and keeps error classes", async () => {
  await using tmp = await tempDir("tiny-");
  await writeTiny(tmp.dir, 4, 2);
  const inline = await loadTinyImageNetRaw(tmp.dir, { workers: 1 });
  const pooled = await loadTinyImageNetRaw(tmp.dir, { workers: 2 });
  assert(bytesEqual(inline.train.pixels, pooled.train.pixels), "train pixels agree");
  assert(bytesEqual(inline.test.pixels, pooled.test.pixels), "test pixels agree");
  const path = join(tmp.dir, "train", "n02085620", "images", "n02085620_2.JPEG");
  await Deno.writeFile(path, new TextEncoder().encode("not a jpeg"));
  await assertRejects(() => loadTinyImageNetRaw(tmp.dir, { workers: 2 }), SyntaxError, [
    `TinyImageNet file ${path} is not a decodable JPEG`,
  ]);
  await Deno.remove(path);
  const listed = join(tmp.dir, "val", "images", "val_3.JPEG");
  await Deno.remove(listed);
  await assertRejects(() => loadTinyImageNetRaw(tmp.dir, { workers: 2 }), Deno.errors.NotFound, [
    `TinyImageNet file ${listed} is missing`,
  ]);
});

Deno.test("loadTinyImageNetRaw() refuses a wnid that is a path or binary, without echoing it raw", async () => {
  await using tmp = await tempDir("tiny-");
  await writeTiny(tmp.dir, 1, 1);
  await Deno.writeTextFile(join(tmp.dir, "wnids.txt"), "n01443537\n../../etc\n");
  await assertRejects(() => loadTinyImageNetRaw(tmp.dir), RangeError, [
    `lists "../../etc", not a WordNet id such as n01443537`,
  ]);
  await Deno.writeFile(
    join(tmp.dir, "wnids.txt"),
    Uint8Array.from([0x6e, 0x30, 0x1b, 0x5b, 0x32, 0x4a, 0x00, 0xff, 0x0a]),
  );
  let message = "";
  await loadTinyImageNetRaw(tmp.dir).catch((e) => message = (e as Error).message);
  assert(message.includes("not a WordNet id"), message);
  assert(
    [...message.split(": unpack")[0]!].every((c) => c >= " " && c <= "~"),
    JSON.stringify(message),
  );
});
