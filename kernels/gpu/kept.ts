/**
 * Device resources kept between units of work: the buffers, textures, uniforms, read-back
 * buffer and bind groups a kernel asks for under the same label in every unit, so that a stream
 * of batches allocates them once instead of per batch. On lavapipe a fresh buffer or texture is
 * fresh memory that wgpu zero-fills before first use: at M = 256 models × 79 samples the Gram
 * stage's outputs and the packed cosines are about 20 MB each, whose page faults cost tens of
 * milliseconds per batch on a loaded machine.
 *
 * A {@linkcode KeptPool} belongs to one device (the `Gpu` drops it with the device). A unit of
 * work runs alone on its `Gpu` (`Gpu.exclusive`) and copies what it reads back out before it
 * ends, so the next unit may overwrite every kept resource.
 *
 * @module
 */

/** The texel formats a flat texture takes. */
export type FlatFormat = "r32float" | "r32uint" | "rgba32float" | "rgba32uint";

/** Contents at most this long are compared with what a kept resource holds, to skip rewriting it. */
const COMPARE_UP_TO = 1 << 16;

/** The most bind groups kept; past it the cache starts over. */
const MAX_GROUPS = 1024;

function sameWords(a: Uint32Array | undefined, b: Uint32Array): boolean {
  if (a === undefined || a.length !== b.length) return false;
  for (let i = 0; i < b.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function wordsOf(data: ArrayBufferView): Uint32Array | null {
  return data.byteLength % 4 === 0 && data.byteOffset % 4 === 0
    ? new Uint32Array(data.buffer, data.byteOffset, data.byteLength / 4)
    : null;
}

/**
 * The resources kept for one device, by key (a label and its occurrence within the unit, which
 * {@linkcode BufferSet} supplies). A buffer is reused while it is large enough and has the same
 * usage; a texture while it has the same format and width and enough rows. Short contents are
 * remembered and not written again while they are unchanged (a batch stream's plan, tile pairs
 * and dispatch parameters repeat).
 */
export class KeptPool {
  readonly #buffers = new Map<string, GPUBuffer>();
  readonly #textures = new Map<string, GPUTexture>();
  readonly #contents = new Map<string, Uint32Array>();
  readonly #groups = new Map<string, GPUBindGroup>();
  readonly #ids = new WeakMap<object, number>();
  readonly #views = new WeakMap<GPUTexture, GPUTextureView>();
  #nextId = 1;

  constructor(readonly device: GPUDevice) {}

  /** A buffer of at least `bytes` bytes (a multiple of 16) with `usage`, kept under `key`. */
  buffer(key: string, bytes: number, usage: number): GPUBuffer {
    const k = `${key}|${usage}`;
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    let buffer = this.#buffers.get(k);
    if (!buffer || buffer.size < size) {
      // Bind groups over a replaced buffer would hold a destroyed one.
      if (buffer) this.#groups.clear();
      buffer?.destroy();
      this.#contents.delete(k);
      buffer = this.device.createBuffer({ label: key, size, usage });
      this.#buffers.set(k, buffer);
    }
    return buffer;
  }

  /**
   * A kept buffer (usage must include COPY_DST) holding `data` from offset 0, written with
   * `queue.writeBuffer` unless it already holds the same short contents.
   */
  bufferWith(key: string, data: ArrayBufferView, usage: number): GPUBuffer {
    const buffer = this.buffer(key, data.byteLength, usage);
    const k = `${key}|${usage}`;
    const words = wordsOf(data);
    if (words && sameWords(this.#contents.get(k), words)) return buffer;
    if (data.byteLength % 4 === 0) {
      this.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    } else {
      const padded = new Uint8Array(Math.ceil(data.byteLength / 4) * 4);
      padded.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      this.device.queue.writeBuffer(buffer, 0, padded);
    }
    this.#remember(k, words);
    return buffer;
  }

  /**
   * A flat texture (`width` texels wide, at least `rows` rows) kept under `key`, with `usage`;
   * filled from `contents` (texels row after row; a partial last row is written as far as it
   * goes) unless it already holds the same short contents.
   */
  texture(
    key: string,
    format: FlatFormat,
    width: number,
    rows: number,
    usage: number,
    contents?: Uint32Array | Float32Array,
  ): GPUTexture {
    const k = `${key}|${format}|${width}|${usage}`;
    let texture = this.#textures.get(k);
    if (!texture || texture.height < rows) {
      if (texture) this.#groups.clear();
      texture?.destroy();
      this.#contents.delete(k);
      texture = this.device.createTexture({ label: key, size: [width, rows], format, usage });
      this.#textures.set(k, texture);
    }
    const words = contents ? wordsOf(contents) : null;
    if (contents && !(words && sameWords(this.#contents.get(k), words))) {
      const channels = format.startsWith("rgba") ? 4 : 1;
      const perRow = width * channels;
      const full = Math.floor(contents.length / perRow);
      const tail = Math.floor((contents.length - full * perRow) / channels);
      const bytesPerRow = width * 4 * channels;
      if (full > 0) {
        this.device.queue.writeTexture({ texture }, contents, { bytesPerRow }, [width, full]);
      }
      if (tail > 0) {
        this.device.queue.writeTexture(
          { texture, origin: [0, full] },
          contents,
          { offset: full * bytesPerRow, bytesPerRow },
          [tail, 1],
        );
      }
      this.#remember(k, contents);
    }
    return texture;
  }

  /** The bind group of `pipeline` over `entries`, made once per pipeline and resources. */
  bindGroup(
    label: string,
    pipeline: GPUComputePipeline,
    entries: GPUBindGroupEntry[],
  ): GPUBindGroup {
    const key = [
      this.#id(pipeline),
      ...entries.map((e) => {
        const r = e.resource as GPUBufferBinding | GPUTextureView;
        return "buffer" in r
          ? `${e.binding}:${this.#id(r.buffer)}@${r.offset ?? 0}+${r.size ?? "all"}`
          : `${e.binding}:${this.#id(r)}`;
      }),
    ].join(" ");
    let group = this.#groups.get(key);
    if (!group) {
      // Bounded: a caller whose resources change every unit would otherwise grow it forever.
      if (this.#groups.size >= MAX_GROUPS) this.#groups.clear();
      group = this.device.createBindGroup({
        label,
        layout: pipeline.getBindGroupLayout(0),
        entries,
      });
      this.#groups.set(key, group);
    }
    return group;
  }

  /** One view of `texture`, so that the bind groups over it repeat. */
  viewOf(texture: GPUTexture, label: string): GPUTextureView {
    let view = this.#views.get(texture);
    if (!view) {
      view = texture.createView({ label });
      this.#views.set(texture, view);
    }
    return view;
  }

  /**
   * Notes `data` as what the resource under `k` now holds when it is short enough to compare
   * next time (a copy of its words), else forgets what it held.
   */
  #remember(k: string, data: Uint32Array | Float32Array | null): void {
    if (data && data.length <= COMPARE_UP_TO) {
      const bytes = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
      this.#contents.set(k, new Uint32Array(bytes));
    } else this.#contents.delete(k);
  }

  #id(o: object): number {
    let id = this.#ids.get(o);
    if (id === undefined) {
      id = this.#nextId++;
      this.#ids.set(o, id);
    }
    return id;
  }

  /** Destroys every kept buffer and texture. */
  destroy(): void {
    for (const b of this.#buffers.values()) b.destroy();
    for (const t of this.#textures.values()) t.destroy();
    this.#buffers.clear();
    this.#textures.clear();
    this.#contents.clear();
    this.#groups.clear();
  }
}
