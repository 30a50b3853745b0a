/**
 * Acquiring the WebGPU device, and the few helpers every kernel dispatcher shares: shader
 * loading, the pipeline cache, buffers, read-back, dispatch clamping, the loop-iteration bound,
 * and redoing work when the device is lost.
 */

import { KeptPool } from "./kept.ts";
import { usePrivateRuntimeDir } from "./runtime_dir.ts";

/**
 * Mesa's per-invocation loop cap: its software adapters (llvmpipe, lavapipe) silently stop a
 * shader invocation after 65,535 loop back-edges in total, counting every loop of the invocation,
 * nested and consecutive. Every kernel here and in `lib/tf` bounds the total back-edges of one
 * invocation by this constant (counted conservatively: one extra per loop entered).
 */
export const LOOP_CAP = 65_535;

/** Bytes per mapped range when {@linkcode Gpu.uploadShared} fills its staging buffer (64 KiB). */
const UPLOAD_PIECE = 2 ** 16;

/** The staging and storage buffers behind {@linkcode Gpu.uploadShared}. */
interface UploadPool {
  device: GPUDevice;
  size: number;
  staging: GPUBuffer;
  /** The storage buffer {@linkcode Gpu.uploadShared} copies into (made on first use). */
  target: GPUBuffer | null;
  /** The pending re-map of `staging` after its last copy, or null. */
  mapped: Promise<void> | null;
}

/** Options for {@linkcode requestGpu}. */
export interface RequestGpuOptions {
  /** Use this device instead of requesting one (e.g. TensorFlow.js's WebGPU backend's device). */
  device?: GPUDevice;
  /** Its adapter's description, when `device` is given (used in {@linkcode Gpu.describe}). */
  adapterName?: string;
  /** Run the pure-TypeScript reference kernels even when an adapter exists. */
  forceCpu?: boolean;
  /** Passed to `navigator.gpu.requestAdapter`. */
  powerPreference?: GPUPowerPreference;
  /**
   * Largest storage binding a kernel creates, in bytes (default: the device's
   * `maxStorageBufferBindingSize`). Lower it to force kernels to split their buffers.
   */
  maxBindingBytes?: number;
  /**
   * Called with a one-line message when the device is lost or reports an uncaptured error
   * (default: `console.warn`).
   */
  onWarning?: (message: string) => void;
}

/**
 * Reads a numeric limit of `device` (`maxStorageBufferBindingSize`, …) and checks it: a device
 * from elsewhere (a wrapper, a mock, a runtime that leaves a limit out) may lack one, and an
 * undefined limit would otherwise turn every size computed from it into NaN.
 *
 * @throws {RangeError} when the limit is missing or not a positive finite number.
 */
export function deviceLimit(device: GPUDevice, name: keyof GPUSupportedLimits): number {
  const value = Number((device.limits as unknown as Record<string, unknown> | undefined)?.[name]);
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(
      `device.limits.${name} is ${
        (device.limits as unknown as Record<string, unknown> | undefined)?.[name]
      }; expected a positive number: pass a device from requestAdapter().requestDevice(), or let requestGpu() request one.`,
    );
  }
  return value;
}

/** Throws RangeError unless `bytes` is a positive integer of at least 16 (or undefined). */
function checkBindingBytes(bytes: number | undefined): void {
  if (bytes === undefined) return;
  if (!Number.isSafeInteger(bytes) || bytes < 16) {
    throw new RangeError(
      `maxBindingBytes is ${bytes}; expected an integer of at least 16 bytes, or leave it out to use the device's limit.`,
    );
  }
}

/** The device limits the dispatchers compute sizes from. */
const LIMITS_USED = [
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxComputeWorkgroupsPerDimension",
] as const;

const SOFTWARE_PATTERN = /llvmpipe|lavapipe|swiftshader|software|microsoft basic render/i;

/** What {@linkcode isSoftwareAdapter} reads: a `GPUAdapterInfo`, or the parts of one a caller has. */
export interface AdapterFacts {
  description?: string;
  vendor?: string;
  device?: string;
  architecture?: string;
  isFallbackAdapter?: boolean;
}

/**
 * Whether an adapter runs on the CPU: a fallback adapter, or one whose description, vendor,
 * device or architecture names Mesa llvmpipe/lavapipe, SwiftShader, Microsoft Basic Render or
 * "software" (Chromium's SwiftShader adapter says so only in its architecture). The one test used
 * by the kernels and by `lib/tf`.
 *
 * @example
 * ```ts
 * import { isSoftwareAdapter } from "./mod.ts";
 * if (!isSoftwareAdapter({ description: "llvmpipe (LLVM 15.0.6, 256 bits)" })) throw new Error();
 * if (isSoftwareAdapter({ description: "NVIDIA H100", vendor: "nvidia" })) throw new Error();
 * if (!isSoftwareAdapter({ description: "", vendor: "google", architecture: "swiftshader" })) {
 *   throw new Error("Chromium's SwiftShader");
 * }
 * ```
 */
export function isSoftwareAdapter(facts: AdapterFacts | string): boolean {
  const f: AdapterFacts = typeof facts === "string" ? { description: facts } : facts;
  return Boolean(f.isFallbackAdapter) ||
    SOFTWARE_PATTERN.test(
      [f.description, f.vendor, f.device, f.architecture].filter(Boolean).join(" "),
    );
}

/**
 * Where the kernels run: a WebGPU device, or the pure-TypeScript reference kernels.
 * Obtain one with {@linkcode requestGpu}; every kernel takes it as its first argument.
 */
export class Gpu {
  /** "webgpu" while a device is in use; "cpu" when the reference kernels run instead. */
  backend: "webgpu" | "cpu";
  /** The device, or null on the CPU path. Replaced by a fresh one when the device is lost. */
  device: GPUDevice | null;
  /** The adapter's description (vendor, device, driver), or why there is none. */
  adapterName: string;
  /** True for software adapters (`isFallbackAdapter`, llvmpipe, lavapipe, SwiftShader). */
  isSoftware: boolean;
  /** Why the CPU path runs, or what happened to the device; empty when nothing did. */
  note: string;
  /** How many times a lost device has been replaced (or given up for the CPU path). */
  recoveries = 0;
  #ownsDevice: boolean;
  readonly #options: RequestGpuOptions;
  #maxBindingBytes: number | undefined;
  #lost = new WeakSet<GPUDevice>();
  #pipelines = new Map<string, GPUComputePipeline>();
  #pipelineDevice = new WeakMap<GPUComputePipeline, GPUDevice>();
  #upload: UploadPool | null = null;
  #kept: KeptPool | null = null;

  /** Use {@linkcode requestGpu} instead. */
  constructor(init: {
    device: GPUDevice | null;
    adapterName: string;
    isSoftware: boolean;
    ownsDevice: boolean;
    note?: string;
    options?: RequestGpuOptions;
  }) {
    this.device = init.device;
    this.backend = init.device ? "webgpu" : "cpu";
    this.adapterName = init.adapterName;
    this.isSoftware = init.isSoftware;
    this.note = init.note ?? "";
    this.#ownsDevice = init.ownsDevice;
    this.#options = { onWarning: (m: string) => console.warn(m), ...init.options };
    checkBindingBytes(init.options?.maxBindingBytes);
    this.#maxBindingBytes = init.options?.maxBindingBytes;
    if (init.device) this.#watch(init.device);
  }

  /** Largest storage binding the kernels create, in bytes (a multiple of 16). */
  get maxBindingBytes(): number {
    const device = this.device;
    const limit = device ? deviceLimit(device, "maxStorageBufferBindingSize") : 2 ** 31;
    const wanted = Math.min(
      this.#maxBindingBytes ?? limit,
      limit,
      device ? deviceLimit(device, "maxBufferSize") : limit,
    );
    return Math.max(16, Math.floor(wanted / 16) * 16);
  }

  /** One line naming the backend and adapter, flagging software adapters. */
  describe(): string {
    if (this.backend === "cpu") {
      return `cpu (pure-TypeScript reference kernels${this.note ? `: ${this.note}` : ""})`;
    }
    const soft = this.isSoftware ? " [software adapter: runs on the CPU]" : "";
    return `webgpu: ${this.adapterName}${soft}${this.note ? ` (${this.note})` : ""}`;
  }

  /** Releases the device if this object created it, and clears the pipeline cache. */
  destroy(): void {
    this.#dropUpload();
    if (this.device && this.#ownsDevice) this.device.destroy();
    this.#pipelines.clear();
    this.device = null;
    this.backend = "cpu";
    this.note = "destroyed";
  }

  #turn: Promise<unknown> = Promise.resolve();

  /**
   * Runs `fn` after every unit of work queued before it has settled, so that units on this
   * object never interleave (their error scopes and memory stay their own).
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#turn.then(fn, fn);
    this.#turn = run.catch(() => {});
    return run;
  }

  /** True once `device` has been lost or destroyed. */
  isLost(device: GPUDevice): boolean {
    return this.#lost.has(device);
  }

  /** The cached pipeline for `key` and `entryPoint` on `device`, or undefined. */
  cachedPipeline(
    device: GPUDevice,
    key: string,
    entryPoint = "main",
  ): GPUComputePipeline | undefined {
    const cached = this.#pipelines.get(`${key} @${entryPoint}`);
    return cached && this.#pipelineDevice.get(cached) === device ? cached : undefined;
  }

  /**
   * A compute pipeline for `code`, compiled once per `key` (the key must name everything that
   * changes the source or the constants) and per device; `constants` are WGSL `override` values.
   */
  pipeline(
    device: GPUDevice,
    key: string,
    code: string,
    entryPoint = "main",
    extra: { label?: string; constants?: Record<string, number> } = {},
  ): GPUComputePipeline {
    const fullKey = `${key} @${entryPoint}`;
    const cached = this.cachedPipeline(device, key, entryPoint);
    if (cached) return cached;
    const label = extra.label ?? key;
    const module = device.createShaderModule({ label, code });
    const pipeline = device.createComputePipeline({
      label,
      layout: "auto",
      compute: { module, entryPoint, constants: extra.constants },
    });
    this.#pipelines.set(fullKey, pipeline);
    this.#pipelineDevice.set(pipeline, device);
    return pipeline;
  }

  /**
   * A storage buffer holding `data` (float32 or u32 words), written through a staging buffer
   * that this object keeps mapped between units of work, so that a large upload neither
   * allocates fresh memory nor waits for a map: under Deno, a new buffer's first write runs at
   * about 0.15–0.3 GB/s (fresh pages), a reused mapped one at memory speed. The copy into the
   * returned buffer is submitted before this resolves, so later submissions see the data.
   *
   * The buffer is shared: it holds `data` only until the next call, and must not be destroyed
   * by the caller. Call it at most once per unit of work (see `runUnit`).
   *
   * Cost: one memcpy of `data` and a buffer-to-buffer copy; the first call of a larger size
   * allocates (power-of-two sizes, at most `maxBindingBytes`).
   */
  async uploadShared(device: GPUDevice, label: string, data: ArrayBufferView): Promise<GPUBuffer> {
    const bytes = Math.max(16, Math.ceil(data.byteLength / 16) * 16);
    const pool = await this.#stage(device, data, bytes);
    if (!pool.target || pool.target.size < bytes) {
      pool.target?.destroy();
      pool.target = device.createBuffer({
        label: "shared upload",
        size: pool.size,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
      });
    }
    const encoder = device.createCommandEncoder({ label: `${label} upload` });
    encoder.copyBufferToBuffer(pool.staging, 0, pool.target, 0, bytes);
    this.#submitUpload(device, pool, encoder);
    return pool.target;
  }

  /**
   * An `rgba32float` texture `width` texels wide holding `data` (float32, 4 per texel, row after
   * row; the last row's tail is left as it was), written with `queue.writeTexture` into a texture
   * this object keeps. Software adapters fetch texels far faster than they load storage buffers
   * (measured on lavapipe: about 4 ns per invocation and vec4 against 30–40 ns), so the kernels
   * read their large inputs through one; and `writeTexture` needs no mapped staging buffer
   * (measured for 12.8 MB under Deno on lavapipe: 10.6 ms with the wait for the queue, against
   * about 30 ms through the kept-mapped staging buffer of {@linkcode uploadShared}, whose re-map
   * waits for the previous copy). Shared like `uploadShared`'s buffer: it holds `data` until the
   * next call and must not be destroyed by the caller.
   *
   * Cost: one copy of `data` into the queue; a larger size allocates.
   *
   * @throws {RangeError} when `width` is not a multiple of 16 texels, `data` is not whole
   * texels, or it needs more rows than `maxTextureDimension2D`.
   */
  uploadTexture(
    device: GPUDevice,
    label: string,
    data: Float32Array,
    width: number,
  ): GPUTexture {
    const texels = data.length / 4;
    const rows = Math.max(1, Math.ceil(texels / width));
    const maxSide = deviceLimit(device, "maxTextureDimension2D");
    if (
      !Number.isInteger(width) || width % 16 !== 0 || width > maxSide || rows > maxSide ||
      !Number.isInteger(texels)
    ) {
      throw new RangeError(
        `${label}: a ${width}-texel-wide texture of ${data.length} floats needs ${rows} rows; expected whole texels, a width that is a multiple of 16 and at most ${maxSide} rows and columns (a dispatcher bug: chunk the input).`,
      );
    }
    // Power-of-two heights, so that growing batches reallocate rarely.
    const height = Math.min(maxSide, 2 ** Math.ceil(Math.log2(rows)));
    const usage = GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST |
      GPUTextureUsage.COPY_SRC;
    return this.keptPool(device).texture(
      "shared upload texture",
      "rgba32float",
      width,
      height,
      usage,
      data,
    );
  }

  /**
   * The resources kept between units of work on `device` (see `kept.ts`): `runUnit` hands it to
   * each unit's `BufferSet`. Dropped with the device, on recovery and by {@linkcode destroy}.
   */
  keptPool(device: GPUDevice): KeptPool {
    if (!this.#kept || this.#kept.device !== device) {
      this.#kept?.destroy();
      this.#kept = new KeptPool(device);
    }
    return this.#kept;
  }

  /**
   * Destroys the resources kept between units of work (the next unit allocates afresh). Called
   * after a unit fails, since a failure may leave a kept buffer mapped or half written.
   */
  releaseKept(): void {
    this.#kept?.destroy();
    this.#kept = null;
  }

  /** Fills the kept-mapped staging buffer (at least `bytes` long) with `data`. */
  async #stage(device: GPUDevice, data: ArrayBufferView, bytes: number): Promise<UploadPool> {
    let pool = this.#upload;
    if (pool && (pool.device !== device || pool.size < bytes)) {
      this.#dropStaging();
      pool = null;
    }
    if (!pool) {
      const size = Math.max(
        bytes,
        Math.min(this.maxBindingBytes, 2 ** Math.ceil(Math.log2(bytes))),
      );
      pool = {
        device,
        size,
        staging: device.createBuffer({
          label: "shared upload staging",
          size,
          usage: GPUBufferUsage.MAP_WRITE | GPUBufferUsage.COPY_SRC,
          mappedAtCreation: true,
        }),
        target: null,
        mapped: null,
      };
      this.#upload = pool;
    }
    if (pool.mapped) await pool.mapped;
    pool.mapped = null;
    if (pool.staging.mapState !== "mapped") await pool.staging.mapAsync(GPUMapMode.WRITE);
    // In pieces: under Deno each mapped range is its own ArrayBuffer, and ranges below the C
    // allocator's mmap threshold (128 KiB) reuse memory where larger ones land on fresh pages,
    // which fault in at 0.2–0.5 GB/s on a loaded machine (measured: 23.5 MB in ~60–90 ms in
    // 64 KiB pieces, ~170–210 ms in 1 MiB pieces).
    const src = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    for (let o = 0; o < src.length; o += UPLOAD_PIECE) {
      const n = Math.min(UPLOAD_PIECE, src.length - o);
      new Uint8Array(pool.staging.getMappedRange(o, n)).set(src.subarray(o, o + n));
    }
    pool.staging.unmap();
    return pool;
  }

  /** Submits the staging copy in `encoder` and maps the staging buffer again for the next call. */
  #submitUpload(device: GPUDevice, pool: UploadPool, encoder: GPUCommandEncoder): void {
    device.queue.submit([encoder.finish()]);
    const staging = pool.staging;
    pool.mapped = staging.mapAsync(GPUMapMode.WRITE).catch(() => {});
  }

  /** Drops the kept upload buffers and texture, and the resources kept between units. */
  #dropUpload(): void {
    this.releaseKept();
    this.#dropStaging();
  }

  #dropStaging(): void {
    const pool = this.#upload;
    this.#upload = null;
    if (!pool) return;
    pool.staging.destroy();
    pool.target?.destroy();
  }

  /**
   * Waits briefly for `device.lost` and says whether `device` is gone. Used after a failure to
   * tell a lost device (redo the work) from a bug (rethrow).
   */
  async confirmLost(device: GPUDevice): Promise<boolean> {
    if (this.#lost.has(device)) return true;
    await Promise.race([device.lost, new Promise((r) => setTimeout(r, 200))]);
    return this.#lost.has(device);
  }

  /**
   * Replaces a lost device: a fresh device from a fresh adapter, or the CPU path when none can
   * be had. The pipeline cache is cleared.
   */
  async recover(reason: string): Promise<void> {
    this.recoveries++;
    this.#pipelines.clear();
    this.#dropUpload();
    const warn = this.#options.onWarning;
    try {
      usePrivateRuntimeDir();
      const adapter = await navigator.gpu?.requestAdapter({
        powerPreference: this.#options.powerPreference,
      });
      if (adapter) {
        const device = await adapter.requestDevice({
          label: "salience kernels (recovered)",
          requiredLimits: neededLimits(adapter),
        });
        this.device = device;
        this.#ownsDevice = true;
        this.backend = "webgpu";
        this.adapterName = adapterDescription(adapter);
        this.isSoftware = isSoftwareGpuAdapter(adapter);
        this.note = `device lost (${reason}); replaced`;
        this.#watch(device);
        warn?.(`WebGPU device lost (${reason}); continuing on a new device`);
        return;
      }
    } catch {
      // fall through to the CPU path
    }
    this.device = null;
    this.backend = "cpu";
    this.note = `device lost (${reason}); no replacement, running the reference kernels`;
    warn?.(`WebGPU device lost (${reason}); continuing on the CPU reference kernels`);
  }

  #watch(device: GPUDevice): void {
    device.lost.then((info) => {
      this.#lost.add(device);
      if (info.reason !== "destroyed" || this.device === device) {
        this.#options.onWarning?.(`WebGPU device lost: ${info.reason} ${info.message}`);
      }
    });
    device.addEventListener("uncapturederror", (event) => {
      const message = (event as GPUUncapturedErrorEvent).error?.message ?? "unknown error";
      this.#options.onWarning?.(`WebGPU uncaptured error: ${message}`);
    });
  }
}

function infoDescription(info: GPUAdapterInfo): string {
  const parts = [info.description, info.vendor && `vendor ${info.vendor}`, info.architecture]
    .filter((s) => s && s.length > 0);
  return parts.length > 0 ? parts.join(", ") : "unnamed adapter";
}

function adapterDescription(adapter: GPUAdapter): string {
  return infoDescription(adapter.info);
}

function isSoftwareGpuAdapter(adapter: GPUAdapter): boolean {
  return isSoftwareAdapter(adapter.info as AdapterFacts) ||
    Boolean((adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter);
}

function neededLimits(adapter: GPUAdapter): Record<string, number> {
  const l = adapter.limits;
  return {
    maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
    maxBufferSize: l.maxBufferSize,
    maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
    maxComputeWorkgroupSizeY: l.maxComputeWorkgroupSizeY,
    maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
    maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
  };
}

/**
 * Acquires the WebGPU adapter and device the kernels run on, requesting the adapter's full
 * storage-buffer, buffer-size and workgroup limits, and watching `device.lost` and
 * `uncapturederror`. Where no adapter exists (or `forceCpu` is set) the returned object runs
 * the pure-TypeScript reference kernels and {@linkcode Gpu.describe} says so.
 *
 * Cost: one adapter and device request (tens of milliseconds). Never throws for want of a GPU.
 *
 * @throws {RangeError} when `maxBindingBytes` is not an integer ≥ 16, or a caller's `device`
 * lacks a positive `maxStorageBufferBindingSize`, `maxBufferSize` or
 * `maxComputeWorkgroupsPerDimension` limit.
 *
 * @example
 * ```ts
 * import { requestGpu } from "./mod.ts";
 * const gpu = await requestGpu({ forceCpu: true });
 * if (gpu.backend !== "cpu") throw new Error("forceCpu was ignored");
 * console.log(gpu.describe());
 * ```
 */
export async function requestGpu(options: RequestGpuOptions = {}): Promise<Gpu> {
  if (options.device) {
    // Sizes are computed from these limits: refuse a device that lacks them here, at the entry,
    // rather than let an undefined limit become a NaN size deep inside a kernel.
    for (const name of LIMITS_USED) deviceLimit(options.device, name);
    // GPUDevice.adapterInfo names the adapter behind a caller's device where the runtime has it.
    const info = (options.device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
    const described = info ? infoDescription(info) : undefined;
    return new Gpu({
      device: options.device,
      adapterName: options.adapterName ?? described ?? "caller-provided device",
      isSoftware: isSoftwareAdapter(info ? info as AdapterFacts : options.adapterName ?? ""),
      ownsDevice: false,
      options,
    });
  }
  const cpu = (note: string) =>
    new Gpu({
      device: null,
      adapterName: "none",
      isSoftware: false,
      ownsDevice: false,
      note,
      options,
    });
  if (options.forceCpu) return cpu("forced by the forceCpu option");
  if (typeof navigator === "undefined" || !("gpu" in navigator) || !navigator.gpu) {
    return cpu("this runtime has no navigator.gpu (Deno needs --unstable-webgpu)");
  }
  let adapter: GPUAdapter | null = null;
  try {
    usePrivateRuntimeDir();
    adapter = await navigator.gpu.requestAdapter({ powerPreference: options.powerPreference });
  } catch (error) {
    return cpu(`requestAdapter failed: ${(error as Error).message}`);
  }
  if (!adapter) return cpu("no WebGPU adapter found");
  try {
    const device = await adapter.requestDevice({
      label: "salience kernels",
      requiredLimits: neededLimits(adapter),
    });
    return new Gpu({
      device,
      adapterName: adapterDescription(adapter),
      isSoftware: isSoftwareGpuAdapter(adapter),
      ownsDevice: true,
      options,
    });
  } catch (error) {
    return cpu(`requestDevice failed: ${(error as Error).message}`);
  }
}
