/**
 * The device layer: {@linkcode requestGpu} acquires the WebGPU device (or settles on the CPU
 * reference kernels), and the dispatch helpers every kernel shares.
 *
 * @module
 */
export {
  type AdapterFacts,
  deviceLimit,
  Gpu,
  isSoftwareAdapter,
  LOOP_CAP,
  requestGpu,
  type RequestGpuOptions,
} from "./gpu.ts";
export {
  assertLoopBound,
  BufferSet,
  fillShader,
  grid2d,
  loadShader,
  packSamples,
  runUnit,
  TEX_SHIFT,
  TEX_WIDTH,
} from "./dispatch.ts";
export { checkCount } from "./checks.ts";
export { type FlatFormat, KeptPool } from "./kept.ts";
export {
  type Dispatch,
  type Program,
  programPipeline,
  programSource,
  runPrograms,
  type WgslSource,
} from "./program.ts";
