/**
 * TensorFlow.js backend selection. {@link initTf} picks tfjs-backend-webgpu only after a
 * conformance self-check against the CPU backend on the ops training uses (conv2d forward,
 * conv2d filter and input gradients, matMul, batch norm, max pool, reductions) at the sizes the
 * run will use. On Mesa's software adapters every shader invocation stops after 65,535 loop
 * iterations, so tfjs's conv filter gradient is wrong once batch × H × W exceeds that. There (and
 * wherever tfjs's kernels fail the check) our own loop-bounded convolution kernels are
 * registered — register-tiled forward, input-gradient and filter-gradient convolutions (fed from
 * textures where they can be, since software adapters fetch texels far faster than they load
 * storage buffers; {@link textureConvDispatches} counts them), per-channel reductions and
 * broadcasts, a fused training-mode batch norm, faster than tfjs's on software adapters — and
 * checked in turn; if nothing passes at the requested batch,
 * the largest passing batch is reported, and if none passes the CPU backend is used. The report
 * says which.
 *
 * ```ts
 * import { initTf } from "./mod.ts";
 * const report = await initTf({ backend: "cpu" });
 * console.log(report.backend); // "cpu"
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { usePrivateRuntimeDir } from "../../kernels/gpu/runtime_dir.ts";
import "@tensorflow/tfjs-layers"; // registers gradients
import "@tensorflow/tfjs-backend-cpu";
import { checkConformance, CONFORMANCE_TOLERANCE } from "./_conformance.ts";
import type { ConformanceSizes, OpCheck } from "./_conformance.ts";
import { filterGradChunk, installBoundedKernels, uninstallBoundedKernels } from "./_bounded.ts";
import { groupedConv2d, type GroupedPad, hasGroupedConv } from "./_grouped.ts";
import { ADD_RELU_KERNELS, addRelu, globalMaxPool } from "./_add_relu.ts";
import { textureConvDispatches } from "./_tiled_conv.ts";
import { rawPipelinesCompiled } from "./_texture_conv.ts";
import {
  BATCH_NORM_KERNELS,
  batchNormTraining,
  batchNormTrainingReference,
  registerBatchNormKernels,
  ROWS_PER_ELEMENTWISE,
  ROWS_PER_INVOCATION,
} from "./_batch_norm.ts";
import type { BatchNormOptions, BatchNormReference, BatchNormResult } from "./_batch_norm.ts";
import { isSoftwareAdapter, LOOP_CAP } from "../../kernels/gpu/mod.ts";

export {
  ADD_RELU_KERNELS,
  addRelu,
  BATCH_NORM_KERNELS,
  batchNormTraining,
  batchNormTrainingReference,
  checkConformance,
  CONFORMANCE_TOLERANCE,
  filterGradChunk,
  globalMaxPool,
  groupedConv2d,
  type GroupedPad,
  hasGroupedConv,
  installBoundedKernels,
  LOOP_CAP,
  rawPipelinesCompiled,
  registerBatchNormKernels,
  ROWS_PER_ELEMENTWISE as BATCH_NORM_ROWS_PER_ELEMENTWISE,
  ROWS_PER_INVOCATION as BATCH_NORM_ROWS_PER_INVOCATION,
  textureConvDispatches,
  uninstallBoundedKernels,
};
export type { BatchNormOptions, BatchNormReference, BatchNormResult, ConformanceSizes, OpCheck };

/** Options of {@link initTf}. */
export interface InitTfOptions {
  /** "auto" tries WebGPU and falls back to CPU; "webgpu" throws if no adapter exists. Default "auto". */
  backend?: "auto" | "webgpu" | "cpu";
  /** A device to share with other WebGPU code (our kernels); default: tfjs requests its own. */
  device?: GPUDevice;
  /** Sizes the run will use; default batch 128 at 32×32×3. */
  sizes?: ConformanceSizes;
  /**
   * Our loop-bounded convolution kernels (see {@link installBoundedKernels}): "auto" (default)
   * installs them on software adapters (faster there) and wherever tfjs's kernels fail the
   * check; "always"; "never". They are used only if they pass the check themselves.
   */
  ownKernels?: "auto" | "always" | "never";
}

/** What {@link initTf} chose and why. */
export interface TfReport {
  backend: "webgpu" | "cpu";
  /** Adapter description, null without an adapter. */
  adapter: string | null;
  /** True for software adapters (Mesa llvmpipe/lavapipe, SwiftShader, fallback adapters). */
  software: boolean;
  /** Per-op check of the chosen backend at the requested sizes (empty for CPU). */
  checks: OpCheck[];
  /** Per-op check of the unmodified WebGPU backend, when one was checked. */
  rawChecks: OpCheck[];
  /** Kernels replaced by loop-bounded versions. */
  boundedKernels: string[];
  /** Largest batch whose checks pass when the requested one fails; null when the requested batch passes. */
  maxBatch: number | null;
  /** One sentence saying what was chosen and why. */
  note: string;
}

let webgpuRegistered = false;

async function probeAdapter(
  device?: GPUDevice,
): Promise<{ desc: string; software: boolean } | null> {
  const gpu = (globalThis.navigator as Navigator & { gpu?: GPU }).gpu;
  if (device) {
    const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
    const desc = info?.description || info?.device || "shared device";
    return {
      desc,
      software: isSoftwareAdapter({
        description: desc,
        isFallbackAdapter: (info as { isFallbackAdapter?: boolean })?.isFallbackAdapter,
      }),
    };
  }
  if (!gpu) return null;
  usePrivateRuntimeDir();
  const adapter = await gpu.requestAdapter();
  if (!adapter) return null;
  const info = adapter.info;
  const desc = info.description || `${info.vendor} ${info.device}`.trim() || "unnamed adapter";
  const fallback = (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter ??
    (info as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false;
  return {
    desc,
    software: isSoftwareAdapter({
      description: desc,
      vendor: info.vendor,
      device: info.device,
      isFallbackAdapter: fallback,
    }),
  };
}

const allPass = (c: OpCheck[]) => c.every((x) => x.pass);
const failing = (c: OpCheck[]) =>
  c.filter((x) => !x.pass).map((x) => `${x.op} (error ${x.maxError.toExponential(2)} at ${x.size})`)
    .join(", ");

/**
 * Chooses and activates the TensorFlow.js backend for a run, after checking WebGPU against the
 * CPU backend at the run's sizes (relative tolerance {@link CONFORMANCE_TOLERANCE}).
 *
 * Cost: with WebGPU, each op of the check once on both backends (seconds on a software adapter).
 *
 * @throws {Error} when `backend: "webgpu"` is requested and no adapter exists or no batch passes.
 * @example
 * ```ts
 * import { initTf } from "./mod.ts";
 * const r = await initTf({ backend: "cpu" });
 * if (r.backend !== "cpu") throw new Error("expected cpu");
 * ```
 */
export async function initTf(options: InitTfOptions = {}): Promise<TfReport> {
  const want = options.backend ?? "auto";
  tf.env().set("PROD", true); // silences the "running in Node" banner of the CPU backend
  const sizes: ConformanceSizes = options.sizes ??
    { batch: 128, height: 32, width: 32, channels: 3 };
  const cpuReport = (
    adapter: string | null,
    software: boolean,
    note: string,
    raw: OpCheck[] = [],
  ): TfReport => ({
    backend: "cpu",
    adapter,
    software,
    checks: [],
    rawChecks: raw,
    boundedKernels: [],
    maxBatch: null,
    note,
  });
  if (want === "cpu") {
    await tf.setBackend("cpu");
    return cpuReport(null, false, "CPU backend requested.");
  }
  const probe = await probeAdapter(options.device);
  if (!probe) {
    if (want === "webgpu") {
      throw new Error(
        'No WebGPU adapter exists (navigator.gpu.requestAdapter() gave none); install a driver (e.g. mesa-vulkan-drivers) or pass backend: "cpu".',
      );
    }
    await tf.setBackend("cpu");
    return cpuReport(null, false, "No WebGPU adapter: using the CPU backend.");
  }
  // Imported here, not at the top, so that no code runs on an unchecked WebGPU backend by default.
  const { WebGPUBackend } = await import("@tensorflow/tfjs-backend-webgpu");
  if (options.device && !webgpuRegistered) {
    const device = options.device;
    tf.removeBackend("webgpu");
    tf.registerBackend("webgpu", () => new WebGPUBackend(device), 3);
    webgpuRegistered = true;
  }
  uninstallBoundedKernels("webgpu");
  const rawChecks = await checkConformance("webgpu", sizes);
  let checks = rawChecks;
  let bounded: string[] = [];
  const own = options.ownKernels ?? "auto";
  if (own === "always" || (own === "auto" && (probe.software || !allPass(rawChecks)))) {
    bounded = installBoundedKernels("webgpu");
    checks = await checkConformance("webgpu", sizes);
    if (!allPass(checks)) {
      // Ours failed: keep tfjs's kernels and let the checks below decide.
      uninstallBoundedKernels("webgpu");
      bounded = [];
      checks = rawChecks;
    }
  }
  if (allPass(checks)) {
    await tf.setBackend("webgpu");
    const how = bounded.length
      ? ` with our ${bounded.join(", ")} kernels${
        allPass(rawChecks) ? "" : ` (tfjs's own fail: ${failing(rawChecks)})`
      }`
      : "";
    return {
      backend: "webgpu",
      adapter: probe.desc,
      software: probe.software,
      checks,
      rawChecks,
      boundedKernels: bounded,
      maxBatch: null,
      note: `WebGPU on ${probe.desc}${
        probe.software ? " (software adapter)" : ""
      } passed the conformance check at batch ${sizes.batch}${how}.`,
    };
  }
  for (let b = Math.floor(sizes.batch / 2); b >= 1; b = Math.floor(b / 2)) {
    const c = await checkConformance("webgpu", { ...sizes, batch: b });
    if (allPass(c)) {
      await tf.setBackend("webgpu");
      return {
        backend: "webgpu",
        adapter: probe.desc,
        software: probe.software,
        checks: c,
        rawChecks,
        boundedKernels: bounded,
        maxBatch: b,
        note: `WebGPU on ${probe.desc} fails ${
          failing(checks)
        } at batch ${sizes.batch}; batch ${b} passes, so the run must use batch ≤ ${b}.`,
      };
    }
  }
  if (want === "webgpu") {
    throw new Error(
      `WebGPU on ${probe.desc} fails the conformance check at every batch: ${
        failing(checks)
      }; use backend: "cpu".`,
    );
  }
  uninstallBoundedKernels("webgpu");
  await tf.setBackend("cpu");
  return cpuReport(
    probe.desc,
    probe.software,
    `WebGPU on ${probe.desc} fails ${failing(checks)}: using the CPU backend.`,
    rawChecks,
  );
}

/**
 * Whether a WebGPU adapter exists here (tests use it to skip, or fail under CI=true).
 *
 * @example
 * ```ts
 * import { hasWebGpuAdapter } from "./mod.ts";
 * console.log(typeof (await hasWebGpuAdapter())); // "boolean"
 * ```
 */
export async function hasWebGpuAdapter(): Promise<boolean> {
  return (await probeAdapter()) !== null;
}
