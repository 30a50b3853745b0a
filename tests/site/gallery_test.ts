/**
 * HTTP tests of the salience gallery over the fixture sweep (whose seeds of one width share one
 * gradient, `sin(0.37·i + k)`): one section per probe image, one row per (family, width), the mean
 * direction and two seeds as server-rendered PNGs on one colour scale per image, no script; plus
 * the PNG encoder against zlib's inflate in the CRC and pixel bytes.
 */
import { assert, assertEquals, assertStringIncludes } from "./_assert.ts";
import { createApp } from "../../lib/site/mod.ts";
import { encodePng } from "../../lib/site/png.ts";
import { FIXTURE, writeFixtureSweep } from "./fixture.ts";
import { SITE } from "../../site.ts";

const root = await Deno.makeTempDir({ prefix: "site-gallery-" });
const sweep = await writeFixtureSweep(root);
const app = await createApp({ root, site: SITE });

function pngBytes(dataUrl: string): Uint8Array {
  const bin = atob(dataUrl.replace(/^data:image\/png;base64,/, ""));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

async function inflatePixels(png: Uint8Array): Promise<Uint8Array> {
  const view = new DataView(png.buffer, png.byteOffset);
  let o = 8;
  const idat: Uint8Array[] = [];
  while (o < png.length) {
    const len = view.getUint32(o);
    const type = String.fromCharCode(...png.subarray(o + 4, o + 8));
    if (type === "IDAT") idat.push(png.subarray(o + 8, o + 8 + len));
    o += 12 + len;
  }
  const stream = new Blob(idat as BlobPart[]).stream().pipeThrough(
    new DecompressionStream("deflate"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

Deno.test("gallery: one section per probe image, the mean direction and two seeds per width, no script", async () => {
  const res = await app.fetch(new Request(`http://127.0.0.1/sweeps/${sweep}/gallery/`));
  const text = await res.text();
  assertEquals(res.status, 200);
  assert(!text.includes("<script"), "the gallery needs no JavaScript");
  assertEquals((text.match(/class="gallery-image"/g) ?? []).length, 6);
  const rows = FIXTURE.families.length * FIXTURE.widths.length;
  assertEquals((text.match(/mean direction, probe image 0"/g) ?? []).length, rows);
  assertEquals((text.match(/seed \d, probe image 0"/g) ?? []).length, 2 * rows);
  // The fixture's data set (8×8) is not the gradients' input (28×28): said, not drawn.
  assertStringIncludes(text, "are not the shape the gradients were taken on");
  // Seeds of one width share their gradient: the mean direction's PNG is each seed's PNG.
  const srcs = [
    ...text.matchAll(
      /<img src="(data:[^"]+)" alt="CNNSmall k=4 (mean direction|seed \d), probe image 0"/g,
    ),
  ].map((m) => m[1]);
  assertEquals(srcs.length, 3);
  assert(srcs[0] === srcs[1] && srcs[1] === srcs[2], "identical gradients, identical maps");
  const png = pngBytes(srcs[0]!);
  const view = new DataView(png.buffer);
  assertEquals([view.getUint32(16), view.getUint32(20)], [28, 28]);
  // One scale per image: the largest |unit value| over the widths at image 0.
  let scale = 0;
  for (const k of FIXTURE.widths) {
    const v = Array.from({ length: FIXTURE.dimension }, (_, i) => Math.sin(i * 0.37 + k));
    const n = Math.hypot(...v);
    scale = Math.max(scale, ...v.map((x) => Math.abs(x) / n));
  }
  assertStringIncludes(text, `scale ±${scale.toFixed(3)}`);
});

Deno.test("encodePng() writes filter-0 rows that inflate back to the pixels", async () => {
  const rgb = Uint8Array.from({ length: 3 * 4 * 3 }, (_, i) => (i * 37) % 256);
  const png = await encodePng(4, 3, rgb);
  const raw = await inflatePixels(png);
  assertEquals(raw.length, 3 * (1 + 4 * 3));
  for (let y = 0; y < 3; y++) {
    assertEquals(raw[y * 13], 0);
    assertEquals([...raw.subarray(y * 13 + 1, y * 13 + 13)], [
      ...rgb.subarray(y * 12, y * 12 + 12),
    ]);
  }
  let threw = false;
  try {
    await encodePng(2, 2, new Uint8Array(5));
  } catch (e) {
    threw = e instanceof RangeError && (e as Error).message.includes("needs 12 RGB bytes");
  }
  assert(threw, "a wrong pixel count is refused with its sizes");
});

Deno.test("cleanup", async () => {
  await Deno.remove(root, { recursive: true });
});
