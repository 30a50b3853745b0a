/**
 * @module
 * A batch buffer kept between a stream's passes. It has no imports, so the browser's analysis
 * bundles it without the file-system code of `source.ts`.
 */

/**
 * One batch buffer kept between the passes of a stream, so that each pass reuses the memory the
 * last one touched instead of a fresh allocation (a fresh 64 MB array costs its page faults on
 * first write: measured under Deno about 6× a copy into memory already touched). A pass takes
 * the kept buffer and gives it back when it ends; a pass that runs while another holds it gets
 * its own, so concurrent passes never share one.
 *
 * @example
 * ```ts
 * import { KeptBuffer } from "./kept_buffer.ts";
 * const kept = new KeptBuffer();
 * const a = kept.take(8);
 * kept.give(a);
 * if (kept.take(4) !== a) throw new Error("not reused");
 * ```
 */
export class KeptBuffer {
  #free: Float32Array | null = null;

  /** A buffer of at least `floats` floats: the kept one when it is large enough, else a new one. */
  take(floats: number): Float32Array {
    const kept = this.#free;
    this.#free = null;
    return kept !== null && kept.length >= floats ? kept : new Float32Array(floats);
  }

  /** Keeps `buffer` for the next {@linkcode take} (the larger of it and the one kept). */
  give(buffer: Float32Array): void {
    if (this.#free === null || this.#free.length < buffer.length) this.#free = buffer;
  }
}
