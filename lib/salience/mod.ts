/**
 * Salience: per-sample input gradients, with respect to the normalised input, of the true-class
 * logit (default), the predicted-class logit, the true-class softmax probability or the loss,
 * in inference mode; the attribution methods built on them (Gradient × Input, SmoothGrad,
 * Integrated Gradients with its completeness error); logits; ensembles (average of members'
 * logits); and streaming of a probe set's gradients to a float32 `.npy` [N, C·H·W] with its
 * JSON sidecar.
 *
 * ```ts
 * import { createModel } from "../models/mod.ts";
 * import { initTf } from "../tf/mod.ts";
 * import { inputGradients } from "./mod.ts";
 * await initTf({ backend: "cpu" });
 * const m = createModel({ family: "MLP", k: 1, seed: 0, shape: { channels: 1, height: 2, width: 2 }, classes: 2 });
 * const g = await inputGradients(m, { images: new Float32Array(4), labels: new Int32Array([1]) });
 * console.log(g.length); // 4
 * m.dispose();
 * ```
 *
 * @module
 */
export {
  ensembleInputGradients,
  ensembleLogits,
  GRADIENT_BATCH,
  inputGradients,
  populationInputGradients,
  populationLogits,
  predictLogits,
  SALIENCE_SCALARS,
  writeSalience,
} from "./salience.ts";
export { attribute, populationAttribute, SALIENCE_METHODS, smoothGradNoise } from "./methods.ts";
export type {
  Attribution,
  AttributionOptions,
  Completeness,
  IntegratedGradientsSettings,
  SalienceMethod,
  SalienceMethodName,
  SmoothGradSettings,
} from "./methods.ts";
export type {
  GradientOptions,
  LabelledImages,
  PopulationLabelledImages,
  SalienceScalar,
  WriteSalienceOptions,
} from "./salience.ts";
