/**
 * HTTP tests of the report site over a synthetic fixture sweep: every route's status and content,
 * escaping of names from results files, path traversal, query validation, security headers, the
 * data files (JSON and CSV), graceful notices for absent analysis files, and the static export.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "./_assert.ts";
import { join } from "node:path";
import { num } from "../../lib/site/components.tsx";
import { createApp, exportSite, type SiteApp } from "../../lib/site/mod.ts";
import { compileRouteFile, matchPath } from "../../lib/site/router.ts";
import { SWEEP_PAGES } from "../../lib/site/components.tsx";
import manifest from "../../routes.gen.ts";
import islands from "../../islands.gen.ts";
import { HOSTILE, writeFixtureSweep, writeHostileSweep } from "./fixture.ts";
import { SITE } from "../../site.ts";

const root = await Deno.makeTempDir({ prefix: "site-test-" });
const sweep = await writeFixtureSweep(root);
const hostile = await writeHostileSweep(root);
const sparse = await writeFixtureSweep(root, {
  name: "sparse",
  omit: ["attacks", "ensembles", "batchSize", "marginals", "claims"],
});
// A secret outside the results directory, and a symlink pointing at it.
const outside = await Deno.makeTempDir({ prefix: "site-outside-" });
await Deno.mkdir(join(outside, "evil"));
await Deno.writeTextFile(join(outside, "evil", "sweep.json"), '{"secret": "TOPSECRET"}');
await Deno.writeTextFile(join(outside, "secret.json"), '{"secret": "TOPSECRET"}');
await Deno.symlink(join(outside, "evil"), join(root, "linked"));
await Deno.symlink(join(outside, "secret.json"), join(root, sweep, "analysis", "claims_link.json"));
const app: SiteApp = await createApp({ root, site: SITE });

async function get(path: string, init?: RequestInit): Promise<{ res: Response; text: string }> {
  const res = await app.fetch(new Request(`http://127.0.0.1${path}`, init));
  return { res, text: await res.text() };
}

const PAGES = [
  "",
  "similarity",
  "distributions",
  "attacks",
  "ensembles",
  "batch_size",
  "small_predicts_large",
  "gallery",
  "claims",
];

Deno.test("compileManifest() gets every file under routes/ from routes.gen.ts", async () => {
  const files: string[] = [];
  const walk = async (dir: URL, prefix: string) => {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory) await walk(new URL(`${e.name}/`, dir), `${prefix}${e.name}/`);
      else if (/\.tsx?$/.test(e.name)) files.push(`${prefix}${e.name}`);
    }
  };
  await walk(new URL("../../routes/", import.meta.url), "");
  assertEquals(Object.keys(manifest).sort(), files.sort());
});

Deno.test("islands.gen.ts registers every file of islands/ by its file and function name", async () => {
  const files: string[] = [];
  for await (const e of Deno.readDir(new URL("../../islands/", import.meta.url))) {
    if (e.isFile && e.name.endsWith(".tsx")) files.push(e.name.replace(/\.tsx$/, ""));
  }
  assertEquals(Object.keys(islands).sort(), files.sort());
  for (const [name, component] of Object.entries(islands)) assertEquals(component.name, name);
});

Deno.test("lib/ imports nothing of the site's routes/, islands/ or root files", async () => {
  const offenders: string[] = [];
  const walk = async (dir: URL) => {
    for await (const e of Deno.readDir(dir)) {
      const url = new URL(e.name + (e.isDirectory ? "/" : ""), dir);
      if (e.isDirectory) await walk(url);
      else if (/\.tsx?$/.test(e.name)) {
        const text = await Deno.readTextFile(url);
        for (const m of text.matchAll(/from\s+"([^"]+)"/g)) {
          const target = new URL(m[1]!, url).pathname;
          const rel = target.slice(new URL("../../", import.meta.url).pathname.length);
          if (/^(routes|islands)\/|^(site|routes\.gen|islands\.gen)\.ts$/.test(rel)) {
            offenders.push(`${url.pathname} → ${m[1]}`);
          }
        }
      }
    }
  };
  await walk(new URL("../../lib/", import.meta.url));
  assertEquals(offenders, []);
});

Deno.test("createApp() refuses a page whose island the site's registry lacks, naming it", async () => {
  const { islands: _dropped, ...rest } = SITE;
  const bare = await createApp({ root, site: { ...rest, islands: {} } });
  const logged: string[] = [];
  const error = console.error;
  console.error = (e: unknown) => logged.push(String(e));
  try {
    const res = await bare.fetch(new Request(`http://127.0.0.1/sweeps/${sweep}/similarity/`));
    await res.body?.cancel();
    assertEquals(res.status, 500);
  } finally {
    console.error = error;
  }
  assertEquals(logged.length, 1);
  assertStringIncludes(logged[0]!, 'island "HeatmapHover"');
  assertStringIncludes(logged[0]!, "islands.gen.ts");
});

Deno.test("compileRouteFile() maps index, pages, params and file routes", () => {
  assertEquals(compileRouteFile("index.tsx").segments, []);
  assertEquals(compileRouteFile("sweeps/[sweep]/index.tsx").segments, ["sweeps", {
    param: "sweep",
  }]);
  const data = compileRouteFile("sweeps/[sweep]/data/[file].ts");
  assertEquals(data.page, false);
  assertEquals(data.segments.length, 4);
});

Deno.test("matchPath() decodes once and rejects traversal in parameters", () => {
  const safe = (s: string) => /^[a-z0-9-]+$/.test(s);
  assertEquals(matchPath(app.routes, "/sweeps/%2e%2e/", safe).kind, "none");
  assertEquals(matchPath(app.routes, "/sweeps/a%2fb/", safe).kind, "none");
  assertEquals(matchPath(app.routes, "/sweeps/%252e%252e/", safe).kind, "none");
  assertEquals(matchPath(app.routes, "/sweeps/%E0%A4%A/", safe).kind, "none");
  assertEquals(matchPath(app.routes, "/sweeps/ok/similarity", safe).kind, "redirect");
  assertEquals(matchPath(app.routes, "/sweeps/ok/similarity/", safe).kind, "route");
});

Deno.test("createApp() GET / lists the sweeps with their configuration", async () => {
  const { res, text } = await get("/");
  assertEquals(res.status, 200);
  assertStringIncludes(text, `href="sweeps/${sweep}/"`);
  assertStringIncludes(text, "CNNSmall, ResNetSmall");
  const claims = JSON.parse(await Deno.readTextFile(join(root, sweep, "analysis", "claims.json")));
  const n = (v: string) => claims.claims.filter((c: { verdict: string }) => c.verdict === v).length;
  assertStringIncludes(
    text,
    `${n("holds")} hold, ${n("fails")} fail, ${n("inconclusive")} inconclusive`,
  );
  assert(!text.includes("TOPSECRET"), "a symlinked sweep outside the root must not be listed");
  assert(!text.includes('href="sweeps/linked/"'));
});

for (const page of PAGES) {
  Deno.test(`createApp() GET sweep page "${page || "overview"}" renders with navigation, charts and data links`, async () => {
    const { res, text } = await get(`/sweeps/${sweep}/${page ? `${page}/` : ""}`);
    assertEquals(res.status, 200);
    assertEquals(res.headers.get("Content-Type"), "text/html; charset=utf-8");
    assertStringIncludes(text, 'aria-current="page"');
    assert(!text.includes("is absent from this sweep"), `${page} should have all its files`);
    if (page === "gallery") assertMatch(text, /<img src="data:image\/png;base64,/);
    else if (page !== "claims") assertMatch(text, /<svg class="chart/);
    if (page === "") assertStringIncludes(text, 'href="data/runs.csv"');
    else if (page !== "gallery") assertStringIncludes(text, 'href="../data/');
  });
}

Deno.test("createApp() claims page sets the pooled and unpooled analyses side by side", async () => {
  const { text } = await get(`/sweeps/${sweep}/claims/`);
  assertStringIncludes(text, "Pooled 8×8 and unpooled, side by side");
  assertStringIncludes(text, "pooled 8×8 (D = 64)");
  assertStringIncludes(text, ", main</th>");
  // p(k, k) of the fixture's first group, unpooled and pooled (0.25 higher).
  const pooling = JSON.parse(
    await Deno.readTextFile(join(root, sweep, "analysis", "pooling.json")),
  );
  const [a, b] = pooling.variants.map((v: { groups: { pWithin: { mean: number } }[] }) =>
    v.groups[0]!.pWithin.mean
  );
  assertStringIncludes(text, `<td>${num(a, 4)} `);
  assertStringIncludes(text, `<td>${num(b, 4)} `);
  assertEquals((await get(`/sweeps/${sweep}/data/pooling.json`)).res.status, 200);
});

Deno.test("createApp() distributions page sets t with μ including the model beside leave-one-out", async () => {
  const { text } = await get(`/sweeps/${sweep}/distributions/`);
  assertStringIncludes(text, "μ including the model beside leave-one-out");
  assertStringIncludes(text, '<td class="num">0.1718</td><td');
  assertStringIncludes(text, '<td class="num">0.6683</td><td class="num">0.3000</td>');
});

Deno.test("createApp() claims page sets our figures beside the paper's with what differs", async () => {
  const { text } = await get(`/sweeps/${sweep}/claims/`);
  assertStringIncludes(text, "Compared with the paper");
  assertStringIncludes(
    text,
    "<td>about 0.42 for k = 112 against k = 128</td><td>0.31 for k = 4 against k = 8 [0.280, 0.340]",
  );
  assertStringIncludes(text, "64 probe images instead of 256");
  const csv = await get(`/sweeps/${sweep}/data/paper.csv`);
  assertEquals(csv.res.status, 200);
  assertStringIncludes(csv.text, "rho-largest-widths");
});

Deno.test("createApp() random-baseline chart marks the measured p(k,k) of every width on the curve", async () => {
  const { text } = await get(`/sweeps/${sweep}/distributions/`);
  const at = text.indexOf('data-chart="random-baseline"');
  const chart = text.slice(at, text.indexOf("</svg>", at));
  const s = JSON.parse(
    await Deno.readTextFile(join(root, sweep, "analysis", "similarity.json")),
  ) as { groups: { index: number }[]; expected: { mean: number | null }[][] };
  const measured = s.groups.filter((g) => s.expected[g.index]![g.index]!.mean !== null).length;
  assertEquals(
    (chart.match(/<circle[^>]*><title>/g) ?? []).length,
    measured,
    "one titled dot per width",
  );
  assertStringIncludes(chart, "measured p(k,k), CNNSmall (k = 2, 4, 8)");
});

Deno.test("createApp() ensembles chart: one shade per width, and each single model's tooltip names family, k and seed", async () => {
  const { text } = await get(`/sweeps/${sweep}/ensembles/`);
  const e = JSON.parse(
    await Deno.readTextFile(join(root, sweep, "analysis", "ensembles.json")),
  ) as { singles: { family: string; k: number; seed: number }[] };
  for (const s of e.singles) {
    assertStringIncludes(text, `<title>${s.family} k=${s.k} seed ${s.seed}: `);
  }
  const colors = new Set(
    [...text.matchAll(
      /data-series="CNNSmall k=\d+ single models"[^>]*>[\s\S]*?fill="(#[0-9a-f]{6})"/g,
    )]
      .map((m) => m[1]),
  );
  assertEquals(colors.size, 3, "three widths, three shades");
});

Deno.test("createApp() Saw-fit chart: one shade per width, and each point's tooltip names family, k and the seeds pooled", async () => {
  const { text } = await get(`/sweeps/${sweep}/distributions/`);
  const at = text.indexOf('data-chart="saw"');
  const chart = text.slice(at, text.indexOf("</svg>", at));
  const s = JSON.parse(
    await Deno.readTextFile(join(root, sweep, "analysis", "similarity.json")),
  ) as {
    models: { seed: number }[];
    groups: { family: string; k: number; members: number[] }[];
  };
  for (const g of s.groups) {
    const seeds = g.members.map((i) => s.models[i]!.seed).join(", ");
    assertMatch(chart, new RegExp(`<title>${g.family} k=${g.k}, seeds ${seeds} pooled, t = `));
  }
  const colors = new Set(
    [...chart.matchAll(/data-series="CNNSmall k=\d+"[^>]*>[\s\S]*?fill="(#[0-9a-f]{6})"/g)]
      .map((m) => m[1]),
  );
  assertEquals(colors.size, 3, "three widths, three shades");
});

Deno.test("createApp() Saw-fit chart links saw_points.csv, a tidy table of exactly the points it plots", async () => {
  const { text } = await get(`/sweeps/${sweep}/distributions/`);
  assertStringIncludes(text, "data/saw_points.csv");
  const at = text.indexOf('data-chart="saw"');
  const chart = text.slice(at, text.indexOf("</svg>", at));
  const csv = (await get(`/sweeps/${sweep}/data/saw_points.csv`)).text.trim().split("\r\n");
  assertEquals(csv[0], "family,k,t,logPsi,logRatio");
  const counts = new Map<string, number>();
  for (const line of csv.slice(1)) {
    const [family, k] = line.split(",");
    counts.set(`${family} k=${k}`, (counts.get(`${family} k=${k}`) ?? 0) + 1);
  }
  assert(counts.size >= 6, `groups: ${[...counts.keys()].join(" ")}`);
  for (const [name, n] of counts) {
    const series =
      new RegExp(`<g class="series" data-series="${name}"[\\s\\S]*?</g>`).exec(chart)?.[0] ?? "";
    const drawn = (series.match(/<circle/g) ?? []).length;
    assert(drawn > 0, `${name}: no points drawn`);
    // The chart thins long curves to at most 120 points, keeping the last.
    if (n <= 120) assertEquals(drawn, n, name);
  }
});

Deno.test("createApp() similarity heatmaps print their cells, readouts and stds in one notation per heatmap", async () => {
  // Values spanning several magnitudes: formatNumber alone printed 0.500 beside 4.00e-4.
  const mixedRoot = await Deno.makeTempDir({ prefix: "site-test-mixed-" });
  const mixed = await writeFixtureSweep(mixedRoot);
  const file = join(mixedRoot, mixed, "analysis", "similarity.json");
  const s = JSON.parse(await Deno.readTextFile(file));
  s.byFamily[0].mean[0][1] = 4e-4;
  s.byFamily[0].std[0][0] = 2e-5;
  await Deno.writeTextFile(file, JSON.stringify(s));
  const mixedApp = await createApp({ root: mixedRoot, site: SITE });
  const res = await mixedApp.fetch(new Request(`http://127.0.0.1/sweeps/${mixed}/similarity/`));
  const text = await res.text();
  await Deno.remove(mixedRoot, { recursive: true });
  assertStringIncludes(text, ">0.00040</text>");
  const charts = [
    ...text.matchAll(/<svg class="chart heatmap" data-chart="([^"]+)"[\s\S]*?<\/svg>/g),
  ];
  assert(charts.length >= 4, "the similarity page has its heatmaps");
  const notation = (v: string) => /e-?\d/.test(v) ? "exp" : `fixed ${v.split(".")[1]?.length ?? 0}`;
  for (const [svg, id] of charts) {
    const cells = [...svg.matchAll(/<g class="cell"[\s\S]*?<text[^>]*>([^<]*)<\/text>/g)]
      .map((m) => m[1]!).filter((v) => v !== "n/a");
    assert(cells.length > 0, id);
    assertEquals(new Set(cells.map(notation)).size, 1, `${id} cells: ${cells.join(" ")}`);
    const stds = [...svg.matchAll(/<title>[^<]*: [^ <]+ \(± ([^,]+),/g)].map((m) => m[1]!);
    if (stds.length > 0) assertEquals(new Set(stds.map(notation)).size, 1, `${id} stds`);
  }
});

Deno.test("createApp() similarity heatmaps: one colour scale across families; mean directions span their own range", async () => {
  const { text } = await get(`/sweeps/${sweep}/similarity/`);
  const props = [
    ...text.matchAll(/data-island-props="HeatmapHover">([^<]*)<\/script>/g),
  ].map((m) =>
    JSON.parse(m[1]!) as { id: string; min?: number; max?: number; values: (number | null)[][] }
  );
  const fam = props.filter((p) => /^p-(CNNSmall|ResNetSmall)$/.test(p.id));
  assertEquals(fam.length, 2);
  const all = fam.flatMap((p) => p.values.flat()).filter((v): v is number => v !== null);
  for (const p of fam) {
    assertEquals([p.min, p.max], [Math.min(...all), Math.max(...all)], p.id);
  }
  const md = props.filter((p) => p.id.startsWith("md-"));
  assert(md.length >= 2);
  const sim = JSON.parse(
    await Deno.readTextFile(join(root, sweep, "analysis", "similarity.json")),
  ) as { meanDirection: ({ mean: number | null } | null)[][] };
  const mdValues = sim.meanDirection.flat().map((c) => c?.mean ?? null).filter((v): v is number =>
    v !== null
  );
  for (const p of md) {
    assertEquals([p.min, p.max], [Math.min(...mdValues), Math.max(...mdValues)], p.id);
  }
});

Deno.test("createApp() attacks page says on screen which heatmap is all images and which correct only", async () => {
  const { text } = await get(`/sweeps/${sweep}/attacks/`);
  const n = (re: RegExp) => (text.match(re) ?? []).length;
  assertEquals(n(/<h4>All probe images<\/h4>/g), 2);
  assertEquals(n(/<h4>Correctly classified images only<\/h4>/g), 2);
  // Each label sits right before its own heatmap.
  assert(
    text.indexOf("<h4>All probe images</h4>") < text.indexOf('data-chart="alpha-CNNSmall"') &&
      text.indexOf('data-chart="alpha-CNNSmall"') <
        text.indexOf("<h4>Correctly classified images only</h4>") &&
      text.indexOf("<h4>Correctly classified images only</h4>") <
        text.indexOf('data-chart="alpha-correct-CNNSmall"'),
    "labels in order",
  );
});

Deno.test("createApp() overview shows the models with accuracy and the parameter counts by family and k", async () => {
  const { text } = await get(`/sweeps/${sweep}/`);
  assertStringIncludes(text, "Trainable parameters by family and width k");
  // CNNSmall(k = 8) with one input channel: 378·64 + 134·8 + 10 = 25,274.
  assertStringIncludes(text, "25,274");
  assertStringIncludes(text, "36 planned: 36 complete");
});

Deno.test("createApp() distributions page shows the KDE, the one-image marginal, Saw fit and random baseline", async () => {
  const { text } = await get(`/sweeps/${sweep}/distributions/`);
  assertEquals((text.match(/data-island="KdeFamilies"/g) ?? []).length, 3);
  assertStringIncludes(text, "Marginal of t for probe image 0");
  assertStringIncludes(text, "uniform sphere, d = 784");
  assertStringIncludes(text, "log10 P(Z > p)");
  // log P_origin is null (−∞) at t = ±1: the uniform-sphere curve is 0 there, not exp(null) = 1,
  // and the plot keeps to where the densities have mass instead of spanning [−1, 1].
  const kde = JSON.parse(
    /<script type="application\/json"[^>]*>(.*?)<\/script>/s.exec(text)?.[1] ?? "null",
  ) as { id: string; series: { name: string; points: [number, number][] }[] };
  assertEquals(kde.id, "kde");
  const sphere = kde.series.find((s) => s.name.startsWith("uniform sphere"));
  assert(sphere, "the KDE plot has the uniform-sphere curve");
  const xs = kde.series.flatMap((s) => s.points.map(([x]) => x));
  assert(
    Math.min(...xs) > -1 && Math.max(...xs) < 1,
    `plot spans ${Math.min(...xs)}…${Math.max(...xs)}`,
  );
  assert(sphere.points.every(([, y]) => y < 20), "no spike in the uniform-sphere curve");
});

Deno.test("createApp() similarity page shows hover heatmaps, Table 1 and one page script, none inline", async () => {
  const { res, text } = await get(`/sweeps/${sweep}/similarity/`);
  assertEquals((text.match(/data-island="HeatmapHover"/g) ?? []).length, 6);
  assertStringIncludes(text, "Table 1: Wasserstein distance");
  assertStringIncludes(
    text,
    '<script src="../../../_islands/page-HeatmapHover.js" defer></script>',
  );
  const csp = res.headers.get("Content-Security-Policy") ?? "";
  assertStringIncludes(csp, "script-src 'self';");
  assert(!csp.includes("unsafe-inline"));
  const scripts = text.match(/<script(?![^>]*type="application\/json")[^>]*>/g) ?? [];
  assertEquals(scripts, ['<script src="../../../_islands/page-HeatmapHover.js" defer>']);
});

Deno.test("createApp() filters by ?family= and answers 400 to unknown query keys or values", async () => {
  const one = await get(`/sweeps/${sweep}/similarity/?family=CNNSmall`);
  assertEquals(one.res.status, 200);
  assert(!one.text.includes("p(k1, k2), ResNetSmall"));
  for (
    const q of [
      "?family=VGG",
      "?family=%3Cscript%3E",
      "?foo=1",
      "?family=CNNSmall&family=ResNetSmall",
    ]
  ) {
    const r = await get(`/sweeps/${sweep}/similarity/${q}`);
    assertEquals(r.res.status, 400, q);
    assert(!r.text.includes("<script>"), "the error page does not reflect input");
  }
  assertEquals((await get(`/sweeps/${sweep}/claims/?family=CNNSmall`)).res.status, 400);
  assertEquals((await get(`/?x=1`)).res.status, 400);
  assertEquals((await get(`/static/site.css?v=1`)).res.status, 400);
  assertEquals((await get(`/sweeps/${sweep}/data/claims.json?x=1`)).res.status, 400);
});

Deno.test("createApp() epochs and methods hints name the sweep's results directory, and a config for a sweep that is no preset", async () => {
  const epochs = (await get(`/sweeps/${sweep}/epochs/`)).text;
  assertStringIncludes(
    epochs,
    `deno task sweep --config CONFIG.json --out ${root} --epochs-analysed 1,2,5`,
  );
  assert(!epochs.includes("--preset NAME"), "no placeholder preset");
  assertStringIncludes(
    (await get(`/sweeps/${sweep}/methods/`)).text,
    `deno task sweep --config CONFIG.json --out ${root}<`,
  );
});

Deno.test("createApp() says which analysis file is absent and which command writes it", async () => {
  for (
    const [page, file] of [
      ["attacks", "attacks.json"],
      ["ensembles", "ensembles.json"],
      ["batch_size", "batch_size.json"],
      ["distributions", "marginals.json"],
      ["claims", "claims.json"],
    ]
  ) {
    const { res, text } = await get(`/sweeps/${sparse}/${page}/`);
    assertEquals(res.status, 200, page);
    assertStringIncludes(text, `analysis/${file}</strong> is absent`);
    assertStringIncludes(text, `deno task analyze --run ${root}/${sparse}`);
  }
  assertEquals((await get(`/sweeps/${sparse}/data/attacks.json`)).res.status, 404);
});

Deno.test("createApp() names an analysis file that lacks expected fields instead of failing", async () => {
  const other = await Deno.makeTempDir({ prefix: "site-shape-" });
  const name = await writeFixtureSweep(other, { name: "shape" });
  await Deno.writeTextFile(
    join(other, name, "analysis", "similarity.json"),
    JSON.stringify({ schemaVersion: 1, kind: "similarity", generatedAt: "", source: "x" }),
  );
  const shaped = await createApp({ root: other, site: SITE });
  const res = await shaped.fetch(new Request(`http://127.0.0.1/sweeps/${name}/similarity/`));
  const text = await res.text();
  assertEquals(res.status, 200);
  assertStringIncludes(text, "analysis/similarity.json</strong> does not have the fields");
  assertStringIncludes(text, "Table 1: Wasserstein distance");
});

Deno.test("createApp() escapes names from results files, never rendering them as markup", async () => {
  for (
    const path of [
      `/`,
      `/sweeps/${hostile}/`,
      `/sweeps/${hostile}/claims/`,
      `/sweeps/${hostile}/similarity/`,
    ]
  ) {
    const { res, text } = await get(path);
    assertEquals(res.status, 200, path);
    assert(!text.includes(HOSTILE), `${path} contains raw markup`);
    assert(!text.includes("<img src=x"), path);
  }
  const { text } = await get(`/sweeps/${hostile}/`);
  assertStringIncludes(text, "&lt;script>alert(1)&lt;/script>");
  assertStringIncludes(text, "run id is not a plain name");
});

Deno.test("createApp() answers 404 to path traversal, encoded forms and symlinks leading outside", async () => {
  const paths = [
    "/sweeps/..%2f..%2fetc/",
    "/sweeps/%2e%2e%2f%2e%2e%2fetc/",
    "/sweeps/%252e%252e/",
    `/sweeps/${sweep}/data/..%2f..%2fsweep.json`,
    `/sweeps/${sweep}/data/%2e%2e%2fplan.json`,
    `/sweeps/${sweep}/data/claims_link.json`,
    "/sweeps/linked/",
    "/sweeps/linked/data/sweep.json",
    "/sweeps/.hidden/",
    "/sweeps/a%00b/",
    "/static/..%2fdeno.json",
    "/static/%2e%2e/deno.json",
    "/../../etc/passwd",
    "/sweeps/nope/",
  ];
  for (const p of paths) {
    const { res, text } = await get(p);
    assertEquals(res.status, 404, p);
    assert(!text.includes("TOPSECRET"), p);
  }
});

Deno.test("createApp() serves the analysis JSON verbatim and tidy CSV tables", async () => {
  const json = await get(`/sweeps/${sweep}/data/similarity.json`);
  assertEquals(json.res.status, 200);
  assertEquals(json.res.headers.get("Content-Type"), "application/json; charset=utf-8");
  assertEquals(
    json.text,
    await Deno.readTextFile(join(root, sweep, "analysis", "similarity.json")),
  );
  const csv = await get(`/sweeps/${sweep}/data/table1.csv`);
  assertEquals(csv.res.headers.get("Content-Type"), "text/csv; charset=utf-8");
  const table1 = JSON.parse(
    await Deno.readTextFile(join(root, sweep, "analysis", "table1.json")),
  ) as { rows: { family: string; k: number; mean: number }[] };
  const lines = csv.text.trim().split("\r\n");
  assertEquals(lines[0], "family,k,mean,std,modelPairs,models,samplesPerModel");
  assertEquals(lines.length, 1 + table1.rows.length);
  const first = table1.rows[0]!;
  assert(lines[1]!.startsWith(`${first.family},${first.k},${first.mean},`), lines[1]);
  assertEquals((await get(`/sweeps/${sweep}/data/summary.csv`)).res.status, 404);
  const runs = await get(`/sweeps/${sweep}/data/runs.csv`);
  assertEquals(
    runs.text.split("\r\n")[0],
    "runId,family,k,seed,batchSize,params,epoch,trainLoss,testLoss,testAcc,lr,seconds",
  );
  assertEquals(runs.text.trim().split("\r\n").length, 1 + 36 * 3);
  assertEquals((await get(`/sweeps/${sweep}/data/other.json`)).res.status, 404);
});

Deno.test("createApp() sends security headers on every response and serves only GET and HEAD", async () => {
  for (const p of ["/", `/sweeps/${sweep}/`, "/static/site.css", "/_islands/page.js", "/nope"]) {
    const { res } = await get(p);
    assertEquals(res.headers.get("X-Content-Type-Options"), "nosniff", p);
    assertEquals(res.headers.get("Referrer-Policy"), "no-referrer", p);
    assertStringIncludes(
      res.headers.get("Content-Security-Policy") ?? "",
      "frame-ancestors 'none'",
    );
    assertStringIncludes(res.headers.get("Content-Security-Policy") ?? "", "default-src 'none'");
  }
  const post = await get("/", { method: "POST", body: "x" });
  assertEquals(post.res.status, 405);
  assertEquals(post.res.headers.get("Allow"), "GET, HEAD", "a 405 names the methods served");
  const head = await get(`/sweeps/${sweep}/`, { method: "HEAD" });
  assertEquals(head.res.status, 200);
  assertEquals(head.text, "");
  const redirect = await app.fetch(new Request(`http://127.0.0.1/sweeps/${sweep}`));
  assertEquals(redirect.status, 308);
  assertEquals(redirect.headers.get("Location"), `./${sweep}/`);
});

Deno.test("createApp() ships the in-browser analysis's code only to /analyze/: each page loads the script of its own islands", async () => {
  const scriptOf = (html: string) => {
    const srcs = [...html.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1]!);
    assert(srcs.length <= 1, `one page script at most: ${srcs.join(" ")}`);
    return srcs[0]
      ? new URL(srcs[0], "http://x/a/b/c/").pathname.replace(/^.*\/_islands\//, "")
      : null;
  };
  const analyze = scriptOf((await get("/analyze/")).text);
  assertEquals(analyze, "page-BrowserAnalysis.js");
  const analysisJs = (await get(`/_islands/${analyze}`)).text;
  // A message of the island itself, and its kernels' WGSL, are in the analysis page's script.
  assertStringIncludes(analysisJs, "Nothing runs until both files are here");
  assertMatch(analysisJs, /@compute/);
  const sizes: Record<string, number> = {};
  for (const page of PAGES) {
    const { text } = await get(`/sweeps/${sweep}/${page ? page + "/" : ""}`);
    const script = scriptOf(text);
    if (script === null) {
      assert(!/data-island=|class="chart /.test(text), `${page}: charts or islands, no script`);
      continue;
    }
    const islands = [...new Set([...text.matchAll(/data-island="([^"]+)"/g)].map((m) => m[1]!))]
      .sort();
    assertEquals(script, `page${islands.map((n) => `-${n}`).join("")}.js`, page);
    const js = (await get(`/_islands/${script}`)).text;
    assert(!js.includes("Nothing runs until both files are here"), `${script} holds the analysis`);
    assert(!/@compute/.test(js), `${script} holds WGSL`);
    sizes[script] = js.length;
  }
  assert(Object.keys(sizes).length >= 3, `scripts seen: ${Object.keys(sizes).join(" ")}`);
  for (const [script, size] of Object.entries(sizes)) {
    assert(size < analysisJs.length / 3, `${script}: ${size} bytes`);
  }
  // Only canonical names of registered islands are served.
  for (const bad of ["page-Nope.js", "page-KdeFamilies-HeatmapHover.js", "islands.js"]) {
    assertEquals((await get(`/_islands/${bad}`)).res.status, 404, bad);
  }
});

Deno.test("islandBundle() is a classic script (it runs from file://) that waits for a document", async () => {
  const { res, text } = await get("/_islands/page-HeatmapHover-KdeFamilies.js");
  assertEquals(res.headers.get("Content-Type"), "text/javascript; charset=utf-8");
  assert(!/^\s*(import|export)\b|\bexport\s*\{/m.test(text), "no module syntax");
  assertStringIncludes(text, "chart-tools");
  // Outside a browser (no document) evaluating it does nothing and throws nothing.
  new Function(text)();
});

Deno.test("exportSite() writes a static site whose links are all relative and resolvable", async () => {
  const out = join(await Deno.makeTempDir({ prefix: "site-export-" }), "site");
  const result = await exportSite({ root, out, site: SITE });
  assertEquals(result.sweeps.sort(), [hostile, sweep, sparse].sort());
  const html = result.files.filter((f) => f.endsWith(".html"));
  // Every page of SWEEP_PAGES for each of the three sweeps (methods and epochs as notices here).
  assertEquals(html.length, 3 + 3 * SWEEP_PAGES.length); // the index, /compare/, /analyze/ and each sweep's pages
  let checked = 0;
  for (const file of html) {
    const text = await Deno.readTextFile(join(out, file));
    assertStringIncludes(text, '<meta http-equiv="Content-Security-Policy"');
    for (const m of text.matchAll(/(?:href|src)="([^"]*)"|from"([^"]*)"/g)) {
      const link = (m[1] ?? m[2] ?? "").replace(/&amp;/g, "&");
      if (link.startsWith("data:") || link.startsWith("#")) continue;
      assert(!/^([a-z]+:|\/)/i.test(link), `${file}: absolute link ${link}`);
      const target = new URL(link, `file:///site/${file}`).pathname.slice("/site/".length);
      const stat = await Deno.stat(join(out, decodeURIComponent(target))).catch(() => null);
      assert(stat?.isFile, `${file}: link ${link} does not resolve to a file`);
      checked++;
    }
  }
  assert(checked > 200, `checked ${checked} links`);
  // A second export replaces the first; a folder of other files is refused.
  await exportSite({ root, out, site: SITE });
  const foreign = await Deno.makeTempDir();
  await Deno.writeTextFile(join(foreign, "keep.txt"), "x");
  let refused = false;
  try {
    await exportSite({ root, out: foreign, site: SITE });
  } catch (err) {
    refused = (err as Error).message.includes("holds other files");
  }
  assert(refused);
  assertEquals(await Deno.readTextFile(join(foreign, "keep.txt")), "x");
});
