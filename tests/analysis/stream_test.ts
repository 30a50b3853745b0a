// The model-major batch stream the analysis reads `.npy` files and in-memory arrays through:
// batches of any size (the last one short), sample ranges, one kept buffer, and clear errors.
import { arrayStream, modelMajorStream } from "../../lib/analysis/mod.ts";
import { openNpy, writeNpy } from "../../lib/npy/mod.ts";
import { assertEquals, assertRejects } from "../_shared/assert.ts";

/** Samples `[s, s + c)` of every model of a flat `[M, N, D]` array, model-major. */
function expected(all: Float32Array, [m, n, d]: number[], s: number, c: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < m!; i++) out.push(...all.subarray((i * n! + s) * d!, (i * n! + s + c) * d!));
  return out;
}

const shape: [number, number, number] = [3, 11, 5];
const all = Float32Array.from({ length: 3 * 11 * 5 }, (_, i) => Math.sin(i * 0.61));

Deno.test("modelMajorStream() batches of odd sizes and ranges match the array, the last one short", async () => {
  for (const reuseBuffer of [false, true]) {
    const stream = arrayStream(all, shape);
    for (
      const [size, start, end] of [[1, 0, 11], [4, 0, 11], [11, 0, 11], [20, 0, 11], [3, 2, 9]]
    ) {
      const got: Array<[number, number, number[]]> = [];
      for await (const b of stream.batches(size!, { start, end, reuseBuffer })) {
        got.push([b.start, b.count, [...b.data]]);
      }
      const want: Array<[number, number, number[]]> = [];
      for (let s = start!; s < end!; s += size!) {
        const c = Math.min(size!, end! - s);
        want.push([s, c, expected(all, shape, s, c)]);
      }
      assertEquals(got, want);
    }
  }
});

Deno.test("modelMajorStream() reads a whole-array batch in one copy and keeps one buffer across passes", async () => {
  const calls: Array<[number, number]> = [];
  const stream = modelMajorStream(shape, (at, n, dst) => {
    calls.push([at, n]);
    dst.set(all.subarray(at, at + n));
  });
  const buffers = new Set<ArrayBufferLike>();
  for (let pass = 0; pass < 2; pass++) {
    for await (const b of stream.batches(11, { reuseBuffer: true })) {
      buffers.add(b.data.buffer);
      assertEquals([...b.data], [...all]);
    }
    for await (const b of stream.batches(4, { reuseBuffer: true })) buffers.add(b.data.buffer);
  }
  assertEquals(buffers.size, 1);
  // Per pass: one copy of all 165 floats, then 3 batches × 3 models.
  assertEquals(calls.slice(0, 1), [[0, 165]]);
  assertEquals(calls.length, 2 * (1 + 3 * 3));
  const fresh = new Set<ArrayBufferLike>();
  for await (const b of stream.batches(4)) fresh.add(b.data.buffer);
  assertEquals(fresh.size, 3);
});

Deno.test("modelMajorStream() over a file cut short after it was opened fails with one clear error", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stream-test-" });
  try {
    for (const size of [11, 4]) {
      const path = `${dir}/g.npy`;
      await writeNpy(path, shape, all);
      using file = await openNpy(path);
      const stream = modelMajorStream(shape, (at, n, dst) => file.readElements(at, n, dst));
      await Deno.truncate(path, (await Deno.stat(path)).size - 12);
      await assertRejects(
        async () => {
          for await (const _ of stream.batches(size, { reuseBuffer: true })) { /* reading */ }
        },
        SyntaxError,
        "truncated after it was opened",
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("modelMajorStream() rejects a bad batch size or range", async () => {
  const stream = arrayStream(all, shape);
  for (const [size, start, end] of [[0, 0, 11], [1.5, 0, 11], [2, 3, 12], [2, 5, 4], [2, -1, 3]]) {
    await assertRejects(
      async () => {
        for await (const _ of stream.batches(size!, { start, end })) { /* never reached */ }
      },
      RangeError,
    );
  }
});
