/**
 * Fashion-MNIST (and MNIST-style) idx files, gzipped or not.
 *
 * idx layout: a big-endian header of magic `0x0000 TT NN` (TT = 0x08 for unsigned bytes, NN the
 * number of dimensions), then NN big-endian uint32 sizes, then the bytes row-major. Image files
 * have magic 2051 (N × H × W), label files 2049 (N).
 *
 * @module
 */
import type { RawDataset, RawSplit } from "./types.ts";
import { type DataLocation, fileIn, fmt, gunzipBounded, readBytes, shown } from "./_bytes.ts";
import { exists } from "../store/io.ts";

/** Where Debian's `dataset-fashion-mnist` package installs the four idx files. */
export const FASHION_MNIST_DEBIAN_DIR = "/usr/share/datasets/fashion-mnist";

/** Fashion-MNIST's ten class names, in label order. */
export const FASHION_MNIST_CLASSES: readonly string[] = Object.freeze([
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
]);

/** idx magic number of an image file (unsigned bytes, 3 dimensions). */
export const IDX_IMAGES_MAGIC = 2051;
/** idx magic number of a label file (unsigned bytes, 1 dimension). */
export const IDX_LABELS_MAGIC = 2049;

/** A parsed idx file of unsigned bytes. */
export interface IdxArray {
  /** Sizes of the dimensions, outermost first. */
  dims: number[];
  /** The values, row-major (a view into the input). */
  data: Uint8Array;
}

/**
 * Parses an (already gunzipped) idx file of unsigned bytes and checks its magic number and length.
 *
 * Cost O(1): the data is a view into `bytes`.
 *
 * @param bytes the whole file
 * @param options `magic` expected (2051 images, 2049 labels), `name` used in messages
 * @throws {SyntaxError} on a wrong magic number, a truncated file, or trailing bytes
 * @example
 * ```ts
 * import { parseIdx } from "./idx.ts";
 * const file = Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 2, 7, 3]);
 * const { dims, data } = parseIdx(file, { magic: 2049, name: "labels" });
 * if (dims[0] !== 2 || data[1] !== 3) throw new Error("wrong parse");
 * ```
 */
export function parseIdx(
  bytes: Uint8Array,
  options: { magic: number; name: string },
): IdxArray {
  const { magic, name } = options;
  const kind = (m: number) =>
    m === IDX_IMAGES_MAGIC
      ? "an idx image file"
      : m === IDX_LABELS_MAGIC
      ? "an idx label file"
      : "not an idx file of bytes";
  const ndim = magic & 0xff;
  if (bytes.length < 4 + 4 * ndim) {
    throw new SyntaxError(
      `${name} holds ${fmt(bytes.length)} bytes, expected at least a ${4 + 4 * ndim}-byte ` +
        `idx header with magic ${magic}: download the file again`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const got = view.getUint32(0, false);
  if (got !== magic) {
    throw new SyntaxError(
      `${name} starts with magic ${got} (${kind(got)}), expected ${magic} (${kind(magic)}): ` +
        `check that the file names are not swapped and that it is an uncompressed or gzipped idx file`,
    );
  }
  const dims = Array.from({ length: ndim }, (_, i) => view.getUint32(4 + 4 * i, false));
  const header = 4 + 4 * ndim;
  const size = dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== header + size) {
    const what = ndim === 3
      ? `${fmt(dims[0] ?? 0)} images of ${dims[1]}×${dims[2]} bytes`
      : `${fmt(dims[0] ?? 0)} one-byte labels`;
    throw new SyntaxError(
      `${name} holds ${fmt(bytes.length)} bytes, expected ${fmt(header + size)} ` +
        `(a ${header}-byte header and ${what}): ` +
        (bytes.length < header + size ? "the file is truncated, " : "it has trailing bytes, ") +
        `download it again`,
    );
  }
  return { dims, data: bytes.subarray(header, header + size) };
}

/** Reads `<dir>/<base>.gz`, or `<dir>/<base>` when only the uncompressed file is there. */
async function readIdxFile(
  dir: DataLocation,
  base: string,
  magic: number,
  fix: string,
): Promise<{ name: string; idx: IdxArray }> {
  const gz = fileIn(dir, base + ".gz");
  const plain = fileIn(dir, base);
  const loc = (await exists(gz, { kind: "file" })) || !(await exists(plain, { kind: "file" }))
    ? gz
    : plain;
  const name = shown(loc);
  const bytes = await readBytes(
    loc,
    `Fashion-MNIST file ${shown(gz)} is missing (nor is ${base} there): ${fix}`,
  );
  // The idx header declares the size: decompression stops as soon as the output passes it.
  const header = 4 + 4 * (magic & 0xff);
  const plainBytes = await gunzipBounded(bytes, name, header, (head) => {
    const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
    if (view.getUint32(0, false) !== magic) return null;
    const dims = Array.from({ length: magic & 0xff }, (_, i) => view.getUint32(4 + 4 * i, false));
    return header + dims.reduce((a, b) => a * b, 1);
  });
  return { name, idx: parseIdx(plainBytes, { magic, name }) };
}

async function readSplit(
  dir: DataLocation,
  prefix: string,
  numClasses: number,
  fix: string,
): Promise<{ split: RawSplit; height: number; width: number }> {
  const images = await readIdxFile(dir, `${prefix}-images-idx3-ubyte`, IDX_IMAGES_MAGIC, fix);
  const labels = await readIdxFile(dir, `${prefix}-labels-idx1-ubyte`, IDX_LABELS_MAGIC, fix);
  const [n = 0, height = 0, width = 0] = images.idx.dims;
  const m = labels.idx.dims[0] ?? 0;
  if (n !== m) {
    throw new TypeError(
      `${images.name} holds ${fmt(n)} images but ${labels.name} holds ${fmt(m)} labels, ` +
        `expected equal counts: use the image and label files of one release`,
    );
  }
  if (n === 0) {
    throw new RangeError(
      `${images.name} holds no images, expected at least one: download it again`,
    );
  }
  const out = new Int32Array(n);
  labels.idx.data.forEach((y, i) => {
    if (y >= numClasses) {
      throw new RangeError(
        `label ${y} at record ${i} of ${labels.name} is outside 0–${numClasses - 1}: ` +
          `the file is not a Fashion-MNIST label file, download it again`,
      );
    }
    out[i] = y;
  });
  return { split: { pixels: images.idx.data, labels: out, count: n }, height, width };
}

/**
 * Reads Fashion-MNIST's four idx files (`train-images-idx3-ubyte[.gz]`,
 * `train-labels-idx1-ubyte[.gz]`, `t10k-images-idx3-ubyte[.gz]`, `t10k-labels-idx1-ubyte[.gz]`)
 * from `dir` (default: Debian's `/usr/share/datasets/fashion-mnist`), as a raw data set of
 * 1-channel uint8 images.
 *
 * Cost: reading and gunzipping the files (about 1 s for the full 60,000 + 10,000 images).
 *
 * @throws {Deno.errors.NotFound} when a file is missing; {SyntaxError} when one is truncated,
 *   not gzip/idx, or of the wrong kind; {TypeError} when image and label counts differ or the
 *   splits' image sizes differ; {RangeError} for a label outside 0–9
 * @example
 * ```ts
 * import { loadFashionMnistRaw } from "./idx.ts";
 * import { FASHION_MNIST_SUBSET_DIR } from "./fmnist_subset.ts";
 * // loadFashionMnistRaw() reads Debian's full set (60,000 + 10,000); here, the embedded subset:
 * const raw = await loadFashionMnistRaw(FASHION_MNIST_SUBSET_DIR);
 * if (raw.train.count !== 4000 || raw.shape.height !== 28) throw new Error("unexpected");
 * ```
 */
export async function loadFashionMnistRaw(
  dir: DataLocation = FASHION_MNIST_DEBIAN_DIR,
  options: { name?: string; fix?: string } = {},
): Promise<RawDataset> {
  const where = shown(dir);
  const fix = options.fix ??
    `install Debian's dataset-fashion-mnist package (it fills ${FASHION_MNIST_DEBIAN_DIR}) ` +
      `or put the four Fashion-MNIST idx files in ${where} and pass that folder (--data-dir)`;
  const classes = [...FASHION_MNIST_CLASSES];
  const train = await readSplit(dir, "train", classes.length, fix);
  const test = await readSplit(dir, "t10k", classes.length, fix);
  if (train.height !== test.height || train.width !== test.width) {
    throw new TypeError(
      `the training images in ${where} are ${train.height}×${train.width} but the test images ` +
        `are ${test.height}×${test.width}, expected one size: use files of one release`,
    );
  }
  return {
    name: options.name ?? "fmnist",
    source: where,
    classes,
    shape: { channels: 1, height: train.height, width: train.width },
    train: train.split,
    test: test.split,
  };
}

/**
 * Encodes unsigned bytes as an (uncompressed) idx file: magic `0x0000 08 NN`, NN big-endian
 * uint32 sizes, then the bytes. The inverse of `parseIdx()`.
 *
 * Cost O(size).
 *
 * @throws {TypeError} when the product of `dims` differs from `data.length`
 * @example
 * ```ts
 * import { encodeIdx, parseIdx } from "./idx.ts";
 * const file = encodeIdx([2], Uint8Array.from([7, 3]));
 * if (parseIdx(file, { magic: 2049, name: "x" }).data[0] !== 7) throw new Error("round trip");
 * ```
 */
export function encodeIdx(dims: number[], data: Uint8Array): Uint8Array {
  const size = dims.reduce((a, b) => a * b, 1);
  if (size !== data.length) {
    throw new TypeError(
      `idx dims ${
        dims.join("×")
      } hold ${size} values but ${data.length} were given: pass matching dims`,
    );
  }
  const header = 4 + 4 * dims.length;
  const out = new Uint8Array(header + size);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x0800 | dims.length, false);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, header);
  return out;
}
