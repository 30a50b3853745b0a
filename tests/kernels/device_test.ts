import { type Gpu, LOOP_CAP, reference, requestGpu, sampleGrams } from "../../kernels/mod.ts";
import { assertLoopBound, loadShader, programSource } from "../../kernels/gpu/mod.ts";
import {
  gramLoopBound,
  ROW_SCALE_WG,
  rowScaleLoopBound,
  rowScalesProgram,
  sampleGramsProgram,
} from "../../kernels/sample_grams/mod.ts";
import { assertWithin, gpuTest, maxDiff, randomGrads } from "./_helpers.ts";
import { assertThrows } from "../_shared/assert.ts";

/** sampleGrams() of `grads` against its f64 reference, within `tol`. */
async function checkGrams(
  gpu: Gpu,
  grads: Float32Array,
  shape: { models: number; samples: number; dim: number },
  tol: number,
  tag: string,
): Promise<void> {
  const got = await sampleGrams(gpu, grads, shape);
  assertWithin(maxDiff(got.grams, reference.sampleGrams(grads, shape).grams), tol, tag);
}

Deno.test("requestGpu() with forceCpu runs the reference kernels and says so", async () => {
  const gpu = await requestGpu({ forceCpu: true });
  if (gpu.backend !== "cpu" || gpu.device !== null) throw new Error("expected the CPU path");
  if (!/reference kernels/.test(gpu.describe())) throw new Error(`describe(): ${gpu.describe()}`);
  const r = await sampleGrams(gpu, new Float32Array([3, 4, 6, 8]), {
    models: 2,
    samples: 1,
    dim: 2,
  });
  assertWithin(maxDiff(r.grams, [1, 1, 1, 1]), 1e-12, "CPU path result");
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
  const shape = { models: 2, samples: 3, dim: 5 };
  await sampleGrams(gpu, grads, shape);
  gpu.destroy();
  const again = await requestGpu({ device });
  // without a name, the device's adapterInfo (where the runtime has it) names the adapter
  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  if (info && !again.adapterName.includes(info.description)) {
    throw new Error(`adapterName ${again.adapterName} lacks ${info.description}`);
  }
  await checkGrams(again, grads, shape, 2e-6, "after");
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
  "sampleGrams() redoes a chunk whose device is lost mid-batch (no partial result)",
  async () => {
    const shape = { models: 12, samples: 9, dim: 64 };
    const grads = randomGrads(99, 12 * 9 * 64);
    grads.fill(0, 4 * 64, 5 * 64);
    // Small bindings: the batch takes several submissions, so losing the device after the
    // second one leaves it half done; the result must still equal the reference.
    const gpu = await requestGpu({ maxBindingBytes: 16 * 12 * 64 * 2 });
    try {
      const first = gpu.device!;
      destroyAfterSubmit(gpu, 2);
      await checkGrams(gpu, grads, shape, 2e-6, "after the loss");
      if (gpu.recoveries < 1 || gpu.device === first) {
        throw new Error("the lost device was not replaced");
      }
      if (!/device lost/.test(gpu.describe())) throw new Error(`describe(): ${gpu.describe()}`);
      // the replacement device keeps working
      destroyAfterSubmit(gpu, 1);
      await checkGrams(gpu, grads, shape, 2e-6, "after a second loss");
    } finally {
      gpu.destroy();
    }
  },
);

gpuTest(
  "sampleGrams() falls back to the CPU reference when a lost device cannot be replaced",
  async () => {
    const shape = { models: 4, samples: 6, dim: 20 };
    const grads = randomGrads(17, 4 * 6 * 20);
    const gpu = await requestGpu();
    const original = navigator.gpu.requestAdapter;
    try {
      Object.defineProperty(navigator.gpu, "requestAdapter", {
        value: () => Promise.resolve(null),
        configurable: true,
      });
      gpu.device!.destroy();
      await checkGrams(gpu, grads, shape, 1e-12, "CPU fallback");
      if (gpu.backend !== "cpu" || !/no replacement/.test(gpu.describe())) {
        throw new Error(`expected the CPU path, got ${gpu.describe()}`);
      }
    } finally {
      Object.defineProperty(navigator.gpu, "requestAdapter", {
        value: original,
        configurable: true,
      });
      gpu.destroy();
    }
  },
);

gpuTest("sampleGrams() dispatches more than 65,535 workgroups on a 2-D grid", async () => {
  // one row-scale workgroup per (model, sample): 2 × 33,000 rows exceed one grid dimension
  const gpu = await requestGpu();
  try {
    const grads = randomGrads(3, 2 * 33_000 * 2);
    grads.fill(0, 10, 12);
    await checkGrams(gpu, grads, { models: 2, samples: 33_000, dim: 2 }, 2e-6, "33,000 samples");
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
  const bounds = { rowScales: rowScaleLoopBound(70_000 / 4), grams: gramLoopBound(70_000 / 4) };
  for (const [name, n] of Object.entries(bounds)) {
    if (!(n > 0 && n <= LOOP_CAP)) throw new Error(`${name}: bound ${n}`);
  }
  assertThrows(() => assertLoopBound("probe", LOOP_CAP + 1), RangeError);
});

Deno.test("WGSL sources take workgroup sizes as pipeline constants (no hand-kept copies)", async () => {
  for (
    const program of [rowScalesProgram(1), rowScalesProgram(ROW_SCALE_WG), sampleGramsProgram(8)]
  ) {
    const text = programSource(program);
    if (!/override WG: u32/.test(text) || program.constants?.WG === undefined) {
      throw new Error(`${program.label}: WG is not a pipeline constant`);
    }
    if (/@workgroup_size\(\s*\d/.test(text)) {
      throw new Error(`${program.label}: fixed workgroup size`);
    }
    if (!text.includes("fn treeMax(")) throw new Error(`${program.label}: no prelude`);
    const own = await Deno.readTextFile(
      new URL(`../../kernels/${program.shader.file}`, import.meta.url),
    );
    if (own !== program.shader.text) throw new Error(`${program.label}: text is not the file's`);
    if (!own.startsWith("//")) throw new Error(`${program.label}: no header comment`);
  }
  let error: unknown = null;
  try {
    await loadShader(new URL("../../kernels/sample_grams/sample_grams.wgsl", import.meta.url), {});
  } catch (e) {
    error = e;
  }
  if (!(error instanceof SyntaxError)) {
    throw new Error("a missing source part must be a SyntaxError");
  }
});

gpuTest("kernels called concurrently on one Gpu each return their own correct result", async () => {
  const gpu = await requestGpu();
  try {
    const shape = { models: 3, samples: 4, dim: 50 };
    const grads = [1, 2, 3, 4].map((k) => randomGrads(k, 3 * 4 * 50));
    const results = await Promise.all(grads.map((g) => sampleGrams(gpu, g, shape)));
    results.forEach((r, k) => {
      const want = reference.sampleGrams(grads[k]!, shape);
      assertWithin(maxDiff(r.grams, want.grams), 2e-6, `call ${k}`);
    });
  } finally {
    gpu.destroy();
  }
});

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

gpuTest("sampleGrams() runs every degenerate batch shape without a NaN size", async () => {
  // One model, one sample, dim 1, and splits forced by a small maxBindingBytes.
  for (const maxBindingBytes of [undefined, 1024]) {
    const gpu = await requestGpu({ maxBindingBytes });
    try {
      for (const [m, n, d] of [[1, 1, 1], [2, 1, 1], [1, 5, 3], [3, 1, 9], [2, 3, 1]]) {
        const shape = { models: m!, samples: n!, dim: d! };
        await checkGrams(
          gpu,
          randomGrads(m! + n! + d!, m! * n! * d!),
          shape,
          2e-6,
          `${m}×${n}×${d} max=${maxBindingBytes}`,
        );
      }
    } finally {
      gpu.destroy();
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

gpuTest("Gpu.uploadTexture() holds each call's texels, a partial last row included", async () => {
  const gpu = await requestGpu();
  try {
    const device = gpu.device!;
    const width = 16;
    const read = async (texture: GPUTexture, texels: number) => {
      const rows = Math.ceil(texels / width);
      const out = device.createBuffer({
        size: rows * width * 16,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
      const encoder = device.createCommandEncoder();
      encoder.copyTextureToBuffer({ texture }, { buffer: out, bytesPerRow: width * 16 }, [
        width,
        rows,
      ]);
      device.queue.submit([encoder.finish()]);
      await out.mapAsync(GPUMapMode.READ);
      const copy = new Float32Array(out.getMappedRange().slice(0, texels * 16));
      out.destroy();
      return copy;
    };
    // 3 whole rows and 5 texels; then fewer; then more rows than the first texture holds.
    for (const texels of [3 * width + 5, 7, 9 * width + 1]) {
      const data = randomGrads(texels, 4 * texels);
      const texture = gpu.uploadTexture(device, "probe", data, width);
      if (maxDiff(await read(texture, texels), data) !== 0) {
        throw new Error(`${texels} texels: the texture differs from the data`);
      }
    }
    assertThrows(() => gpu.uploadTexture(device, "probe", new Float32Array(6), width), RangeError);
  } finally {
    gpu.destroy();
  }
});
