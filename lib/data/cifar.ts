/**
 * CIFAR-10 and CIFAR-100 in their binary distribution format.
 *
 * - CIFAR-10 (`cifar-10-batches-bin`): `data_batch_1.bin` … `data_batch_5.bin` (training) and
 *   `test_batch.bin`, each 10,000 records of 3,073 bytes: 1 label byte (0–9) then 3,072 pixel
 *   bytes (1,024 red, 1,024 green, 1,024 blue, each 32×32 row-major).
 * - CIFAR-100 (`cifar-100-binary`): `train.bin` (50,000 records) and `test.bin` (10,000), records
 *   of 3,074 bytes: coarse label (0–19), fine label (0–99), then the same 3,072 pixel bytes.
 *
 * Pixels are returned as uint8 NHWC (32×32×3). A file may hold any whole number of records (tests
 * use small fixtures); a size that is not a whole number of records is reported as truncated.
 *
 * @module
 */
import type { RawDataset, RawSplit } from "./types.ts";
import { type DataLocation, fileIn, fmt, readBytes, shown } from "./_bytes.ts";
import { exists } from "../store/io.ts";

/** CIFAR-10's class names in label order. */
export const CIFAR10_CLASSES: readonly string[] = Object.freeze([
  "airplane",
  "automobile",
  "bird",
  "cat",
  "deer",
  "dog",
  "frog",
  "horse",
  "ship",
  "truck",
]);

/** CIFAR-100's 100 fine class names in label order (as in `fine_label_names.txt`). */
export const CIFAR100_FINE_CLASSES: readonly string[] = Object.freeze(
  ("apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus " +
    "butterfly camel can castle caterpillar cattle chair chimpanzee clock cloud cockroach couch " +
    "crab crocodile cup dinosaur dolphin elephant flatfish forest fox girl hamster house kangaroo " +
    "keyboard lamp lawn_mower leopard lion lizard lobster man maple_tree motorcycle mountain " +
    "mouse mushroom oak_tree orange orchid otter palm_tree pear pickup_truck pine_tree plain " +
    "plate poppy porcupine possum rabbit raccoon ray road rocket rose sea seal shark shrew skunk " +
    "skyscraper snail snake spider squirrel streetcar sunflower sweet_pepper table tank " +
    "telephone television tiger tractor train trout tulip turtle wardrobe whale willow_tree wolf " +
    "woman worm").split(" "),
);

/** CIFAR-100's 20 coarse class (superclass) names in label order. */
export const CIFAR100_COARSE_CLASSES: readonly string[] = Object.freeze(
  ("aquatic_mammals fish flowers food_containers fruit_and_vegetables " +
    "household_electrical_devices household_furniture insects large_carnivores " +
    "large_man-made_outdoor_things large_natural_outdoor_scenes " +
    "large_omnivores_and_herbivores medium_mammals non-insect_invertebrates people reptiles " +
    "small_mammals trees vehicles_1 vehicles_2").split(" "),
);

const SIDE = 32;
const PIXELS = SIDE * SIDE * 3;

/** How to read one CIFAR record file. */
export interface CifarRecordFormat {
  /** Label bytes before the pixels: 1 (CIFAR-10) or 2 (CIFAR-100: coarse, fine). */
  labelBytes: 1 | 2;
  /** Which label byte is the label (0 for CIFAR-10 and CIFAR-100 coarse, 1 for fine). */
  labelIndex: 0 | 1;
  /** Number of classes; labels must lie in `0 … numClasses − 1`. */
  numClasses: number;
  /** The file's name, for messages. */
  name: string;
  /** Records a file of the distribution holds (10,000 or 50,000), for messages. */
  fullRecords?: number;
  /** What to do about a malformed file, for messages. */
  fix?: string;
}

/**
 * Parses CIFAR binary records into uint8 NHWC pixels and labels: for record r, channel c, pixel
 * (y, x), `pixels[((r·32 + y)·32 + x)·3 + c] = bytes[r·L + labelBytes + c·1024 + y·32 + x]` with
 * L = labelBytes + 3,072.
 *
 * Cost O(bytes).
 *
 * @throws {SyntaxError} when the size is not a positive whole number of records;
 *   {RangeError} when a label is outside `0 … numClasses − 1`
 * @example
 * ```ts
 * import { parseCifarRecords } from "./cifar.ts";
 * const rec = new Uint8Array(3073); rec[0] = 7; rec[1] = 200; // label 7, red of pixel (0, 0)
 * const s = parseCifarRecords(rec, { labelBytes: 1, labelIndex: 0, numClasses: 10, name: "r.bin" });
 * if (s.labels[0] !== 7 || s.pixels[0] !== 200 || s.count !== 1) throw new Error("bad parse");
 * ```
 */
export function parseCifarRecords(bytes: Uint8Array, format: CifarRecordFormat): RawSplit {
  const { labelBytes, labelIndex, numClasses, name } = format;
  const rec = labelBytes + PIXELS;
  if (bytes.length === 0 || bytes.length % rec !== 0) {
    const full = format.fullRecords
      ? `${fmt(format.fullRecords * rec)} (${fmt(format.fullRecords)} records of ${fmt(rec)} bytes)`
      : `a multiple of ${fmt(rec)}`;
    throw new SyntaxError(
      `${name} holds ${fmt(bytes.length)} bytes, expected ${full}` +
        (format.fullRecords ? ` or another whole number of ${fmt(rec)}-byte records` : "") +
        `: ${format.fix ?? "the file is truncated or of another format, download it again"}`,
    );
  }
  const count = bytes.length / rec;
  const pixels = new Uint8Array(count * PIXELS);
  const labels = new Int32Array(count);
  const plane = SIDE * SIDE;
  for (let r = 0; r < count; r++) {
    const base = r * rec;
    const y = bytes[base + labelIndex] as number;
    if (y >= numClasses) {
      throw new RangeError(
        `label ${y} at record ${r} of ${name} is outside 0–${numClasses - 1}: ` +
          `${format.fix ?? "the file is of another data set, download it again"}`,
      );
    }
    labels[r] = y;
    const src = base + labelBytes;
    const dst = r * PIXELS;
    for (let p = 0; p < plane; p++) {
      pixels[dst + 3 * p] = bytes[src + p] as number;
      pixels[dst + 3 * p + 1] = bytes[src + plane + p] as number;
      pixels[dst + 3 * p + 2] = bytes[src + 2 * plane + p] as number;
    }
  }
  return { pixels, labels, count };
}

function concatSplits(parts: RawSplit[]): RawSplit {
  const count = parts.reduce((a, p) => a + p.count, 0);
  const pixels = new Uint8Array(count * PIXELS);
  const labels = new Int32Array(count);
  let at = 0;
  for (const p of parts) {
    pixels.set(p.pixels as Uint8Array, at * PIXELS);
    labels.set(p.labels, at);
    at += p.count;
  }
  return { pixels, labels, count };
}

/** `dir`, or its `sub` folder when the files sit there (as the archives unpack). */
async function resolveDir(dir: DataLocation, first: string, sub: string): Promise<DataLocation> {
  if (await exists(fileIn(dir, first), { kind: "file" })) return dir;
  const inner = fileIn(dir, sub);
  if (
    !(inner instanceof URL) && await exists(inner, { kind: "dir" }) &&
    await exists(fileIn(inner, first), { kind: "file" })
  ) {
    return inner;
  }
  return dir;
}

async function readCifar(
  dir: DataLocation,
  files: string[],
  format: Omit<CifarRecordFormat, "name">,
  dataset: string,
  fix: string,
): Promise<RawSplit> {
  const parts: RawSplit[] = [];
  for (const file of files) {
    const loc = fileIn(dir, file);
    const bytes = await readBytes(loc, `${dataset} file ${shown(loc)} is missing: ${fix}`);
    parts.push(parseCifarRecords(bytes, { ...format, name: `${dataset} file ${shown(loc)}` }));
  }
  return parts.length === 1 ? parts[0] as RawSplit : concatSplits(parts);
}

function requireDir(dir: DataLocation | undefined, dataset: string, folder: string): DataLocation {
  if (dir === undefined) {
    throw new TypeError(
      `${dataset} needs a folder, none was given: pass dir (--data-dir) naming the folder that ` +
        `holds the binary version's files (${folder})`,
    );
  }
  return dir;
}

/**
 * Reads CIFAR-10's binary version (`data_batch_1.bin` … `data_batch_5.bin`, `test_batch.bin`)
 * from `dir` or its `cifar-10-batches-bin` subfolder, as a raw data set of 3×32×32 uint8 images.
 *
 * Cost O(file sizes): 60,000 images take about a second.
 *
 * @throws {TypeError} without a folder; {Deno.errors.NotFound} naming a missing file and the fix;
 *   {SyntaxError} for a size that is not whole records; {RangeError} for a label outside 0–9
 * @example
 * ```ts
 * import { loadCifar10Raw } from "./cifar.ts";
 * const dir = await Deno.makeTempDir(); // one record (label 3) per file stands in for 10,000
 * const record = new Uint8Array(3073).fill(3);
 * for (const f of [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`).concat("test_batch.bin")) {
 *   await Deno.writeFile(`${dir}/${f}`, record);
 * }
 * const raw = await loadCifar10Raw(dir);
 * await Deno.remove(dir, { recursive: true });
 * if (raw.train.count !== 5 || raw.classes[raw.test.labels[0]!] !== "cat") throw new Error("bad");
 * ```
 */
export async function loadCifar10Raw(dir: DataLocation | undefined): Promise<RawDataset> {
  const given = requireDir(dir, "CIFAR-10", "cifar-10-batches-bin");
  const where = await resolveDir(given, "data_batch_1.bin", "cifar-10-batches-bin");
  const fix = `put the binary version (cifar-10-batches-bin, from cifar-10-binary.tar.gz) in ` +
    `${shown(given)} or pass --data-dir`;
  const format = {
    labelBytes: 1,
    labelIndex: 0,
    numClasses: 10,
    fullRecords: 10000,
    fix: `download cifar-10-binary.tar.gz again and unpack it into ${shown(given)}`,
  } as const;
  const batches = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
  return {
    name: "cifar10",
    source: shown(where),
    classes: [...CIFAR10_CLASSES],
    shape: { channels: 3, height: SIDE, width: SIDE },
    train: await readCifar(where, batches, format, "CIFAR-10", fix),
    test: await readCifar(where, ["test_batch.bin"], format, "CIFAR-10", fix),
  };
}

/** Options of `loadCifar100Raw()`. */
export interface Cifar100Options {
  /** Which labels to use: the 100 fine classes (default) or the 20 coarse superclasses. */
  labelKind?: "fine" | "coarse";
}

/**
 * Reads CIFAR-100's binary version (`train.bin`, `test.bin`) from `dir` or its
 * `cifar-100-binary` subfolder, as a raw data set of 3×32×32 uint8 images labelled with the fine
 * (default, 100 classes) or coarse (20 superclasses) labels.
 *
 * Cost O(file sizes).
 *
 * @throws {TypeError} without a folder; {Deno.errors.NotFound} naming a missing file and the fix;
 *   {SyntaxError} for a size that is not whole records; {RangeError} for a label out of range
 * @example
 * ```ts
 * import { loadCifar100Raw } from "./cifar.ts";
 * const dir = await Deno.makeTempDir();
 * const record = new Uint8Array(3074); record[0] = 4; record[1] = 0; // coarse 4, fine 0
 * await Deno.writeFile(`${dir}/train.bin`, record);
 * await Deno.writeFile(`${dir}/test.bin`, record);
 * const raw = await loadCifar100Raw(dir, { labelKind: "coarse" });
 * await Deno.remove(dir, { recursive: true });
 * if (raw.classes.length !== 20 || raw.train.labels[0] !== 4) throw new Error("bad");
 * ```
 */
export async function loadCifar100Raw(
  dir: DataLocation | undefined,
  options: Cifar100Options = {},
): Promise<RawDataset> {
  const given = requireDir(dir, "CIFAR-100", "cifar-100-binary");
  const where = await resolveDir(given, "train.bin", "cifar-100-binary");
  const fix = `put the binary version (cifar-100-binary, from cifar-100-binary.tar.gz) in ` +
    `${shown(given)} or pass --data-dir`;
  const kind = options.labelKind ?? "fine";
  if (kind !== "fine" && kind !== "coarse") {
    throw new RangeError(`CIFAR-100 labelKind is "${kind}", expected "fine" or "coarse"`);
  }
  const classes = kind === "fine" ? CIFAR100_FINE_CLASSES : CIFAR100_COARSE_CLASSES;
  const format = {
    labelBytes: 2,
    labelIndex: kind === "fine" ? 1 : 0,
    numClasses: classes.length,
    fix: `download cifar-100-binary.tar.gz again and unpack it into ${shown(given)}`,
  } as const;
  return {
    name: "cifar100",
    source: shown(where),
    classes: [...classes],
    shape: { channels: 3, height: SIDE, width: SIDE },
    train: await readCifar(
      where,
      ["train.bin"],
      { ...format, fullRecords: 50000 },
      "CIFAR-100",
      fix,
    ),
    test: await readCifar(where, ["test.bin"], { ...format, fullRecords: 10000 }, "CIFAR-100", fix),
  };
}
