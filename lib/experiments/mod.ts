/**
 * Experiments that need trained models, written as functions of plain callbacks and arrays so
 * they run on TensorFlow.js models in the sweep and on tiny closed-form models in tests:
 * the black-box FGSM transfer attack (α(k1, k2) and three strategies per target width) and deep
 * ensembles against the mean direction. Both return the analysis files (`attacks.json`,
 * `ensembles.json`) with their claims; hand them to `analyzeSweep(dir, { attacks, ensembles })`.
 *
 * ```ts
 * import { fgsm } from "./mod.ts";
 * const x = fgsm(Float32Array.of(0.5), Float32Array.of(2), { epsilon: 0.1, clip: [0, 1] });
 * if (Math.abs(x[0]! - 0.4) > 1e-6) throw new Error("wrong step");
 * ```
 *
 * @module
 */
export {
  alphaMatrices,
  type AttackModel,
  type AttackProbe,
  type AttackStudy,
  attackStudy,
  type AttackStudyOptions,
  type CleanPredictions,
  type ClipRange,
  fgsm,
  meanDirectionAttackClaim,
  meanUnitDirection,
  populationFor,
  type StrategyCell,
  strategyCells,
  strategyRows,
  summariseAlpha,
  type TargetRatios,
  trueClassProbability,
} from "./attack.ts";
export {
  curvePoints,
  ENSEMBLE_GAIN_THRESHOLD,
  ensembleClaims,
  type EnsembleCurve,
  ensembleLoss,
  type EnsembleMember,
  type EnsemblePlan,
  ensemblePlans,
  type EnsembleProbe,
  ensembleStudy,
  type EnsembleStudyOptions,
  pairwiseCosine,
  predictedEnsembleT,
  singleModelPoints,
} from "./ensemble.ts";
export {
  attackModelOf,
  clipRangeOf,
  type ModelExperimentsOptions,
  type ProbeData,
  runModelExperiments,
  runSweepExperiments,
  type TrainedModel,
} from "./models.ts";
