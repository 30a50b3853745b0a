import * as fc from "fast-check";
import {
  balancedSelection,
  channelStats,
  gatherBatch,
  loadDataset,
  nhwcToNchw,
  prepareDataset,
  type RawDataset,
  shuffledIndices,
} from "../../lib/data/mod.ts";
import { assert, assertClose, assertEquals, assertRejects, bytesEqual } from "./_helpers.ts";

const counts = (labels: ArrayLike<number>, indices: ArrayLike<number>, k: number) => {
  const h = new Array(k).fill(0);
  for (let i = 0; i < indices.length; i++) h[labels[indices[i]!]!]++;
  return h;
};

Deno.test("balancedSelection() is ascending, distinct, as balanced as the data allow, and seeded", () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 200 }),
      fc.integer({ min: 1, max: 250 }),
      fc.integer({ min: 0, max: 2 ** 31 }),
      (ys, count, seed) => {
        const labels = Int32Array.from(ys);
        const picked = balancedSelection(labels, count, { numClasses: 5, seed });
        if (picked.length !== Math.min(count, labels.length)) return false;
        for (let i = 1; i < picked.length; i++) if (!(picked[i]! > picked[i - 1]!)) return false;
        const got = counts(labels, picked, 5);
        const avail = counts(labels, labels.map((_, i) => i), 5);
        // A class that did not give all it has got at least as many as any other class, minus one.
        const most = Math.max(...got);
        for (let c = 0; c < 5; c++) if (got[c] < avail[c] && got[c] < most - 1) return false;
        return bytesEqual(picked, balancedSelection(labels, count, { numClasses: 5, seed }));
      },
    ),
    { seed: 20240101, numRuns: 200 },
  );
});

Deno.test("balancedSelection() gives the remainder to the lowest classes", () => {
  const labels = Int32Array.from({ length: 100 }, (_, i) => i % 4);
  const picked = balancedSelection(labels, 10, { seed: 3 });
  assertEquals(counts(labels, picked, 4), [3, 3, 2, 2], "per-class counts");
  const other = balancedSelection(labels, 10, { seed: 4 });
  assert(!bytesEqual(picked, other), "another seed picks other samples");
});

Deno.test("balancedSelection() rejects labels outside the classes and a zero count", () => {
  let msg = "";
  try {
    balancedSelection(Int32Array.from([0, 3, 1]), 2, { numClasses: 3 });
  } catch (e) {
    assert(e instanceof RangeError, "RangeError");
    msg = e.message;
  }
  assert(msg.includes("label 3 at index 1 is outside 0–2"), msg);
  let zero: unknown;
  try {
    balancedSelection(Int32Array.from([0]), 0);
  } catch (e) {
    zero = e;
  }
  assert(zero instanceof RangeError, "count 0 is a RangeError");
});

Deno.test("channelStats() matches the closed form for uint8 and float data", () => {
  // uint8 {0, 255} → {0, 1}: mean 0.5, std 0.5. float channel 1 {1, 2, 3, 6}: mean 3, var 3.5.
  const u = channelStats(Uint8Array.from([0, 255, 0, 255]), 1);
  assertEquals([u.mean[0], u.std[0]], [0.5, 0.5], "uint8");
  const f = channelStats(Float32Array.from([0, 1, 0, 2, 0, 3, 0, 6]), 2);
  assertEquals([f.mean[1], f.std[0]], [3, 0], "float");
  assertClose(f.std[1]!, Math.sqrt(3.5), 1e-12, "std");
  let err: unknown;
  try {
    channelStats(new Float32Array(0), 1);
  } catch (e) {
    err = e;
  }
  assert(err instanceof RangeError, "empty input throws");
});

Deno.test("nhwcToNchw() places every value at its C×H×W index", () => {
  fc.assert(
    fc.property(
      fc.record({
        n: fc.integer({ min: 1, max: 3 }),
        c: fc.integer({ min: 1, max: 4 }),
        h: fc.integer({ min: 1, max: 5 }),
        w: fc.integer({ min: 1, max: 5 }),
      }),
      ({ n, c, h, w }) => {
        const src = Float32Array.from({ length: n * h * w * c }, (_, i) => i);
        const dst = nhwcToNchw(src, { channels: c, height: h, width: w });
        for (let a = 0; a < n; a++) {
          for (let ch = 0; ch < c; ch++) {
            for (let y = 0; y < h; y++) {
              for (let x = 0; x < w; x++) {
                if (dst[((a * c + ch) * h + y) * w + x] !== src[((a * h + y) * w + x) * c + ch]) {
                  return false;
                }
              }
            }
          }
        }
        return true;
      },
    ),
    { seed: 7, numRuns: 100 },
  );
  let err: unknown;
  try {
    nhwcToNchw(new Float32Array(10), { channels: 3, height: 2, width: 2 });
  } catch (e) {
    err = e;
  }
  assert(err instanceof TypeError, "a partial image is a TypeError");
});

Deno.test("gatherBatch() copies the chosen images and rejects an index outside the split", () => {
  const split = {
    images: Float32Array.from(Array.from({ length: 12 }, (_, i) => i)),
    labels: Int32Array.from([5, 6, 7]),
    count: 3,
  };
  const b = gatherBatch(split, [2, 0]);
  assertEquals([Array.from(b.images), Array.from(b.labels), b.count], [[8, 9, 10, 11, 0, 1, 2, 3], [
    7,
    5,
  ], 2], "batch");
  let err: unknown;
  try {
    gatherBatch(split, [3]);
  } catch (e) {
    err = e;
  }
  assert(
    err instanceof RangeError && err.message.includes("index 3 at position 0 is outside 0–2"),
    String(err),
  );
});

const raw = (): RawDataset => ({
  name: "fixture",
  source: "inline",
  classes: ["a", "b", "c"],
  shape: { channels: 2, height: 1, width: 2 },
  train: {
    pixels: Uint8Array.from({ length: 30 * 4 }, (_, i) => (i * 97) % 256),
    labels: Int32Array.from({ length: 30 }, (_, i) => i % 3),
    count: 30,
  },
  test: {
    pixels: Uint8Array.from({ length: 12 * 4 }, (_, i) => (i * 53) % 256),
    labels: Int32Array.from({ length: 12 }, (_, i) => (i * 2) % 3),
    count: 12,
  },
});

Deno.test("prepareDataset() normalises both splits with the training split's statistics", () => {
  const r = raw();
  const d = prepareDataset(r);
  for (let c = 0; c < 2; c++) {
    let s = 0, ss = 0;
    for (let i = c; i < d.train.images.length; i += 2) {
      s += d.train.images[i]!;
      ss += d.train.images[i]! ** 2;
    }
    const n = d.train.images.length / 2;
    assertClose(s / n, 0, 1e-6, `train mean ${c}`);
    assertClose(Math.sqrt(ss / n - (s / n) ** 2), 1, 1e-5, `train std ${c}`);
  }
  const i = 4 * 5 + 3; // image 5, pixel 1, channel 1
  assertClose(
    d.test.images[i]!,
    ((r.test.pixels[i]! / 255) - d.mean[1]!) / d.std[1]!,
    1e-6,
    "test value",
  );
  const off = prepareDataset(r, { normalize: false });
  assertEquals([off.mean, off.std], [[0, 0], [1, 1]], "identity statistics");
  assertClose(off.train.images[1]!, r.train.pixels[1]! / 255, 1e-7, "unnormalised value");
});

Deno.test("prepareDataset() limits counts class-balanced and picks the probe set", () => {
  const d = prepareDataset(raw(), {
    trainCount: 9,
    testCount: 6,
    probeSplit: "train",
    probeCount: 3,
    selectionSeed: 5,
  });
  assertEquals([d.train.count, d.test.count, d.probe.count], [9, 6, 3], "counts");
  assertEquals(counts(d.train.labels, [0, 1, 2, 3, 4, 5, 6, 7, 8], 3), [3, 3, 3], "train balance");
  assertEquals(Array.from(d.probe.labels).sort(), [0, 1, 2], "probe balance");
  assertEquals(d.probe.split, "train", "probe split");
  const k = d.probe.indices[1]!;
  assert(
    bytesEqual(d.probe.images.subarray(4, 8), d.train.images.subarray(4 * k, 4 * k + 4)),
    "probe image is its train image",
  );
  const again = prepareDataset(raw(), {
    trainCount: 9,
    testCount: 6,
    probeSplit: "train",
    probeCount: 3,
    selectionSeed: 5,
  });
  assert(
    bytesEqual(d.train.images, again.train.images) &&
      bytesEqual(d.probe.indices, again.probe.indices),
    "deterministic",
  );
  const def = prepareDataset(raw());
  assertEquals(
    [def.probe.split, def.probe.count],
    ["test", 12],
    "default probe is the whole test split",
  );
  assert(def.probe.images === def.test.images, "the whole split as probe shares its images");
  assertEquals(Array.from(def.probe.indices), Array.from({ length: 12 }, (_, i) => i), "indices");
});

Deno.test("prepareDataset() rejects a constant training channel and a non-positive count", () => {
  const r = raw();
  r.train.pixels = new Uint8Array(r.train.pixels.length).fill(7);
  let err: unknown;
  try {
    prepareDataset(r);
  } catch (e) {
    err = e;
  }
  assert(
    err instanceof RangeError &&
      err.message.includes("channel 0 of the 30 training images of fixture is constant"),
    String(err),
  );
  let bad: unknown;
  try {
    prepareDataset(raw(), { trainCount: 0 });
  } catch (e) {
    bad = e;
  }
  assert(bad instanceof RangeError && bad.message.includes("trainCount is 0"), String(bad));
});

Deno.test("loadDataset() rejects an unknown name listing the known ones", async () => {
  await assertRejects(() => loadDataset("mnist"), RangeError, [
    'unknown data set "mnist"',
    "fmnist-default",
    "cifar100",
    "synthetic",
  ]);
});

Deno.test("lib/data/mod.ts imports without reading any file", async () => {
  // Without --allow-read, any file read at import time would throw PermissionDenied.
  const dir = await Deno.makeTempDir({ prefix: "data-import-" });
  try {
    const script = `${dir}/import_only.ts`;
    const mod = new URL("../../lib/data/mod.ts", import.meta.url).href;
    await Deno.writeTextFile(
      script,
      `import * as d from ${
        JSON.stringify(mod)
      };\nconsole.log("imported", typeof d.loadDataset);\n`,
    );
    const config = new URL("../../deno.json", import.meta.url).pathname;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", "--no-check", "--config", config, script],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert(out.success && text.includes("imported function"), text);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("shuffledIndices() is a seeded permutation", () => {
  const a = shuffledIndices(1000, 11);
  assertEquals(
    Array.from(a).sort((x, y) => x - y),
    Array.from({ length: 1000 }, (_, i) => i),
    "permutation",
  );
  assert(bytesEqual(a, shuffledIndices(1000, 11)), "same seed, same order");
  assert(!bytesEqual(a, shuffledIndices(1000, 12)), "other seed, other order");
});

Deno.test("prepareDataset() rejects raw arrays that do not match their count, and stray labels", () => {
  const short = raw();
  short.train.pixels = short.train.pixels.subarray(0, 100);
  let err: unknown;
  try {
    prepareDataset(short);
  } catch (e) {
    err = e;
  }
  assert(
    err instanceof TypeError &&
      err.message.includes("holds 100 values and 30 labels, expected 120"),
    String(err),
  );
  const stray = raw();
  stray.test.labels[4] = 3;
  let range: unknown;
  try {
    prepareDataset(stray);
  } catch (e) {
    range = e;
  }
  assert(
    range instanceof RangeError &&
      range.message.includes("label 3 at record 4 of the test split of fixture is outside 0–2"),
    String(range),
  );
});
