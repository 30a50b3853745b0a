// Bad input to `deno task analyze` gets one error naming the problem, before any work.
import { writeNpy } from "../../lib/npy/mod.ts";
import { parseAnalyzeArgs, runAnalyzeCli } from "../../lib/cli/analyze.ts";
import {
  assertEquals,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "../_shared/assert.ts";

async function fixture(models: unknown, shape = [2, 3, 4]): Promise<string[]> {
  const dir = await Deno.makeTempDir({ prefix: "analyze-inputs-" });
  const n = shape.reduce((a, b) => a * b, 1);
  await writeNpy(`${dir}/g.npy`, shape, Float32Array.from({ length: n }, (_, i) => Math.sin(i)));
  await Deno.writeTextFile(`${dir}/m.json`, JSON.stringify(models));
  return ["--grads", `${dir}/g.npy`, "--models", `${dir}/m.json`, "--cpu", "--quiet"];
}

Deno.test("analyze --batch 0 and --out '' are refused instead of spinning or writing here", () => {
  assertThrows(() => parseAnalyzeArgs(["--run", "x", "--batch", "0"]), RangeError, "positive");
  assertThrows(() => parseAnalyzeArgs(["--run", "x", "--out", ""]), RangeError, "--out is ''");
});

Deno.test("a models JSON that is not a list is one message, not a TypeError of JavaScript", async () => {
  const args = await fixture({ family: "MLP" });
  const err = await assertRejects(() => runAnalyzeCli(args), TypeError, "the models JSON is");
  assertStringIncludes(err.message, 'expected a list of {"family", "k", "seed"}');
});

Deno.test("negative k and a zero dimension are refused", async () => {
  const bad = [{ family: "MLP", k: -2, seed: 0 }, { family: "MLP", k: 2, seed: 0 }];
  await assertRejects(
    async () => runAnalyzeCli(await fixture(bad)),
    TypeError,
    'models[0] is {"family":"MLP","k":-2,"seed":0}; expected',
  );
  const good = [{ family: "MLP", k: 1, seed: 0 }, { family: "MLP", k: 2, seed: 0 }];
  await assertRejects(
    async () => runAnalyzeCli(await fixture(good, [2, 3, 0])),
    RangeError,
    "has shape [2, 3, 0]",
  );
});

Deno.test("an external analysis replaces its folder as a unit and refuses a folder of other files", async () => {
  const models = [0, 1].flatMap((seed) => [1, 2].map((k) => ({ family: "MLP", k, seed })));
  const args = await fixture(models, [4, 6, 5]);
  const dir = args[1]!.replace(/g\.npy$/, "");
  const out = `${dir}/analysis`;
  await runAnalyzeCli([...args, "--out", out, "--resamples", "20"]);
  // A stale temporary of a killed writer inside, and a staging folder beside it.
  await Deno.writeTextFile(`${out}/summary.json.tmp-999999`, "{");
  await Deno.mkdir(`${out}.tmp-999999`);
  await runAnalyzeCli([...args, "--out", out, "--resamples", "20"]);
  const inside = [...Deno.readDirSync(out)].map((e) => e.name);
  assertEquals(inside.filter((n) => n.includes(".tmp-")), []);
  const beside = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) =>
    n.startsWith("analysis")
  );
  assertEquals(beside, ["analysis"]);
  await Deno.writeTextFile(`${dir}/mine.txt`, "keep");
  await assertRejects(
    () => runAnalyzeCli([...args, "--out", dir, "--resamples", "20"]),
    RangeError,
    "holds files but no summary.json",
  );
  assertEquals(Deno.readTextFileSync(`${dir}/mine.txt`), "keep");
});
