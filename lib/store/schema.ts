/**
 * Types of every JSON file in the results store (schema version 1) and the checks applied when
 * they are read. `docs/store.md` describes the same layout in prose.
 *
 * @module
 */

/** The schema version this toolkit writes and reads. */
export const SCHEMA_VERSION = 1 as const;

/** The scalar whose input gradient is the salience (the same names as `lib/npy`'s sidecar). */
export type SalienceScalar =
  | "true-class-logit"
  | "predicted-class-logit"
  | "true-class-probability"
  | "loss";

/** Which images a sweep trains and probes on. */
export interface DatasetConfig {
  /** Loader name in `lib/data`: `fmnist-default`, `fmnist`, `synthetic`, `cifar10`, `cifar100`, `tinyimagenet`. */
  name: string;
  /** Folder holding the data set's files; `null` uses the loader's default location. */
  dir: string | null;
  /** The first N training images are used; `null` means all of them. */
  trainImages: number | null;
  /** The first N test images measure test loss and accuracy; `null` means all of them. */
  testImages: number | null;
  /** The first N test images form the probe set whose salience is written. */
  probeImages: number;
  /**
   * Per-channel normalisation: "computed" (the kept training split's mean and std, the default
   * when absent) or "cifar10-authors" (the constants the authors used for CIFAR-10 and CIFAR-100
   * alike: CIFAR-10's mean 0.4914, 0.4822, 0.4465 and std 0.247, 0.243, 0.261).
   */
  normalization?: "computed" | "cifar10-authors";
}

/** Optimiser and schedule; one run per entry of `batchSizes`. */
export interface TrainingConfig {
  epochs: number;
  /** Each batch size is its own run (the `batch-size` preset has four). */
  batchSizes: number[];
  /** SGD learning rate (no momentum, no weight decay). */
  lr: number;
  /**
   * `inverse-sqrt`: lr / sqrt(epoch + 1), epoch counted from 0 (the paper's); `constant`: lr;
   * `linear`: lr · (1 − t / T) at step t of the whole training's T = epochs × batches per epoch
   * steps (t from 0), so it decays step by step towards 0.
   */
  schedule: "inverse-sqrt" | "constant" | "linear";
  /**
   * Precise batch norm: after training, every batch-norm layer's running statistics are
   * recomputed with the final weights as the plain mean of the batch moments over this many
   * training batches (the first ones, in order, of the run's batch size), before the final test
   * evaluation, the logits and the salience. Optional so that configs written before it (and
   * their sweep and run ids) stay valid; absent or `null`: off.
   */
  preciseBN?: number | null;
  /** Population training: runs of one family, width and batch size (the seeds) train together
   * in the same dispatches. Absent or `true`: the planner's size per family; `false` (or 1):
   * each run alone; a number N: populations of at most N models. Not part of any id or hash:
   * the artifacts are the same either way, within f32 rounding. */
  population?: boolean | number;
}

/** An attribution method (`lib/salience`'s `SALIENCE_METHODS`). */
export type SalienceMethodName =
  | "gradient"
  | "gradient-x-input"
  | "smoothgrad"
  | "integrated-gradients";

/**
 * How salience is taken on the probe set. The keys after `pool` are optional so that configs
 * written before them (and their sweep and run ids) stay valid: absent means the default.
 */
export interface SalienceConfig {
  scalar: SalienceScalar;
  /** Area-pool each channel of the gradient to pool × pool; `null` keeps full resolution. */
  pool: number | null;
  /** Methods analysed side by side, each from the same trained models; absent: `["gradient"]`. */
  methods?: SalienceMethodName[];
  /** SmoothGrad: noisy copies, σ as a fraction of each image's value range, noise seed. */
  smoothGrad?: { samples: number; sigma: number; seed: number };
  /** Integrated Gradients: midpoint steps and baseline (`zero`: the all-zero normalised input,
   * i.e. the training mean; `black`: raw value 0 in every channel). */
  integratedGradients?: { steps: number; baseline: "zero" | "black" };
  /** 1-based epochs at which the gradient salience is also written (convergence over training);
   * absent or empty: none. */
  epochs?: number[];
}

/** Options handed to the analysis and the experiments at the end of a sweep. */
export interface ExperimentsConfig {
  /** Write the probe-set logits of every run (`logits.npy`), needed by the ensembles. */
  logits: boolean;
  /** Ensemble sizes to evaluate per width; `null` skips ensembles. */
  ensembles: { sizes: number[] } | null;
  /** FGSM black-box attack settings; `null` skips the attack. */
  attack: {
    epsilon: number;
    strategies: ("largest" | "same-width" | "mean-direction")[];
  } | null;
}

/**
 * Settings of the analysis at the end of a sweep. Optional (with every key in it) so that configs
 * written before it, and their sweep ids, stay valid: absent means the default.
 */
export interface AnalysisConfig {
  /**
   * Models whose test accuracy is below this are left out of every claim (and listed in the
   * analysis); `null` applies no floor; absent: `DEFAULT_MIN_TEST_ACCURACY` of `lib/analysis`.
   */
  minTestAccuracy?: number | null;
  /**
   * Gradients holding NaN or ±Inf: counted and left out ("exclude", the default when absent) or
   * an error that stops the analysis ("error").
   */
  nonFinite?: "exclude" | "error";
  /**
   * Analyse the salience at the other pooling too (8×8 when `salience.pool` is null, unpooled
   * when it is set) into `analysis/pooling/`, with `pooling.json` side by side; absent: true.
   */
  comparePooling?: boolean;
  /**
   * Also report t against μ including the model (the paper's μ from all seeds) beside the
   * leave-one-out t in `marginals.json`, with the bias of each; absent: false.
   */
  includingModelMean?: boolean;
}

/**
 * A model trained elsewhere that a sweep analyses instead of training one: a PyTorch
 * `torch.save(model.state_dict())` archive or `.safetensors` file (lib/torch/families.py's names),
 * or a checkpoint our own sweep wrote (a `checkpoint/epoch-NNNN` folder, or a run folder, whose
 * latest checkpoint is taken).
 */
export interface CheckpointEntry {
  family: string;
  k: number;
  seed: number;
  /** Path of the weights (relative paths in a `--config` file are relative to that file). */
  weights: string;
  /** SHA-256 (hex) of the weights' bytes, filled in when the config is resolved; part of the
   * run's identity instead of the path, so moving the files keeps the sweep and run ids. */
  sha256?: string;
}

/** A resolved sweep configuration: what `sweep.json` stores under `config`. */
export interface SweepConfig {
  /** Preset name (or the `name` of a `--config` file); the sweep id starts with it. */
  name: string;
  dataset: DatasetConfig;
  /** Model families, e.g. `CNNSmall`, `ResNetSmall` (names as in `lib/models`). */
  families: string[];
  /** Widths k, ascending. */
  widths: number[];
  /** Seeds per (family, width, batch size): seeds 0 … seeds − 1. */
  seeds: number;
  training: TrainingConfig;
  salience: SalienceConfig;
  experiments: ExperimentsConfig;
  /** Analysis settings; absent: every default. */
  analysis?: AnalysisConfig;
  /**
   * Existing checkpoints to analyse instead of training (absent: train every run of the plan).
   * With it, `families`, `widths` and `seeds` are derived from the list and nothing is trained.
   */
  checkpoints?: CheckpointEntry[];
  /** TensorFlow.js backend: `auto` takes WebGPU when it passes its self-check, else CPU. */
  backend: "auto" | "webgpu" | "cpu";
}

/** `sweep.json`: one per sweep folder. */
export interface SweepJson {
  schemaVersion: typeof SCHEMA_VERSION;
  kind: "sweep";
  sweepId: string;
  /** SHA-256 (hex) of the canonical JSON of `config`. */
  configHash: string;
  /** ISO 8601 time the sweep folder was first written. */
  created: string;
  toolkit: { name: string; version: string };
  config: SweepConfig;
}

/** One run of the plan: a (family, k, seed, batch size) under one config. */
export interface PlanEntry {
  /** Position in the plan's stable order; shard i of n owns the entries with index % n === i. */
  index: number;
  /** Folder name under `runs/`: `<family>-k<k>-s<seed>-<hash8>`. */
  runId: string;
  family: string;
  k: number;
  seed: number;
  batchSize: number;
  /** SHA-256 (hex) of the canonical JSON of everything that determines this run's artifacts. */
  configHash: string;
  /** The checkpoint this run analyses instead of training (a config's `checkpoints` entry). */
  weights?: { path: string; sha256: string };
}

/** `plan.json`: the full list of runs of a sweep, whatever shard wrote it. */
export interface PlanJson {
  schemaVersion: typeof SCHEMA_VERSION;
  kind: "plan";
  sweepId: string;
  configHash: string;
  runs: PlanEntry[];
  /** How shards divide the plan. */
  sharding: { rule: "round-robin"; description: string };
}

/** One epoch of training as recorded in `run.json`. */
export interface EpochRecord {
  /** 1-based epoch number. */
  epoch: number;
  /** Mean training loss over the epoch's batches. */
  trainLoss: number;
  testLoss: number;
  /** Fraction of test images classified correctly, in [0, 1]. */
  testAcc: number;
  /** Learning rate used in this epoch. */
  lr: number;
  /** Wall-clock seconds of the epoch (training plus evaluation). */
  seconds: number;
}

/** Which TensorFlow.js backend and adapter produced a run. */
export interface BackendInfo {
  /** TensorFlow.js backend name (`webgpu`, `cpu`). */
  tfjs: string;
  /** Adapter description, `null` without WebGPU. */
  adapter: string | null;
  /** Whether the adapter runs on the CPU (lavapipe, llvmpipe, or any fallback adapter). */
  software: boolean;
}

/** Reference to an `.npy` artifact of a run. */
export interface ArrayRef {
  /** File name inside the run folder. */
  file: string;
  /** Shape of the float32 C-order array. */
  shape: number[];
}

/** The fields a run's record copies from its {@linkcode PlanEntry}. */
export type PlannedRun = Pick<
  PlanEntry,
  "runId" | "family" | "k" | "seed" | "batchSize" | "configHash"
>;

/** `run.json`: everything about one trained model except its arrays, with its plan entry's fields. */
export interface RunJson extends PlannedRun {
  schemaVersion: typeof SCHEMA_VERSION;
  kind: "run";
  /** Trainable parameter count. */
  params: number;
  backend: BackendInfo;
  /** Input shape [C, H, W] and class count of the data the model was trained on. */
  input: { shape: [number, number, number]; classes: number };
  history: EpochRecord[];
  /** Test loss and accuracy of the model that gave the logits and salience (after precise batch
   * norm when the config asks for it; otherwise the last epoch's). */
  final: { testLoss: number; testAcc: number };
  /** Present when the config's `training.preciseBN` is set and the model has batch norm: the
   * batches and batch size used, and the test figures before recalibration. */
  preciseBN?: PreciseBnRecord;
  /** `salience.npy` [N, D]; its sidecar `salience.json` is written by `lib/npy`. */
  salience: ArrayRef & { sidecar: string };
  /** `logits.npy` [N, classes] of the probe set; `null` when not requested. */
  logits: ArrayRef | null;
  seconds: { train: number; salience: number };
  /** Set when the run analysed an existing checkpoint instead of training (`history` is empty,
   * `final` is the test split evaluated once). */
  weights?: { path: string; sha256: string; format: "torch" | "safetensors" | "checkpoint" };
  /** ISO 8601 times. */
  started: string;
  finished: string;
}

/** What precise batch norm did to a run (`run.json`'s `preciseBN`). */
export interface PreciseBnRecord {
  /** Training batches whose moments were averaged (fewer than asked when the split is short). */
  batches: number;
  batchSize: number;
  /** Test loss and accuracy with the running statistics training left (the last epoch's). */
  before: { testLoss: number; testAcc: number };
}

/** One artifact's checksum in `COMPLETE`. */
export interface FileChecksum {
  /** `/`-separated path relative to the run folder. */
  path: string;
  bytes: number;
  /** SHA-256, lowercase hex. */
  sha256: string;
}

/** `COMPLETE`: the completion marker of a run folder, written last. */
export interface CompleteJson {
  schemaVersion: typeof SCHEMA_VERSION;
  kind: "complete";
  runId: string;
  completed: string;
  files: FileChecksum[];
}

/** Status of a planned run in the store. */
export type RunStatus = "complete" | "partial" | "missing";

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "string" ? `'${v}'` : typeof v === "object" ? "an object" : String(v);
}

/**
 * Checks that a parsed JSON value is a store file of the given kind written with this schema
 * version, and returns it typed. Only the envelope and the fields readers rely on are checked.
 *
 * @throws {RangeError} when `schemaVersion` differs from {@link SCHEMA_VERSION}, saying which
 *   was expected and what to do.
 * @throws {TypeError} when the value is not an object, has another `kind`, or lacks a field.
 * @example
 * ```ts
 * import { checkStoreFile } from "./schema.ts";
 * let msg = "";
 * try { checkStoreFile({ schemaVersion: 2, kind: "run" }, "run.json", "run"); }
 * catch (e) { msg = (e as Error).message; }
 * if (!msg.includes("schemaVersion 1")) throw new Error(msg);
 * ```
 */
export function checkStoreFile<K extends keyof StoreFiles>(
  value: unknown,
  path: string,
  kind: K,
): StoreFiles[K] {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(
      `${path} holds ${describe(value)}; expected a JSON object of kind '${kind}'.`,
    );
  }
  const o = value as Record<string, unknown>;
  if (o.schemaVersion !== SCHEMA_VERSION) {
    throw new RangeError(
      `${path} has schemaVersion ${describe(o.schemaVersion)}, but this toolkit reads ` +
        `schemaVersion ${SCHEMA_VERSION}; open it with the toolkit version that wrote it, or ` +
        `rerun the sweep into a fresh folder (--out) to rewrite it.`,
    );
  }
  if (o.kind !== kind) {
    throw new TypeError(`${path} has kind ${describe(o.kind)}; expected '${kind}'.`);
  }
  for (const [field, type] of REQUIRED[kind]) {
    const v = o[field];
    const ok = type === "array" ? Array.isArray(v) : typeof v === type && v !== null;
    if (!ok) {
      throw new TypeError(
        `${path} field '${field}' is ${describe(v)}; expected ${
          type === "array" ? "an " : "a "
        }${type}.`,
      );
    }
  }
  return value as StoreFiles[K];
}

/** Map from `kind` to the file type, used by {@link checkStoreFile}. */
export interface StoreFiles {
  sweep: SweepJson;
  plan: PlanJson;
  run: RunJson;
  complete: CompleteJson;
}

const REQUIRED: { [K in keyof StoreFiles]: [string, "string" | "number" | "object" | "array"][] } =
  {
    sweep: [["sweepId", "string"], ["configHash", "string"], ["created", "string"], [
      "config",
      "object",
    ]],
    plan: [["sweepId", "string"], ["configHash", "string"], ["runs", "array"]],
    run: [
      ["runId", "string"],
      ["family", "string"],
      ["k", "number"],
      ["seed", "number"],
      ["params", "number"],
      ["history", "array"],
      ["final", "object"],
      ["salience", "object"],
    ],
    complete: [["runId", "string"], ["completed", "string"], ["files", "array"]],
  };
