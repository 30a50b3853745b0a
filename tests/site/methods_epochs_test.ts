/**
 * HTTP tests of the attribution-methods and convergence-over-training pages: p(k,k) per method
 * side by side with the claims per method (from `analysis/methods/`), p(k,k) against epoch and
 * against test accuracy (from `analysis/epochs.json`), their tidy CSVs, and the notices of a
 * sweep that has neither.
 */
import { assert, assertEquals, assertStringIncludes } from "./_assert.ts";
import { join } from "node:path";
import { createApp } from "../../lib/site/mod.ts";
import type { ClaimsFile, SimilarityFile } from "../../lib/analysis/schema.ts";
import type { EpochsJson } from "../../lib/sweep/epochs.ts";
import { writeFixtureSweep } from "./fixture.ts";
import { SITE } from "../../site.ts";
import { presetConfig } from "../../lib/sweep/presets.ts";

const root = await Deno.makeTempDir({ prefix: "site-methods-" });
const sweep = await writeFixtureSweep(root);
const plain = await writeFixtureSweep(root, { name: "plain" });
const analysis = join(root, sweep, "analysis");
const similarity = JSON.parse(
  await Deno.readTextFile(join(analysis, "similarity.json")),
) as SimilarityFile;
const claims = JSON.parse(await Deno.readTextFile(join(analysis, "claims.json"))) as ClaimsFile;
// smoothgrad: the gradient's analysis with p(k,k) halved and every verdict "fails".
await Deno.mkdir(join(analysis, "methods", "smoothgrad"), { recursive: true });
const halved = structuredClone(similarity);
for (const row of halved.expected) for (const c of row) if (c.mean !== null) c.mean /= 2;
await Deno.writeTextFile(
  join(analysis, "methods", "smoothgrad", "similarity.json"),
  JSON.stringify(halved),
);
const failing = { ...claims, claims: claims.claims.map((c) => ({ ...c, verdict: "fails" })) };
await Deno.writeTextFile(
  join(analysis, "methods", "smoothgrad", "claims.json"),
  JSON.stringify(failing),
);
await Deno.writeTextFile(
  join(analysis, "methods", "index.json"),
  JSON.stringify({
    schemaVersion: 1,
    kind: "salience-methods-index",
    methods: [
      { method: "gradient", dir: ".", settings: { method: "gradient" }, completeness: null },
      {
        method: "smoothgrad",
        dir: "methods/smoothgrad",
        settings: { method: "smoothgrad", samples: 4, sigma: 0.15, seed: 0 },
        completeness: null,
      },
    ],
  }),
);
const epochs: EpochsJson = {
  schemaVersion: 1,
  kind: "salience-epochs",
  scalar: "true-class-logit",
  pooling: null,
  epochs: [1, 2, 3],
  rows: ["CNNSmall", "ResNetSmall"].flatMap((family) =>
    [2, 4, 8].flatMap((k) =>
      [1, 2, 3].map((epoch) => ({
        family,
        k,
        epoch,
        seeds: 3,
        testAcc: 0.5 + 0.1 * epoch,
        testAccStd: 0.01,
        pKK: 0.01 * k * epoch,
        pKKInterval: [0.01 * k * epoch - 0.01, 0.01 * k * epoch + 0.01] as [number, number],
        sphericalVariance: 0.9 - 0.05 * epoch,
        sphericalVarianceCorrected: 0.95 - 0.05 * epoch,
      }))
    )
  ),
  matrices: [],
};
await Deno.writeTextFile(join(analysis, "epochs.json"), JSON.stringify(epochs));
// A sweep shaped like methods-epochs-paper's results: its families, widths, seeds, every method
// and its seven analysed epochs (1 … 100).
const paperConfig = presetConfig("methods-epochs-paper");
const paperMethods = paperConfig.salience.methods!;
const paperEpochs = paperConfig.salience.epochs!;
const paper = await writeFixtureSweep(root, { name: "paper" });
const paperAnalysis = join(root, paper, "analysis");
for (const [i, method] of paperMethods.entries()) {
  if (method === "gradient") continue;
  await Deno.mkdir(join(paperAnalysis, "methods", method), { recursive: true });
  const scaled = structuredClone(similarity);
  for (const row of scaled.expected) for (const c of row) if (c.mean !== null) c.mean *= 1 + i / 10;
  await Deno.writeTextFile(
    join(paperAnalysis, "methods", method, "similarity.json"),
    JSON.stringify(scaled),
  );
  await Deno.writeTextFile(
    join(paperAnalysis, "methods", method, "claims.json"),
    JSON.stringify(claims),
  );
}
await Deno.writeTextFile(
  join(paperAnalysis, "methods", "index.json"),
  JSON.stringify({
    schemaVersion: 1,
    kind: "salience-methods-index",
    methods: paperMethods.map((method) => ({
      method,
      dir: method === "gradient" ? "." : `methods/${method}`,
      settings: { method },
      completeness: null,
    })),
  }),
);
const paperRows: EpochsJson["rows"] = paperConfig.families.flatMap((family) =>
  paperConfig.widths.flatMap((k) =>
    paperEpochs.map((epoch) => ({
      family,
      k,
      epoch,
      seeds: paperConfig.seeds,
      testAcc: 0.9 - 0.4 / epoch,
      testAccStd: 0.01,
      pKK: 0.001 * k * Math.log1p(epoch),
      pKKInterval: [0.001 * k * Math.log1p(epoch) - 0.01, 0.001 * k * Math.log1p(epoch) + 0.01] as [
        number,
        number,
      ],
      sphericalVariance: 0.9 - 0.01 * Math.log1p(epoch),
      sphericalVarianceCorrected: 0.95 - 0.01 * Math.log1p(epoch),
    }))
  )
);
await Deno.writeTextFile(
  join(paperAnalysis, "epochs.json"),
  JSON.stringify(
    {
      ...epochs,
      pooling: paperConfig.salience.pool,
      epochs: paperEpochs,
      rows: paperRows,
    } satisfies EpochsJson,
  ),
);
const app = await createApp({ root, site: SITE });

async function get(path: string): Promise<{ status: number; text: string }> {
  const res = await app.fetch(new Request(`http://127.0.0.1${path}`));
  return { status: res.status, text: await res.text() };
}

function csvRows(text: string): string[][] {
  return text.trim().split("\r\n").map((l) => l.split(","));
}

Deno.test("methods page: one p(k,k) chart per method and each claim's verdict per method", async () => {
  const { status, text } = await get(`/sweeps/${sweep}/methods/`);
  assertEquals(status, 200);
  assertStringIncludes(text, 'data-chart="pkk-gradient"');
  assertStringIncludes(text, 'data-chart="pkk-smoothgrad"');
  assertStringIncludes(text, "<th>smoothgrad</th>");
  assertStringIncludes(text, "samples 4, sigma 0.15, seed 0");
  const fails = (text.match(/badge fails">fails/g) ?? []).length;
  assertEquals(
    fails,
    claims.claims.length + claims.claims.filter((c) => c.verdict === "fails").length,
  );
  const pkk = csvRows((await get(`/sweeps/${sweep}/data/methods_pkk.csv`)).text);
  assertEquals(pkk[0]!.slice(0, 4), ["method", "family", "k", "seeds"]);
  assertEquals(pkk.length, 1 + 2 * similarity.groups.length);
  const mean = pkk[0]!.indexOf("mean");
  const g = similarity.groups[0]!;
  const row = (m: string) =>
    pkk.find((r) => r[0] === m && r[1] === g.family && r[2] === String(g.k))!;
  assertEquals(Number(row("smoothgrad")[mean]), similarity.expected[g.index]![g.index]!.mean! / 2);
  const c = csvRows((await get(`/sweeps/${sweep}/data/methods_claims.csv`)).text);
  assertEquals(c.length, 1 + 2 * claims.claims.length);
});

Deno.test("epochs page: p(k,k) against epoch and against accuracy, one path per width", async () => {
  const { status, text } = await get(`/sweeps/${sweep}/epochs/`);
  assertEquals(status, 200);
  for (const id of ["pkk-epoch", "pkk-accuracy", "sv-epoch"]) {
    assertStringIncludes(text, `data-chart="${id}"`);
  }
  const chart = text.slice(
    text.indexOf('data-chart="pkk-epoch"'),
    text.indexOf('data-chart="pkk-accuracy"'),
  );
  assertEquals((chart.match(/<g class="series"/g) ?? []).length, 6);
  assertEquals((chart.match(/class="interval"/g) ?? []).length, 18);
  assertStringIncludes(chart, 'data-series="ResNetSmall k=8 (3 seeds)"');
  const rows = csvRows((await get(`/sweeps/${sweep}/data/epochs.csv`)).text);
  assertEquals(rows.length, 1 + epochs.rows.length);
  assertEquals(rows[0]!.slice(0, 3), ["family", "k", "epoch"]);
});

/** The x position of each numeric tick label on a chart's x axis. */
function xTicks(chart: string): Map<number, number> {
  const out = new Map<number, number>();
  for (
    const m of chart.matchAll(
      /<text x="([-\d.e]+)"[^>]*text-anchor="middle"[^>]*>([\d.]+)<\/text>/g,
    )
  ) {
    out.set(Number(m[2]), Number(m[1]));
  }
  return out;
}

Deno.test("methods-epochs-paper's results: p(k,k) per method side by side, and p(k,k) against epoch on a log axis and against accuracy", async () => {
  const methods = await get(`/sweeps/${paper}/methods/`);
  assertEquals(methods.status, 200);
  for (const m of paperMethods) assertStringIncludes(methods.text, `data-chart="pkk-${m}"`);
  const pkk = csvRows((await get(`/sweeps/${paper}/data/methods_pkk.csv`)).text);
  assertEquals(pkk.length, 1 + paperMethods.length * similarity.groups.length);
  const { status, text } = await get(`/sweeps/${paper}/epochs/`);
  assertEquals(status, 200);
  assertStringIncludes(text, "pooled 8×8");
  const at = (id: string) => text.indexOf(`data-chart="${id}"`);
  const byEpoch = text.slice(at("pkk-epoch"), at("pkk-accuracy"));
  const byAccuracy = text.slice(at("pkk-accuracy"), at("sv-epoch"));
  const widths = paperConfig.families.length * paperConfig.widths.length;
  for (const chart of [byEpoch, byAccuracy]) {
    assertEquals((chart.match(/<g class="series"/g) ?? []).length, widths);
    assertEquals((chart.match(/class="interval"/g) ?? []).length, widths * paperEpochs.length);
  }
  assertStringIncludes(byEpoch, "epoch (log scale)");
  // Every analysed epoch is a tick; on a log axis 1 → 10 spans what 10 → 100 does.
  const ticks = xTicks(byEpoch);
  for (const e of paperEpochs) assert(ticks.has(e), `tick at epoch ${e}`);
  const [x1, x10, x100] = [1, 10, 100].map((e) => ticks.get(e)!);
  assert(Math.abs((x10! - x1!) - (x100! - x10!)) < 1, `log axis: ticks at ${x1}, ${x10}, ${x100}`);
  const rows = csvRows((await get(`/sweeps/${paper}/data/epochs.csv`)).text);
  assertEquals(rows.length, 1 + paperRows.length);
});

Deno.test("a sweep without methods or epochs says which file is absent and how to get it", async () => {
  const m = await get(`/sweeps/${plain}/methods/`);
  assertEquals(m.status, 200);
  assertStringIncludes(m.text, "<strong>analysis/methods/index.json</strong>");
  assertStringIncludes(m.text, "salience.methods");
  const e = await get(`/sweeps/${plain}/epochs/`);
  assertStringIncludes(e.text, "<strong>analysis/epochs.json</strong>");
  assertStringIncludes(e.text, "--epochs-analysed");
  assert(!e.text.includes('data-chart="pkk-epoch"'));
  assertEquals((await get(`/sweeps/${plain}/data/epochs.csv`)).status, 404);
});

Deno.test("cleanup", async () => {
  await Deno.remove(root, { recursive: true });
});
