/**
 * TinyImageNet (`tiny-imagenet-200`) in its folder layout: `wnids.txt` (one WordNet id per class),
 * `train/<wnid>/images/*.JPEG` (training), `val/images/*.JPEG` with `val/val_annotations.txt`
 * (`<file>\t<wnid>\t…` per line; used as the test split, since the test split has no labels), and
 * optionally `words.txt` (`<wnid>\t<names>`) for class names. Images are 64×64 JPEGs (a few are
 * grey and are expanded to RGB), decoded with `jpeg-js` into uint8 NHWC 64×64×3.
 *
 * Class indices follow the wnids sorted alphabetically (the order of PyTorch's `ImageFolder`).
 *
 * @module
 */
import { readdir } from "node:fs/promises";
import type { RawDataset, RawSplit } from "./types.ts";
import { balancedSelection } from "./prepare.ts";
import { decodeJpegFiles } from "./_jpeg_pool.ts";
import { type DataLocation, fileIn, readBytes, shown } from "./_bytes.ts";
import { exists } from "../store/io.ts";

const SIDE = 64;

/** Options of `loadTinyImageNetRaw()`: limits applied before decoding, so they save time. */
export interface TinyImageNetOptions {
  /** Decode at most this many training images, class-balanced (default: all 100,000). */
  trainCount?: number;
  /** Decode at most this many validation (test) images, class-balanced (default: all 10,000). */
  testCount?: number;
  /** Seed of the balanced selections (default 0), as in `prepareDataset()`. */
  selectionSeed?: number;
  /** Web Workers decoding JPEGs in parallel (default: up to 8, one per core, from 256 images;
   * 1 decodes on the calling thread). */
  workers?: number;
}

async function readText(loc: DataLocation, missing: string): Promise<string> {
  return new TextDecoder().decode(await readBytes(loc, missing));
}

async function listJpegs(dir: DataLocation, missing: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(shown(dir));
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") throw new Deno.errors.NotFound(missing);
    throw e;
  }
  return names.filter((n) => /\.jpe?g$/i.test(n)).sort();
}

async function decodeSelected(
  files: DataLocation[],
  labels: Int32Array,
  indices: Int32Array,
  options: { fix: string; workers?: number },
): Promise<RawSplit> {
  const chosen = Array.from(indices, (i) => files[i] as DataLocation);
  const pixels = await decodeJpegFiles(chosen, {
    width: SIDE,
    height: SIDE,
    label: "TinyImageNet file",
    ...options,
  });
  return {
    pixels,
    labels: Int32Array.from(indices, (i) => labels[i] as number),
    count: indices.length,
  };
}

/**
 * Reads TinyImageNet from `dir` (or its `tiny-imagenet-200` subfolder) as a raw data set of
 * 3×64×64 uint8 images: the training folders as the training split and the labelled validation
 * images as the test split. Only the class-balanced selection of `trainCount`/`testCount` images
 * is decoded (the same selection `prepareDataset()` would make, so preparing with the same counts
 * and seed keeps them all).
 *
 * Cost: one jpeg-js decode per kept image (1–3 ms each on one core; the full 110,000 take a few
 * minutes on one core, spread over up to 8 Web Workers) and 12 KiB of memory per image.
 *
 * @throws {TypeError} without a folder; {Deno.errors.NotFound} naming a missing file or folder and
 *   the fix; {SyntaxError} for an unparsable annotation line or JPEG; {RangeError} for an
 *   annotation whose wnid is not in `wnids.txt`; {TypeError} for an image that is not 64×64
 * @example
 * ```ts
 * import jpeg from "jpeg-js";
 * import { loadTinyImageNetRaw } from "./tinyimagenet.ts";
 * // One class with one training and one validation image stands in for the 200 classes.
 * const dir = await Deno.makeTempDir();
 * const rgba = new Uint8Array(64 * 64 * 4).fill(128);
 * const image = jpeg.encode({ data: rgba, width: 64, height: 64 }).data;
 * await Deno.mkdir(`${dir}/train/n01443537/images`, { recursive: true });
 * await Deno.mkdir(`${dir}/val/images`, { recursive: true });
 * await Deno.writeTextFile(`${dir}/wnids.txt`, "n01443537\n");
 * await Deno.writeFile(`${dir}/train/n01443537/images/n01443537_0.JPEG`, image);
 * await Deno.writeFile(`${dir}/val/images/val_0.JPEG`, image);
 * await Deno.writeTextFile(`${dir}/val/val_annotations.txt`, "val_0.JPEG\tn01443537\t0\t0\t63\t63\n");
 * const raw = await loadTinyImageNetRaw(dir, { trainCount: 2000, testCount: 500 });
 * await Deno.remove(dir, { recursive: true });
 * if (raw.classes[0] !== "n01443537" || raw.test.count !== 1) throw new Error("bad");
 * ```
 */
export async function loadTinyImageNetRaw(
  dir: DataLocation | undefined,
  options: TinyImageNetOptions = {},
): Promise<RawDataset> {
  if (dir === undefined) {
    throw new TypeError(
      "TinyImageNet needs a folder, none was given: pass dir (--data-dir) naming the unpacked " +
        "tiny-imagenet-200 folder (wnids.txt, train/, val/)",
    );
  }
  if (dir instanceof URL && dir.protocol !== "file:") {
    throw new TypeError(
      `TinyImageNet needs a local folder, got ${dir.href}: download and unpack it, then pass its path`,
    );
  }
  let root = dir;
  const sub = fileIn(dir, "tiny-imagenet-200");
  if (
    !(await exists(fileIn(dir, "wnids.txt"), { kind: "file" })) && !(sub instanceof URL) &&
    await exists(sub, { kind: "dir" })
  ) {
    root = sub;
  }
  const fix =
    `unpack tiny-imagenet-200.zip so that ${shown(dir)} holds wnids.txt, train/ and val/, ` +
    `or pass --data-dir`;
  const wnidsLoc = fileIn(root, "wnids.txt");
  const wnidsText = await readText(
    wnidsLoc,
    `TinyImageNet file ${shown(wnidsLoc)} is missing: ${fix}`,
  );
  const wnids = wnidsText.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "").sort();
  // A wnid names folders (train/<wnid>/): only a plain id, never a path or binary text.
  const odd = wnids.find((w) => !/^[A-Za-z0-9_-]{1,64}$/.test(w));
  if (odd !== undefined) {
    throw new RangeError(
      `TinyImageNet file ${shown(wnidsLoc)} lists ${
        JSON.stringify(odd.slice(0, 40)).replace(/[^\x20-\x7e]/g, "?")
      }${odd.length > 40 ? "…" : ""}, not a WordNet id such as n01443537: ${fix}`,
    );
  }
  if (wnids.length === 0) {
    throw new SyntaxError(
      `TinyImageNet file ${shown(wnidsLoc)} lists no wnids, expected 200: ${fix}`,
    );
  }
  const index = new Map<string, number>();
  for (const w of wnids) {
    if (index.has(w)) {
      throw new SyntaxError(
        `TinyImageNet file ${shown(wnidsLoc)} lists ${w} twice, expected each wnid once: ${fix}`,
      );
    }
    index.set(w, index.size);
  }
  const names = new Map<string, string>();
  const wordsLoc = fileIn(root, "words.txt");
  if (await exists(wordsLoc, { kind: "file" })) {
    for (const line of (await readText(wordsLoc, "")).split(/\r?\n/)) {
      const [w, words] = line.split("\t");
      if (w && words && index.has(w)) names.set(w, (words.split(",")[0] as string).trim());
    }
  }

  const trainFiles: DataLocation[] = [];
  const trainLabels: number[] = [];
  for (const w of wnids) {
    const folder = fileIn(fileIn(fileIn(root, "train"), w), "images");
    const files = await listJpegs(
      folder,
      `TinyImageNet folder ${shown(folder)} is missing: ${fix}`,
    );
    if (files.length === 0) {
      throw new Deno.errors.NotFound(
        `TinyImageNet folder ${shown(folder)} holds no JPEG images: ${fix}`,
      );
    }
    for (const f of files) {
      trainFiles.push(fileIn(folder, f));
      trainLabels.push(index.get(w) as number);
    }
  }

  const valDir = fileIn(root, "val");
  const annLoc = fileIn(valDir, "val_annotations.txt");
  const annText = await readText(annLoc, `TinyImageNet file ${shown(annLoc)} is missing: ${fix}`);
  const valFiles: DataLocation[] = [];
  const valLabels: number[] = [];
  annText.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === "") return;
    const [file, w] = line.split("\t");
    if (!file || !w) {
      throw new SyntaxError(
        `line ${i + 1} of TinyImageNet file ${shown(annLoc)} is "${line}", expected ` +
          `"<file>\\t<wnid>\\t…": ${fix}`,
      );
    }
    const y = index.get(w);
    if (y === undefined) {
      throw new RangeError(
        `label ${w} at line ${i + 1} of TinyImageNet file ${shown(annLoc)} is not among the ` +
          `${wnids.length} wnids of wnids.txt: use the annotations of the same release`,
      );
    }
    valFiles.push(fileIn(fileIn(valDir, "images"), file));
    valLabels.push(y);
  });
  if (valFiles.length === 0) {
    throw new SyntaxError(
      `TinyImageNet file ${shown(annLoc)} lists no images, expected 10,000: ${fix}`,
    );
  }

  const decode = { fix, workers: options.workers };
  const seed = options.selectionSeed ?? 0;
  const select = (labels: Int32Array, count: number | undefined) =>
    balancedSelection(labels, count ?? labels.length, { numClasses: wnids.length, seed });
  const trainY = Int32Array.from(trainLabels);
  const valY = Int32Array.from(valLabels);
  return {
    name: "tinyimagenet",
    source: shown(root),
    classes: wnids.map((w) => names.get(w) ?? w),
    shape: { channels: 3, height: SIDE, width: SIDE },
    train: await decodeSelected(trainFiles, trainY, select(trainY, options.trainCount), decode),
    test: await decodeSelected(valFiles, valY, select(valY, options.testCount), decode),
  };
}
