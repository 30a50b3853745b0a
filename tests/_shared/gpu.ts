/** WebGPU gating shared by every suite: one adapter probe, one gpuTest. */
import { usePrivateRuntimeDir } from "../../kernels/gpu/runtime_dir.ts";
import { testNeeding } from "./requires.ts";

const probe = await (async () => {
  try {
    usePrivateRuntimeDir(); // as requestGpu() does: no driver noise before the first adapter
    return (await navigator.gpu?.requestAdapter()) ?? null;
  } catch {
    return null;
  }
})();

/** True when this machine has a WebGPU adapter. */
export const hasAdapter: boolean = probe !== null;

/** Why a WebGPU test is skipped here. */
export const NO_ADAPTER_REASON =
  "no WebGPU adapter on this machine (install mesa-vulkan-drivers for lavapipe)";

/**
 * Registers a test that needs a WebGPU adapter: skipped with the reason in its name without one,
 * except under CI=true, where it runs and fails.
 */
export function gpuTest(name: string, fn: () => Promise<void>): void {
  testNeeding(hasAdapter, NO_ADAPTER_REASON, {
    name,
    fn: async () => {
      if (!hasAdapter) {
        throw new Error("CI=true and this test needs a WebGPU adapter: none found.");
      }
      await fn();
    },
  });
}
