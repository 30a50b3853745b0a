/**
 * The PyTorch bridge: read `torch.save` state-dict archives (PyTorch ≥ 1.6) and `.safetensors`
 * files into any of our six families (parameter names of lib/torch/families.py, batch-norm
 * running statistics, OIHW → HWIO, [out, in] → [in, out], NCHW → NHWC flatten order), and write
 * our models back as `.safetensors` with PyTorch's names. The unpickler reads only what a state
 * dict holds and refuses everything else; nothing in a checkpoint is executed.
 *
 * ```ts
 * import { createModel } from "../models/mod.ts";
 * import { initTf } from "../tf/mod.ts";
 * import { exportSafetensors, loadTorchModel } from "./mod.ts";
 * await initTf({ backend: "cpu" });
 * const spec = { family: "MLP", k: 1, seed: 0, shape: { channels: 1, height: 2, width: 2 }, classes: 2 } as const;
 * const m = createModel(spec);
 * const path = (await Deno.makeTempDir()) + "/mlp.safetensors";
 * await exportSafetensors(m, path);
 * const back = await loadTorchModel(path, spec);
 * console.log(back.countParams()); // 386
 * m.dispose();
 * back.dispose();
 * ```
 *
 * @module
 */
export {
  encodeSafetensors,
  parseSafetensors,
  parseTorchArchive,
  readStateDict,
  writeSafetensors,
} from "./state_dict.ts";
export type { StateDict, StateTensor, TorchDtype } from "./state_dict.ts";
export { convertLayout, loadStateDict, torchParams, toStateDict } from "./mapping.ts";
export type { Layout, TorchParam } from "./mapping.ts";
export { exportSafetensors, loadTorchModel } from "./load.ts";
export { findPython, PYTHON_CANDIDATES } from "./python.ts";
