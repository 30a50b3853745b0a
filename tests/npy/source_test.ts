import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import * as fc from "fast-check";
import {
  createNpyRowWriter,
  type GradientBatch,
  openGradientSource,
  readNpy,
  writeNpy,
  writeSidecar,
} from "../../lib/npy/mod.ts";
import { FIXTURES, meta, tempDir } from "./_helpers.ts";
import { uniformFloats } from "../../lib/stats/mod.ts";

/** Writes M per-model [N, D] files with sidecars and one [M, N, D] file of the same values. */
async function writeBoth(dir: string, m: number, n: number, hw: [number, number]) {
  const d = hw[0] * hw[1];
  const all = uniformFloats(m * n * d, m * 1000 + n);
  const perModel: string[] = [];
  for (let i = 0; i < m; i++) {
    const path = `${dir}/m${i}.npy`;
    await writeNpy(path, [n, d], all.subarray(i * n * d, (i + 1) * n * d));
    const one = meta(m, n, hw);
    await writeSidecar(path, { ...one, models: [one.models[i]!] });
    perModel.push(path);
  }
  const stacked = `${dir}/all.npy`;
  await writeNpy(stacked, [m, n, d], all);
  await writeSidecar(stacked, meta(m, n, hw));
  return { all, perModel, stacked, d };
}

async function collect(it: AsyncIterable<GradientBatch>): Promise<GradientBatch[]> {
  const out: GradientBatch[] = [];
  for await (const b of it) out.push({ ...b, data: b.data.slice() });
  return out;
}

/** The expected batch [M][count][D] cut from the flat [M, N, D] array. */
function expectedBatch(all: Float32Array, m: number, n: number, d: number, s: number, c: number) {
  const out = new Float32Array(m * c * d);
  for (let i = 0; i < m; i++) {
    out.set(all.subarray((i * n + s) * d, (i * n + s + c) * d), i * c * d);
  }
  return out;
}

Deno.test("openGradientSource() streams the same batches from both layouts", async () => {
  await using dir = await tempDir();
  const [m, n] = [3, 10];
  const { all, perModel, stacked, d } = await writeBoth(dir.path, m, n, [2, 5]);
  for (const paths of [perModel, stacked]) {
    using src = await openGradientSource(paths);
    deepEqual([src.models, src.samples, src.dim], [m, n, d]);
    deepEqual(src.meta.models.map((x) => x.seed), [0, 1, 2]);
    for (const size of [1, 3, 4, 10, 25]) {
      const batches = await collect(src.batches(size));
      deepEqual(
        batches.map((b) => b.start),
        Array.from({ length: Math.ceil(n / size) }, (_, i) => i * size),
      );
      equal(batches.reduce((a, b) => a + b.count, 0), n);
      for (const b of batches) deepEqual(b.data, expectedBatch(all, m, n, d, b.start, b.count));
    }
  }
});

Deno.test("openGradientSource() batches over any sub-range match the data (property)", async () => {
  await using dir = await tempDir();
  const [m, n] = [2, 13];
  const { all, stacked, perModel, d } = await writeBoth(dir.path, m, n, [1, 3]);
  using a = await openGradientSource(stacked);
  using b = await openGradientSource(perModel);
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 15 }),
      fc.integer({ min: 0, max: n }),
      fc.integer({ min: 0, max: n }),
      fc.boolean(),
      async (size, x, y, reuseBuffer) => {
        const [start, end] = [Math.min(x, y), Math.max(x, y)];
        for (const src of [a, b]) {
          const batches = await collect(src.batches(size, { start, end, reuseBuffer }));
          equal(batches.reduce((acc, bt) => acc + bt.count, 0), end - start);
          for (const bt of batches) {
            ok(bt.count >= 1 && bt.count <= size);
            deepEqual(bt.data, expectedBatch(all, m, n, d, bt.start, bt.count));
          }
        }
      },
    ),
    { numRuns: 40 },
  );
});

Deno.test("openGradientSource() serves two concurrent iterations correctly", async () => {
  await using dir = await tempDir();
  const [m, n] = [2, 9];
  const { all, stacked, d } = await writeBoth(dir.path, m, n, [2, 3]);
  using src = await openGradientSource(stacked);
  const [a, b] = await Promise.all([
    collect(src.batches(2, { reuseBuffer: false })),
    collect(src.batches(4, { start: 1, reuseBuffer: false })),
  ]);
  for (const bt of [...a, ...b]) {
    deepEqual(bt.data, expectedBatch(all, m, n, d, bt.start, bt.count));
  }
  equal(a.length + b.length, 5 + 2);
});

Deno.test("openGradientSource() reads NumPy's [M, N, D] fixture model-major", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/np.npy`;
  await Deno.copyFile(`${FIXTURES}f4_2x3x4.npy`, path);
  await writeSidecar(path, meta(2, 3, [2, 2]));
  using src = await openGradientSource(path);
  const [first, second] = await collect(src.batches(2));
  // Batch 0: model 0 samples 0-1, then model 1 samples 0-1; value = 100m + 10n + d.
  deepEqual([...first!.data], [0, 1, 2, 3, 10, 11, 12, 13, 100, 101, 102, 103, 110, 111, 112, 113]);
  deepEqual([...second!.data], [20, 21, 22, 23, 120, 121, 122, 123]);
});

Deno.test("openGradientSource() reads what createNpyRowWriter() streamed, with its sidecar", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/grads.npy`;
  const data = uniformFloats(7 * 4, 9);
  const w = await createNpyRowWriter(path, { dim: 4, meta: meta(1, 7, [2, 2]) });
  for (let i = 0; i < 7; i += 3) await w.append(data.subarray(i * 4, Math.min(7, i + 3) * 4));
  await w.close();
  using src = await openGradientSource([path]);
  const [b] = await collect(src.batches(100));
  deepEqual(b!.data, data);
});

Deno.test("createNpyRowWriter() refuses to publish a file its sidecar disagrees with", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/grads.npy`;
  const w = await createNpyRowWriter(path, { dim: 4, meta: meta(1, 7, [2, 2]) });
  await w.append(new Float32Array(6 * 4));
  await rejects(w.close(), /probe\.count/);
  await rejects(Deno.stat(path), Deno.errors.NotFound);
  await rejects(Deno.stat(`${dir.path}/grads.json`), Deno.errors.NotFound);
});

Deno.test("openGradientSource() rejects shapes, mixes and disagreeing files", async () => {
  await using dir = await tempDir();
  const p = dir.path;
  const { perModel, stacked } = await writeBoth(p, 2, 4, [1, 3]);
  const cases: [string | string[], RegExp][] = [];
  // 1-D and 4-D arrays.
  await Deno.copyFile(`${FIXTURES}f4_5.npy`, `${p}/one.npy`);
  cases.push([`${p}/one.npy`, /1-D, expected \[N, D\]/]);
  await writeNpy(`${p}/four.npy`, [1, 2, 2, 3], new Float32Array(12));
  cases.push([`${p}/four.npy`, /4-D/]);
  // A 3-D file inside a list.
  cases.push([[stacked, perModel[0]!], /opened on its own/]);
  // Mismatched N, then mismatched D.
  await writeNpy(`${p}/n5.npy`, [5, 3], new Float32Array(15));
  await writeSidecar(`${p}/n5.npy`, meta(1, 5, [1, 3]));
  cases.push([[perModel[0]!, `${p}/n5.npy`], /disagrees with .*same N samples of D floats/]);
  await writeNpy(`${p}/d4.npy`, [4, 4], new Float32Array(16));
  await writeSidecar(`${p}/d4.npy`, meta(1, 4, [2, 2]));
  cases.push([[perModel[0]!, `${p}/d4.npy`], /disagrees with/]);
  // Same shape, different scalar or probe set.
  await writeNpy(`${p}/loss.npy`, [4, 3], new Float32Array(12));
  await writeSidecar(`${p}/loss.npy`, meta(1, 4, [1, 3], { scalar: "loss" }));
  cases.push([[perModel[0]!, `${p}/loss.npy`], /sidecar "scalar"/]);
  await writeNpy(`${p}/probe.npy`, [4, 3], new Float32Array(12));
  await writeSidecar(
    `${p}/probe.npy`,
    meta(1, 4, [1, 3], { probe: { dataset: "fashion-mnist", split: "train", count: 4 } }),
  );
  cases.push([[perModel[0]!, `${p}/probe.npy`], /sidecar "probe"/]);
  // Sidecar disagreeing with its own file.
  await writeNpy(`${p}/wrong.npy`, [2, 4, 3], new Float32Array(24));
  await writeSidecar(`${p}/wrong.npy`, meta(3, 4, [1, 3]));
  cases.push([`${p}/wrong.npy`, /"models" lists 3 models/]);
  cases.push([[], /no files given/]);
  for (const [paths, pattern] of cases) {
    await rejects(openGradientSource(paths), (e: Error) => {
      ok(e instanceof TypeError, `${paths}: ${e.name}: ${e.message}`);
      ok(pattern.test(e.message), `${paths}: ${e.message}`);
      return true;
    });
  }
});

Deno.test("openGradientSource() reports a missing sidecar and a missing file", async () => {
  await using dir = await tempDir();
  await writeNpy(`${dir.path}/bare.npy`, [2, 2], new Float32Array(4));
  await rejects(openGradientSource(`${dir.path}/bare.npy`), (e: Error) => {
    ok(e instanceof Deno.errors.NotFound && /bare\.json.*missing/.test(e.message), e.message);
    return true;
  });
  await rejects(openGradientSource(`${dir.path}/absent.npy`), Deno.errors.NotFound);
});

Deno.test("GradientSource.batches() rejects a bad batch size or range", async () => {
  await using dir = await tempDir();
  const { stacked } = await writeBoth(dir.path, 1, 4, [1, 2]);
  using src = await openGradientSource(stacked);
  for (const size of [0, -1, 1.5]) {
    await rejects(async () => {
      for await (const _ of src.batches(size)) { /* never reached */ }
    }, RangeError);
  }
  await rejects(async () => {
    for await (const _ of src.batches(2, { start: 3, end: 5 })) { /* never reached */ }
  }, RangeError);
  deepEqual((await readNpy(stacked)).shape, [1, 4, 2]);
});

Deno.test("GradientSource.batches() keeps its buffer for the next pass; passes at once get their own", async () => {
  await using dir = await tempDir();
  const [m, n] = [3, 7];
  const { all, stacked, perModel, d } = await writeBoth(dir.path, m, n, [1, 5]);
  for (const paths of [stacked, perModel]) {
    using src = await openGradientSource(paths);
    const buffers = new Set<ArrayBufferLike>();
    for (let pass = 0; pass < 2; pass++) {
      for await (const b of src.batches(3)) {
        buffers.add(b.data.buffer);
        deepEqual(b.data, expectedBatch(all, m, n, d, b.start, b.count));
      }
    }
    equal(buffers.size, 1);
    // Two passes at once, both reusing: each holds its own buffer, so neither sees the other's.
    const [a, b] = await Promise.all([collect(src.batches(2)), collect(src.batches(3))]);
    for (const bt of [...a, ...b]) {
      deepEqual(bt.data, expectedBatch(all, m, n, d, bt.start, bt.count));
    }
    equal(a.length + b.length, 4 + 3);
  }
});

Deno.test("GradientSource.batches() names a file cut short after it was opened", async () => {
  await using dir = await tempDir();
  const [m, n] = [2, 6];
  for (const size of [n, 4]) {
    // One read of the whole file (size = N) and one read per model (size < N) alike.
    const { stacked } = await writeBoth(dir.path, m, n, [1, 4]);
    using src = await openGradientSource(stacked);
    await Deno.truncate(stacked, (await Deno.stat(stacked)).size - 8);
    await rejects(collect(src.batches(size)), (e: Error) => {
      ok(e instanceof SyntaxError && /truncated after it was opened/.test(e.message), e.message);
      return true;
    });
  }
});
