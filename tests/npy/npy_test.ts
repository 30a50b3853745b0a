import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import * as fc from "fast-check";
import {
  createNpyRowWriter,
  formatNpyHeader,
  openNpy,
  parseNpyHeader,
  readNpy,
  writeNpy,
} from "../../lib/npy/mod.ts";
import { FIXTURES, HAVE_NUMPY, python, tempDir } from "./_helpers.ts";
import { uniformFloats } from "../../lib/stats/mod.ts";

/** Test names carry the reason when the NumPy interop tests are skipped. */
const numpyName = (name: string) =>
  HAVE_NUMPY ? name : `${name} [skipped: python3 with NumPy is not installed]`;

/** (i - 3) / 4, the values make_fixtures.py writes into its flat fixtures. */
const flat = (n: number) => Array.from({ length: n }, (_, i) => (i - 3) / 4);

async function writeBytes(path: string, bytes: Uint8Array): Promise<void> {
  await Deno.writeFile(path, bytes);
}

/** Names of temporaries (`*.tmp-*`) a writer left in `dir`. */
async function temporariesIn(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) if (e.name.includes(".tmp-")) out.push(e.name);
  return out;
}

Deno.test("readNpy() reads NumPy's format versions 1.0, 2.0 and 3.0", async () => {
  for (const v of [1, 2, 3]) {
    const { shape, data } = await readNpy(`${FIXTURES}f4_2x3_v${v}.npy`);
    deepEqual(shape, [2, 3]);
    deepEqual([...data], flat(6));
  }
});

Deno.test("readNpy() reads NumPy's 3-D [M, N, D] file in C order", async () => {
  const { shape, data } = await readNpy(`${FIXTURES}f4_2x3x4.npy`);
  deepEqual(shape, [2, 3, 4]);
  for (let m = 0; m < 2; m++) {
    for (let n = 0; n < 3; n++) {
      for (let d = 0; d < 4; d++) equal(data[(m * 3 + n) * 4 + d], 100 * m + 10 * n + d);
    }
  }
});

Deno.test("openNpy() rejects other dtypes, naming the dtype", async () => {
  for (const [file, dtype] of [["f8_2x3", "<f8"], ["i4_2x3", "<i4"], ["f4be_2x3", ">f4"]]) {
    await rejects(openNpy(`${FIXTURES}${file}.npy`), (e: Error) => {
      ok(e instanceof TypeError, e.message);
      ok(e.message.includes(`'${dtype}'`) && e.message.includes("'<f4'"), e.message);
      return true;
    });
  }
});

Deno.test("openNpy() rejects Fortran order", async () => {
  await rejects(openNpy(`${FIXTURES}f4_2x3_fortran.npy`), (e: Error) => {
    ok(e instanceof TypeError && /Fortran order/.test(e.message), e.message);
    return true;
  });
});

Deno.test("openNpy() rejects a truncated file, naming both sizes", async () => {
  await rejects(openNpy(`${FIXTURES}f4_2x3_truncated.npy`), (e: Error) => {
    ok(e instanceof SyntaxError && /truncated: 148 bytes, expected 152/.test(e.message), e.message);
    return true;
  });
});

Deno.test("openNpy() rejects a file longer than its header says", async () => {
  await using dir = await tempDir();
  const bytes = await Deno.readFile(`${FIXTURES}f4_2x3_v1.npy`);
  const longer = new Uint8Array(bytes.length + 4);
  longer.set(bytes);
  await writeBytes(`${dir.path}/long.npy`, longer);
  await rejects(openNpy(`${dir.path}/long.npy`), /longer than its header says/);
});

Deno.test("openNpy() rejects bad magic, unknown versions and unparsable headers", async () => {
  await using dir = await tempDir();
  const good = await Deno.readFile(`${FIXTURES}f4_2x3_v1.npy`);
  const cases: [string, (b: Uint8Array) => Uint8Array, RegExp][] = [
    ["magic", (b) => b.map((x, i) => (i === 1 ? 0x58 : x)), /bad magic/],
    ["empty", () => new Uint8Array(0), /bad magic/],
    ["version", (b) => b.map((x, i) => (i === 6 ? 4 : x)), /version 4\.0 is not supported/],
    ["header cut", (b) => b.slice(0, 40), /cut short/],
    ["not a dict", (b) => replaceHeader(b, "[1, 2, 3]"), /not a dict/],
    ["garbage", (b) => replaceHeader(b, "{'descr': <f4}"), /not a Python dict literal/],
    ["unclosed", (b) => replaceHeader(b, "{'descr': '<f4"), /not a Python dict literal/],
    ["keys", (b) => replaceHeader(b, "{'descr': '<f4', 'shape': (2, 3)}"), /expected exactly/],
    [
      "shape",
      (b) => replaceHeader(b, "{'descr': '<f4', 'fortran_order': False, 'shape': [2, 3]}"),
      /shape is not a tuple/,
    ],
  ];
  for (const [name, edit, pattern] of cases) {
    const path = `${dir.path}/${name}.npy`;
    await writeBytes(path, edit(good));
    await rejects(openNpy(path), (e: Error) => {
      ok(e instanceof SyntaxError, `${name}: ${e.name}: ${e.message}`);
      ok(pattern.test(e.message), `${name}: ${e.message}`);
      return true;
    });
  }
});

/** The file with its header text replaced (padded to the same length). */
function replaceHeader(file: Uint8Array, text: string): Uint8Array {
  const out = file.slice();
  const len = new DataView(out.buffer).getUint16(8, true);
  out.fill(0x20, 10, 10 + len - 1);
  out.set(new TextEncoder().encode(text), 10);
  return out;
}

Deno.test("parseNpyHeader() accepts the header variants NumPy and others write", () => {
  const variants = [
    `{"descr": "<f4", "fortran_order": False, "shape": (7, 2)}`,
    `{'shape': (7, 2), 'fortran_order': False, 'descr': '<f4'}`,
    `{'descr':'<f4','fortran_order':False,'shape':(7L, 2L),}`,
  ];
  for (const text of variants) {
    const bytes = replaceHeader(formatNpyHeader([7, 2], { reserve: 30 }), text);
    deepEqual(parseNpyHeader(bytes).shape, [7, 2], text);
  }
  const scalar = replaceHeader(
    formatNpyHeader([1]),
    "{'descr': '<f4', 'fortran_order': False, 'shape': ()}",
  );
  deepEqual(parseNpyHeader(scalar).shape, []);
});

Deno.test("formatNpyHeader() pads to 64 bytes and switches to version 2.0 for huge headers", () => {
  for (const shape of [[1], [3, 4], [123456789, 3072], [2, 3, 4, 5]]) {
    const h = formatNpyHeader(shape);
    equal(h.length % 64, 0);
    equal(h[6], 1);
    equal(h[h.length - 1], 0x0a);
    deepEqual(parseNpyHeader(h).shape, shape);
  }
  const big = formatNpyHeader([2, 2], { reserve: 70_000 });
  equal(big[6], 2);
  deepEqual(parseNpyHeader(big).shape, [2, 2]);
  throws(() => formatNpyHeader([2, -1]), RangeError);
  throws(() => formatNpyHeader([2, 2], { totalLength: 64 }), RangeError);
});

Deno.test("writeNpy() then readNpy() round-trips shapes of rank 1 to 4", async () => {
  await using dir = await tempDir();
  for (const shape of [[5], [3, 7], [2, 3, 4], [2, 1, 3, 2], [0, 4]]) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = uniformFloats(n, n + 1);
    const path = `${dir.path}/r${shape.length}.npy`;
    await writeNpy(path, shape, data);
    const back = await readNpy(path);
    deepEqual(back.shape, shape);
    deepEqual(back.data, data);
  }
});

Deno.test("writeNpy() rejects data whose length is not the shape's product", async () => {
  await using dir = await tempDir();
  await rejects(writeNpy(`${dir.path}/x.npy`, [2, 3], new Float32Array(5)), TypeError);
  await rejects(Deno.stat(`${dir.path}/x.npy`), Deno.errors.NotFound);
});

Deno.test("writeNpy() round-trips any float32 data, NaN and -0 included (property)", async () => {
  await using dir = await tempDir();
  let i = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 3 }),
      fc.float32Array({ maxLength: 200 }),
      async (shape, pool) => {
        const n = shape.reduce((a, b) => a * b, 1);
        const data = Float32Array.from(
          { length: n },
          (_, j) => pool[j % Math.max(pool.length, 1)] ?? 0,
        );
        const path = `${dir.path}/p${i++}.npy`;
        await writeNpy(path, shape, data);
        const back = await readNpy(path);
        deepEqual(back.shape, shape);
        // Compare bit patterns so NaN and -0 count.
        deepEqual(new Uint32Array(back.data.buffer), new Uint32Array(data.buffer));
      },
    ),
    { numRuns: 60 },
  );
});

Deno.test("openNpy().readRows() reads any row range into a caller's buffer", async () => {
  await using dir = await tempDir();
  const data = uniformFloats(11 * 3, 7);
  await writeNpy(`${dir.path}/a.npy`, [11, 3], data);
  using f = await openNpy(`${dir.path}/a.npy`);
  const dst = new Float32Array(100);
  const got = await f.readRows(4, 5, dst);
  equal(got.buffer, dst.buffer);
  deepEqual(got, data.subarray(12, 27));
  deepEqual(await f.readRows(10, 1), data.subarray(30, 33));
  deepEqual(await f.readRows(11, 0), new Float32Array(0));
  await rejects(f.readRows(10, 2), RangeError);
  await rejects(f.readRows(0, 5, new Float32Array(14)), RangeError);
  f.close();
  await rejects(f.readRows(0, 1), /after close/);
  await rejects(f.readElements(0, 1), /after close/);
});

Deno.test("createNpyRowWriter() streams batches into one atomic [N, D] file", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/g.npy`;
  const data = uniformFloats(10 * 6, 3);
  const w = await createNpyRowWriter(path, { dim: 6 });
  await w.append(data.subarray(0, 18));
  await rejects(Deno.stat(path), Deno.errors.NotFound); // nothing at path until close()
  await w.append(data.subarray(18, 18));
  await w.append(data.subarray(18));
  equal(w.rows, 10);
  deepEqual(await w.close(), { shape: [10, 6] });
  const back = await readNpy(path);
  deepEqual(back.shape, [10, 6]);
  deepEqual(back.data, data);
  deepEqual(await temporariesIn(dir.path), []);
  await rejects(w.append(data), /after the writer was closed/);
});

Deno.test("createNpyRowWriter() abort() deletes the temp file and leaves path untouched", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/g.npy`;
  await writeNpy(path, [1, 2], new Float32Array([7, 8]));
  const w = await createNpyRowWriter(path, { dim: 2 });
  await w.append(new Float32Array([1, 2, 3, 4]));
  await w.abort();
  deepEqual(await temporariesIn(dir.path), []);
  deepEqual([...(await readNpy(path)).data], [7, 8]);
  await rejects(w.close(), /aborted/);
});

Deno.test("createNpyRowWriter() rejects partial rows and a bad dim", async () => {
  await using dir = await tempDir();
  await rejects(createNpyRowWriter(`${dir.path}/x.npy`, { dim: 0 }), RangeError);
  const w = await createNpyRowWriter(`${dir.path}/x.npy`, { dim: 4 });
  await rejects(w.append(new Float32Array(6)), /multiple of D = 4/);
  await w.abort();
});

Deno.test(numpyName("writeNpy() and createNpyRowWriter() write files NumPy reads"), {
  ignore: !HAVE_NUMPY,
}, async () => {
  await using dir = await tempDir();
  const data = uniformFloats(7 * 5, 11);
  await writeNpy(`${dir.path}/a.npy`, [7, 5], data);
  const w = await createNpyRowWriter(`${dir.path}/b.npy`, { dim: 5 });
  await w.append(data.subarray(0, 15));
  await w.append(data.subarray(15));
  await w.close();
  await writeNpy(`${dir.path}/c.npy`, [7, 1, 5], data);
  const out = await python(
    `import sys, json, numpy as np
print(json.dumps([[list(a.shape), str(a.dtype), a.flags['C_CONTIGUOUS'], a.astype(float).ravel().tolist()]
  for a in (np.load(p) for p in sys.argv[1:])]))`,
    `${dir.path}/a.npy`,
    `${dir.path}/b.npy`,
    `${dir.path}/c.npy`,
  );
  const parsed = JSON.parse(out!) as [number[], string, boolean, number[]][];
  deepEqual(parsed.map((p) => p[0]), [[7, 5], [7, 5], [7, 1, 5]]);
  for (const [, dtype, cOrder, values] of parsed) {
    equal(dtype, "float32");
    equal(cOrder, true);
    deepEqual(values, [...data]);
  }
});

Deno.test(numpyName("readNpy() reads files NumPy writes now, every version and several shapes"), {
  ignore: !HAVE_NUMPY,
}, async () => {
  await using dir = await tempDir();
  const out = await python(
    `import sys, json, numpy as np
from numpy.lib import format as npf
rng = np.random.default_rng(5)
res = []
for i, (shape, version) in enumerate([((4, 9), (1, 0)), ((3, 2, 5), (2, 0)), ((1, 1), (3, 0)), ((6, 70000), None)]):
    a = rng.standard_normal(shape).astype('<f4')
    p = f"{sys.argv[1]}/n{i}.npy"
    with open(p, 'wb') as f: npf.write_array(f, a, version=version)
    res.append([p, list(shape), float(a.astype(np.float64).sum()), a.ravel()[:3].astype(float).tolist()])
print(json.dumps(res))`,
    dir.path,
  );
  for (
    const [path, shape, sum, head] of JSON.parse(out!) as [string, number[], number, number[]][]
  ) {
    const back = await readNpy(path);
    deepEqual(back.shape, shape);
    let s = 0;
    for (const v of back.data) s += v;
    ok(Math.abs(s - sum) < 1e-6 * back.data.length, `${path}: sum ${s} vs ${sum}`);
    deepEqual([...back.data.subarray(0, 3)], head);
  }
});

Deno.test("openNpy().readRows() seeks past 4 GiB in a multi-GB file (sparse, no disk used)", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/big.npy`;
  const [n, d] = [1_310_720, 1024]; // 5 GiB of float32
  const header = formatNpyHeader([n, d]);
  const last = uniformFloats(2 * d, 42);
  {
    using f = await Deno.open(path, { write: true, create: true });
    await f.write(header);
    await f.truncate(header.length + n * d * 4); // a hole: reads as zeros
    await f.seek(header.length + (n - 2) * d * 4, Deno.SeekMode.Start);
    let off = 0;
    const bytes = new Uint8Array(last.buffer);
    while (off < bytes.length) off += await f.write(bytes.subarray(off));
  }
  using npy = await openNpy(path);
  deepEqual(npy.shape, [n, d]);
  deepEqual(await npy.readRows(n - 2, 2), last);
  deepEqual(await npy.readRows(n / 2, 1), new Float32Array(d));
});
