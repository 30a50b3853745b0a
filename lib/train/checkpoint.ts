// Checkpoints in the TensorFlow.js layers format (model.json + weights.bin) written through a
// custom IO handler, plus state.json (epoch, history, optimiser step, RNG position) and
// optimizer.bin (optimiser slots), and checksums.json (size and SHA-256 of the four), written last.
// Each epoch's checkpoint is one folder renamed into place, so a reader sees a whole checkpoint or
// none; the checksums let a reader tell a damaged one from a whole one without any other record.
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { join } from "node:path";
import {
  CHECKSUMS_FILE,
  exists,
  replaceDir,
  verifyChecksums,
  writeChecksums,
} from "../store/io.ts";
import { FAMILIES, type Family, modelDims, setModelSpec } from "../models/mod.ts";

/** One epoch's record in the training history. */
export interface EpochRecord {
  /** Epoch index, 0-based. */
  epoch: number;
  /** The learning rate of the epoch's first step (the whole epoch's, except with "linear"). */
  learningRate: number;
  /** Mean training loss over the epoch's batches (weighted by batch size). */
  trainLoss: number;
  /** Test loss and accuracy after the epoch, in inference mode (null without a test split). */
  testLoss: number | null;
  testAccuracy: number | null;
  /** Training samples per second over the epoch. */
  samplesPerSecond: number;
  seconds: number;
}

/** What state.json holds. */
export interface CheckpointState {
  format: "salience-train-checkpoint";
  version: 1;
  /** Number of completed epochs (the next epoch to run). */
  epochsDone: number;
  history: EpochRecord[];
  /** Optimiser steps taken so far. */
  optimizerStep: number;
  /** Position of the data-order generator at the start of the next epoch. */
  rngState: number;
  /** The training settings that must match on resume. */
  config: Record<string, unknown>;
}

const STATE = "state.json";
/** A named tensor, as optimisers' getWeights() return them. */
export type NamedTensor = { name: string; tensor: tf.Tensor };

const dirName = (epoch: number) => `epoch-${String(epoch).padStart(4, "0")}`;

/** A file's bytes as an ArrayBuffer of exactly its length (what tfjs's weight decoders take). */
async function readArrayBuffer(path: string): Promise<ArrayBuffer> {
  const b = await Deno.readFile(path);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
}

function joinWeightData(d: tf.io.WeightData | undefined): Uint8Array {
  if (d === undefined) return new Uint8Array(0);
  const parts = Array.isArray(d) ? d : [d];
  const total = parts.reduce((a, p) => a + p.byteLength, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(new Uint8Array(p), o);
    o += p.byteLength;
  }
  return out;
}

/**
 * Writes one checkpoint folder `<dir>/epoch-NNNN` atomically (written as a temporary folder, then
 * renamed), then removes older checkpoint folders. Cost: one read-back of every weight.
 */
export async function saveCheckpoint(
  dir: string,
  model: tfl.LayersModel,
  opts: { state: CheckpointState; optimizerWeights: NamedTensor[] },
): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  const final = join(dir, dirName(opts.state.epochsDone));
  const tmp = `${final}.tmp-${Deno.pid}`;
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
  await Deno.mkdir(tmp);
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    const json = {
      modelTopology: artifacts.modelTopology,
      format: artifacts.format ?? "layers-model",
      generatedBy: artifacts.generatedBy,
      convertedBy: artifacts.convertedBy ?? null,
      weightsManifest: [{ paths: ["./weights.bin"], weights: artifacts.weightSpecs }],
    };
    await Deno.writeFile(join(tmp, "weights.bin"), joinWeightData(artifacts.weightData));
    await Deno.writeTextFile(join(tmp, "model.json"), JSON.stringify(json));
    return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
  }));
  const opt = await tf.io.encodeWeights(opts.optimizerWeights);
  await Deno.writeFile(join(tmp, "optimizer.bin"), joinWeightData(opt.data));
  await Deno.writeTextFile(
    join(tmp, STATE),
    JSON.stringify({ ...opts.state, optimizerSpecs: opt.specs }, null, 1),
  );
  await writeChecksums(tmp, ["model.json", "weights.bin", "optimizer.bin", STATE]);
  await replaceDir(tmp, final);
  for (const e of await listCheckpoints(dir)) {
    if (e < opts.state.epochsDone) await Deno.remove(join(dir, dirName(e)), { recursive: true });
  }
  return final;
}

/**
 * Throws when a checkpoint folder fails its `checksums.json`, naming the file and the fix. A
 * folder written before checkpoints carried checksums (no `checksums.json`) passes.
 */
async function checkIntegrity(path: string): Promise<void> {
  if (!(await exists(join(path, CHECKSUMS_FILE)))) return;
  const problem = await verifyChecksums(path);
  if (problem !== null) {
    throw new RangeError(
      `Checkpoint ${path} is damaged: ${problem} Delete the run folder to retrain it ` +
        `(rerunning the sweep does so for a run without a valid COMPLETE marker).`,
    );
  }
}

/**
 * Replaces the weights of an existing checkpoint folder with `model`'s: a copy of the folder
 * with the new `weights.bin` and its checksums is written under a temporary name and renamed
 * into place, as {@link saveCheckpoint} does; `model.json`, `state.json` and the optimiser
 * slots stay. For a change that is not training, such as recomputed batch-norm
 * statistics, so that whatever loads the checkpoint gets the model as it is used.
 *
 * @throws {TypeError} when `model`'s weights (names, shapes, dtypes, order) differ from the
 *   checkpoint's manifest.
 */
export async function replaceCheckpointWeights(
  folder: string,
  model: tfl.LayersModel,
): Promise<void> {
  const json = JSON.parse(await Deno.readTextFile(join(folder, "model.json"))) as {
    weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[];
  };
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  const key = (w: tf.io.WeightsManifestEntry) => `${w.name}:${w.shape.join("x")}:${w.dtype}`;
  let bytes: Uint8Array | null = null;
  await model.save(tf.io.withSaveHandler((artifacts) => {
    const got = (artifacts.weightSpecs ?? []).map(key).join(","), want = specs.map(key).join(",");
    if (got !== want) {
      throw new TypeError(
        `replaceCheckpointWeights: the model's weights (${
          got.slice(0, 80)
        }…) differ from checkpoint ${folder}'s (${
          want.slice(0, 80)
        }…); pass the model the checkpoint was written from.`,
      );
    }
    bytes = joinWeightData(artifacts.weightData);
    return Promise.resolve({ modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) });
  }));
  const tmp = `${folder}.tmp-${Deno.pid}`;
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
  await Deno.mkdir(tmp);
  for (const f of ["model.json", "optimizer.bin", STATE]) {
    await Deno.copyFile(join(folder, f), join(tmp, f));
  }
  await Deno.writeFile(join(tmp, "weights.bin"), bytes!);
  await writeChecksums(tmp, ["model.json", "weights.bin", "optimizer.bin", STATE]);
  await replaceDir(tmp, folder);
}

/** Completed checkpoint epochs in `dir`, ascending (missing folder: empty). */
export async function listCheckpoints(dir: string): Promise<number[]> {
  const out: number[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      const m = /^epoch-(\d{4,})$/.exec(e.name);
      if (m && e.isDirectory) out.push(Number(m[1]));
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out.sort((a, b) => a - b);
}

/** A loaded checkpoint: its state, the model's named weights and the optimiser's. Dispose the tensors. */
export interface LoadedCheckpoint {
  path: string;
  state: CheckpointState;
  weights: tf.NamedTensorMap;
  optimizerWeights: NamedTensor[];
  /** model.json's contents (TensorFlow.js layers format). */
  modelJson: tf.io.ModelJSON;
}

/**
 * Reads the latest checkpoint in `dir`, or null when there is none.
 *
 * @throws {RangeError} naming the file when the checkpoint fails its checksums.
 * @throws {SyntaxError} when its state.json or model.json cannot be parsed.
 */
export async function loadLatestCheckpoint(dir: string): Promise<LoadedCheckpoint | null> {
  const epochs = await listCheckpoints(dir);
  const last = epochs.at(-1);
  if (last === undefined) return null;
  const path = join(dir, dirName(last));
  await checkIntegrity(path);
  let state: CheckpointState & { optimizerSpecs: tf.io.WeightsManifestEntry[] };
  let modelJson: tf.io.ModelJSON;
  try {
    state = JSON.parse(await Deno.readTextFile(join(path, STATE)));
    modelJson = JSON.parse(await Deno.readTextFile(join(path, "model.json")));
  } catch (e) {
    throw new SyntaxError(
      `Checkpoint ${path} has an unreadable state.json or model.json (${
        (e as Error).message
      }); delete the folder to restart from the previous one.`,
    );
  }
  const specs = modelJson.weightsManifest.flatMap((g) => g.weights);
  const weights = tf.io.decodeWeights(await readArrayBuffer(join(path, "weights.bin")), specs);
  const om = tf.io.decodeWeights(
    await readArrayBuffer(join(path, "optimizer.bin")),
    state.optimizerSpecs,
  );
  const optimizerWeights = state.optimizerSpecs.map((s) => ({ name: s.name, tensor: om[s.name]! }));
  const { optimizerSpecs: _, ...rest } = state;
  return { path, state: rest, weights, optimizerWeights, modelJson };
}

/**
 * Loads a checkpoint folder (or `model.json` path) as a standalone tfjs-layers model through a
 * file IO handler. Custom ViT layers are registered by importing lib/models. A model of our
 * families (named `<Family>_k<K>_s<SEED>` by `createModel`) gets its spec back, so `modelSpec()`
 * and what needs it (lib/torch's `exportSafetensors`) work on it.
 */
export async function loadCheckpointModel(path: string): Promise<tfl.LayersModel> {
  const model = await loadLayersFolder(path);
  const m = /^([A-Za-z]+)_k(\d+)_s(-?\d+)$/.exec(model.name);
  if (m && (FAMILIES as readonly string[]).includes(m[1]!)) {
    const d = modelDims(model);
    setModelSpec(model, {
      family: m[1] as Family,
      k: Number(m[2]),
      seed: Number(m[3]),
      shape: { channels: d.c, height: d.h, width: d.w },
      classes: d.classes,
    });
  }
  return model;
}

async function loadLayersFolder(path: string): Promise<tfl.LayersModel> {
  const folder = path.endsWith("model.json") ? path.slice(0, -"model.json".length) : path;
  await checkIntegrity(folder);
  const handler: tf.io.IOHandler = {
    load: async () => {
      const json = JSON.parse(
        await Deno.readTextFile(join(folder, "model.json")),
      ) as tf.io.ModelJSON;
      return {
        modelTopology: json.modelTopology,
        format: json.format,
        weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
        weightData: await readArrayBuffer(join(folder, "weights.bin")),
      };
    },
  };
  return await tfl.loadLayersModel(handler);
}
