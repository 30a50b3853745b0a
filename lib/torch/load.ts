// Building one of our models from a PyTorch checkpoint, and exporting one as .safetensors.
import type * as tfl from "@tensorflow/tfjs-layers";
import { createModel, type ModelSpec, modelSpec } from "../models/mod.ts";
import { loadStateDict, toStateDict } from "./mapping.ts";
import { readStateDict, writeSafetensors } from "./state_dict.ts";

/**
 * Builds `spec`'s family at its width and input shape and loads a PyTorch checkpoint into it: a
 * `torch.save(model.state_dict())` archive or a `.safetensors` file with lib/torch/families.py's
 * parameter names (batch-norm running statistics included). Cost: reads the file and builds
 * the model once.
 *
 * @throws {TypeError} naming the key for missing, unexpected or wrongly shaped tensors and
 *   unsupported dtypes; {SyntaxError} for a truncated or damaged file.
 */
export async function loadTorchModel(path: string, spec: ModelSpec): Promise<tfl.LayersModel> {
  const sd = await readStateDict(path);
  const model = createModel(spec);
  try {
    loadStateDict(model, sd, path);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

/**
 * Writes one of our models as `.safetensors` with PyTorch's parameter names and layouts
 * (lib/torch/families.py), so `model.load_state_dict(safetensors.torch.load_file(path))` — or
 * any reader of the format — continues from it. The family, k, seed and input shape go in the
 * file's metadata. The write is atomic. Cost: one read-back of every weight.
 *
 * @throws {TypeError} when the model is not one of our families.
 */
export async function exportSafetensors(model: tfl.LayersModel, path: string): Promise<void> {
  const spec = modelSpec(model);
  const sd = await toStateDict(model);
  await writeSafetensors(path, sd, {
    format: "pt",
    family: spec!.family,
    k: String(spec!.k),
    seed: String(spec!.seed),
    input: `${spec!.shape.channels}x${spec!.shape.height}x${spec!.shape.width}`,
    classes: String(spec!.classes),
  });
}
