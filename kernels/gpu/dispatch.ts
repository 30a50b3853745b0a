/**
 * Helpers shared by the kernel dispatchers: shader loading with constants written in by
 * TypeScript, buffer creation and read-back, dispatch-grid clamping, the loop-iteration
 * assertion, and running a unit of work with a redo when the device is lost.
 */
import { deviceLimit, type Gpu, LOOP_CAP } from "./gpu.ts";
import type { FlatFormat, KeptPool } from "./kept.ts";

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

/**
 * The buffers (and textures) of one unit of work, kept between units in a {@linkcode KeptPool}
 * under their label and occurrence within the unit: a stream of batches allocates its buffers,
 * textures, uniforms, read-back buffer and bind groups once, and a unit of the same shape as the
 * last creates none. Contents are written with `queue.writeBuffer` / `writeTexture`, skipped
 * while short contents repeat; a kernel's output holds what the last unit left until it writes.
 */
export class BufferSet {
  #seen = new Map<string, number>();
  constructor(readonly device: GPUDevice, readonly kept: KeptPool) {}

  /** The kept key of the next resource labelled `label` in this unit. */
  #key(label: string): string {
    const n = this.#seen.get(label) ?? 0;
    this.#seen.set(label, n + 1);
    return `${label}#${n}`;
  }

  /**
   * A 2-D texture of 32-bit texels (`r32float`, `r32uint`, or `rgba32float` / `rgba32uint`:
   * four words per texel) `width` wide holding `texels` texels row after row (as `texel(t)` in `prelude.wgsl`
   * addresses them), written by a kernel as a storage texture (`contents` a texel count) or
   * filled from `contents`. Software adapters fetch texels far faster than they load storage
   * buffers (see `Gpu.uploadTexture`).
   *
   * @throws {RangeError} when the texels need more rows than `maxTextureDimension2D`.
   */
  flatTexture(
    label: string,
    format: FlatFormat,
    width: number,
    contents: number | Uint32Array | Float32Array,
  ): GPUTextureView {
    const channels = format.startsWith("rgba") ? 4 : 1;
    const texels = typeof contents === "number" ? contents : Math.ceil(contents.length / channels);
    const rows = this.#rows(label, texels, width);
    const usage = GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.STORAGE_BINDING |
      GPUTextureUsage.COPY_DST;
    const data = typeof contents === "number" ? undefined : contents;
    const key = this.#key(label);
    return this.kept.viewOf(this.kept.texture(key, format, width, rows, usage, data), label);
  }

  /**
   * A flat texture a kernel writes as a storage texture and the host may read back (a
   * {@linkcode flatTexture} of `texels` texels that can also be a copy source): its texture,
   * for {@linkcode submitAndRead}, and its view, for bindings.
   *
   * @throws {RangeError} when the texels need more rows than `maxTextureDimension2D`.
   */
  readableTexture(
    label: string,
    format: FlatFormat,
    width: number,
    texels: number,
  ): { texture: GPUTexture; view: GPUTextureView } {
    const rows = this.#rows(label, texels, width);
    const usage = GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.STORAGE_BINDING |
      GPUTextureUsage.COPY_SRC;
    const texture = this.kept.texture(this.#key(label), format, width, rows, usage);
    return { texture, view: this.kept.viewOf(texture, label) };
  }

  /** Rows of `width` texels that `texels` need; throws past `maxTextureDimension2D`. */
  #rows(label: string, texels: number, width: number): number {
    const rows = Math.max(1, Math.ceil(texels / width));
    const max = deviceLimit(this.device, "maxTextureDimension2D");
    if (rows > max) {
      throw new RangeError(
        `${label}: ${texels} texels need ${rows} rows of ${width}; expected at most ${max} (a dispatcher bug: chunk the input).`,
      );
    }
    return rows;
  }

  /** The one view of `texture` (so that bind groups over it repeat). */
  view(texture: GPUTexture, label: string): GPUTextureView {
    return this.kept.viewOf(texture, label);
  }

  /** A storage buffer holding `data` (or `bytes` bytes a kernel writes), readable by copy. */
  storage(label: string, data: ArrayBufferView | number, writable = false): GPUBuffer {
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST |
      (writable ? GPUBufferUsage.COPY_SRC : 0);
    const key = this.#key(label);
    return typeof data === "number"
      ? this.kept.buffer(key, data, usage)
      : this.kept.bufferWith(key, data, usage);
  }

  /** A uniform buffer of 32-bit words (u32, i32 or f32 bit patterns). */
  uniform(label: string, words: Uint32Array): GPUBuffer {
    const usage = GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST;
    return this.kept.bufferWith(this.#key(label), words, usage);
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
    return this.kept.bindGroup(label, pipeline, entries);
  }

  /**
   * Copies `sources` (buffer, byte length; or a flat texture of 32-bit texels and the byte
   * length of the texels it holds from its first, row after row) into one mappable buffer after
   * the commands in `encoder`, submits, maps it once and returns copies of their contents.
   */
  async submitAndRead(
    encoder: GPUCommandEncoder,
    sources: Array<[GPUBuffer | GPUTexture, number]>,
  ): Promise<ArrayBuffer[]> {
    const offsets: number[] = [];
    let total = 0;
    for (const [, bytes] of sources) {
      offsets.push(total);
      total += Math.max(16, Math.ceil(bytes / 16) * 16);
    }
    total = Math.max(16, total);
    const usage = GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST;
    const staging = this.kept.buffer(this.#key("read-back"), total, usage);
    sources.forEach(([source, bytes], i) => {
      if (source instanceof GPUTexture) {
        copyTexels(encoder, source, bytes, staging, offsets[i]!);
        return;
      }
      const size = Math.max(16, Math.ceil(bytes / 16) * 16);
      encoder.copyBufferToBuffer(source, 0, staging, offsets[i]!, Math.min(size, source.size));
    });
    this.device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ, 0, total);
    try {
      const mapped = staging.getMappedRange(0, total);
      return sources.map(([, bytes], i) => mapped.slice(offsets[i]!, offsets[i]! + bytes));
    } finally {
      staging.unmap();
    }
  }
}

/**
 * Encodes the copy of a flat texture's first `bytes` bytes of texels (whole rows, then the part
 * of the next) into `target` at `offset`.
 */
function copyTexels(
  encoder: GPUCommandEncoder,
  texture: GPUTexture,
  bytes: number,
  target: GPUBuffer,
  offset: number,
): void {
  const texel = texture.format.startsWith("rgba") ? 16 : 4;
  const width = texture.width, texels = Math.ceil(bytes / texel);
  const full = Math.floor(texels / width), tail = texels - full * width;
  const bytesPerRow = width * texel;
  if (full > 0) {
    encoder.copyTextureToBuffer({ texture }, { buffer: target, offset, bytesPerRow }, [
      width,
      full,
    ]);
  }
  if (tail > 0) {
    encoder.copyTextureToBuffer(
      { texture, origin: [0, full] },
      { buffer: target, offset: offset + full * bytesPerRow, bytesPerRow },
      [tail, 1],
    );
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
    const buffers = new BufferSet(device, gpu.keptPool(device));
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
      gpu.releaseKept();
      if (!(await gpu.confirmLost(device))) throw error;
      if (gpu.device === device) await gpu.recover(`${label}: ${(error as Error).message}`);
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
