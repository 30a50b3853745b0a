/**
 * Any image data set given as NumPy `.npy` files: images and labels per split.
 *
 * Accepted image arrays (C order, any endianness):
 * - dtype `uint8` (scaled by 1/255 on preparation) or `float32` (taken as given);
 * - shape `(N, H, W)` (one channel), `(N, H, W, C)` (NHWC) or `(N, C, H, W)` (NCHW). A 4-D
 *   array is read as NHWC when only its last dimension is 1 or 3, as NCHW when only its second
 *   is; otherwise pass `layout`.
 *
 * Accepted label arrays: dtype `int64`, `int32` or `uint8`, shape `(N,)`, values in
 * `0 … C − 1` where C is `classes.length` (or the largest label + 1).
 *
 * @module
 */
import type { ImageShape, RawDataset, RawSplit } from "./types.ts";
import { type DataLocation, fileIn, fmt, readBytes, shown } from "./_bytes.ts";
import { type NpyArray, parseNpy } from "./_npy_images.ts";

/** Options of `loadNpyRaw()`. */
export interface NpyDatasetOptions {
  /** File names inside `dir` (defaults `train_images.npy`, `train_labels.npy`,
   * `test_images.npy`, `test_labels.npy`). */
  files?: {
    trainImages?: string;
    trainLabels?: string;
    testImages?: string;
    testLabels?: string;
  };
  /** Layout of 4-D image arrays; required when it cannot be told from the shape. */
  layout?: "nhwc" | "nchw";
  /** Class names (default `"0"`, `"1"`, … up to the largest label). */
  classes?: string[];
  /** Name of the data set in the result (default "npy"). */
  name?: string;
}

async function readNpy(
  dir: DataLocation,
  file: string,
  fix: string,
): Promise<{ name: string; array: NpyArray }> {
  const loc = fileIn(dir, file);
  const name = shown(loc);
  const bytes = await readBytes(loc, `.npy file ${name} is missing: ${fix}`);
  return { name, array: parseNpy(bytes, name) };
}

function toImages(
  name: string,
  array: NpyArray,
  layout: "nhwc" | "nchw" | undefined,
): { shape: ImageShape; pixels: Uint8Array | Float32Array; count: number } {
  if (array.dtype !== "uint8" && array.dtype !== "float32") {
    throw new TypeError(
      `${name} holds ${array.dtype} images, expected uint8 or float32: convert with astype`,
    );
  }
  const pixels = array.data as Uint8Array | Float32Array;
  const s = array.shape;
  if (s.length === 3) {
    const [count = 0, height = 0, width = 0] = s;
    return { shape: { channels: 1, height, width }, pixels, count };
  }
  if (s.length !== 4) {
    throw new TypeError(
      `${name} has shape (${
        s.join(", ")
      }), expected (N, H, W), (N, H, W, C) or (N, C, H, W): reshape it`,
    );
  }
  const [count = 0, a = 0, b = 0, c = 0] = s;
  const small = (d: number) => d === 1 || d === 3;
  const chosen = layout ??
    (small(c) && !small(a) ? "nhwc" : small(a) && !small(c) ? "nchw" : undefined);
  if (chosen === undefined) {
    throw new TypeError(
      `${name} has shape (${
        s.join(", ")
      }), which could be NHWC or NCHW: pass layout "nhwc" or "nchw"`,
    );
  }
  if (chosen === "nhwc") return { shape: { channels: c, height: a, width: b }, pixels, count };
  // NCHW → NHWC
  const [channels, height, width] = [a, b, c];
  const hw = height * width;
  const per = hw * channels;
  const out = pixels instanceof Uint8Array
    ? new Uint8Array(pixels.length)
    : new Float32Array(pixels.length);
  for (let n = 0; n < count; n++) {
    for (let ch = 0; ch < channels; ch++) {
      for (let p = 0; p < hw; p++) {
        out[n * per + p * channels + ch] = pixels[n * per + ch * hw + p] as number;
      }
    }
  }
  return { shape: { channels, height, width }, pixels: out, count };
}

function toLabels(name: string, array: NpyArray, count: number, imagesName: string): Int32Array {
  if (array.dtype === "float32") {
    throw new TypeError(
      `${name} holds float32 labels, expected int64, int32 or uint8: convert with astype`,
    );
  }
  if (array.shape.length !== 1) {
    throw new TypeError(
      `${name} has shape (${array.shape.join(", ")}), expected (N,): flatten the labels`,
    );
  }
  if (array.shape[0] !== count) {
    throw new TypeError(
      `${imagesName} holds ${fmt(count)} images but ${name} holds ${
        fmt(array.shape[0] ?? 0)
      } labels, ` +
        `expected equal counts: save matching arrays`,
    );
  }
  return Int32Array.from(array.data);
}

/**
 * Reads a data set stored as four `.npy` files in `dir` (see the module doc for the accepted
 * dtypes and layouts) as a raw data set in NHWC order.
 *
 * Cost O(file sizes); an NCHW array is transposed once.
 *
 * @throws {TypeError} without a folder, for an unsupported dtype or shape, an ambiguous layout,
 *   count or size mismatches; {Deno.errors.NotFound} naming a missing file; {SyntaxError} for a
 *   malformed or truncated file; {RangeError} for a label outside the classes
 * @example
 * ```ts
 * import { loadNpyRaw } from "./npy_dataset.ts";
 * // A version-1 .npy file: magic, header length, header padded with spaces, then the data.
 * const npy = (dict: string, data: Uint8Array) => {
 *   const header = dict.padEnd(117) + "\n"; // 10 + 118 = 128 bytes before the data
 *   return new Uint8Array([0x93, 78, 85, 77, 80, 89, 1, 0, 118, 0,
 *     ...new TextEncoder().encode(header), ...data]);
 * };
 * const dir = await Deno.makeTempDir();
 * const images = npy("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 1, 2, 2), }", new Uint8Array(8).map((_, i) => i));
 * const labels = npy("{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }", Uint8Array.from([0, 1]));
 * for (const split of ["train", "test"]) {
 *   await Deno.writeFile(`${dir}/${split}_images.npy`, images);
 *   await Deno.writeFile(`${dir}/${split}_labels.npy`, labels);
 * }
 * const raw = await loadNpyRaw(dir, { classes: ["cat", "dog"] }); // (2, 1, 2, 2) is read as NCHW
 * await Deno.remove(dir, { recursive: true });
 * if (raw.shape.channels !== 1 || raw.train.labels[1] !== 1) throw new Error("bad");
 * ```
 */
export async function loadNpyRaw(
  dir: DataLocation | undefined,
  options: NpyDatasetOptions = {},
): Promise<RawDataset> {
  if (dir === undefined) {
    throw new TypeError(
      "an npy data set needs a folder, none was given: pass dir (--data-dir) naming the folder " +
        "of train_images.npy, train_labels.npy, test_images.npy and test_labels.npy",
    );
  }
  const f = {
    trainImages: options.files?.trainImages ?? "train_images.npy",
    trainLabels: options.files?.trainLabels ?? "train_labels.npy",
    testImages: options.files?.testImages ?? "test_images.npy",
    testLabels: options.files?.testLabels ?? "test_labels.npy",
  };
  const fix = `put ${f.trainImages}, ${f.trainLabels}, ${f.testImages} and ${f.testLabels} in ` +
    `${shown(dir)} or pass --data-dir`;
  const split = async (imagesFile: string, labelsFile: string) => {
    const images = await readNpy(dir, imagesFile, fix);
    const labels = await readNpy(dir, labelsFile, fix);
    const img = toImages(images.name, images.array, options.layout);
    if (img.count === 0) {
      throw new RangeError(
        `${images.name} holds no images, expected at least one: save a non-empty array`,
      );
    }
    const y = toLabels(labels.name, labels.array, img.count, images.name);
    return { img, labels: y, imagesName: images.name, labelsName: labels.name };
  };
  const train = await split(f.trainImages, f.trainLabels);
  const test = await split(f.testImages, f.testLabels);
  const a = train.img.shape;
  const b = test.img.shape;
  if (a.channels !== b.channels || a.height !== b.height || a.width !== b.width) {
    throw new TypeError(
      `${train.imagesName} holds ${a.channels}×${a.height}×${a.width} images but ${test.imagesName} ` +
        `holds ${b.channels}×${b.height}×${b.width}, expected one size: save both splits alike`,
    );
  }
  if (train.img.pixels.constructor !== test.img.pixels.constructor) {
    throw new TypeError(
      `${train.imagesName} and ${test.imagesName} differ in dtype, expected one: save both as uint8 or both as float32`,
    );
  }
  let numClasses = options.classes?.length ?? 0;
  if (options.classes === undefined) {
    for (const s of [train, test]) {
      for (const y of s.labels) numClasses = Math.max(numClasses, y + 1);
    }
  }
  for (const s of [train, test]) {
    const bad = s.labels.findIndex((y) => y < 0 || y >= numClasses);
    if (bad >= 0) {
      throw new RangeError(
        `label ${s.labels[bad]} at record ${bad} of ${s.labelsName} is outside 0–${
          numClasses - 1
        }: ` +
          (options.classes ? "fix the labels or the class list" : "labels must be non-negative"),
      );
    }
  }
  const asSplit = (s: typeof train): RawSplit => ({
    pixels: s.img.pixels,
    labels: s.labels,
    count: s.img.count,
  });
  return {
    name: options.name ?? "npy",
    source: shown(dir),
    classes: options.classes
      ? [...options.classes]
      : Array.from({ length: numClasses }, (_, k) => String(k)),
    shape: a,
    train: asSplit(train),
    test: asSplit(test),
  };
}
