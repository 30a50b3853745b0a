/**
 * `loadDataset(name, options)`: one entry point for every data set the toolkit knows.
 *
 * @module
 */
import type { Dataset, RawDataset } from "./types.ts";
import { prepareDataset, type PrepareOptions } from "./prepare.ts";
import { loadFashionMnistRaw } from "./idx.ts";
import { FASHION_MNIST_SUBSET_DIR } from "./fmnist_subset.ts";
import { makeSyntheticRaw, type SyntheticOptions } from "./synthetic.ts";
import { type Cifar100Options, loadCifar100Raw, loadCifar10Raw } from "./cifar.ts";
import { loadTinyImageNetRaw } from "./tinyimagenet.ts";
import { loadNpyRaw, type NpyDatasetOptions } from "./npy_dataset.ts";
import type { DataLocation } from "./_bytes.ts";

/** A name `loadDataset()` accepts. */
export type DatasetName =
  | "fmnist-default"
  | "fmnist"
  | "cifar10"
  | "cifar100"
  | "tinyimagenet"
  | "npy"
  | "synthetic";

/** Every name `loadDataset()` accepts. */
export const DATASET_NAMES: readonly DatasetName[] = Object.freeze([
  "fmnist-default",
  "fmnist",
  "cifar10",
  "cifar100",
  "tinyimagenet",
  "npy",
  "synthetic",
]);

/** Options of `loadDataset()`: where the files are, what to keep, and per-loader choices. */
export interface LoadDatasetOptions extends PrepareOptions {
  /** Folder of the data set's files (required for cifar10, cifar100, tinyimagenet, npy;
   * default Debian's folder for fmnist; ignored by fmnist-default and synthetic). */
  dir?: DataLocation;
  /** CIFAR-100: use the fine (default, 100 classes) or coarse (20 classes) labels. */
  labelKind?: Cifar100Options["labelKind"];
  /** TinyImageNet: Web Workers decoding JPEGs (default up to 8 from 256 images). */
  workers?: number;
  /** npy: file names, 4-D layout, class names (see `loadNpyRaw()`). */
  npy?: Omit<NpyDatasetOptions, "name">;
  /** Options of the synthetic data set (its `trainCount`/`testCount` default to 256/64). */
  synthetic?: Omit<SyntheticOptions, "trainCount" | "testCount">;
}

/**
 * Loads a data set by name and prepares it (`prepareDataset()`: class-balanced limits,
 * per-channel normalisation on the training split, the probe set).
 *
 * - `fmnist-default`: the embedded Fashion-MNIST subset (4,000 + 1,000 images, 1×28×28), always
 *   present;
 * - `fmnist`: the full Fashion-MNIST idx files from `dir` (default Debian's
 *   `/usr/share/datasets/fashion-mnist`);
 * - `cifar10`, `cifar100`: the binary versions in `dir` (`labelKind` picks CIFAR-100's fine or
 *   coarse labels);
 * - `tinyimagenet`: the unpacked `tiny-imagenet-200` folder `dir` (validation images as the test
 *   split; only the images kept by `trainCount`/`testCount` are decoded);
 * - `npy`: four `.npy` files in `dir` (options under `npy`);
 * - `synthetic`: the seeded synthetic set of `makeSyntheticRaw()` (`trainCount`/`testCount` set
 *   how many images are generated).
 *
 * Nothing is read at import time: an absent data set fails only when it is loaded.
 *
 * Cost: the loader's reading and decoding plus O(N·H·W·C) for preparation.
 *
 * @throws {RangeError} for an unknown name; otherwise what the loader throws (a missing file is
 *   `Deno.errors.NotFound` naming it and the fix)
 * @example
 * ```ts
 * import { loadDataset } from "./registry.ts";
 * const d = await loadDataset("synthetic", { trainCount: 40, testCount: 8, synthetic: { seed: 1 } });
 * if (d.train.count !== 40 || d.shape.height !== 8) throw new Error("unexpected");
 * ```
 */
export async function loadDataset(
  name: string,
  options: LoadDatasetOptions = {},
): Promise<Dataset> {
  const raw = await loadRaw(name, options);
  return prepareDataset(raw, options);
}

async function loadRaw(name: string, options: LoadDatasetOptions): Promise<RawDataset> {
  switch (name as DatasetName) {
    case "fmnist-default":
      return await loadFashionMnistRaw(FASHION_MNIST_SUBSET_DIR, {
        name: "fmnist-default",
        fix: "the embedded subset belongs to the repository: restore data/fashion-mnist-subset " +
          "from git or regenerate it with its make_subset.ts",
      });
    case "fmnist":
      return await loadFashionMnistRaw(options.dir);
    case "cifar10":
      return await loadCifar10Raw(options.dir);
    case "cifar100":
      return await loadCifar100Raw(options.dir, { labelKind: options.labelKind });
    case "tinyimagenet":
      return await loadTinyImageNetRaw(options.dir, {
        trainCount: options.trainCount,
        testCount: options.testCount,
        selectionSeed: options.selectionSeed,
        workers: options.workers,
      });
    case "npy":
      return await loadNpyRaw(options.dir, options.npy);
    case "synthetic":
      return makeSyntheticRaw({
        ...options.synthetic,
        trainCount: options.trainCount,
        testCount: options.testCount,
      });
  }
  throw new RangeError(
    `unknown data set "${name}", expected one of ${DATASET_NAMES.join(", ")}: pick one of those`,
  );
}
