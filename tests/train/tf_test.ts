import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import {
  checkConformance,
  filterGradChunk,
  hasWebGpuAdapter,
  initTf,
  installBoundedKernels,
  uninstallBoundedKernels,
} from "../../lib/tf/mod.ts";

const HAS_ADAPTER = await hasWebGpuAdapter();
const CI = Deno.env.get("CI") === "true";
const gpuTest = (name: string, fn: () => Promise<void>) =>
  Deno.test({
    name,
    ignore: !HAS_ADAPTER && !CI,
    async fn() {
      if (!HAS_ADAPTER) {
        throw new Error("CI=true but no WebGPU adapter exists: install mesa-vulkan-drivers.");
      }
      await fn();
    },
  });

Deno.test("initTf() with backend cpu activates the CPU backend and checks nothing", async () => {
  const r = await initTf({ backend: "cpu" });
  assertEquals([r.backend, tf.getBackend(), r.checks.length], ["cpu", "cpu", 0]);
});

Deno.test("filterGradChunk() keeps chunk·(oH+2)·(oW+2) under the loop cap", () => {
  assertEquals(filterGradChunk(28, 28), 72);
  assertEquals(filterGradChunk(32, 32), 56);
  for (const h of [1, 7, 14, 28, 32, 64]) {
    ok(filterGradChunk(h, h) * (h + 2) * (h + 2) <= 65535 || filterGradChunk(h, h) === 1);
  }
});

gpuTest("initTf() reports the adapter and per-op errors at the run's sizes", async () => {
  const r = await initTf({
    backend: "auto",
    sizes: { batch: 16, height: 28, width: 28, channels: 1 },
  });
  assertEquals(r.backend, "webgpu");
  ok(r.adapter);
  assertEquals(r.checks.map((c) => c.op), [
    "conv2d",
    "fusedConv2d",
    "conv2dFilterGrad",
    "conv2dInputGrad",
    "matMul",
    "batchNorm",
    "maxPool",
    "reductions",
  ]);
  ok(r.checks.every((c) => c.pass && c.maxError < 1e-3));
  if (r.software) ok(r.boundedKernels.includes("Conv2DBackpropFilter"), r.note);
  await tf.setBackend("cpu");
});

gpuTest(
  "checkConformance() names the failing filter gradient at batch 128 on software adapters, and bounded kernels fix it",
  async () => {
    const r = await initTf({
      backend: "auto",
      sizes: { batch: 16, height: 28, width: 28, channels: 1 },
    });
    const sizes = { batch: 128, height: 28, width: 28, channels: 1 };
    uninstallBoundedKernels("webgpu");
    const raw = await checkConformance("webgpu", sizes);
    if (r.software) {
      const bad = raw.filter((c) => !c.pass).map((c) => c.op);
      assertEquals(bad, ["conv2dFilterGrad"]); // Mesa's 65,535-iteration cap: 128·28·28 = 100,352
    }
    for (const mode of ["tiled", "chunked"] as const) {
      installBoundedKernels("webgpu", { mode });
      const fixed = await checkConformance("webgpu", sizes);
      uninstallBoundedKernels("webgpu");
      assertEquals(fixed.filter((c) => !c.pass), [], mode);
    }
    await tf.setBackend("cpu");
  },
);
