// Texture-fed variants of the tiled convolutions (_tiled_conv.ts), dispatched by hand into
// tfjs-backend-webgpu's own command stream. On software adapters (lavapipe) a storage-buffer load
// costs 30–40 ns per invocation while a texel fetch costs about 4 ns, so the operands the tiled
// loops re-read (x or dy, and the filter or dy) are first copied into flat 2-D textures
// (copyBufferToTexture from the tensor's GPUBuffer: element or vec4 t at (t mod 2^shift,
// t >> shift), as kernels/gpu's texelAt; to be folded into one helper with it) and fetched with
// textureLoad. Channels that are a multiple of 4 go into rgba32float texels (one fetch per 4
// channels), others into r32float.
//
// Encoding follows the backend's own helpers: copies run outside a compute pass
// (endComputePassEncoder, then the backend's commandEncoder), the dispatch goes into the
// backend's compute pass, its tensors are marked as owned by the command queue (so a disposal
// waits for the submit), and the pass is submitted after WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE
// dispatches exactly as runWebGPUProgram does. Textures are pooled per size and slot: commands
// of one queue run in order, so a later copy into the same texture waits for earlier readers.
import * as tf from "@tensorflow/tfjs-core";
import { type FlatSpec, storedAsFloat32, type WebGpuBackend } from "./_webgpu_types.ts";

/** The backend internals the raw dispatch uses (tfjs-backend-webgpu 4.22). */
type Internals = {
  device: GPUDevice;
  commandEncoder: GPUCommandEncoder | null;
  computePassEncoder: GPUComputePassEncoder | null;
  dispatchCountInPass: number;
  commandQueueOwnedIds: WeakSet<object>;
  activeTimers?: { name: string; query: Promise<number> }[] | null;
  supportTimestampQuery?: boolean;
  querySet: GPUQuerySet | null;
  querySetCount: number;
  getQueryTime(): Promise<number>;
  tensorMap: { get(id: object): { resource?: unknown; dtype: string } | undefined };
  uploadToGPU(id: object): void;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  makeTensorInfo(shape: number[], dtype: tf.DataType): tf.TensorInfo;
};

/** How one operand is fed: texel format and the flat layout's row shift. */
export interface TexOperand {
  format: "rgba32float" | "r32float";
  shift: number;
}

const BYTES = { rgba32float: 16, r32float: 4 } as const;

/** log2 of the widest rows a flat texture takes (8,192 texels: WebGPU's default 2-D limit). */
const WIDE_SHIFT = 13;

/**
 * Flat layout of `elements` floats in `format`: 2^shift texels per row (rows of ≥ 256 bytes),
 * about square; `wide`: rows of 2^13 texels whatever the size, so that the shift written into a
 * shader does not change with the batch.
 */
export function texLayout(
  elements: number,
  format: TexOperand["format"],
  wide = false,
): TexOperand & { texels: number; rows: number } {
  const per = format === "rgba32float" ? 4 : 1;
  const texels = Math.ceil(elements / per);
  const minShift = Math.log2(256 / BYTES[format]);
  const shift = wide
    ? WIDE_SHIFT
    : Math.max(minShift, Math.min(WIDE_SHIFT, Math.ceil(Math.log2(Math.sqrt(texels)))));
  return { format, shift, texels, rows: Math.ceil(texels / 2 ** shift) };
}

/** WGSL fetch function `name(t: i32) -> vec4<f32>` of flat texel t from texture `tex`. */
export function fetchFn(name: string, tex: string, op: TexOperand): string {
  const mask = 2 ** op.shift - 1;
  return `fn ${name}(t : i32) -> vec4<f32> {
  let u = u32(t);
  return textureLoad(${tex}, vec2<u32>(u & ${mask}u, u >> ${op.shift}u), 0);
}`;
}

/** Whether raw texture dispatch can run on this backend (its internals are as expected). */
export function canDispatchRaw(backend: WebGpuBackend): boolean {
  const b = backend as unknown as Partial<Internals>;
  return b.device !== undefined && typeof b.ensureCommandEncoderReady === "function" &&
    typeof b.endComputePassEncoder === "function" && typeof b.submitQueue === "function" &&
    b.commandQueueOwnedIds !== undefined &&
    (!b.activeTimers || typeof b.getQueryTime === "function");
}

const pipelines = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();
const textures = new WeakMap<GPUDevice, Map<string, GPUTexture>>();

const compiled: string[] = [];

/**
 * How many raw pipelines whose key starts with `prefix` have been compiled so far (tests check
 * that a new batch size reuses the convolutions' pipelines).
 */
export function rawPipelinesCompiled(prefix = ""): number {
  return compiled.filter((k) => k.startsWith(prefix)).length;
}

function pipelineFor(device: GPUDevice, key: string, code: string): GPUComputePipeline {
  let cache = pipelines.get(device);
  if (!cache) pipelines.set(device, cache = new Map());
  let p = cache.get(key);
  if (!p) {
    const module = device.createShaderModule({ label: key, code });
    p = device.createComputePipeline({
      label: key,
      layout: "auto",
      compute: { module, entryPoint: "main_" },
    });
    cache.set(key, p);
    compiled.push(key);
  }
  return p;
}

function textureFor(device: GPUDevice, op: TexOperand, rows: number, slot: number): GPUTexture {
  let pool = textures.get(device);
  if (!pool) textures.set(device, pool = new Map());
  const key = `${op.format}_${op.shift}_${rows}_${slot}`;
  let t = pool.get(key);
  if (!t) {
    t = device.createTexture({
      label: `salienceConvTexture_${key}`,
      size: [2 ** op.shift, rows],
      format: op.format,
      usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST,
    });
    pool.set(key, t);
  }
  return t;
}

/** Whether `elements` floats in `format` fit one texture of the device. */
export function fitsTexture(
  device: GPUDevice,
  elements: number,
  format: TexOperand["format"],
  wide = false,
) {
  const l = texLayout(elements, format, wide);
  const max = device.limits.maxTextureDimension2D;
  return 2 ** l.shift <= max && l.rows <= max;
}

/** One raw program: WGSL with entry point `main_`, binding 0 the output, then textures, then buffers. */
export interface RawProgram {
  key: string;
  code: string;
  outShape: number[];
  dispatch: [number, number, number];
  /** Texture operands in binding order (1, 2, …), each with its layout. */
  textures: { tensor: tf.TensorInfo; op: TexOperand }[];
  /** Storage-buffer operands after the textures. */
  buffers: tf.TensorInfo[];
  /**
   * Integer uniforms (`uniforms.<name>` in the shader, declared by {@link rawPrelude} with the
   * same names in the same order), bound after the buffers: sizes that vary between calls of one
   * pipeline (the batch), so they do not enter its key.
   */
  ints?: Record<string, number>;
}

const uniformBuffers = new WeakMap<GPUDevice, Map<string, GPUBuffer>>();

/** A uniform buffer holding `values` (i32), kept per device and content: written once, never changed. */
function uniformBufferFor(device: GPUDevice, values: number[]): GPUBuffer {
  let pool = uniformBuffers.get(device);
  if (!pool) uniformBuffers.set(device, pool = new Map());
  const key = values.join("_");
  let buf = pool.get(key);
  if (!buf) {
    // Uniform structs round up to 16 bytes.
    const bytes = 16 * Math.ceil((4 * values.length) / 16);
    buf = device.createBuffer({
      label: `salienceConvUniforms_${key}`,
      size: bytes,
      usage: GPUBufferUsage.UNIFORM,
      mappedAtCreation: true,
    });
    new Int32Array(buf.getMappedRange()).set(values);
    buf.unmap();
    pool.set(key, buf);
  }
  return buf;
}

function bufferOf(b: Internals, t: tf.TensorInfo): GPUBuffer {
  b.uploadToGPU(t.dataId);
  const r = b.tensorMap.get(t.dataId)?.resource;
  if (!(r instanceof GPUBuffer)) {
    throw new TypeError(
      `Tensor [${t.shape}] is not held in a GPUBuffer; a texture conv needs one.`,
    );
  }
  return r;
}

function copyIn(b: Internals, t: tf.TensorInfo, op: TexOperand, slot: number): GPUTexture {
  const elements = t.shape.reduce((a, c) => a * c, 1);
  const texels = Math.ceil(elements / (op.format === "rgba32float" ? 4 : 1));
  const l = { shift: op.shift, texels, rows: Math.ceil(texels / 2 ** op.shift) };
  const tex = textureFor(b.device, op, l.rows, slot);
  const src = bufferOf(b, t);
  const width = 2 ** l.shift, bytesPerRow = width * BYTES[op.format];
  const full = Math.floor(l.texels / width), rest = l.texels - full * width;
  b.ensureCommandEncoderReady();
  b.endComputePassEncoder();
  const enc = b.commandEncoder!;
  if (full > 0) {
    enc.copyBufferToTexture({ buffer: src, bytesPerRow }, { texture: tex }, [width, full]);
  }
  if (rest > 0) {
    enc.copyBufferToTexture(
      { buffer: src, offset: full * bytesPerRow, bytesPerRow },
      { texture: tex, origin: [0, full] },
      [rest, 1],
    );
  }
  b.commandQueueOwnedIds.add(t.dataId);
  return tex;
}

/**
 * Encodes `p` into the backend's command stream: copies its texture operands, dispatches it in
 * the backend's compute pass, and submits as runWebGPUProgram would. Returns the output tensor.
 */
export function dispatchRaw(backend: WebGpuBackend, p: RawProgram): tf.TensorInfo {
  const b = backend as unknown as Internals;
  const out = b.makeTensorInfo(p.outShape, "float32");
  const outBuf = bufferOf(b, out);
  const views = p.textures.map((o, i) => copyIn(b, o.tensor, o.op, i).createView());
  const buffers = p.buffers.map((t) => bufferOf(b, t));
  const pipeline = pipelineFor(b.device, p.key, p.code);
  const bindGroup = b.device.createBindGroup({
    label: p.key,
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: { buffer: outBuf } },
      ...views.map((v, i) => ({ binding: 1 + i, resource: v })),
      ...buffers.map((buf, i) => ({ binding: 1 + views.length + i, resource: { buffer: buf } })),
      ...(p.ints
        ? [{
          binding: 1 + views.length + buffers.length,
          resource: { buffer: uniformBufferFor(b.device, Object.values(p.ints)) },
        }]
        : []),
    ],
  });
  for (const t of p.buffers) b.commandQueueOwnedIds.add(t.dataId);
  b.commandQueueOwnedIds.add(out.dataId);
  b.ensureCommandEncoderReady();
  // Under tf.profile (activeTimers set) the dispatch gets its own timed pass, as the backend's
  // own programs do, so a profile times this path (the texture copies, outside the pass, are not
  // counted).
  const timed = b.activeTimers != null;
  if (timed && b.supportTimestampQuery) {
    b.endComputePassEncoder();
    b.querySet ??= b.device.createQuerySet({ type: "timestamp", count: b.querySetCount });
    b.computePassEncoder = b.commandEncoder!.beginComputePass({
      timestampWrites: {
        querySet: b.querySet,
        beginningOfPassWriteIndex: 0,
        endOfPassWriteIndex: 1,
      },
    });
  } else if (!b.computePassEncoder) b.computePassEncoder = b.commandEncoder!.beginComputePass();
  b.computePassEncoder.setPipeline(pipeline);
  b.computePassEncoder.setBindGroup(0, bindGroup);
  b.computePassEncoder.dispatchWorkgroups(...p.dispatch);
  b.dispatchCountInPass++;
  if (timed) {
    b.endComputePassEncoder();
    b.activeTimers!.push({ name: p.key, query: b.getQueryTime() });
  } else if (
    (tf.env().get("WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE") as number) <= b.dispatchCountInPass
  ) {
    b.endComputePassEncoder();
    b.submitQueue();
  }
  return out;
}

/**
 * The WGSL around a tiled body `fn main(index : i32)`: bindings and the entry point `main_`;
 * `ints` names the i32 fields of `uniforms` (a program's {@link RawProgram.ints}), bound last.
 */
export function rawPrelude(
  vecOut: boolean,
  texNames: string[],
  bufNames: string[],
  wg: number,
  ints: string[] = [],
): string {
  const lines = [
    `@group(0) @binding(0) var<storage, read_write> result : array<${
      vecOut ? "vec4<f32>" : "f32"
    }>;`,
    ...texNames.map((n, i) => `@group(0) @binding(${1 + i}) var ${n} : texture_2d<f32>;`),
    ...bufNames.map((n, i) =>
      `@group(0) @binding(${1 + texNames.length + i}) var<storage, read> ${n} : array<f32>;`
    ),
    ...(ints.length
      ? [
        `struct Uniforms { ${ints.map((n) => `${n} : i32,`).join(" ")} }`,
        `@group(0) @binding(${
          1 + texNames.length + bufNames.length
        }) var<uniform> uniforms : Uniforms;`,
      ]
      : []),
    `var<private> workgroupId : vec3<u32>;`,
    `var<private> localIndex : u32;`,
    `@compute @workgroup_size(${wg}) fn main_(@builtin(workgroup_id) wid : vec3<u32>,`,
    `    @builtin(local_invocation_index) li : u32, @builtin(global_invocation_id) gid : vec3<u32>) {`,
    `  workgroupId = wid;`,
    `  localIndex = li;`,
    `  main(i32(gid.x));`,
    `}`,
  ];
  return lines.join("\n");
}

/** Operands a flat pass fetches from textures (by variable name), with their layouts. */
export type Textures = Record<string, TexOperand>;

/**
 * WGSL `load4_<name>(o : i32) -> vec4<f32>`: 4 consecutive floats at flat offset o of `name`,
 * from its texture where `op` is given (one rgba texel, o a multiple of 4; or four r32float
 * texels), else from the storage array `name`.
 */
export function load4Fn(name: string, op?: TexOperand): string {
  if (!op) {
    return `
fn load4_${name}(o : i32) -> vec4<f32> { return vec4<f32>(${name}[o], ${name}[o + 1], ${name}[o + 2], ${name}[o + 3]); }`;
  }
  const body = op.format === "rgba32float"
    ? `ld_${name}(o / 4)`
    : `vec4<f32>(ld_${name}(o).x, ld_${name}(o + 1).x, ld_${name}(o + 2).x, ld_${name}(o + 3).x)`;
  return `
${fetchFn(`ld_${name}`, name, op)}
fn load4_${name}(o : i32) -> vec4<f32> { return ${body}; }`;
}

/**
 * Texture layouts of the `names` among a pass's inputs (rgba texels for C a multiple of 4, else
 * r32float), or null where the pass runs as a tfjs program on storage buffers instead (no raw
 * dispatch on this backend, an input not stored as f32, or too large for one texture).
 */
let flatTextures = true;

/** Whether {@link texturesFor} hands out textures (set with the tiled convolutions' switch). */
export function useFlatTextures(on: boolean): void {
  flatTextures = on;
}

export function texturesFor(
  backend: WebGpuBackend,
  names: string[],
  all: string[],
  inputs: tf.TensorInfo[],
  C: number,
): Textures | null {
  if (!flatTextures || names.length === 0 || !canDispatchRaw(backend)) return null;
  if (!inputs.every((t) => storedAsFloat32(backend, t))) return null;
  const device = (backend as unknown as Internals).device;
  const format = C % 4 === 0 ? "rgba32float" : "r32float";
  const tex: Textures = {};
  for (const n of names) {
    const t = inputs[all.indexOf(n)]!;
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size === 0 || !fitsTexture(device, size, format)) return null;
    tex[n] = texLayout(size, format);
  }
  return tex;
}

/**
 * A flat program in runFlat's form (`uniforms.<name>` for each of `ints`, `floats` and
 * `invocations`; one invocation per `index`; output `result`, f32) dispatched raw with the
 * `tex` inputs bound as textures and the others as storage buffers: every uniform is written
 * into the shader as a constant (one pipeline per shape).
 */
export function runFlatTextured(
  backend: WebGpuBackend,
  spec: FlatSpec,
  inputs: tf.TensorInfo[],
  tex: Textures,
): tf.TensorInfo {
  let wgsl = spec.code;
  const ints = { invocations: spec.invocations, ...spec.ints };
  for (const [k, v] of Object.entries(ints)) {
    wgsl = wgsl.replaceAll(new RegExp(`uniforms\\.${k}\\b`, "g"), String(v));
  }
  for (const [k, v] of Object.entries(spec.floats ?? {})) {
    wgsl = wgsl.replaceAll(new RegExp(`uniforms\\.${k}\\b`, "g"), `f32(${v})`);
  }
  const at = (n: string) => inputs[spec.names.indexOf(n)]!;
  const texNames = spec.names.filter((n) => tex[n]);
  const bufNames = spec.names.filter((n) => !tex[n]);
  return dispatchRaw(backend, {
    key: `${spec.key}_${Object.values(ints).join("_")}_${
      Object.values(spec.floats ?? {}).join("_")
    }_${texNames.map((n) => `${tex[n]!.format}${tex[n]!.shift}`).join("_")}`,
    code: `${rawPrelude(false, texNames, bufNames, 64)}\n${wgsl}`,
    outShape: spec.outputShape,
    dispatch: [Math.ceil(spec.invocations / 64), 1, 1],
    textures: texNames.map((n) => ({ tensor: at(n), op: tex[n]! })),
    buffers: bufNames.map(at),
  });
}
