/**
 * A minimal PNG encoder (8-bit RGB, no interlace, filter 0 on every row) on the platform's
 * `CompressionStream("deflate")`, for the images the report renders on the server.
 * @module
 */

import { crc32 } from "../store/io.ts";

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

async function deflate(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(
    new CompressionStream("deflate"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * Encodes `width × height` RGB pixels (row-major, 3 bytes each) as a PNG file.
 * Cost: O(width · height) plus one deflate.
 * @throws RangeError when `rgb` does not hold `width · height · 3` bytes or a side is not a
 *   positive integer.
 * @example
 * ```ts
 * import { encodePng } from "./png.ts";
 * const png = await encodePng(1, 1, new Uint8Array([255, 0, 0]));
 * if (png[1] !== 0x50 || png[2] !== 0x4e || png[3] !== 0x47) throw new Error("not a PNG");
 * ```
 */
export async function encodePng(
  width: number,
  height: number,
  rgb: Uint8Array,
): Promise<Uint8Array> {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`PNG size ${width}×${height} is not two positive integers.`);
  }
  if (rgb.length !== width * height * 3) {
    throw new RangeError(
      `PNG of ${width}×${height} needs ${width * height * 3} RGB bytes; got ${rgb.length}.`,
    );
  }
  const raw = new Uint8Array(height * (1 + width * 3));
  for (let y = 0; y < height; y++) {
    raw[y * (1 + width * 3)] = 0;
    raw.set(rgb.subarray(y * width * 3, (y + 1) * width * 3), y * (1 + width * 3) + 1);
  }
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit, RGB, deflate, filter 0, no interlace
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", await deflate(raw)),
    chunk("IEND", new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * A `data:image/png;base64,…` URL of PNG bytes (the site's CSP allows `data:` images).
 * @example
 * ```ts
 * import { pngDataUrl } from "./png.ts";
 * if (pngDataUrl(new Uint8Array([1, 2])) !== "data:image/png;base64,AQI=") throw new Error();
 * ```
 */
export function pngDataUrl(png: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < png.length; i += 0x8000) {
    bin += String.fromCharCode(...png.subarray(i, i + 0x8000));
  }
  return `data:image/png;base64,${btoa(bin)}`;
}
