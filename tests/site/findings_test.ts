/**
 * HTTP tests of the findings-first overview (tally, headline figure, effect sizes, caveats, the
 * links from claims to figures and back) and of the tidy CSV tables: every CSV the static export
 * writes is parsed by a strict RFC 4180 reader (one header of unique named columns, every row as
 * wide as the header, numeric columns numeric) and checked against the JSON it was drawn from.
 */
import { assert, assertEquals, assertStringIncludes } from "./_assert.ts";
import { join } from "node:path";
import { createApp, type SiteApp } from "../../lib/site/mod.ts";
import { CLAIM_FIGURES } from "../../lib/site/claim_links.ts";
import { TIDY_TABLES } from "../../lib/site/tidy.ts";
import { listFiles } from "../../routes/sweeps/[sweep]/data/[file].ts";
import type { ClaimsFile, SimilarityFile } from "../../lib/analysis/schema.ts";
import { writeFixtureSweep } from "./fixture.ts";
import { SITE } from "../../site.ts";

const root = await Deno.makeTempDir({ prefix: "site-findings-" });
const sweep = await writeFixtureSweep(root);
const bare = await writeFixtureSweep(root, { name: "bare", omit: ["claims", "similarity"] });
const app: SiteApp = await createApp({ root, site: SITE });

async function get(path: string): Promise<{ status: number; text: string }> {
  const res = await app.fetch(new Request(`http://127.0.0.1${path}`));
  return { status: res.status, text: await res.text() };
}

async function readJson<T>(...parts: string[]): Promise<T> {
  return JSON.parse(await Deno.readTextFile(join(root, ...parts))) as T;
}

/**
 * A strict RFC 4180 parser: quoted fields may hold commas, quotes ("") and line breaks; a quote
 * anywhere else, an unterminated quote, or a line not ending in CRLF is an error.
 */
function parseCsvStrict(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let i = 0;
  while (i < text.length) {
    let field = "";
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw new Error("unterminated quoted field");
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += text[i++];
      }
    } else {
      while (i < text.length && text[i] !== "," && text[i] !== "\r" && text[i] !== "\n") {
        if (text[i] === '"') throw new Error(`bare quote in a field at ${i}`);
        field += text[i++];
      }
    }
    row.push(field);
    if (text[i] === ",") {
      i++;
      continue;
    }
    if (text.slice(i, i + 2) !== "\r\n") throw new Error(`row not ended by CRLF at ${i}`);
    i += 2;
    rows.push(row);
    row = [];
  }
  if (row.length > 0) throw new Error("last row not ended by CRLF");
  return rows;
}

/** Reads a CSV as pandas would: a header of unique names, then records, "" as missing. */
function readTable(text: string): { columns: string[]; records: Record<string, string>[] } {
  const [header, ...rows] = parseCsvStrict(text);
  assert(header, "no header");
  for (const c of header) assert(/^[A-Za-z][A-Za-z0-9]*$/.test(c), `column name "${c}"`);
  assertEquals(new Set(header).size, header.length, "duplicate column");
  rows.forEach((r, i) => assertEquals(r.length, header.length, `row ${i} width`));
  return {
    columns: header,
    records: rows.map((r) => Object.fromEntries(header.map((c, j) => [c, r[j]!]))),
  };
}

Deno.test("overview opens with the findings: tally, headline p(k,k) figure, effect sizes and caveats", async () => {
  const { status, text } = await get(`/sweeps/${sweep}/`);
  assertEquals(status, 200);
  const claims = await readJson<ClaimsFile>(sweep, "analysis", "claims.json");
  const n = (v: string) => claims.claims.filter((c) => c.verdict === v).length;
  const findings = text.indexOf('id="findings"');
  assert(findings > 0 && findings < text.indexOf("<h2>Configuration</h2>"), "findings first");
  const tallyText = text.slice(findings, text.indexOf("</p>", findings)).replace(/<[^>]+>/g, "");
  assertStringIncludes(
    tallyText,
    `Of ${claims.claims.length} paper claims checked: holds ${n("holds")} · fails ${
      n("fails")
    } · inconclusive ${n("inconclusive")}`,
  );
  assertStringIncludes(text, 'id="fig-headline"');
  const s = await readJson<SimilarityFile>(sweep, "analysis", "similarity.json");
  const families = new Set(s.groups.map((g) => g.family));
  // One interval bar per (family, width) whose diagonal cell has an interval.
  const withCi = s.groups.filter((g) => s.expected[g.index]?.[g.index]?.ci).length;
  const headline = text.slice(
    text.indexOf('id="fig-headline"'),
    text.indexOf("</figure>", text.indexOf('id="fig-headline"')),
  );
  assertEquals(headline.split('class="interval"').length - 1, withCi);
  for (const f of families) assertStringIncludes(headline, `${f} (3 seeds per width)`);
  for (const c of claims.claims) assertStringIncludes(text, `id="finding-${c.id}"`);
  assertStringIncludes(text, "<strong>seeds:</strong> Seeds per width: CNNSmall 3; ResNetSmall 3");
  assertStringIncludes(text, "<strong>gradients:</strong> Gradients are");
  assertStringIncludes(text, "<strong>accuracy:</strong>");
  // paper.json's rows beside ours, each linking to its row on the claims page.
  const paper = await readJson<{ rows: { id: string; paper: { text: string } }[] }>(
    sweep,
    "analysis",
    "paper.json",
  );
  for (const r of paper.rows) {
    assertStringIncludes(text, `href="claims/#paper-${r.id}"`);
    assertStringIncludes(text, `<td>${r.paper.text}</td>`);
  }
  const claimsPage = (await get(`/sweeps/${sweep}/claims/`)).text;
  for (const r of paper.rows) assertStringIncludes(claimsPage, `id="paper-${r.id}"`);
});

Deno.test("every claim links to the figure behind it, and that figure links back to the claim", async () => {
  const claims = await readJson<ClaimsFile>(sweep, "analysis", "claims.json");
  const claimsPage = (await get(`/sweeps/${sweep}/claims/`)).text;
  let checked = 0;
  for (const c of claims.claims) {
    const fig = CLAIM_FIGURES[c.id];
    assert(fig, `claim ${c.id} has no figure in CLAIM_FIGURES`);
    const rel = `../${fig.page ? `${fig.page}/` : ""}#${fig.anchor}`.replace("../#", "../#");
    assertStringIncludes(claimsPage, `href="${rel}"`, c.id);
    const page = (await get(`/sweeps/${sweep}/${fig.page ? `${fig.page}/` : ""}`)).text;
    const at = page.indexOf(`id="${fig.anchor}"`);
    assert(at > 0, `${fig.page}#${fig.anchor} missing for ${c.id}`);
    const figure = page.slice(at, page.indexOf("</figure>", at));
    assertStringIncludes(figure, `claims/#claim-${c.id}"`, `${c.id}: figure links back`);
    checked++;
  }
  assert(checked >= 5, `only ${checked} claims checked`);
});

Deno.test("overview without claims.json and similarity.json says which file is absent and the command", async () => {
  const { status, text } = await get(`/sweeps/${bare}/`);
  assertEquals(status, 200);
  assertStringIncludes(text, "<strong>analysis/claims.json</strong>");
  assertStringIncludes(text, `deno task analyze --run ${root}/${bare}`);
  assert(!text.includes('id="fig-headline"'), "no headline figure without similarity.json");
});

Deno.test("every tidy CSV parses strictly, has named columns and matches its JSON", async () => {
  const files = (await listFiles(app.store, sweep)).filter((f) => f.endsWith(".csv"));
  for (const name of Object.keys(TIDY_TABLES)) {
    if (name.startsWith("attack") || name === "marginals_per_image.csv") continue;
    assert(files.includes(name), `${name} not listed`);
  }
  for (const name of files) {
    const { status, text } = await get(`/sweeps/${sweep}/data/${name}`);
    assertEquals(status, 200, name);
    const { columns, records } = readTable(text);
    assert(records.length > 0, `${name} has no rows`);
    const spec = TIDY_TABLES[name];
    if (spec) assertEquals(columns, [...spec.columns], name);
    // A column is numeric when its first non-empty cell is: then every non-empty cell must be.
    for (const c of columns) {
      const cells = records.map((r) => r[c]!).filter((v) => v !== "");
      if (cells.length > 0 && Number.isFinite(Number(cells[0]))) {
        for (const v of cells) assert(Number.isFinite(Number(v)), `${name}.${c}: "${v}"`);
      }
    }
  }
  const s = await readJson<SimilarityFile>(sweep, "analysis", "similarity.json");
  const pkk = readTable((await get(`/sweeps/${sweep}/data/pkk.csv`)).text).records;
  assertEquals(pkk.length, s.groups.length);
  for (const r of pkk) {
    const g = s.groups.find((x) => x.family === r.family && x.k === Number(r.k))!;
    const cell = s.expected[g.index]![g.index]!;
    assertEquals(Number(r.mean), cell.mean, `${r.family} ${r.k}`);
    assertEquals(Number(r.ciLo), cell.ci!.lo);
    assertEquals(Number(r.seeds), g.members.length);
  }
  const pairs = readTable((await get(`/sweeps/${sweep}/data/similarity.csv`)).text).records;
  assertEquals(pairs.length, s.groups.length ** 2);
  const claims = await readJson<ClaimsFile>(sweep, "analysis", "claims.json");
  const rows = readTable((await get(`/sweeps/${sweep}/data/claims.csv`)).text).records;
  assertEquals(rows.map((r) => r.id), claims.claims.map((c) => c.id));
  assertEquals(rows.map((r) => r.verdict), claims.claims.map((c) => c.verdict));
});

Deno.test("parseCsvStrict() refuses what pandas would misread", () => {
  assertEquals(parseCsvStrict('a,b\r\n"x,""y""",2\r\n'), [["a", "b"], ['x,"y"', "2"]]);
  for (const bad of ['a\r\n"x', "a\nb\n", 'a\r\nx"y\r\n']) {
    let threw = false;
    try {
      parseCsvStrict(bad);
    } catch {
      threw = true;
    }
    assert(threw, JSON.stringify(bad));
  }
});

Deno.test("compare page overlays p(k,k) of every sweep and sets claims side by side", async () => {
  const { status, text } = await get("/compare/");
  assertEquals(status, 200);
  const s = await readJson<SimilarityFile>(sweep, "analysis", "similarity.json");
  const families = new Set(s.groups.map((g) => g.family));
  // bare has no similarity.json: only the fixture's families are drawn, one line each.
  assertEquals((text.match(/<g class="series"/g) ?? []).length, families.size);
  for (const f of families) assertStringIncludes(text, `data-series="${sweep}: ${f}"`);
  assertStringIncludes(text, `<th>${sweep}</th>`);
  assertStringIncludes(text, `<th>${bare}</th>`);
  assertStringIncludes(text, "no claims.json");
  const one = await get(`/compare/?sweep=${sweep}`);
  assertEquals(one.status, 200);
  assertStringIncludes(one.text, "needs two or more sweeps");
  assertEquals((await get("/compare/?sweep=nope")).status, 400);
  assertStringIncludes((await get("/")).text, 'href="compare/"');
});

Deno.test("gradients with NaN or ±Inf are counted on the pages and in models.csv", async () => {
  const name = await writeFixtureSweep(root, { name: "nans" });
  const file = join(root, name, "analysis", "similarity.json");
  const s = await readJson<SimilarityFile>(name, "analysis", "similarity.json");
  s.nonFiniteGradients = 7;
  s.models = s.models.map((m, i) => ({ ...m, nonFiniteGradients: i === 1 ? 7 : 0 }));
  await Deno.writeTextFile(file, JSON.stringify(s));
  const summaryFile = join(root, name, "analysis", "summary.json");
  const summary = JSON.parse(await Deno.readTextFile(summaryFile));
  summary.counts.nonFiniteGradients = 7;
  await Deno.writeTextFile(summaryFile, JSON.stringify(summary));
  const nanApp = await createApp({ root, site: SITE });
  const page = async (path: string) =>
    await (await nanApp.fetch(new Request(`http://127.0.0.1${path}`))).text();
  assertStringIncludes(
    await page(`/sweeps/${name}/similarity/`),
    "7 gradients holding NaN or ±Inf left out",
  );
  assertStringIncludes(
    await page(`/sweeps/${name}/`),
    "7 gradients holding NaN or ±Inf left out",
  );
  const csv = parseCsvStrict(await page(`/sweeps/${name}/data/models.csv`));
  const col = csv[0]!.indexOf("nonFiniteGradients");
  assert(col >= 0, `models.csv columns: ${csv[0]}`);
  assertEquals(csv.slice(1).map((r) => r[col]), s.models.map((_, i) => (i === 1 ? "7" : "0")));
});

Deno.test("cleanup", async () => {
  await Deno.remove(root, { recursive: true });
});
