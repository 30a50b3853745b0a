/**
 * JPEG decoding to uint8 RGB with `jpeg-js` (pure JavaScript, so it runs wherever Deno does).
 *
 * @module
 */
import jpeg from "jpeg-js";

/**
 * Decodes one JPEG into uint8 RGB (H×W×3), checking its size.
 *
 * Cost: jpeg-js decoding, about a millisecond for 64×64.
 *
 * @throws {SyntaxError} when the bytes are not a decodable JPEG; {TypeError} when it is not
 *   `width`×`height`
 * @example
 * ```ts
 * import jpeg from "jpeg-js";
 * import { decodeJpegRgb } from "./jpeg.ts";
 * const rgba = new Uint8Array(2 * 2 * 4).fill(255);
 * const file = jpeg.encode({ data: rgba, width: 2, height: 2 }, 90).data;
 * const rgb = decodeJpegRgb(file, { name: "white.jpg", width: 2, height: 2 });
 * if (rgb.length !== 12 || rgb[0]! < 250) throw new Error("bad decode");
 * ```
 */
export function decodeJpegRgb(
  bytes: Uint8Array,
  options: { name: string; width: number; height: number },
): Uint8Array {
  let image: { width: number; height: number; data: Uint8Array };
  try {
    image = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false });
  } catch (e) {
    throw new SyntaxError(
      `${options.name} is not a decodable JPEG (${e instanceof Error ? e.message : e}): ` +
        `replace it with the data set's original file`,
    );
  }
  if (image.width !== options.width || image.height !== options.height) {
    throw new TypeError(
      `${options.name} is ${image.width}×${image.height}, expected ${options.width}×${options.height}: ` +
        `use the data set's original images`,
    );
  }
  return image.data;
}
