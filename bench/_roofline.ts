/**
 * The roofline of a WebGPU adapter, measured in the same run as the kernels it judges: memory
 * bandwidth from a buffer copy (`roofline_copy.wgsl`) and arithmetic peak from independent
 * multiply-add chains (`roofline_fma.wgsl`). The roofline of a kernel of arithmetic intensity
 * I (flops per byte) is `min(bandwidth · I, peak)`.
 *
 * @module
 */

import { assertLoopBound, grid2d, loadShader } from "../kernels/gpu/mod.ts";
import { quantile } from "../lib/stats/mod.ts";
import { fmt } from "./_harness.ts";

/** Invocations per workgroup of both roofline kernels (written into the WGSL). */
export const ROOFLINE_WG = 64;

/** Copy variants measured: entry point and vec4s per invocation. */
const COPY_VARIANTS: ReadonlyArray<readonly [string, number]> = [
  ["copy_blocked", 1],
  ["copy_blocked", 8],
  ["copy_blocked", 64],
  ["copy_strided", 8],
  ["copy_strided", 64],
];

/** One measured variant. */
export interface RooflineVariant {
  name: string;
  /** GB/s (copy) or GFLOP/s (multiply-add). */
  rate: number;
  /** Median seconds of one dispatch. */
  seconds: number;
}

/** The adapter's measured roofline. */
export interface Roofline {
  /** Best copy bandwidth, GB/s counting bytes read plus bytes written. */
  bandwidth: number;
  /** Best multiply-add rate, GFLOP/s (a multiply-add counts 2). */
  peak: number;
  copies: RooflineVariant[];
  arithmetic: RooflineVariant[];
}

/**
 * The roofline bound in GFLOP/s for a kernel of `intensity` flops per byte:
 * min(bandwidth · intensity, peak).
 *
 * @example
 * ```ts
 * import { rooflineGflops } from "./_roofline.ts";
 * const r = { bandwidth: 2, peak: 10, copies: [], arithmetic: [] };
 * if (rooflineGflops(r, 4) !== 8 || rooflineGflops(r, 16) !== 10) throw new Error("roofline");
 * ```
 */
export function rooflineGflops(r: Roofline, intensity: number): number {
  return Math.min(r.bandwidth * intensity, r.peak);
}

function shader(file: string): Promise<string> {
  return loadShader(new URL(file, import.meta.url), { WG: ROOFLINE_WG });
}

async function timeDispatch(
  device: GPUDevice,
  encode: (pass: GPUComputePassEncoder) => void,
  reps: number,
): Promise<number> {
  const once = async () => {
    const encoder = device.createCommandEncoder({ label: "roofline" });
    const pass = encoder.beginComputePass({ label: "roofline" });
    encode(pass);
    pass.end();
    const t0 = performance.now();
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
    return (performance.now() - t0) / 1000;
  };
  await once(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < reps; i++) times.push(await once());
  return quantile(times, 0.5);
}

function uniform(device: GPUDevice, label: string, words: ArrayBuffer): GPUBuffer {
  const b = device.createBuffer({
    label,
    size: Math.max(16, words.byteLength),
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  });
  device.queue.writeBuffer(b, 0, words);
  return b;
}

async function readBack(device: GPUDevice, src: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
  const staging = device.createBuffer({
    label: `${src.label} read-back`,
    size: bytes,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(src, 0, staging, 0, bytes);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const out = staging.getMappedRange().slice(0);
  staging.destroy();
  return out;
}

/** Options of {@link measureRoofline}. */
export interface MeasureRooflineOptions {
  /** Bytes of the copied buffer (default 64 MiB, capped by the device's binding limit). */
  copyBytes?: number;
  /** Lower bound on one multiply-add dispatch's duration, seconds (default 0.25). */
  minSeconds?: number;
  /** Timed dispatches per variant (default 5). */
  reps?: number;
  log?: (line: string) => void;
}

/**
 * Measures the adapter's copy bandwidth and multiply-add peak, each as the best of two kernel
 * variants, and checks both kernels' outputs (the copy bit for bit, the multiply-add chains
 * against their closed form), so a truncated or skipped loop cannot pass as speed.
 *
 * Cost: a few seconds. Throws Error when a kernel's output is wrong.
 *
 * @example
 * ```ts ignore
 * import { measureRoofline } from "./_roofline.ts";
 * const device = await (await navigator.gpu.requestAdapter())!.requestDevice();
 * const r = await measureRoofline(device, { copyBytes: 1 << 20, minSeconds: 0.01, reps: 1 });
 * console.log(`${r.bandwidth} GB/s, ${r.peak} GFLOP/s`);
 * ```
 */
export async function measureRoofline(
  device: GPUDevice,
  options: MeasureRooflineOptions = {},
): Promise<Roofline> {
  const { minSeconds = 0.25, reps = 5, log = () => {} } = options;
  const limit = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
  const copyBytes = Math.floor(Math.min(options.copyBytes ?? 64 * 2 ** 20, limit) / 16) * 16;
  const copies = await measureCopy(device, copyBytes, reps);
  for (const c of copies) log(`roofline copy ${c.name}: ${fmt(c.rate)} GB/s`);
  const arithmetic = await measureFma(device, minSeconds, reps);
  for (const a of arithmetic) log(`roofline multiply-add ${a.name}: ${fmt(a.rate)} GFLOP/s`);
  return {
    bandwidth: Math.max(...copies.map((c) => c.rate)),
    peak: Math.max(...arithmetic.map((a) => a.rate)),
    copies,
    arithmetic,
  };
}

async function measureCopy(
  device: GPUDevice,
  bytes: number,
  reps: number,
): Promise<RooflineVariant[]> {
  const module = device.createShaderModule({
    label: "roofline copy",
    code: await shader("./roofline_copy.wgsl"),
  });
  const vec4s = bytes / 16;
  const src = device.createBuffer({
    label: "roofline copy src",
    size: bytes,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    mappedAtCreation: true,
  });
  const pattern = new Uint32Array(bytes / 4);
  for (let i = 0; i < pattern.length; i++) pattern[i] = Math.imul(i, 2654435761) >>> 0;
  new Uint32Array(src.getMappedRange()).set(pattern);
  src.unmap();
  const dst = device.createBuffer({
    label: "roofline copy dst",
    size: bytes,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  const out: RooflineVariant[] = [];
  try {
    for (const [entry, perInvocation] of COPY_VARIANTS) {
      const pipeline = device.createComputePipeline({
        label: `roofline ${entry}`,
        layout: "auto",
        compute: { module, entryPoint: entry },
      });
      assertLoopBound(`roofline ${entry}`, perInvocation);
      const invocations = Math.ceil(vec4s / perInvocation);
      const { x: gridX, y: gridY } = grid2d(device, Math.ceil(invocations / ROOFLINE_WG));
      // The strided variant covers gridX·gridY·WG·perInvocation ≥ vec4s elements.
      const params = uniform(
        device,
        "roofline copy params",
        new Uint32Array([vec4s, perInvocation, gridX, 0]).buffer,
      );
      const bind = device.createBindGroup({
        label: `roofline ${entry}`,
        layout: pipeline.getBindGroupLayout(0),
        entries: [params, src, dst].map((buffer, binding) => ({ binding, resource: { buffer } })),
      });
      device.queue.writeBuffer(dst, 0, new Uint8Array(Math.min(bytes, 1 << 20))); // clear head
      const seconds = await timeDispatch(device, (pass) => {
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, bind);
        pass.dispatchWorkgroups(gridX, gridY);
      }, reps);
      const got = new Uint32Array(await readBack(device, dst, bytes));
      for (let i = 0; i < got.length; i++) {
        if (got[i] !== pattern[i]) {
          throw new Error(
            `roofline ${entry}: word ${i} is ${got[i]}, expected ${pattern[i]}; the copy ` +
              `kernel is wrong on this adapter, so its bandwidth means nothing.`,
          );
        }
      }
      params.destroy();
      out.push({ name: `${entry} ×${perInvocation}`, rate: (2 * bytes) / seconds / 1e9, seconds });
    }
  } finally {
    src.destroy();
    dst.destroy();
  }
  return out;
}

async function measureFma(
  device: GPUDevice,
  minSeconds: number,
  reps: number,
): Promise<RooflineVariant[]> {
  const module = device.createShaderModule({
    label: "roofline multiply-add",
    code: await shader("./roofline_fma.wgsl"),
  });
  const iterations = 4096;
  const [m, c] = [0.999, 0.001];
  const paramWords = new ArrayBuffer(16);
  new Uint32Array(paramWords, 0, 1)[0] = iterations;
  new Float32Array(paramWords, 4, 2).set([m, c]);
  const params = uniform(device, "roofline multiply-add params", paramWords);
  const out: RooflineVariant[] = [];
  const maxGroups = device.limits.maxComputeWorkgroupsPerDimension;
  try {
    for (const entry of ["fma_builtin", "mul_add"]) {
      const pipeline = device.createComputePipeline({
        label: `roofline ${entry}`,
        layout: "auto",
        compute: { module, entryPoint: entry },
      });
      let groups = 32;
      let seconds = 0;
      let result: GPUBuffer | null = null;
      // Grow the dispatch until one takes at least minSeconds (or the grid is full).
      for (;;) {
        result?.destroy();
        result = device.createBuffer({
          label: `roofline ${entry} out`,
          size: groups * ROOFLINE_WG * 16,
          usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
        });
        const bind = device.createBindGroup({
          label: `roofline ${entry}`,
          layout: pipeline.getBindGroupLayout(0),
          entries: [params, result].map((buffer, binding) => ({ binding, resource: { buffer } })),
        });
        const g = groups;
        seconds = await timeDispatch(device, (pass) => {
          pass.setPipeline(pipeline);
          pass.setBindGroup(0, bind);
          pass.dispatchWorkgroups(g);
        }, seconds === 0 ? 1 : reps);
        if (seconds >= minSeconds || groups * 2 > maxGroups) {
          if (seconds === 0) continue;
          break;
        }
        groups = Math.min(
          maxGroups,
          groups * Math.max(2, Math.ceil(minSeconds / Math.max(seconds, 1e-4))),
        );
      }
      // Re-time at the final size with every repetition, then check the outputs.
      const invocations = groups * ROOFLINE_WG;
      checkFma(entry, new Float32Array(await readBack(device, result!, invocations * 16)), {
        iterations,
        m,
      });
      result!.destroy();
      const flops = invocations * iterations * 8 * 4 * 2;
      out.push({ name: entry, rate: flops / seconds / 1e9, seconds });
    }
  } finally {
    params.destroy();
  }
  return out;
}

/** Compares every lane's sum of 8 chains with the closed form 1 + (x0 − 1)·m^L. */
function checkFma(
  entry: string,
  got: Float32Array,
  { iterations, m }: { iterations: number; m: number },
): void {
  const decay = Math.pow(Math.fround(m), iterations);
  for (let i = 0; i < got.length / 4; i++) {
    for (let l = 0; l < 4; l++) {
      let want = 0;
      for (let j = 0; j < 8; j++) {
        const x0 = (i % 1024) / 1024 + (4 * j + l) / 64;
        want += 1 + (x0 - 1) * decay;
      }
      const v = got[4 * i + l]!;
      if (!(Math.abs(v - want) <= 1e-3 * 8)) {
        throw new Error(
          `roofline ${entry}: invocation ${i} lane ${l} is ${v}, expected ${want.toFixed(5)} ` +
            `after ${iterations} multiply-adds; the loop did not run in full on this adapter.`,
        );
      }
    }
  }
}
