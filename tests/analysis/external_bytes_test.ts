// The in-memory path of an external analysis (what the site's /analyze/ page runs in a browser)
// gives what `deno task analyze --grads --models` writes, and refuses bad files the same way.
import { analyzeExternal, analyzeNpyBytes, npyGradients } from "../../lib/analysis/mod.ts";
import { formatNpyHeader } from "../../lib/npy/header.ts";
import { readNpy, writeNpy } from "../../lib/npy/mod.ts";
import { assertEquals, assertRejects, assertThrows } from "../_shared/assert.ts";

const models = [2, 4].flatMap((k) => [0, 1, 2].map((seed) => ({ family: "MLP", k, seed })));
const shape = [models.length, 5, 7];
const data = Float32Array.from({ length: 6 * 5 * 7 }, (_, i) => Math.sin(i * 0.37) + 0.2);

function npyBytes(values: Float32Array, dims: number[]): Uint8Array {
  const header = formatNpyHeader(dims);
  const out = new Uint8Array(header.length + values.byteLength);
  out.set(header);
  out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), header.length);
  return out;
}

Deno.test("npyGradients() reads what writeNpy() wrote, and refuses a file cut short", async () => {
  const dir = await Deno.makeTempDir({ prefix: "external-bytes-" });
  await writeNpy(`${dir}/g.npy`, shape, data);
  const bytes = await Deno.readFile(`${dir}/g.npy`);
  const got = npyGradients(bytes, "g.npy");
  assertEquals(got.shape, [6, 5, 7]);
  assertEquals([...got.data], [...(await readNpy(`${dir}/g.npy`)).data]);
  assertThrows(
    () => npyGradients(bytes.subarray(0, bytes.length - 4), "g.npy"),
    SyntaxError,
    "truncated",
  );
  assertThrows(
    () => npyGradients(npyBytes(data, [6, 35]), "g.npy"),
    TypeError,
    "expected [M, N, D]",
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("analyzeNpyBytes() gives the similarity and claims analyzeExternal() writes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "external-bytes-" });
  await writeNpy(`${dir}/g.npy`, shape, data);
  const cli = await analyzeExternal(`${dir}/g.npy`, models, { gpu: "cpu", resamples: 50 });
  const written = JSON.parse(await Deno.readTextFile(`${cli.outDir}/similarity.json`));
  const mem = await analyzeNpyBytes(npyBytes(data, shape), { models }, {
    gpu: null,
    resamples: 50,
    name: "g.npy",
  });
  assertEquals(mem.backend.kind, "reference");
  assertEquals(mem.analysis.similarity.byFamily, written.byFamily);
  assertEquals(mem.analysis.similarity.expected, written.expected);
  assertEquals(mem.analysis.claims, cli.claims.claims);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("analyzeNpyBytes() names a models list of the wrong length", async () => {
  await assertRejects(
    () => analyzeNpyBytes(npyBytes(data, shape), models.slice(1), { name: "g.npy" }),
    TypeError,
    "the models list has 5 entries but g.npy holds M = 6 models",
  );
});
