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
 * ```ts
 * import { loadDataset, nhwcToNchw } from "./mod.ts";
 * const d = await loadDataset("fmnist-default", { trainCount: 100, testCount: 20 });
 * const chw = nhwcToNchw(d.probe.images, d.shape); // 20 × 1 × 28 × 28
 * if (chw.length !== 20 * 784 || d.classes.length !== 10) throw new Error("unexpected");
 * ```
 *
 * @module
 */
export type { Dataset, ImageShape, ImageSplit, ProbeSplit, RawDataset, RawSplit } from "./types.ts";
export {
  balancedSelection,
  channelStats,
  gatherBatch,
  nhwcToNchw,
  prepareDataset,
  type PrepareOptions,
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
export { decodeJpegRgb, loadTinyImageNetRaw, type TinyImageNetOptions } from "./tinyimagenet.ts";
export { loadNpyRaw, type NpyDatasetOptions } from "./npy_dataset.ts";
export { makeSyntheticRaw, type SyntheticOptions } from "./synthetic.ts";
export {
  DATASET_NAMES,
  type DatasetName,
  loadDataset,
  type LoadDatasetOptions,
} from "./registry.ts";
