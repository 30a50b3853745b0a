import { loadDataset, makeSyntheticRaw } from "../../lib/data/mod.ts";
import { assert, assertEquals, bytesEqual } from "./_helpers.ts";

Deno.test("makeSyntheticRaw() gives identical bytes for a seed and other bytes for another", () => {
  const a = makeSyntheticRaw({ seed: 42, channels: 3 });
  const b = makeSyntheticRaw({ seed: 42, channels: 3 });
  const c = makeSyntheticRaw({ seed: 43, channels: 3 });
  assert(
    bytesEqual(a.train.pixels, b.train.pixels) && bytesEqual(a.test.pixels, b.test.pixels),
    "same seed",
  );
  assert(!bytesEqual(a.train.pixels, c.train.pixels), "other seed");
  assertEquals(a.shape, { channels: 3, height: 8, width: 8 }, "shape");
  assertEquals([a.train.count, a.test.count, a.classes.length], [256, 64, 4], "defaults");
});

Deno.test("loadDataset() synthetic is learnable: nearest class mean beats chance by far", async () => {
  const d = await loadDataset("synthetic", {
    trainCount: 200,
    testCount: 100,
    synthetic: { seed: 9, numClasses: 5 },
  });
  const per = d.train.images.length / d.train.count;
  const k = d.classes.length;
  const centroids = Array.from({ length: k }, () => new Float64Array(per));
  const sizes = new Array(k).fill(0);
  for (let n = 0; n < d.train.count; n++) {
    const y = d.train.labels[n]!;
    sizes[y]++;
    for (let j = 0; j < per; j++) centroids[y]![j]! += d.train.images[n * per + j]!;
  }
  centroids.forEach((cen, y) => cen.forEach((v, j) => (cen[j] = v / sizes[y])));
  let right = 0;
  for (let n = 0; n < d.test.count; n++) {
    let best = -1, bestDist = Infinity;
    for (let y = 0; y < k; y++) {
      let dist = 0;
      for (let j = 0; j < per; j++) dist += (d.test.images[n * per + j]! - centroids[y]![j]!) ** 2;
      if (dist < bestDist) [best, bestDist] = [y, dist];
    }
    if (best === d.test.labels[n]) right++;
  }
  const accuracy = right / d.test.count;
  assert(accuracy > 0.9, `accuracy ${accuracy} with chance 0.2`);
});
