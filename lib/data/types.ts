/**
 * The in-memory representation of a loaded image data set.
 *
 * Images are stored NHWC (sample, row, column, channel), the order TensorFlow.js convolutions
 * use, in one flat `Float32Array` per split. Gradient files use C×H×W per sample (as PyTorch
 * does); `nhwcToNchw()` converts a batch.
 *
 * @module
 */

/** A file or folder given as a file-system path or a URL (`file:`, or `http(s):` for files). */
export type DataLocation = string | URL;

/** The size of one image: channels × height × width. */
export interface ImageShape {
  /** Number of channels C (1 for grey, 3 for RGB). */
  channels: number;
  /** Image height H in pixels. */
  height: number;
  /** Image width W in pixels. */
  width: number;
}

/** One split of a prepared data set: `count` images, NHWC, normalised per channel. */
export interface ImageSplit {
  /** `count·H·W·C` values, NHWC, `(x − mean[c]) / std[c]` where x is the raw value (uint8/255). */
  images: Float32Array;
  /** `count` class indices in `0 … classes.length − 1`. */
  labels: Int32Array;
  /** Number of images. */
  count: number;
}

/** The probe set: a class-balanced subset of one split, on which salience is taken. */
export interface ProbeSplit extends ImageSplit {
  /** Which split of the data set the probe images come from. */
  split: "train" | "test";
  /** For each probe image, its index in `dataset[split]` (ascending). */
  indices: Int32Array;
}

/**
 * A loaded, prepared data set.
 *
 * `train.images[((n·H + y)·W + x)·C + c]` is channel c of pixel (y, x) of image n, already
 * normalised with the per-channel `mean` and `std` computed on the (possibly limited) training
 * split, and applied to both splits. No augmentation.
 */
export interface Dataset {
  /** Registry name (`fmnist-default`, `cifar10`, …). */
  name: string;
  /** Where the data came from: a folder, `embedded …`, or `synthetic seed …`. */
  source: string;
  /** Class names; `labels` index into this list. */
  classes: string[];
  /** Image size. */
  shape: ImageShape;
  /** Training split. */
  train: ImageSplit;
  /** Test split. */
  test: ImageSplit;
  /** The probe set (by default the whole test split). */
  probe: ProbeSplit;
  /** Per-channel mean of the raw training values (uint8 scaled by 1/255), length C. */
  mean: number[];
  /** Per-channel population standard deviation of the raw training values, length C. */
  std: number[];
}

/** One split before preparation: raw NHWC pixels (uint8 0–255, or float32 as given) and labels. */
export interface RawSplit {
  /** `count·H·W·C` raw values, NHWC. uint8 values are scaled by 1/255 on preparation. */
  pixels: Uint8Array | Float32Array;
  /** `count` class indices. */
  labels: Int32Array;
  /** Number of images. */
  count: number;
}

/** A data set as a loader reads it, before limiting and normalisation (see `prepareDataset()`). */
export interface RawDataset {
  /** Registry name. */
  name: string;
  /** Where the data came from. */
  source: string;
  /** Class names. */
  classes: string[];
  /** Image size. */
  shape: ImageShape;
  /** Raw training split. */
  train: RawSplit;
  /** Raw test split. */
  test: RawSplit;
}
