/**
 * Image data sets for the salience study: loaders for Fashion-MNIST (idx, gzipped or not),
 * an embedded Fashion-MNIST subset that needs no download, CIFAR-10/100 (binary versions),
 * TinyImageNet (folder layout, JPEG), NumPy `.npy` arrays, and a seeded synthetic set;
 * class-balanced deterministic limits, per-channel normalisation, the probe set, and batch
 * helpers.
 *
 * A prepared `Dataset` holds each split as one `Float32Array` in NHWC order (the order
 * TensorFlow.js convolutions use), normalised per channel with the training split's mean and
 * standard deviation; `nhwcToNchw()` gives the C×H×W order of the gradient files.
 *
 * | name | source | `dir` holds |
 * | --- | --- | --- |
 * | `fmnist-default` | embedded Fashion-MNIST subset, 4,000 + 1,000 images, 1×28×28 | (not used) |
 * | `fmnist` | Fashion-MNIST, 60,000 + 10,000, 1×28×28 | `train-images-idx3-ubyte[.gz]`, `train-labels-idx1-ubyte[.gz]`, `t10k-…` (default: Debian's `/usr/share/datasets/fashion-mnist`) |
 * | `cifar10` | CIFAR-10, 50,000 + 10,000, 3×32×32 | `data_batch_1.bin` … `data_batch_5.bin`, `test_batch.bin` (or a `cifar-10-batches-bin/` folder) |
 * | `cifar100` | CIFAR-100, 50,000 + 10,000, 3×32×32, fine (default) or coarse labels | `train.bin`, `test.bin` (or `cifar-100-binary/`) |
 * | `tinyimagenet` | TinyImageNet, 100,000 + 10,000 (val), 3×64×64 | `wnids.txt`, `train/<wnid>/images/*.JPEG`, `val/images/*.JPEG`, `val/val_annotations.txt` (or `tiny-imagenet-200/`) |
 * | `npy` | any images as `.npy` | `train_images.npy`, `train_labels.npy`, `test_images.npy`, `test_labels.npy` |
 * | `synthetic` | seeded class prototypes + noise, 1×8×8, 4 classes by default | (not used) |
 *
 * Errors name the file, what was expected and the fix: a missing file is `Deno.errors.NotFound`,
 * a truncated or unparsable one `SyntaxError`, a count or shape mismatch `TypeError`, a label out
 * of range `RangeError`. Nothing is read at import time.
 *
 * ```ts
 * import { loadDataset, nhwcToNchw } from "./mod.ts";
 * const d = await loadDataset("fmnist-default", { trainCount: 100, testCount: 20 });
 * const chw = nhwcToNchw(d.probe.images, d.shape); // 20 × 1 × 28 × 28
 * if (chw.length !== 20 * 784 || d.classes.length !== 10) throw new Error("unexpected");
 * ```
 *
 * @module
 */
export type {
  DataLocation,
  Dataset,
  ImageShape,
  ImageSplit,
  ProbeSplit,
  RawDataset,
  RawSplit,
} from "./types.ts";
export {
  balancedSelection,
  channelStats,
  CIFAR10_AUTHORS_NORMALIZATION,
  gatherBatch,
  nhwcToNchw,
  prepareDataset,
  type PrepareOptions,
  shuffledIndices,
} from "./prepare.ts";
export {
  encodeIdx,
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_DEBIAN_DIR,
  IDX_IMAGES_MAGIC,
  IDX_LABELS_MAGIC,
  type IdxArray,
  loadFashionMnistRaw,
  parseIdx,
} from "./idx.ts";
export {
  FASHION_MNIST_SUBSET,
  FASHION_MNIST_SUBSET_DIR,
  FASHION_MNIST_SUBSET_FILES,
  makeFashionMnistSubset,
} from "./fmnist_subset.ts";
export {
  CIFAR100_COARSE_CLASSES,
  CIFAR100_FINE_CLASSES,
  type Cifar100Options,
  CIFAR10_CLASSES,
  type CifarRecordFormat,
  loadCifar100Raw,
  loadCifar10Raw,
  parseCifarRecords,
} from "./cifar.ts";
export { loadTinyImageNetRaw, type TinyImageNetOptions } from "./tinyimagenet.ts";
export { decodeJpegRgb } from "./jpeg.ts";
export { loadNpyRaw, type NpyDatasetOptions } from "./npy_dataset.ts";
export { makeSyntheticRaw, type SyntheticOptions } from "./synthetic.ts";
export {
  DATASET_NAMES,
  type DatasetName,
  loadDataset,
  type LoadDatasetOptions,
} from "./registry.ts";
