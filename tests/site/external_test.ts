/**
 * Tests of the report site over an external analysis: gradients written as a real [M, N, D]
 * float32 `.npy` with a models list, analysed by `analyzeExternal` on the CPU reference path, then
 * served (index, overview, analysis pages, data files), exported statically, and reached by
 * `reportCli` through the folder of the gradients or its `analysis/` folder.
 */
import { join } from "node:path";
import { assert, assertEquals, assertStringIncludes } from "./_assert.ts";
import { analyzeExternal } from "../../lib/analysis/mod.ts";
import { writeNpy } from "../../lib/npy/mod.ts";
import { createApp, type SiteApp } from "../../lib/site/mod.ts";
import { reportCli } from "../../lib/cli/report.ts";
import { serveCli } from "../../lib/cli/serve.ts";
import { HOSTILE, writeFixtureSweep } from "./fixture.ts";
import { SITE } from "../../site.ts";

const root = await Deno.makeTempDir({ prefix: "site-external-" });
const sweep = await writeFixtureSweep(root);

/** Two families × widths 2, 4 × 2 seeds; gradients share a per-sample pattern plus noise. */
const MODELS = ["MLP", "CNN"].flatMap((family) =>
  [0, 1].flatMap((seed) => [2, 4].map((k) => ({ family, k, seed })))
);
const [M, N, D] = [MODELS.length, 6, 10];

async function writeExternal(dir: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const data = new Float32Array(M * N * D);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      for (let d = 0; d < D; d++) {
        data[(m * N + n) * D + d] = Math.sin(n * 3.1 + d * 0.7) +
          0.3 * Math.sin(m * 12.9898 + n * 78.233 + d * 37.719);
      }
    }
  }
  await writeNpy(join(dir, "grads.npy"), [M, N, D], data);
  await Deno.writeTextFile(join(dir, "models.json"), JSON.stringify({ models: MODELS }));
  await analyzeExternal(join(dir, "grads.npy"), { models: MODELS, scalar: "true-class-logit" }, {
    gpu: "cpu",
    resamples: 20,
  });
}

const ext = "ext";
await writeExternal(join(root, ext));

// A copy whose summary carries descriptive fields, one of them hostile markup.
const described = "ext-described";
await Deno.mkdir(join(root, described, "analysis"), { recursive: true });
for await (const e of Deno.readDir(join(root, ext, "analysis"))) {
  await Deno.copyFile(
    join(root, ext, "analysis", e.name),
    join(root, described, "analysis", e.name),
  );
}
const summaryPath = join(root, described, "analysis", "summary.json");
await Deno.writeTextFile(
  summaryPath,
  JSON.stringify({
    ...JSON.parse(await Deno.readTextFile(summaryPath)),
    source: HOSTILE,
  }),
);

// Folders that must never be listed: an unsafe name, and a symlink that leads outside the root.
await Deno.mkdir(join(root, "Bad Name", "analysis"), { recursive: true });
await Deno.copyFile(summaryPath, join(root, "Bad Name", "analysis", "summary.json"));
const outside = await Deno.makeTempDir({ prefix: "site-external-outside-" });
await Deno.mkdir(join(outside, "analysis"));
await Deno.writeTextFile(
  join(outside, "analysis", "summary.json"),
  JSON.stringify({ ...JSON.parse(await Deno.readTextFile(summaryPath)), source: "TOPSECRET" }),
);
await Deno.symlink(outside, join(root, "linked-out"));

const app: SiteApp = await createApp({ root, site: SITE });

async function get(path: string): Promise<{ status: number; text: string }> {
  const res = await app.fetch(new Request(`http://127.0.0.1${path}`));
  return { status: res.status, text: await res.text() };
}

Deno.test("createApp() GET / lists an external analysis with its models, samples and dimension", async () => {
  const { status, text } = await get("/");
  assertEquals(status, 200);
  assertStringIncludes(text, `href="sweeps/${sweep}/"`, "sweeps are still listed");
  assertStringIncludes(text, "External analyses");
  assertStringIncludes(text, `href="sweeps/${ext}/"`);
  const row = text.slice(text.indexOf(`href="sweeps/${ext}/"`));
  assertStringIncludes(row, `<td>${M}</td><td>${N}</td><td>${D}</td>`);
  assertStringIncludes(row, "<td>source: grads.npy; scalar: true-class-logit</td>");
  assert(!text.includes(HOSTILE), "summary fields are escaped");
  assertStringIncludes(text, "source: &lt;script>alert(1)&lt;/script>");
  assert(!text.includes("Bad Name"), "a folder with an unsafe name is not listed");
  assert(!text.includes("linked-out") && !text.includes("TOPSECRET"), "outside the root");
});

Deno.test("createApp() overview of an external analysis says it has no training records", async () => {
  const { status, text } = await get(`/sweeps/${ext}/`);
  assertEquals(status, 200);
  assertStringIncludes(text, "analysis of external gradients");
  assertStringIncludes(text, "no training records");
  assertStringIncludes(text, "no config, no plan and no runs");
  assertStringIncludes(text, `<th>Models</th><td>${M}</td>`);
  assertStringIncludes(text, `<th>Probe samples</th><td>${N}</td>`);
  assertStringIncludes(text, `<th>Dimension</th><td>${D}</td>`);
  assertStringIncludes(text, "<th>source</th><td>grads.npy</td>");
  assertStringIncludes(text, "<th>scalar</th><td>true-class-logit</td>");
  assert(!text.includes("plan.json"), "no links to store files it does not have");
  assert(!text.includes("Training curves"));
  // Its navigation links only the pages drawn from gradients alone, and it opens with findings.
  const nav = text.slice(text.indexOf('class="sweep-nav"'), text.indexOf("</nav>"));
  const links = [...nav.matchAll(/>([^<]+)<\/a>/g)].map((m) => m[1]);
  assertEquals(links, ["Overview", "Similarity", "Distributions", "Small → large", "Claims"]);
  assertStringIncludes(text, 'id="findings"');
  assertStringIncludes(text, 'id="fig-headline"');
});

Deno.test("createApp() external analysis's gallery, methods and epochs pages say why they are empty", async () => {
  const g = await get(`/sweeps/${ext}/gallery/`);
  assertEquals(g.status, 200);
  assertStringIncludes(g.text, "An external analysis holds only");
  for (const page of ["methods", "epochs"]) {
    const r = await get(`/sweeps/${ext}/${page}/`);
    assertEquals(r.status, 200);
    assertStringIncludes(r.text, "is absent: an external analysis");
    // The hint names the command that applies to gradients, never a sweep's config or preset.
    assertStringIncludes(r.text, "deno task analyze --grads");
    assert(
      !r.text.includes("deno task sweep"),
      `${page}: a sweep command for an external analysis`,
    );
  }
});

const PRESENT = ["similarity", "distributions", "small_predicts_large", "claims"];
const ABSENT = ["attacks", "ensembles", "batch_size"];

for (const page of PRESENT) {
  Deno.test(`createApp() external analysis page "${page}" renders from its analysis files`, async () => {
    const { status, text } = await get(`/sweeps/${ext}/${page}/`);
    assertEquals(status, 200);
    assertStringIncludes(text, 'aria-current="page"');
    assert(!text.includes("is absent from this"), `${page} has all its files`);
    assert(!text.includes("could not be read"), `${page} reads its files`);
    if (page !== "claims") assertStringIncludes(text, '<svg class="chart');
  });
}

for (const page of ABSENT) {
  Deno.test(`createApp() external analysis page "${page}" shows the missing-file notice`, async () => {
    const { status, text } = await get(`/sweeps/${ext}/${page}/`);
    assertEquals(status, 200);
    assertStringIncludes(text, "is absent from this analysis");
    assertStringIncludes(text, "deno task analyze --grads G.npy --models M.json");
    assert(!text.includes("--run results/"), "no sweep command for an external analysis");
  });
}

Deno.test("createApp() serves an external analysis's JSON verbatim and 404s what it lacks or hides", async () => {
  const sim = await get(`/sweeps/${ext}/data/similarity.json`);
  assertEquals(sim.status, 200);
  assertEquals(sim.text, await Deno.readTextFile(join(root, ext, "analysis", "similarity.json")));
  assertEquals((await get(`/sweeps/${ext}/data/plan.json`)).status, 404);
  assertEquals((await get(`/sweeps/${ext}/data/attacks.json`)).status, 404);
  assertEquals((await get("/sweeps/linked-out/")).status, 404);
  assertEquals((await get("/sweeps/Bad%20Name/")).status, 404);
  assertEquals((await get(`/sweeps/${ext}%2f..%2f${sweep}/`)).status, 404);
});

Deno.test("reportCli() exports an external analysis from its folder or its analysis/ folder", async () => {
  const base = await Deno.makeTempDir({ prefix: "site-external-out-" });
  for (const [i, run] of [join(root, ext), join(root, ext, "analysis") + "/"].entries()) {
    const out = join(base, `site-${i}`);
    const r = await reportCli(["--run", run, "--out", out], SITE);
    assertEquals(r.sweeps, [ext], run);
    for (
      const f of [
        "index.html",
        `sweeps/${ext}/index.html`,
        `sweeps/${ext}/similarity/index.html`,
        `sweeps/${ext}/distributions/index.html`,
        `sweeps/${ext}/claims/index.html`,
        `sweeps/${ext}/small_predicts_large/index.html`,
        `sweeps/${ext}/attacks/index.html`,
        `sweeps/${ext}/data/similarity.json`,
        `sweeps/${ext}/data/summary.json`,
      ]
    ) assert(r.files.includes(f), `${f} missing from the export of ${run}`);
    assert(!r.files.some((f) => f.includes(sweep)), "only the external analysis is exported");
    const overview = await Deno.readTextFile(join(out, "sweeps", ext, "index.html"));
    assertStringIncludes(overview, "analysis of external gradients");
    const index = await Deno.readTextFile(join(out, "index.html"));
    assertStringIncludes(index, `href="sweeps/${ext}/index.html"`);
  }
  await Deno.remove(base, { recursive: true });
});

Deno.test("reportCli() refuses a folder with no sweep and no analysis, naming it", async () => {
  const empty = await Deno.makeTempDir({ prefix: "site-external-empty-" });
  await Deno.writeTextFile(join(empty, "grads.npy"), "not analysed yet");
  const out = join(empty, "site");
  let message = "";
  try {
    await reportCli(["--run", empty, "--out", out], SITE);
  } catch (e) {
    assert(e instanceof TypeError, String(e));
    message = (e as Error).message;
  }
  assertStringIncludes(message, empty);
  assertStringIncludes(message, "analysis/summary.json");
  assertStringIncludes(message, "sweep.json");
  let written = true;
  try {
    await Deno.stat(out);
  } catch {
    written = false;
  }
  assert(!written, "no empty site is written");
  await Deno.remove(empty, { recursive: true });
});

Deno.test("serveCli() serves one external analysis when pointed at its folder", async () => {
  const server = await serveCli(["--run", join(root, ext), "--port", "0"], SITE);
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    const index = await fetch(`${base}/`);
    const text = await index.text();
    assertEquals(index.status, 200);
    assertStringIncludes(text, `href="sweeps/${ext}/"`);
    assert(!text.includes(`sweeps/${sweep}/`), "only the analysis pointed at is served");
    const overview = await fetch(`${base}/sweeps/${ext}/`);
    assertEquals(overview.status, 200);
    assertStringIncludes(await overview.text(), "no training records");
    const other = await fetch(`${base}/sweeps/${sweep}/`);
    await other.body?.cancel();
    assertEquals(other.status, 404);
  } finally {
    await server.shutdown();
  }
});
