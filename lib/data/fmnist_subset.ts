/**
 * The embedded default data set: a deterministic, class-balanced subset of Fashion-MNIST
 * (4,000 training and 1,000 test images, 400 and 100 per class) stored as gzipped idx files in
 * the repository's `data/fashion-mnist-subset/`, and the function that regenerates those bytes
 * from the full idx files.
 *
 * @module
 */
import { gzipSync } from "node:zlib";
import { encodeIdx, FASHION_MNIST_DEBIAN_DIR, loadFashionMnistRaw } from "./idx.ts";
import { balancedSelection } from "./prepare.ts";
import type { RawSplit } from "./types.ts";
import { type DataLocation, fileIn, shown } from "./_bytes.ts";
import { sha256Hex, writeFileAtomic } from "../store/io.ts";

/** The recipe of the embedded subset: counts and the selection seed. */
export const FASHION_MNIST_SUBSET: Readonly<
  { trainCount: number; testCount: number; seed: number }
> = Object.freeze({ trainCount: 4000, testCount: 1000, seed: 20170825 });

/** The folder of the embedded subset, next to this module in the repository. */
export const FASHION_MNIST_SUBSET_DIR: URL = new URL(
  "../../data/fashion-mnist-subset/",
  import.meta.url,
);

/** The files the subset consists of, in the order they are written. */
export const FASHION_MNIST_SUBSET_FILES: readonly string[] = Object.freeze([
  "train-images-idx3-ubyte.gz",
  "train-labels-idx1-ubyte.gz",
  "t10k-images-idx3-ubyte.gz",
  "t10k-labels-idx1-ubyte.gz",
]);

function pick(split: RawSplit, indices: Int32Array, per: number) {
  const pixels = new Uint8Array(indices.length * per);
  const labels = new Uint8Array(indices.length);
  indices.forEach((src, dst) => {
    pixels.set(split.pixels.subarray(src * per, (src + 1) * per) as Uint8Array, dst * per);
    labels[dst] = split.labels[src] as number;
  });
  return { pixels, labels };
}

/**
 * Regenerates the embedded subset from the full Fashion-MNIST idx files in `srcDir` into
 * `dstDir`: `balancedSelection()` with the recipe's seed picks 400 training and 100 test images
 * per class (kept in their original order), written as idx files gzipped by `node:zlib` at level
 * 9 (header mtime 0), plus `SHA256SUMS` (sha256sum's format) of the four files. Each file is
 * written to a temporary name and renamed, so readers never see a half-written file.
 *
 * Cost: reading the full set (about 1 s) and compressing 3.9 MB (about 1 s).
 *
 * @param srcDir folder of the full idx files (default Debian's)
 * @param dstDir local folder to write (created if absent)
 * @returns the paths written
 * @throws what `loadFashionMnistRaw()` throws for missing or malformed source files
 * @example
 * ```ts
 * import { FASHION_MNIST_SUBSET_DIR, makeFashionMnistSubset } from "./fmnist_subset.ts";
 * // From the full set: makeFashionMnistSubset(undefined, dir). The subset of the subset is
 * // itself, so this reproduces the committed files without the full set:
 * const dir = await Deno.makeTempDir();
 * const written = await makeFashionMnistSubset(FASHION_MNIST_SUBSET_DIR, dir);
 * await Deno.remove(dir, { recursive: true });
 * if (written.length !== 5) throw new Error("four idx files and SHA256SUMS expected");
 * ```
 */
export async function makeFashionMnistSubset(
  srcDir: DataLocation = FASHION_MNIST_DEBIAN_DIR,
  dstDir: string | URL = FASHION_MNIST_SUBSET_DIR,
): Promise<string[]> {
  const raw = await loadFashionMnistRaw(srcDir);
  const { height, width } = raw.shape;
  const per = height * width;
  const { trainCount, testCount, seed } = FASHION_MNIST_SUBSET;
  const train = pick(
    raw.train,
    balancedSelection(raw.train.labels, trainCount, { numClasses: 10, seed }),
    per,
  );
  const test = pick(
    raw.test,
    balancedSelection(raw.test.labels, testCount, { numClasses: 10, seed }),
    per,
  );
  const contents = [
    encodeIdx([trainCount, height, width], train.pixels),
    encodeIdx([trainCount], train.labels),
    encodeIdx([testCount, height, width], test.pixels),
    encodeIdx([testCount], test.labels),
  ].map((b) => {
    const z = gzipSync(b, { level: 9 });
    return new Uint8Array(z.buffer, z.byteOffset, z.byteLength);
  });
  await Deno.mkdir(dstDir, { recursive: true });
  const written: string[] = [];
  const write = async (name: string, bytes: Uint8Array) => {
    const target = shown(fileIn(dstDir, name));
    await writeFileAtomic(target, bytes);
    written.push(target);
  };
  let sums = "";
  for (const [i, name] of FASHION_MNIST_SUBSET_FILES.entries()) {
    const bytes = contents[i] as Uint8Array;
    await write(name, bytes);
    sums += `${sha256Hex(bytes)}  ${name}\n`;
  }
  await write("SHA256SUMS", new TextEncoder().encode(sums));
  return written;
}
