/**
 * Helpers shared by the kernel dispatchers: shader loading with constants written in by
 * TypeScript, buffer creation and read-back, dispatch-grid clamping, the loop-iteration
 * assertion, and running a unit of work with a redo when the device is lost.
 */
import { deviceLimit, type Gpu, LOOP_CAP } from "./gpu.ts";

const shaderText = new Map<string, string>();

/**
 * Writes the constants into shader text: every `{{NAME}}` becomes `String(constants[NAME])`.
 * `name` (the file) only labels the error. Pure, so it runs in Deno and in the browser alike.
 *
 * @throws {SyntaxError} when a placeholder is left unfilled.
 * @example
 * ```ts
 * import { fillShader } from "./dispatch.ts";
 * if (fillShader("x.wgsl", "const N = {{N}};", { N: 4 }) !== "const N = 4;") throw new Error();
 * ```
 */
export function fillShader(
  name: string,
  text: string,
  constants: Record<string, number | string>,
): string {
  const filled = text.replace(/\{\{([A-Z_][A-Z0-9_]*)\}\}/g, (whole, key: string) => {
    const value = constants[key];
    return value === undefined ? whole : String(value);
  });
  const left = filled.match(/\{\{[A-Z_][A-Z0-9_]*\}\}/);
  if (left) {
    throw new SyntaxError(
      `Shader ${name.split("/").pop()} has the placeholder ${
        left[0]
      } with no value; pass it in the constants.`,
    );
  }
  return filled;
}

/**
 * Reads a `.wgsl` file (a `file:` or remote URL) and writes the constants into it with
 * {@linkcode fillShader}. For shaders outside the kernels (the benchmarks' probes); the kernels
 * import their text, so they run where no file can be read (a browser).
 *
 * @throws {SyntaxError} when a placeholder is left unfilled.
 */
export async function loadShader(
  url: URL,
  constants: Record<string, number | string>,
): Promise<string> {
  let text = shaderText.get(url.href);
  if (text === undefined) {
    text = url.protocol === "file:"
      ? await Deno.readTextFile(url)
      : await (await fetch(url)).text();
    shaderText.set(url.href, text);
  }
  return fillShader(url.pathname, text, constants);
}

/**
 * Throws RangeError unless `iterations` (the planned total loop iterations of one invocation)
 * is at most {@linkcode LOOP_CAP}.
 */
export function assertLoopBound(label: string, iterations: number): void {
  if (!Number.isSafeInteger(iterations) || iterations < 0) {
    // A bug, not a size to split: every size and limit is validated where it enters.
    throw new RangeError(
      `${label}: the planned loop iterations per invocation are ${iterations}; expected a non-negative integer (a size or device limit was not a number).`,
    );
  }
  if (!(iterations <= LOOP_CAP)) {
    throw new RangeError(
      `${label}: one invocation would run ${iterations} loop iterations, more than the cap of ${LOOP_CAP}; split the work further.`,
    );
  }
}

/** Splits `count` workgroups into an x × y grid within `maxComputeWorkgroupsPerDimension`. */
export function grid2d(device: GPUDevice, count: number): { x: number; y: number } {
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new RangeError(`A dispatch of ${count} workgroups; expected a non-negative integer.`);
  }
  const max = deviceLimit(device, "maxComputeWorkgroupsPerDimension");
  if (count <= max) return { x: Math.max(1, count), y: 1 };
  const y = Math.ceil(count / max);
  if (y > max) {
    throw new RangeError(
      `A dispatch of ${count} workgroups exceeds ${max}² workgroups; split the input into smaller batches.`,
    );
  }
  return { x: Math.ceil(count / y), y };
}

/** log2 of the width in texels of every flat texture the kernels use (`texelAt` in `prelude.wgsl`). */
export const TEX_SHIFT = 12;
/** The width in texels of every flat texture: 4,096 (64 KiB per row of rgba32float). */
export const TEX_WIDTH = 2 ** TEX_SHIFT;

/** Uploads of at least this many bytes use `queue.writeBuffer` (see {@linkcode BufferSet.storage}). */
export const WRITE_BUFFER_FROM = 4 * 2 ** 20;

/** Creates buffers (and textures) for one unit of work and destroys them all at the end. */
export class BufferSet {
  #buffers: Array<GPUBuffer | GPUTexture> = [];
  constructor(readonly device: GPUDevice) {}

  /**
   * A 2-D texture of 32-bit texels (`r32float`, `r32uint`, or `rgba32float`: four floats per
   * texel) `width` wide holding `texels` texels row after row (as `texel(t)` in `prelude.wgsl` addresses them), written by
   * a kernel as a storage texture (`data` absent) or filled from `data`. Software adapters fetch
   * texels far faster than they load storage buffers (see `Gpu.uploadTexture`).
   *
   * @throws {RangeError} when the texels need more rows than `maxTextureDimension2D`.
   */
  flatTexture(
    label: string,
    format: "r32float" | "r32uint" | "rgba32float",
    width: number,
    contents: number | Uint32Array | Float32Array,
  ): GPUTextureView {
    const channels = format === "rgba32float" ? 4 : 1;
    const texels = typeof contents === "number" ? contents : Math.ceil(contents.length / channels);
    const rows = Math.max(1, Math.ceil(texels / width));
    const max = deviceLimit(this.device, "maxTextureDimension2D");
    if (rows > max) {
      throw new RangeError(
        `${label}: ${texels} texels need ${rows} rows of ${width}; expected at most ${max} (a dispatcher bug: chunk the input).`,
      );
    }
    const texture = this.device.createTexture({
      label,
      size: [width, rows],
      format,
      usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.STORAGE_BINDING |
        GPUTextureUsage.COPY_DST,
    });
    this.#buffers.push(texture);
    if (typeof contents !== "number") {
      const padded = new (contents.constructor as Uint32ArrayConstructor)(rows * width * channels);
      padded.set(contents);
      this.device.queue.writeTexture({ texture }, padded, { bytesPerRow: width * 4 * channels }, [
        width,
        rows,
      ]);
    }
    return texture.createView({ label });
  }

  /**
   * A storage buffer holding `data` (or `bytes` zeroed bytes), readable by copy. Data above
   * {@linkcode WRITE_BUFFER_FROM} bytes goes through `queue.writeBuffer` (measured about twice
   * as fast as a mapped buffer at 64 MiB under Deno on lavapipe), smaller data through a buffer
   * mapped at creation.
   */
  storage(label: string, data: ArrayBufferView | number, writable = false): GPUBuffer {
    const bytes = typeof data === "number" ? data : data.byteLength;
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    const viaQueue = typeof data !== "number" && bytes >= WRITE_BUFFER_FROM && bytes % 4 === 0;
    const buffer = this.device.createBuffer({
      label,
      size,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST |
        (writable ? GPUBufferUsage.COPY_SRC : 0),
      mappedAtCreation: typeof data !== "number" && !viaQueue,
    });
    if (viaQueue) {
      this.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, bytes);
    } else if (typeof data !== "number") {
      new Uint8Array(buffer.getMappedRange()).set(
        new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      );
      buffer.unmap();
    }
    this.#buffers.push(buffer);
    return buffer;
  }

  /** A uniform buffer of 32-bit words (u32, i32 or f32 bit patterns). */
  uniform(label: string, words: Uint32Array): GPUBuffer {
    const size = Math.max(16, Math.ceil(words.byteLength / 16) * 16);
    const buffer = this.device.createBuffer({
      label,
      size,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      mappedAtCreation: true,
    });
    new Uint32Array(buffer.getMappedRange()).set(words);
    buffer.unmap();
    this.#buffers.push(buffer);
    return buffer;
  }

  /**
   * A bind group for `pipeline`'s group 0 with the buffers (or texture views) in binding
   * order; a null entry skips a binding the entry point does not use.
   */
  bind(
    label: string,
    pipeline: GPUComputePipeline,
    resources: Array<GPUBuffer | GPUTextureView | null>,
  ): GPUBindGroup {
    const entries: GPUBindGroupEntry[] = [];
    resources.forEach((r, binding) => {
      if (r) entries.push({ binding, resource: r instanceof GPUBuffer ? { buffer: r } : r });
    });
    return this.device.createBindGroup({ label, layout: pipeline.getBindGroupLayout(0), entries });
  }

  /**
   * Copies `sources` (buffer, byte length) into mappable buffers after the commands in
   * `encoder`, submits, and returns copies of their contents (via mapAsync).
   */
  async submitAndRead(
    encoder: GPUCommandEncoder,
    sources: Array<[GPUBuffer, number]>,
  ): Promise<ArrayBuffer[]> {
    const staging = sources.map(([source, bytes], i) => {
      const size = Math.max(16, Math.ceil(bytes / 16) * 16);
      const buffer = this.device.createBuffer({
        label: `${source.label} read-back ${i}`,
        size,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
      this.#buffers.push(buffer);
      encoder.copyBufferToBuffer(source, 0, buffer, 0, size);
      return buffer;
    });
    this.device.queue.submit([encoder.finish()]);
    await Promise.all(staging.map((b) => b.mapAsync(GPUMapMode.READ)));
    return staging.map((b, i) => {
      const copy = b.getMappedRange().slice(0, sources[i]![1]);
      b.unmap();
      return copy;
    });
  }

  /** Destroys every buffer and texture this set created. */
  destroy(): void {
    for (const b of this.#buffers) b.destroy();
    this.#buffers = [];
  }
}

/**
 * Runs one unit of work on the GPU, or `onCpu` on the CPU path. The GPU result is returned only
 * when the whole unit completed with no validation or out-of-memory error; when the device is
 * lost during it, the unit is redone from the start on a replacement device (or on the CPU), so
 * a partial result is never returned. Any other failure is rethrown.
 */
export function runUnit<T>(
  gpu: Gpu,
  label: string,
  onGpu: (device: GPUDevice, buffers: BufferSet) => Promise<T>,
  onCpu: () => T,
): Promise<T> {
  return gpu.exclusive(() => runUnitNow(gpu, label, onGpu, onCpu));
}

async function runUnitNow<T>(
  gpu: Gpu,
  label: string,
  onGpu: (device: GPUDevice, buffers: BufferSet) => Promise<T>,
  onCpu: () => T,
): Promise<T> {
  for (let attempt = 0; attempt < 4; attempt++) {
    const device = gpu.device;
    if (gpu.backend === "cpu" || !device) return onCpu();
    const buffers = new BufferSet(device);
    let result: T;
    try {
      device.pushErrorScope("out-of-memory");
      device.pushErrorScope("validation");
      let failure: unknown = null;
      try {
        result = await onGpu(device, buffers);
      } catch (error) {
        failure = error;
      }
      const validation = await device.popErrorScope().catch(() => null);
      const memory = await device.popErrorScope().catch(() => null);
      if (failure) throw failure;
      if (gpu.isLost(device)) throw new Error(`${label}: device lost`);
      if (validation) throw new Error(`${label}: ${validation.message}`);
      if (memory) throw new Error(`${label}: out of memory: ${memory.message}`);
      return result!;
    } catch (error) {
      if (!(await gpu.confirmLost(device))) throw error;
      if (gpu.device === device) await gpu.recover(`${label}: ${(error as Error).message}`);
    } finally {
      buffers.destroy();
    }
  }
  throw new Error(`${label}: the device was lost four times in a row; giving up.`);
}

/**
 * The samples x0 … x1−1 of a model-major batch `[models][samples][dim]` as their own
 * model-major array (the batch itself when the range is all of it).
 */
export function packSamples(
  units: Float32Array,
  models: number,
  samples: number,
  dim: number,
  x0: number,
  x1: number,
): Float32Array {
  if (x0 === 0 && x1 === samples) return units;
  const n = x1 - x0;
  const out = new Float32Array(models * n * dim);
  for (let m = 0; m < models; m++) {
    out.set(units.subarray((m * samples + x0) * dim, (m * samples + x1) * dim), m * n * dim);
  }
  return out;
}
