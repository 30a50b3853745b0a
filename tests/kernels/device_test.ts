import {
  cosineToMean,
  type Gpu,
  groupMeans,
  LOOP_CAP,
  normalizeRows,
  PairwiseSimilarity,
  reference,
  requestGpu,
} from "../../kernels/mod.ts";
import { assertLoopBound, loadShader } from "../../kernels/gpu/mod.ts";
import { normalizeLoopBound } from "../../kernels/normalize_rows/mod.ts";
import { cosineLoopBound, gramLoopBound } from "../../kernels/pairwise_similarity/mod.ts";
import { groupLoopBound } from "../../kernels/group_means/mod.ts";
import { cosineToMeanLoopBound } from "../../kernels/cosine_to_mean/mod.ts";
import { assertClose, gpuTest, maxDiff, randomGrads, randomUnits } from "./_helpers.ts";
import { assertRejects, assertThrows } from "../_shared/assert.ts";

Deno.test("requestGpu() with forceCpu runs the reference kernels and says so", async () => {
  const gpu = await requestGpu({ forceCpu: true });
  if (gpu.backend !== "cpu" || gpu.device !== null) throw new Error("expected the CPU path");
  if (!/reference kernels/.test(gpu.describe())) throw new Error(`describe(): ${gpu.describe()}`);
  const r = await normalizeRows(gpu, new Float32Array([3, 4]), { models: 1, dim: 2 });
  assertClose(maxDiff(r.units, [0.6, 0.8]), 1e-7, "CPU path result");
});

gpuTest("requestGpu() names the adapter and flags software adapters", async () => {
  const gpu = await requestGpu();
  try {
    const adapter = (await navigator.gpu.requestAdapter())!;
    const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
    const software = Boolean(info.isFallbackAdapter) ||
      /llvmpipe|lavapipe|swiftshader/i.test(info.description);
    if (gpu.backend !== "webgpu" || !gpu.describe().includes(gpu.adapterName)) {
      throw new Error(`describe(): ${gpu.describe()}`);
    }
    if (gpu.isSoftware !== software) {
      throw new Error(`isSoftware ${gpu.isSoftware}, expected ${software}`);
    }
    if (software && !/software adapter/.test(gpu.describe())) {
      throw new Error("software not flagged");
    }
    const limits = gpu.device!.limits;
    if (limits.maxStorageBufferBindingSize !== adapter.limits.maxStorageBufferBindingSize) {
      throw new Error("the device must carry the adapter's storage binding limit");
    }
  } finally {
    gpu.destroy();
  }
});

gpuTest("requestGpu() uses a caller-provided device and leaves it alive on destroy()", async () => {
  const adapter = (await navigator.gpu.requestAdapter())!;
  const device = await adapter.requestDevice();
  const gpu = await requestGpu({ device, adapterName: "shared" });
  if (gpu.device !== device) throw new Error("the given device must be used");
  const grads = randomGrads(1, 2 * 3 * 5);
  await normalizeRows(gpu, grads, { models: 2, dim: 5 });
  gpu.destroy();
  const again = await requestGpu({ device });
  // without a name, the device's adapterInfo (where the runtime has it) names the adapter
  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  if (info && !again.adapterName.includes(info.description)) {
    throw new Error(`adapterName ${again.adapterName} lacks ${info.description}`);
  }
  const r = await normalizeRows(again, grads, { models: 2, dim: 5 });
  assertClose(
    maxDiff(r.units, reference.normalizeRows(grads, { models: 2, dim: 5 }).units),
    1e-6,
    "after",
  );
  device.destroy();
});

/** Makes `gpu`'s device destroy itself right after its `n`-th queue submission. */
function destroyAfterSubmit(gpu: Gpu, n: number): void {
  const device = gpu.device!;
  const submit = device.queue.submit.bind(device.queue);
  let count = 0;
  device.queue.submit = (buffers: Iterable<GPUCommandBuffer>) => {
    submit(buffers);
    if (++count === n) device.destroy();
  };
}

gpuTest(
  "PairwiseSimilarity redoes a batch whose device is lost mid-reduction (no partial sums)",
  async () => {
    const M = 12, N = 9, D = 64;
    const { units, zero } = randomUnits(99, M, N, D, [4]);
    const want = reference.pairwiseSimilarity(units, zero, { models: M, dim: D });
    // Small bindings: every batch takes several submissions, so losing the device after the
    // second one leaves the batch half done; the sums must still equal the reference.
    const gpu = await requestGpu({ maxBindingBytes: 4 * M * D * 2 });
    try {
      const acc = new PairwiseSimilarity(gpu, { models: M, dim: D });
      const half = (x0: number, x1: number) => {
        const n = x1 - x0, u = new Float32Array(M * n * D), z = new Uint8Array(M * n);
        for (let m = 0; m < M; m++) {
          u.set(units.subarray((m * N + x0) * D, (m * N + x1) * D), m * n * D);
          z.set(zero.subarray(m * N + x0, m * N + x1), m * n);
        }
        return [u, z] as const;
      };
      await acc.add(...half(0, 4));
      const first = gpu.device!;
      destroyAfterSubmit(gpu, 2);
      await acc.add(...half(4, 9));
      const r = acc.result();
      if (gpu.recoveries < 1 || gpu.device === first) {
        throw new Error(
          "the lost device was not replaced",
        );
      }
      if (!/device lost/.test(gpu.describe())) throw new Error(`describe(): ${gpu.describe()}`);
      assertClose(maxDiff(r.sum, want.sum), 1e-5 * N, "sums after the loss");
      if (maxDiff(r.count, want.count) !== 0 || r.samples !== N) {
        throw new Error(
          "counts after the loss",
        );
      }
      // the replacement device keeps working
      destroyAfterSubmit(gpu, 1);
      const again = await normalizeRows(gpu, randomGrads(5, 40), { models: 2, dim: 4 });
      if (again.units.length !== 40) throw new Error("normalizeRows after a second loss");
    } finally {
      gpu.destroy();
    }
  },
);

gpuTest(
  "PairwiseSimilarity falls back to the CPU reference when a lost device cannot be replaced",
  async () => {
    const M = 4, N = 6, D = 20;
    const { units, zero } = randomUnits(17, M, N, D);
    const gpu = await requestGpu();
    const original = navigator.gpu.requestAdapter;
    try {
      Object.defineProperty(navigator.gpu, "requestAdapter", {
        value: () => Promise.resolve(null),
        configurable: true,
      });
      gpu.device!.destroy();
      const acc = new PairwiseSimilarity(gpu, { models: M, dim: D });
      await acc.add(units, zero);
      if (gpu.backend !== "cpu" || !/no replacement/.test(gpu.describe())) {
        throw new Error(`expected the CPU path, got ${gpu.describe()}`);
      }
      const want = reference.pairwiseSimilarity(units, zero, { models: M, dim: D });
      assertClose(maxDiff(acc.result().sum, want.sum), 1e-12, "CPU fallback sums");
    } finally {
      Object.defineProperty(navigator.gpu, "requestAdapter", {
        value: original,
        configurable: true,
      });
      gpu.destroy();
    }
  },
);

gpuTest("PairwiseSimilarity dispatches more than 65,535 workgroups on a 2-D grid", async () => {
  // one workgroup per (pair, sample): 66,000 samples of one pair exceed one grid dimension
  const gpu = await requestGpu();
  try {
    const N = 66_000, D = 2;
    const { units, zero } = randomUnits(3, 2, N, D, [5]);
    const acc = new PairwiseSimilarity(gpu, { models: 2, dim: D, cosines: true });
    await acc.add(units, zero);
    const got = acc.result();
    const want = reference.pairwiseSimilarity(units, zero, { models: 2, dim: D, cosines: true });
    assertClose(maxDiff(got.cosines!.values, want.cosines!.values), 1e-6, "66,000 cosines");
  } finally {
    gpu.destroy();
  }
});

gpuTest("LOOP_CAP is below the iterations this adapter runs in one invocation", async () => {
  // A single loop of 100,000 iterations: Mesa's software adapters stop it at 65,535.
  const gpu = await requestGpu();
  try {
    const device = gpu.device!;
    const module = device.createShaderModule({
      code: `@group(0) @binding(0) var<storage, read_write> out: array<u32>;
        @compute @workgroup_size(1) fn main() {
          var n = 0u;
          for (var i = 0u; i < 100000u; i++) { n += 1u; }
          out[0] = n;
        }`,
    });
    const pipeline = device.createComputePipeline({
      label: "loop-cap probe",
      layout: "auto",
      compute: { module, entryPoint: "main" },
    });
    const buf = device.createBuffer({
      size: 16,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
    });
    const read = device.createBuffer({
      size: 16,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(
      0,
      device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: [{ binding: 0, resource: { buffer: buf } }],
      }),
    );
    pass.dispatchWorkgroups(1);
    pass.end();
    enc.copyBufferToBuffer(buf, 0, read, 0, 16);
    device.queue.submit([enc.finish()]);
    await read.mapAsync(GPUMapMode.READ);
    const n = new Uint32Array(read.getMappedRange())[0]!;
    read.unmap();
    buf.destroy();
    read.destroy();
    if (n < LOOP_CAP) throw new Error(`this adapter stops an invocation after ${n} iterations`);
    console.log(`loop-cap probe on ${gpu.describe()}: 100,000 iterations ran ${n}`);
  } finally {
    gpu.destroy();
  }
});

Deno.test("every kernel's per-invocation loop bound stays under LOOP_CAP at D = 70,000", () => {
  const bounds = {
    gram: gramLoopBound(56_000),
    gramRegisters: gramLoopBound(200_000, "registers"),
    pairCosines: cosineLoopBound(70_000),
    normalize: normalizeLoopBound(70_000),
    normalizePooled: normalizeLoopBound(3 * 64, { channels: 3, height: 32, width: 32, size: 8 }),
    groupMeans: groupLoopBound(257, 70_000),
    cosineToMean: cosineToMeanLoopBound(70_000),
  };
  for (const [name, n] of Object.entries(bounds)) {
    if (!(n > 0 && n <= LOOP_CAP)) throw new Error(`${name}: bound ${n}`);
  }
  assertThrows(() => assertLoopBound("probe", LOOP_CAP + 1), RangeError);
});

gpuTest(
  "normalizeRows() refuses a pooling window longer than the loop cap instead of truncating",
  async () => {
    const gpu = await requestGpu();
    try {
      const pool = { channels: 1, height: 300, width: 300, size: 1 }; // one 90,000-value window
      await assertRejects(
        () =>
          normalizeRows(gpu, new Float32Array(90_000).fill(1), { models: 1, dim: 90_000, pool }),
        RangeError,
        "loop iterations",
      );
    } finally {
      gpu.destroy();
    }
  },
);

Deno.test("WGSL sources take workgroup sizes from TypeScript (no hand-kept copies)", async () => {
  const dir = new URL("../../kernels/", import.meta.url);
  for (
    const file of [
      "normalize_rows/normalize_rows.wgsl",
      "pairwise_similarity/pairwise_similarity.wgsl",
      "pairwise_similarity/pairwise_registers.wgsl",
      "pairwise_similarity/pair_cosines.wgsl",
      "pairwise_similarity/span_sums.wgsl",
      "group_means/group_means.wgsl",
      "cosine_to_mean/cosine_to_mean.wgsl",
    ]
  ) {
    const text = await Deno.readTextFile(new URL(file, dir));
    if (!text.includes("const WG: u32 = {{WG}}u;")) {
      throw new Error(`${file}: WG is not written in`);
    }
    if (/@workgroup_size\(\s*\d/.test(text)) throw new Error(`${file}: hard-coded workgroup size`);
    if (!text.startsWith("//")) throw new Error(`${file}: no header comment`);
  }
  let error: unknown = null;
  try {
    await loadShader(new URL("normalize_rows/normalize_rows.wgsl", dir), {});
  } catch (e) {
    error = e;
  }
  if (!(error instanceof SyntaxError)) throw new Error("a missing constant must be a SyntaxError");
});

gpuTest("kernels called concurrently on one Gpu each return their own correct result", async () => {
  const gpu = await requestGpu();
  try {
    const grads = [1, 2, 3, 4].map((k) => randomGrads(k, 3 * 4 * 50));
    const results = await Promise.all(
      grads.map((g) => normalizeRows(gpu, g, { models: 3, dim: 50 })),
    );
    results.forEach((r, k) => {
      const want = reference.normalizeRows(grads[k]!, { models: 3, dim: 50 });
      assertClose(maxDiff(r.units, want.units), 1e-6, `call ${k}`);
    });
  } finally {
    gpu.destroy();
  }
});

gpuTest(
  "groupMeans() and cosineToMean() redo their work when the device is lost mid-way",
  async () => {
    const M = 6, N = 5, D = 30;
    const { units, zero } = randomUnits(123, M, N, D, [7]);
    const labels = Int32Array.from([0, 0, 0, 1, 1, -1]);
    const gpu = await requestGpu({ maxBindingBytes: 4 * M * D * 2 }); // several submissions each
    try {
      destroyAfterSubmit(gpu, 2);
      const means = await groupMeans(gpu, units, {
        models: M,
        dim: D,
        zero,
        labels,
        between: true,
      });
      const wantMeans = reference.groupMeans(units, {
        models: M,
        dim: D,
        zero,
        labels,
        between: true,
      });
      assertClose(maxDiff(means.direction, wantMeans.direction), 2e-6, "directions after the loss");
      assertClose(
        maxDiff(means.between!.sum, wantMeans.between!.sum),
        1e-5,
        "between after the loss",
      );
      destroyAfterSubmit(gpu, 2);
      const t = await cosineToMean(gpu, units, { models: M, dim: D, zero, labels });
      const wantT = reference.cosineToMean(units, { models: M, dim: D, zero, labels });
      assertClose(maxDiff(t.t, wantT.t), 2e-6, "t after the loss");
      if (gpu.recoveries < 2) throw new Error(`expected two recoveries, saw ${gpu.recoveries}`);
    } finally {
      gpu.destroy();
    }
  },
);

/** The error `fn` throws (or rejects with), or null. */
async function thrown(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  return null;
}

Deno.test("requestGpu() rejects a maxBindingBytes that is not an integer ≥ 16 where it enters", async () => {
  // Regression: a NaN binding size once reached the Gram dispatcher and surfaced as "one
  // invocation would run NaN loop iterations". It is now refused by name at requestGpu().
  for (const bad of [NaN, 0, -64, 15, 100.5, Infinity]) {
    const e = await thrown(() => requestGpu({ forceCpu: true, maxBindingBytes: bad }));
    if (!(e instanceof RangeError) || !String(e.message).includes("maxBindingBytes")) {
      throw new Error(`maxBindingBytes ${bad}: expected a RangeError naming it, got ${e}`);
    }
  }
  const gpu = await requestGpu({ forceCpu: true, maxBindingBytes: 17 });
  if (gpu.maxBindingBytes !== 16) throw new Error(`rounded to ${gpu.maxBindingBytes}, not 16`);
});

Deno.test("assertLoopBound() names a NaN bound as a bug, not as work to split", async () => {
  for (const bad of [NaN, -1, 2.5, undefined as unknown as number]) {
    const e = await thrown(() => assertLoopBound("probe", bad));
    if (!(e instanceof RangeError) || !String(e.message).includes("not a number")) {
      throw new Error(
        `bound ${bad}: expected a RangeError saying a size was not a number, got ${e}`,
      );
    }
  }
});

gpuTest("requestGpu() refuses a caller's device whose limits are missing", async () => {
  const adapter = (await navigator.gpu.requestAdapter())!;
  const device = await adapter.requestDevice();
  try {
    // a wrapper that hides the real limits (as some device shims do)
    const shim = Object.create(device, {
      limits: { value: { maxBufferSize: 1 << 28 } },
    }) as GPUDevice;
    const e = await thrown(() => requestGpu({ device: shim }));
    if (!(e instanceof RangeError) || !String(e.message).includes("maxStorageBufferBindingSize")) {
      throw new Error(`expected a RangeError naming the missing limit, got ${e}`);
    }
  } finally {
    device.destroy();
  }
});

gpuTest("PairwiseSimilarity runs every degenerate batch shape without a NaN size", async () => {
  // One model, one sample, dim 1, a final short batch, per-sample cosines on and off, both Gram
  // kernel versions, and splits forced by a small maxBindingBytes: each must give the reference.
  for (const kernel of ["tiled", "registers"] as const) {
    for (const maxBindingBytes of [undefined, 112]) {
      const gpu = await requestGpu({ maxBindingBytes });
      try {
        for (
          const [M, N, D] of [[1, 1, 1], [2, 1, 1], [1, 5, 3], [3, 1, 9], [2, 3, 1]] as Array<
            [number, number, number]
          >
        ) {
          for (const cosines of [false, true]) {
            const { units, zero } = randomUnits(M + N + D, M, N, D);
            const acc = new PairwiseSimilarity(gpu, { models: M, dim: D, kernel, cosines });
            // all but the last sample, then the last one alone (a short final batch)
            const cut = Math.max(1, N - 1);
            for (const [x0, x1] of [[0, cut], [cut, N]] as Array<[number, number]>) {
              if (x1 <= x0) continue;
              const n = x1 - x0;
              const u = new Float32Array(M * n * D), z = new Uint8Array(M * n);
              for (let m = 0; m < M; m++) {
                u.set(units.subarray((m * N + x0) * D, (m * N + x1) * D), m * n * D);
                z.set(zero.subarray(m * N + x0, m * N + x1), m * n);
              }
              await acc.add(u, z);
            }
            const got = acc.result();
            const want = reference.pairwiseSimilarity(units, zero, {
              models: M,
              dim: D,
              cosines,
            });
            const tag = `${kernel} M=${M} N=${N} D=${D} cosines=${cosines} max=${maxBindingBytes}`;
            assertClose(maxDiff(got.sum, want.sum), 1e-5 * N, tag);
            if (cosines) {
              assertClose(maxDiff(got.cosines!.values, want.cosines!.values), 1e-6, `${tag} cos`);
            }
          }
        }
      } finally {
        gpu.destroy();
      }
    }
  }
});

gpuTest("Gpu.uploadShared() returns each call's data in one reused buffer", async () => {
  const gpu = await requestGpu();
  try {
    const device = gpu.device!;
    const read = async (buffer: GPUBuffer, bytes: number) => {
      const out = device.createBuffer({
        size: bytes,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
      const encoder = device.createCommandEncoder();
      encoder.copyBufferToBuffer(buffer, 0, out, 0, bytes);
      device.queue.submit([encoder.finish()]);
      await out.mapAsync(GPUMapMode.READ);
      const copy = new Float32Array(out.getMappedRange().slice(0));
      out.destroy();
      return copy;
    };
    const big = randomGrads(1, 5000), small = randomGrads(2, 300), bigger = randomGrads(3, 70_000);
    const first = await gpu.uploadShared(device, "probe", big);
    if (maxDiff(await read(first, 4 * 5000), big) !== 0) throw new Error("first upload differs");
    const second = await gpu.uploadShared(device, "probe", small);
    if (second !== first) throw new Error("a smaller upload must reuse the buffer");
    if (maxDiff(await read(second, 4 * 300), small) !== 0) throw new Error("second upload differs");
    const third = await gpu.uploadShared(device, "probe", bigger);
    if (third.size < 4 * 70_000) throw new Error("a larger upload must get a larger buffer");
    if (maxDiff(await read(third, 4 * 70_000), bigger) !== 0) throw new Error("third differs");
  } finally {
    gpu.destroy();
  }
});
