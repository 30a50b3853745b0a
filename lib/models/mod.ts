/**
 * Model families of the study (CNNSmall, CNNLarge, ResNetSmall, ResNetLarge, MLP, ViT) at width
 * k, built as TensorFlow.js layers models with seeded, PyTorch-like initialisation. Inputs are
 * NHWC, outputs are logits.
 *
 * ```ts
 * import { countParams, createModel } from "./mod.ts";
 * const m = createModel({ family: "ResNetSmall", k: 10, seed: 1, shape: { channels: 3, height: 32, width: 32 }, classes: 10 });
 * console.log(countParams(m)); // 124420
 * m.dispose();
 * ```
 *
 * @module
 */
export {
  BATCH_NORM,
  countParams,
  createModel,
  FAMILIES,
  modelDims,
  modelSpec,
  setModelSpec,
} from "./families.ts";
export type { Family, InputShape, ModelSpec } from "./families.ts";
export { ClassTokenPosition, ClassTokenSelect, MultiHeadSelfAttention } from "./_vit_layers.ts";
