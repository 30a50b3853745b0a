/**
 * Turning a raw data set into a prepared one: deterministic class-balanced limits, per-channel
 * normalisation on the training split, the probe set; plus batch helpers.
 *
 * @module
 */
import type { Dataset, ImageShape, ImageSplit, ProbeSplit, RawDataset, RawSplit } from "./types.ts";
import { mixSeed, mulberry32 } from "./_random.ts";
import { fmt } from "./_bytes.ts";

/** Options of `prepareDataset()` (and of `loadDataset()`). */
export interface PrepareOptions {
  /** Keep at most this many training images, class-balanced (default: all). */
  trainCount?: number;
  /** Keep at most this many test images, class-balanced (default: all). */
  testCount?: number;
  /** Seed of the class-balanced selections (default 0). */
  selectionSeed?: number;
  /** Normalise per channel with the training split's mean and std (default true); when false,
   * `mean` is all 0 and `std` all 1, so uint8 data come out as x/255. */
  normalize?: boolean;
  /**
   * Fixed per-channel constants to normalise with instead of the training split's (e.g.
   * {@link CIFAR10_AUTHORS_NORMALIZATION}, which the authors used for CIFAR-100 too); ignored
   * when `normalize` is false.
   */
  constants?: { mean: readonly number[]; std: readonly number[] };
  /** The split the probe set is drawn from (default "test"). */
  probeSplit?: "train" | "test";
  /** Number of probe images, class-balanced from `probeSplit` (default, or when at least the
   * split's count: the whole split, sharing its arrays). */
  probeCount?: number;
}

/**
 * The per-channel mean and std the authors normalised CIFAR-10 and CIFAR-100 with (CIFAR-10's
 * training statistics), on raw values scaled to [0, 1].
 */
export const CIFAR10_AUTHORS_NORMALIZATION = {
  mean: [0.4914, 0.4822, 0.4465],
  std: [0.247, 0.243, 0.261],
} as const;

function checkCount(value: number | undefined, name: string): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${name} is ${value}, expected a positive integer: pass a count ≥ 1`);
  }
}

/**
 * Chooses `count` indices of `labels`, as evenly over the classes as the data allow,
 * deterministically for a seed.
 *
 * Each class's indices are shuffled (Fisher–Yates, mulberry32 seeded by `mix(seed, class)`), then
 * the classes are visited round-robin in class order, each giving its next index, skipping classes
 * that ran out, until `count` are taken; the result is sorted ascending. So for
 * `count = q·K + r` with every class large enough, classes 0…r−1 give q+1 and the others q.
 * When `count` ≥ `labels.length` every index is returned. Cost O(N).
 *
 * @param labels class index of each sample, each in `0 … numClasses − 1`
 * @param count number of indices to choose (≥ 1)
 * @param options `numClasses` (default max label + 1), `seed` (default 0)
 * @returns ascending indices into `labels`
 * @throws {RangeError} when `count` is not a positive integer or a label is outside the classes
 * @example
 * ```ts
 * import { balancedSelection } from "./prepare.ts";
 * const picked = balancedSelection(Int32Array.from([0, 0, 0, 1, 1, 1]), 4, { seed: 1 });
 * if (picked.length !== 4) throw new Error("expected 4");
 * ```
 */
export function balancedSelection(
  labels: ArrayLike<number>,
  count: number,
  options: { numClasses?: number; seed?: number } = {},
): Int32Array {
  checkCount(count, "count");
  const n = labels.length;
  if (count >= n) return Int32Array.from({ length: n }, (_, i) => i);
  let numClasses = options.numClasses ?? 0;
  if (options.numClasses === undefined) {
    for (let i = 0; i < n; i++) numClasses = Math.max(numClasses, (labels[i] as number) + 1);
  }
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < n; i++) {
    const y = labels[i] as number;
    const list = byClass[y];
    if (list === undefined || !Number.isInteger(y)) {
      throw new RangeError(
        `label ${y} at index ${i} is outside 0–${numClasses - 1}: fix the labels or numClasses`,
      );
    }
    list.push(i);
  }
  const seed = options.seed ?? 0;
  byClass.forEach((list, c) => {
    const rand = mulberry32(mixSeed(seed, c));
    for (let i = list.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      const t = list[i] as number;
      list[i] = list[j] as number;
      list[j] = t;
    }
  });
  const out = new Int32Array(count);
  let taken = 0;
  for (let round = 0; taken < count; round++) {
    for (const list of byClass) {
      if (taken === count) break;
      if (round < list.length) out[taken++] = list[round] as number;
    }
  }
  return out.sort();
}

/** The samples of `split` at ascending `indices` (raw, no copy of unchanged data). */
function subsetRaw(split: RawSplit, indices: Int32Array, perImage: number): RawSplit {
  if (indices.length === split.count) return split;
  const pixels = split.pixels instanceof Uint8Array
    ? new Uint8Array(indices.length * perImage)
    : new Float32Array(indices.length * perImage);
  const labels = new Int32Array(indices.length);
  indices.forEach((src, dst) => {
    pixels.set(split.pixels.subarray(src * perImage, (src + 1) * perImage), dst * perImage);
    labels[dst] = split.labels[src] as number;
  });
  return { pixels, labels, count: indices.length };
}

/**
 * Per-channel mean and population standard deviation of NHWC values, accumulated in f64;
 * uint8 values are scaled by 1/255 first.
 *
 * mean_c = Σ x / n, std_c = √(Σ (x − mean_c)² / n) over all pixels of channel c (two passes;
 * exactly 0 for a constant channel).
 * Cost O(N·H·W·C).
 *
 * @throws {RangeError} when `pixels` is empty or its length is not a multiple of `channels`
 * @example
 * ```ts
 * import { channelStats } from "./prepare.ts";
 * const { mean, std } = channelStats(Float32Array.from([0, 2, 2, 4]), 2);
 * if (mean[0] !== 1 || mean[1] !== 3 || std[0] !== 1) throw new Error("wrong stats");
 * ```
 */
export function channelStats(
  pixels: Uint8Array | Float32Array,
  channels: number,
): { mean: number[]; std: number[] } {
  if (pixels.length === 0 || pixels.length % channels !== 0) {
    throw new RangeError(
      `cannot take channel statistics of ${pixels.length} values in ${channels} channels: ` +
        `expected a non-empty multiple of ${channels}`,
    );
  }
  const scale = pixels instanceof Uint8Array ? 1 / 255 : 1;
  const n = pixels.length / channels;
  const sum = new Float64Array(channels);
  const lo = new Float64Array(channels).fill(Infinity);
  const hi = new Float64Array(channels).fill(-Infinity);
  for (let i = 0; i < pixels.length; i++) {
    const c = i % channels;
    const v = pixels[i] as number;
    sum[c]! += v * scale;
    if (v < lo[c]!) lo[c] = v;
    if (v > hi[c]!) hi[c] = v;
  }
  const mean = Array.from(sum, (s) => s / n);
  const sq = new Float64Array(channels);
  for (let i = 0; i < pixels.length; i++) {
    const c = i % channels;
    const d = (pixels[i] as number) * scale - (mean[c] as number);
    sq[c]! += d * d;
  }
  // A constant channel has std exactly 0 (summation rounding would leave ~1e-17).
  return { mean, std: Array.from(sq, (s, c) => lo[c] === hi[c] ? 0 : Math.sqrt(s / n)) };
}

function normaliseSplit(
  split: RawSplit,
  mean: number[],
  std: number[],
): ImageSplit {
  const c = mean.length;
  const scale = split.pixels instanceof Uint8Array ? 1 / 255 : 1;
  const images = new Float32Array(split.pixels.length);
  const mul = std.map((s) => scale / s);
  const add = mean.map((m, i) => -m / (std[i] as number));
  for (let i = 0; i < images.length; i++) {
    const ch = i % c;
    images[i] = (split.pixels[i] as number) * (mul[ch] as number) + (add[ch] as number);
  }
  return { images, labels: split.labels, count: split.count };
}

function checkRawSplit(
  split: RawSplit,
  which: string,
  name: string,
  perImage: number,
  numClasses: number,
): void {
  if (!Number.isInteger(split.count) || split.count < 1) {
    throw new RangeError(
      `the ${which} split of ${name} holds ${split.count} images, expected at least one`,
    );
  }
  if (split.pixels.length !== split.count * perImage || split.labels.length !== split.count) {
    throw new TypeError(
      `the ${which} split of ${name} holds ${fmt(split.pixels.length)} values and ` +
        `${fmt(split.labels.length)} labels, expected ${fmt(split.count * perImage)} and ` +
        `${fmt(split.count)} for ${fmt(split.count)} images of ${perImage} values: fix the loader`,
    );
  }
  const bad = split.labels.findIndex((y) => !(y >= 0 && y < numClasses));
  if (bad >= 0) {
    throw new RangeError(
      `label ${split.labels[bad]} at record ${bad} of the ${which} split of ${name} is outside ` +
        `0–${numClasses - 1}: fix the labels or the class list`,
    );
  }
}

/**
 * Prepares a raw data set: keeps class-balanced deterministic subsets (`trainCount`,
 * `testCount`), computes per-channel mean and std on the kept training split, normalises both
 * splits with them (`(x/255 − mean_c)/std_c` for uint8 data, `(x − mean_c)/std_c` for float data),
 * and picks the probe set (`probeCount` class-balanced images of `probeSplit`).
 *
 * Cost O((N_train + N_test)·H·W·C) time, one Float32Array per split.
 *
 * @throws {RangeError} for a non-positive count, an empty split, a label outside the classes, or
 *   a constant training channel (std 0) when normalising; {TypeError} when a split's arrays do
 *   not match its count and shape
 * @example
 * ```ts
 * import { prepareDataset } from "./prepare.ts";
 * const split = { pixels: Uint8Array.from([0, 255, 0, 255]), labels: Int32Array.from([0, 1, 0, 1]), count: 4 };
 * const d = prepareDataset({ name: "tiny", source: "inline", classes: ["a", "b"],
 *   shape: { channels: 1, height: 1, width: 1 }, train: split, test: split });
 * if (d.train.images[0] !== -1 || d.train.images[1] !== 1) throw new Error("not normalised");
 * ```
 */
export function prepareDataset(raw: RawDataset, options: PrepareOptions = {}): Dataset {
  checkCount(options.trainCount, "trainCount");
  checkCount(options.testCount, "testCount");
  checkCount(options.probeCount, "probeCount");
  const { channels, height, width } = raw.shape;
  if ((raw.train.pixels instanceof Uint8Array) !== (raw.test.pixels instanceof Uint8Array)) {
    throw new TypeError(
      `the training and test pixels of ${raw.name} differ in type (uint8 and float32): ` +
        `store both splits in one type`,
    );
  }
  const perImage = channels * height * width;
  const numClasses = raw.classes.length;
  checkRawSplit(raw.train, "training", raw.name, perImage, numClasses);
  checkRawSplit(raw.test, "test", raw.name, perImage, numClasses);
  const seed = options.selectionSeed ?? 0;
  const pick = (split: RawSplit, count: number | undefined): RawSplit =>
    count === undefined || count >= split.count ? split : subsetRaw(
      split,
      balancedSelection(split.labels, count, { numClasses, seed }),
      perImage,
    );
  const train = pick(raw.train, options.trainCount);
  const test = pick(raw.test, options.testCount);
  let mean = Array.from({ length: channels }, () => 0);
  let std = Array.from({ length: channels }, () => 1);
  if ((options.normalize ?? true) && options.constants) {
    const c = options.constants;
    if (
      c.mean.length !== channels || c.std.length !== channels ||
      !c.std.every((v) => v > 0 && Number.isFinite(v)) || !c.mean.every(Number.isFinite)
    ) {
      throw new RangeError(
        `normalisation constants give ${c.mean.length} means and ${c.std.length} stds for the ` +
          `${channels}-channel images of ${raw.name}; pass one finite mean and one positive std per channel`,
      );
    }
    mean = [...c.mean];
    std = [...c.std];
  } else if (options.normalize ?? true) {
    ({ mean, std } = channelStats(train.pixels, channels));
    const flat = std.findIndex((s) => !(s > 0));
    if (flat >= 0) {
      throw new RangeError(
        `channel ${flat} of the ${fmt(train.count)} training images of ${raw.name} is constant ` +
          `(std ${std[flat]}), expected variation: use more images or pass normalize: false`,
      );
    }
  }
  const prepared = {
    train: normaliseSplit(train, mean, std),
    test: normaliseSplit(test, mean, std),
  };
  const probeSplit = options.probeSplit ?? "test";
  const from = prepared[probeSplit];
  const indices = balancedSelection(from.labels, options.probeCount ?? from.count, {
    numClasses,
    seed: mixSeed(seed, 0x70726f62),
  });
  // The whole split as probe set shares its arrays (indices are then 0 … count − 1 in order).
  const probe: ProbeSplit = indices.length === from.count
    ? { split: probeSplit, indices, ...from }
    : { split: probeSplit, indices, ...gatherBatch(from, indices) };
  return {
    name: raw.name,
    source: raw.source,
    classes: raw.classes,
    shape: { channels, height, width },
    ...prepared,
    probe,
    mean,
    std,
  };
}

/**
 * Copies the images and labels at `indices` out of a split into new arrays (a batch, NHWC).
 *
 * Cost O(B·H·W·C).
 *
 * @throws {RangeError} when an index is outside `0 … split.count − 1`
 * @example
 * ```ts
 * import { gatherBatch } from "./prepare.ts";
 * const split = { images: Float32Array.from([1, 2, 3, 4]), labels: Int32Array.from([0, 1]), count: 2 };
 * const b = gatherBatch(split, [1]);
 * if (b.images[0] !== 3 || b.labels[0] !== 1 || b.count !== 1) throw new Error("wrong batch");
 * ```
 */
export function gatherBatch(split: ImageSplit, indices: ArrayLike<number>): ImageSplit {
  const per = split.count === 0 ? 0 : split.images.length / split.count;
  const images = new Float32Array(indices.length * per);
  const labels = new Int32Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k] as number;
    if (!Number.isInteger(i) || i < 0 || i >= split.count) {
      throw new RangeError(
        `index ${i} at position ${k} is outside 0–${split.count - 1}: pass indices into the split`,
      );
    }
    images.set(split.images.subarray(i * per, (i + 1) * per), k * per);
    labels[k] = split.labels[i] as number;
  }
  return { images, labels, count: indices.length };
}

/**
 * Converts a batch of images from NHWC order (this module's) to NCHW order (C×H×W per image, as
 * PyTorch and the gradient files use): `dst[((n·C + c)·H + y)·W + x] = src[((n·H + y)·W + x)·C + c]`.
 *
 * Cost O(N·H·W·C). Pass `dst` to avoid an allocation.
 *
 * @throws {TypeError} when the length is not a multiple of H·W·C or `dst` has another length
 * @example
 * ```ts
 * import { nhwcToNchw } from "./prepare.ts";
 * // one 1×2 image with 2 channels: pixels (a0,a1), (b0,b1)
 * const chw = nhwcToNchw(Float32Array.from([1, 10, 2, 20]), { channels: 2, height: 1, width: 2 });
 * if (chw.join() !== "1,2,10,20") throw new Error("wrong order");
 * ```
 */
export function nhwcToNchw(
  images: Float32Array,
  shape: ImageShape,
  dst?: Float32Array,
): Float32Array {
  const { channels: c, height: h, width: w } = shape;
  const hw = h * w;
  const per = hw * c;
  if (per === 0 || images.length % per !== 0) {
    throw new TypeError(
      `an NHWC batch of ${images.length} values does not split into images of ` +
        `${h}×${w}×${c}: pass whole images`,
    );
  }
  const out = dst ?? new Float32Array(images.length);
  if (out.length !== images.length) {
    throw new TypeError(
      `dst holds ${out.length} values, expected ${images.length}: pass a dst of the batch's length`,
    );
  }
  const n = images.length / per;
  for (let img = 0; img < n; img++) {
    const base = img * per;
    for (let p = 0; p < hw; p++) {
      for (let ch = 0; ch < c; ch++) out[base + ch * hw + p] = images[base + p * c + ch] as number;
    }
  }
  return out;
}

/**
 * A seeded random permutation of `0 … count − 1` (Fisher–Yates driven by mulberry32), e.g. the
 * order of one training epoch: `shuffledIndices(n, mix(seed, epoch))` then `gatherBatch()` on
 * consecutive slices. Equal seeds give equal permutations on every machine.
 *
 * Cost O(count).
 *
 * @throws {RangeError} when `count` is not a non-negative integer
 * @example
 * ```ts
 * import { shuffledIndices } from "./prepare.ts";
 * const order = shuffledIndices(5, 1);
 * if ([...order].sort().join() !== "0,1,2,3,4") throw new Error("not a permutation");
 * ```
 */
export function shuffledIndices(count: number, seed: number): Int32Array {
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(
      `count is ${count}, expected a non-negative integer: pass a split's count`,
    );
  }
  const out = Int32Array.from({ length: count }, (_, i) => i);
  const rand = mulberry32(seed);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = out[i] as number;
    out[i] = out[j] as number;
    out[j] = t;
  }
  return out;
}
