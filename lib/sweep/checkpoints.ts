/**
 * Sweeps over existing checkpoints (`checkpoints` in a config): models trained in PyTorch
 * (`torch.save(model.state_dict())` archives, `.safetensors`) or by an earlier sweep of ours
 * (`checkpoint/epoch-NNNN` folders, or run folders) are loaded instead of trained, then take the
 * same salience, experiments, analysis and report as trained runs.
 *
 * @module
 */
import { dirname, isAbsolute, join, resolve } from "node:path";
import type * as tfl from "@tensorflow/tfjs-layers";
import type { Dataset } from "../data/mod.ts";
import { FAMILIES } from "../models/mod.ts";
import { type CheckpointEntry, exists, sha256File, type SweepConfig } from "../store/mod.ts";
import { loadStateDict, readStateDict } from "../torch/mod.ts";
import { evaluate, listCheckpoints, loadCheckpointModel, saveCheckpoint } from "../train/mod.ts";

const ENTRY_KEYS = ["family", "k", "seed", "weights", "sha256"];

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/**
 * Checks a config's `checkpoints` list: a non-empty array of `{family, k, seed, weights}` (and
 * optionally `sha256`), with a known family, a positive integer k, a non-negative integer seed,
 * a path, and no (family, k, seed) listed twice.
 *
 * @throws {TypeError} naming `checkpoints[i].key`, the value and what was expected;
 *   {@link RangeError} for a duplicate model.
 * @example
 * ```ts
 * import { checkCheckpointList } from "./checkpoints.ts";
 * let msg = "";
 * try { checkCheckpointList([{ family: "CNNsmall", k: 8, seed: 0, weights: "a.pt" }], "c.json"); }
 * catch (e) { msg = (e as Error).message; }
 * if (!msg.includes("'checkpoints[0].family'")) throw new Error(msg);
 * ```
 */
export function checkCheckpointList(
  list: unknown,
  source: string,
): asserts list is CheckpointEntry[] {
  if (!Array.isArray(list) || list.length === 0) {
    throw new TypeError(
      `${source}: 'checkpoints' is ${
        show(list)
      }; expected a non-empty array of {"family", "k", "seed", "weights"}.`,
    );
  }
  const seen = new Map<string, number>();
  list.forEach((e, i) => {
    const at = `checkpoints[${i}]`;
    if (typeof e !== "object" || e === null || Array.isArray(e)) {
      throw new TypeError(
        `${source}: '${at}' is ${show(e)}; expected {"family", "k", "seed", "weights"}.`,
      );
    }
    for (const key of Object.keys(e)) {
      if (!ENTRY_KEYS.includes(key)) {
        throw new TypeError(
          `unknown key '${at}.${key}' in ${source}; expected ${
            ENTRY_KEYS.map((k) => `'${k}'`).join(", ")
          }.`,
        );
      }
    }
    const r = e as Record<string, unknown>;
    const bad = (key: string, expected: string) =>
      new TypeError(`${source}: '${at}.${key}' is ${show(r[key])}; expected ${expected}.`);
    if (typeof r.family !== "string" || !(FAMILIES as readonly string[]).includes(r.family)) {
      throw bad("family", `one of ${FAMILIES.map((f) => `'${f}'`).join(", ")}`);
    }
    if (!Number.isInteger(r.k) || (r.k as number) < 1) throw bad("k", "a positive integer");
    if (!Number.isInteger(r.seed) || (r.seed as number) < 0) {
      throw bad("seed", "a non-negative integer");
    }
    if (typeof r.weights !== "string" || r.weights.length === 0) {
      throw bad("weights", "the path of a .pt/.safetensors file or of a checkpoint folder");
    }
    if (
      r.sha256 !== undefined && !(typeof r.sha256 === "string" && /^[0-9a-f]{64}$/.test(r.sha256))
    ) {
      throw bad("sha256", "64 lowercase hex digits (or leave it out)");
    }
    const id = `${r.family} k=${r.k} seed ${r.seed}`;
    const first = seen.get(id);
    if (first !== undefined) {
      throw new RangeError(
        `${source}: 'checkpoints[${first}]' and '${at}' are both ${id}; list each model once (give the second another seed).`,
      );
    }
    seen.set(id, i);
  });
}

/**
 * The families (in `lib/models` order), widths (ascending) and seed count (the most checkpoints
 * of any one family and width) that a checkpoint list makes up.
 *
 * @example
 * ```ts
 * import { checkpointGrid } from "./checkpoints.ts";
 * const g = checkpointGrid([
 *   { family: "ResNetSmall", k: 8, seed: 0, weights: "a" },
 *   { family: "CNNSmall", k: 4, seed: 3, weights: "b" },
 *   { family: "CNNSmall", k: 4, seed: 5, weights: "c" },
 * ]);
 * if (g.families.join() !== "CNNSmall,ResNetSmall" || g.widths.join() !== "4,8" || g.seeds !== 2) throw new Error();
 * ```
 */
export function checkpointGrid(
  list: readonly CheckpointEntry[],
): { families: string[]; widths: number[]; seeds: number } {
  const families = FAMILIES.filter((f) => list.some((e) => e.family === f));
  const widths = [...new Set(list.map((e) => e.k))].sort((a, b) => a - b);
  const count = new Map<string, number>();
  for (const e of list) count.set(`${e.family}/${e.k}`, (count.get(`${e.family}/${e.k}`) ?? 0) + 1);
  return { families: [...families], widths, seeds: Math.max(...count.values()) };
}

/** How a `weights` path is read. */
export type WeightsFormat = "torch" | "safetensors" | "checkpoint";

/** The format of a weights path and the files that make up its bytes (hashed in this order). */
async function weightsFiles(
  path: string,
  label: string,
): Promise<{ format: WeightsFormat; folder: string | null; files: string[] }> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(
        `${label}: ${path} does not exist; fix the path ('weights' is relative to the config file) or remove the entry.`,
      );
    }
    throw e;
  }
  if (info.isFile) {
    const head = new Uint8Array(2);
    const f = await Deno.open(path);
    try {
      await f.read(head);
    } finally {
      f.close();
    }
    const zip = head[0] === 0x50 && head[1] === 0x4b;
    return { format: zip ? "torch" : "safetensors", folder: null, files: [path] };
  }
  let folder = path;
  if (!(await exists(join(folder, "model.json"), { kind: "file" }))) {
    const last = (await listCheckpoints(join(path, "checkpoint"))).at(-1);
    if (last === undefined) {
      throw new Deno.errors.NotFound(
        `${label}: ${path} is a folder without model.json or checkpoint/epoch-NNNN/; point 'weights' at a .pt/.safetensors file, a checkpoint folder or a run folder of a sweep.`,
      );
    }
    folder = join(path, "checkpoint", `epoch-${String(last).padStart(4, "0")}`);
  }
  return {
    format: "checkpoint",
    folder,
    files: [join(folder, "model.json"), join(folder, "weights.bin")],
  };
}

/**
 * A copy of `config` whose checkpoints' paths are absolute (relative ones taken from `baseDir`)
 * and carry the SHA-256 of their bytes (a checkpoint folder: model.json then weights.bin). A
 * config without `checkpoints` comes back unchanged. Cost: reads every weights file once.
 *
 * @throws {Deno.errors.NotFound} naming the entry and path of a missing file or an empty folder;
 *   {@link RangeError} when an entry's given `sha256` no longer matches its file.
 * @example
 * ```ts
 * import { resolveCheckpoints } from "./checkpoints.ts";
 * import { presetConfig } from "./presets.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeFile(`${dir}/m.safetensors`, new Uint8Array(8));
 * const c = { ...presetConfig("tiny"), checkpoints: [{ family: "MLP", k: 1, seed: 0, weights: "m.safetensors" }] };
 * const r = await resolveCheckpoints(c, dir);
 * if (r.checkpoints![0]!.sha256 !== "af5570f5a1810b7af78caf4bc70a660f0df51e42baf91d4de5b2328de0e83dfc") throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function resolveCheckpoints(
  config: SweepConfig,
  baseDir: string = Deno.cwd(),
): Promise<SweepConfig> {
  if (config.checkpoints === undefined) return config;
  const out = structuredClone(config);
  for (const [i, e] of out.checkpoints!.entries()) {
    const label = `checkpoints[${i}] (${e.family} k=${e.k} seed ${e.seed})`;
    const path = isAbsolute(e.weights) ? e.weights : resolve(baseDir, e.weights);
    const { files } = await weightsFiles(path, label);
    const sha256 = await sha256File(files);
    if (e.sha256 !== undefined && e.sha256 !== sha256) {
      throw new RangeError(
        `${label}: ${path} has SHA-256 ${sha256.slice(0, 12)}…, not the ${
          e.sha256.slice(0, 12)
        }… the config names; the file changed. Remove 'sha256' to analyse the new file (a new sweep id).`,
      );
    }
    e.weights = path;
    e.sha256 = sha256;
  }
  return out;
}

/**
 * Loads a checkpoint into `model` (built by `createModel` for the entry's family, width, seed
 * and the sweep's input shape and classes): a PyTorch archive or `.safetensors` through
 * `lib/torch` (its parameter names, batch-norm statistics and layouts), or one of our checkpoint
 * folders (every weight in order, shapes checked). Returns the format read.
 *
 * @throws {TypeError} naming the file and the key or weight for a missing, unexpected or wrongly
 *   shaped tensor (the family or k does not match the file), or a dtype not read; what
 *   `readStateDict` throws for a damaged file.
 */
export async function loadCheckpointWeights(
  model: tfl.LayersModel,
  path: string,
): Promise<WeightsFormat> {
  const { format, folder } = await weightsFiles(path, path);
  if (format !== "checkpoint") {
    loadStateDict(model, await readStateDict(path), path);
    return format;
  }
  const loaded = await loadCheckpointModel(folder!);
  try {
    const want = model.weights, have = loaded.weights;
    const wantName = model.name.replace(/_s-?\d+$/, ""),
      haveName = loaded.name.replace(/_s-?\d+$/, "");
    if (want.length !== have.length || wantName !== haveName) {
      throw new TypeError(
        `${folder} holds ${loaded.name} (${have.length} weights), but the entry names ${wantName} (${want.length} weights); fix the entry's family and k.`,
      );
    }
    want.forEach((w, i) => {
      const a = JSON.stringify(w.shape), b = JSON.stringify(have[i]!.shape);
      if (a !== b) {
        throw new TypeError(
          `${folder}: weight ${i} (${
            have[i]!.name
          }) has shape ${b}, but ${wantName} with this data's input shape and classes expects ${a}; is the checkpoint for another data set?`,
        );
      }
    });
    model.setWeights(loaded.getWeights());
  } finally {
    loaded.dispose();
  }
  return format;
}

/**
 * The imported part of a checkpoint run: loads the weights into `model`, keeps them in the run
 * folder as our checkpoint `checkpoint/epoch-0000` (what the experiments and `deno task analyze`
 * load, so the run folder stands on its own) and evaluates the test split once.
 * Cost: one read of the weights, one checkpoint write, one forward pass over the test split.
 *
 * @throws as {@link loadCheckpointWeights}.
 */
export async function importCheckpoint(
  model: tfl.LayersModel,
  weights: { path: string; sha256: string },
  dataset: Dataset,
  runDir: string,
): Promise<
  {
    format: WeightsFormat;
    final: { testLoss: number; testAcc: number };
    seconds: number;
  }
> {
  const t0 = performance.now();
  const format = await loadCheckpointWeights(model, weights.path);
  await saveCheckpoint(join(runDir, "checkpoint"), model, {
    state: {
      format: "salience-train-checkpoint",
      version: 1,
      epochsDone: 0,
      history: [],
      optimizerStep: 0,
      rngState: 0,
      config: { importedFrom: weights.sha256 },
    },
    optimizerWeights: [],
  });
  const r = await evaluate(model, dataset.test);
  return {
    format,
    final: { testLoss: r.loss, testAcc: r.accuracy },
    seconds: (performance.now() - t0) / 1000,
  };
}

/** File names `--checkpoints DIR` takes (as lib/torch/export_gradients.py's `--checkpoints`). */
export const CHECKPOINT_FILE_NAME: RegExp = /^([A-Za-z]+)_k(\d+)_s(\d+)\.(pt|pth|safetensors)$/;

/**
 * The checkpoints of a folder whose files are named `<Family>_k<K>_s<SEED>.pt` (or `.pth`,
 * `.safetensors`), e.g. `CNNSmall_k8_s0.pt`, ordered by family, k and seed; other files are
 * ignored. Cost: one directory listing.
 *
 * @throws {Deno.errors.NotFound} when the folder is missing or holds no such file;
 *   {@link TypeError} for a file whose family is unknown.
 * @example
 * ```ts
 * import { checkpointsInFolder } from "./checkpoints.ts";
 * const dir = await Deno.makeTempDir();
 * for (const f of ["CNNSmall_k8_s1.pt", "CNNSmall_k4_s0.safetensors", "notes.txt"]) {
 *   await Deno.writeTextFile(`${dir}/${f}`, "");
 * }
 * const list = await checkpointsInFolder(dir);
 * if (list.map((e) => `${e.k}/${e.seed}`).join() !== "4/0,8/1") throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function checkpointsInFolder(dir: string): Promise<CheckpointEntry[]> {
  const out: CheckpointEntry[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      const m = CHECKPOINT_FILE_NAME.exec(e.name);
      if (!m || !e.isFile) continue;
      if (!(FAMILIES as readonly string[]).includes(m[1]!)) {
        throw new TypeError(
          `${join(dir, e.name)}: '${m[1]}' is not a family; expected one of ${
            FAMILIES.join(", ")
          } in <Family>_k<K>_s<SEED>.pt.`,
        );
      }
      out.push({ family: m[1]!, k: Number(m[2]), seed: Number(m[3]), weights: join(dir, e.name) });
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(`--checkpoints ${dir}: no such folder.`);
    }
    throw e;
  }
  if (out.length === 0) {
    throw new Deno.errors.NotFound(
      `--checkpoints ${dir} holds no file named <Family>_k<K>_s<SEED>.pt, .pth or .safetensors (e.g. CNNSmall_k8_s0.pt); rename the files or list them in a config's 'checkpoints'.`,
    );
  }
  const rank = (f: string) => (FAMILIES as readonly string[]).indexOf(f);
  return out.sort((a, b) => rank(a.family) - rank(b.family) || a.k - b.k || a.seed - b.seed);
}

/** The folder a config file's relative `weights` paths start from. */
export function configBaseDir(configPath: string): string {
  return dirname(resolve(configPath));
}
