/** GPU-test gating shared by the training tests (tf and train). */
import { hasWebGpuAdapter } from "../../lib/tf/mod.ts";
import { testNeeding } from "../_shared/requires.ts";

/** Whether this machine offers a WebGPU adapter. */
const HAS_ADAPTER: boolean = await hasWebGpuAdapter();

/**
 * Registers a test that needs a WebGPU adapter: skipped with the reason in its name without one,
 * except under CI=true, where it runs and fails.
 */
export function gpuTest(name: string, fn: () => Promise<void>): void {
  testNeeding(HAS_ADAPTER, "no WebGPU adapter (install mesa-vulkan-drivers)", {
    name,
    async fn() {
      if (!HAS_ADAPTER) {
        throw new Error("CI=true but no WebGPU adapter exists: install mesa-vulkan-drivers.");
      }
      await fn();
    },
  });
}
