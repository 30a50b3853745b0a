/**
 * Training with the paper's recipe (plain SGD, lr 0.1/√(epoch+1), batch 128, softmax
 * cross-entropy on logits), seeded data order, per-epoch test metrics, and checkpoints in the
 * TensorFlow.js layers format that make an interrupted run resume exactly.
 *
 * ```ts
 * import { createModel } from "../models/mod.ts";
 * import { initTf } from "../tf/mod.ts";
 * import { train } from "./mod.ts";
 * await initTf({ backend: "cpu" });
 * const m = createModel({ family: "MLP", k: 1, seed: 0, shape: { channels: 1, height: 2, width: 2 }, classes: 2 });
 * const r = await train(m, { images: new Float32Array(8), labels: new Int32Array([0, 1]), count: 2 }, { batchSize: 2 });
 * console.log(r.history[0]!.trainLoss);
 * m.dispose();
 * ```
 *
 * @module
 */
export {
  createOptimizer,
  defaultBatchSize,
  evaluate,
  gatherSamples,
  learningRateAt,
  resumeCheckpoint,
  train,
  trainStep,
} from "./train.ts";
export type {
  OptimizerKind,
  ResumePoint,
  Schedule,
  Split,
  TrainOptions,
  TrainProgress,
  TrainResult,
} from "./train.ts";
export {
  listCheckpoints,
  loadCheckpointModel,
  loadLatestCheckpoint,
  replaceCheckpointWeights,
  saveCheckpoint,
} from "./checkpoint.ts";
export {
  canTrainTogether,
  evaluatePopulation,
  paddedBatches,
  populationStep,
  STACKED_BATCH,
  trainPopulation,
} from "./population.ts";
export type { PopulationMember, PopulationOptions } from "./population.ts";
export { stackedConv2d, StackedModel } from "./_stacked.ts";
export { populationPreciseBatchNorm, preciseBatchNorm } from "./precise_bn.ts";
export type { PreciseBnOptions } from "./precise_bn.ts";
export type { CheckpointState, EpochRecord, LoadedCheckpoint } from "./checkpoint.ts";
