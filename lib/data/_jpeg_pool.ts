// Private: decodes many JPEG files into one uint8 RGB buffer, in Web Workers when there are
// enough of them (jpeg-js is pure JavaScript, about 1–3 ms per 64×64 image on one core).
import type { DataLocation } from "./types.ts";
import { decodeJpegRgb } from "./jpeg.ts";
import { readBytes, shown } from "./_bytes.ts";

/** A location as a worker can receive it (URL objects do not survive structured cloning). */
export type WireLocation = { path: string } | { href: string };

/** What a worker is asked to do: read and decode `files`, each `width`×`height`. */
export interface DecodeRequest {
  files: WireLocation[];
  width: number;
  height: number;
  /** Prefix of each file's name in messages, e.g. "TinyImageNet file". */
  label: string;
  /** The fix a missing file's message names. */
  fix: string;
}

/** A worker's answer: the pixels, or the error it met (rebuilt with its class by the caller). */
export type DecodeReply = { pixels: Uint8Array } | { error: { name: string; message: string } };

export function toWire(loc: DataLocation): WireLocation {
  return loc instanceof URL ? { href: loc.href } : { path: loc };
}

function fromWire(w: WireLocation): DataLocation {
  return "href" in w ? new URL(w.href) : w.path;
}

/** Reads and decodes `request.files` in order into one buffer (what each worker runs). */
export async function decodeRequest(request: DecodeRequest): Promise<Uint8Array> {
  const per = request.width * request.height * 3;
  const out = new Uint8Array(request.files.length * per);
  for (const [i, wire] of request.files.entries()) {
    const loc = fromWire(wire);
    const name = `${request.label} ${shown(loc)}`;
    const bytes = await readBytes(loc, `${name} is missing: ${request.fix}`);
    out.set(decodeJpegRgb(bytes, { name, width: request.width, height: request.height }), i * per);
  }
  return out;
}

function rebuild(error: { name: string; message: string }): Error {
  switch (error.name) {
    case "NotFound":
      return new Deno.errors.NotFound(error.message);
    case "SyntaxError":
      return new SyntaxError(error.message);
    case "TypeError":
      return new TypeError(error.message);
    case "RangeError":
      return new RangeError(error.message);
    default:
      return new Error(error.message);
  }
}

/** Below this many images, decoding stays on the calling thread (workers take time to start). */
export const INLINE_BELOW = 256;

/**
 * Decodes `files` (each `width`×`height`) into one NHWC uint8 RGB buffer, in file order. With
 * `workers` > 1 the files are split into chunks decoded by that many Web Workers; errors keep
 * their class and message.
 */
export async function decodeJpegFiles(
  files: DataLocation[],
  options: { width: number; height: number; label: string; fix: string; workers?: number },
): Promise<Uint8Array> {
  const { width, height, label, fix } = options;
  const auto = files.length < INLINE_BELOW ? 1 : Math.min(8, navigator.hardwareConcurrency || 1);
  const workers = Math.max(1, Math.min(options.workers ?? auto, files.length));
  const wire = files.map(toWire);
  if (workers === 1) return await decodeRequest({ files: wire, width, height, label, fix });
  const per = width * height * 3;
  const out = new Uint8Array(files.length * per);
  const chunk = Math.max(1, Math.min(64, Math.ceil(files.length / (workers * 4))));
  const url = new URL("./_jpeg_worker.ts", import.meta.url).href;
  const pool = Array.from({ length: workers }, () => new Worker(url, { type: "module" }));
  let next = 0;
  const run = async (worker: Worker): Promise<void> => {
    while (next < files.length) {
      const start = next;
      const end = Math.min(files.length, start + chunk);
      next = end;
      const request: DecodeRequest = { files: wire.slice(start, end), width, height, label, fix };
      const reply = await new Promise<DecodeReply>((resolve, reject) => {
        worker.onmessage = (e: MessageEvent<DecodeReply>) => resolve(e.data);
        worker.onerror = (e: ErrorEvent) => {
          e.preventDefault();
          reject(new Error(`a JPEG decoding worker failed: ${e.message}`));
        };
        worker.postMessage(request);
      });
      if ("error" in reply) throw rebuild(reply.error);
      out.set(reply.pixels, start * per);
    }
  };
  try {
    await Promise.all(pool.map(run));
  } finally {
    for (const w of pool) w.terminate();
  }
  return out;
}
