/**
 * Unit tests of the report site's pure parts: scales and ticks, number formatting, the viridis
 * map, the SVG chart components, CSV conversion, relative links, the JSON data blocks of islands,
 * and name safety.
 */
import { renderToString } from "preact-render-to-string";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "./_assert.ts";
import {
  cellText,
  columnFormat,
  formatNumber,
  Heatmap,
  heatmapFormat,
  LineChart,
  makeScale,
  matrixRange,
  ticks,
  viridis,
} from "../../lib/site/charts/mod.ts";
import { csvField, jsonToCsv } from "../../lib/site/csv.ts";
import { estimateText, intervalText, tableFormats } from "../../lib/site/components.tsx";
import { ClaimsSideBySide } from "../../lib/site/findings.tsx";
import { safeJson } from "../../lib/site/islands.ts";
import { relativeHref } from "../../lib/site/links.ts";
import { contentSecurityPolicy, isSafeName, isWithin } from "../../lib/site/safety.ts";

Deno.test("makeScale() maps linear and log domains onto the range", () => {
  const lin = makeScale([0, 10], [100, 200]);
  assertEquals([lin(0), lin(5), lin(10)], [100, 150, 200]);
  const log = makeScale([1, 1000], [0, 300], { log: true });
  assert(Math.abs(log(10) - 100) < 1e-9 && Math.abs(log(100) - 200) < 1e-9);
  let threw = false;
  try {
    makeScale([0, 1], [0, 1], { log: true });
  } catch (e) {
    threw = e instanceof RangeError;
  }
  assert(threw, "a log scale over 0 throws RangeError");
});

Deno.test("ticks() gives round steps and powers of ten or 1-2-5 multiples on log axes", () => {
  assertEquals(ticks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assertEquals(ticks(-0.013, 0.047, 4), [0, 0.02, 0.04]);
  assertEquals(ticks(-0.013, 0.047, 8), [-0.01, 0, 0.01, 0.02, 0.03, 0.04]);
  assertEquals(ticks(1, 1000, 5, true), [1, 10, 100, 1000]);
  assertEquals(ticks(1790, 79768, 5, true), [2000, 5000, 10000, 20000, 50000]);
});

Deno.test("formatNumber() prints fixed digits, exponents for extremes and a dash for null", () => {
  assertEquals(formatNumber(0.123456, 3), "0.123");
  assertEquals(formatNumber(25274), "25,274");
  assertEquals(formatNumber(1.5e-7, 3), "1.50e-7");
  assertEquals(formatNumber(null), "–");
  assertEquals(formatNumber(NaN), "–");
});

Deno.test("columnFormat() gives a whole column one notation, picked from its range", () => {
  // formatNumber alone mixes notations in one column: this is what columnFormat replaces.
  assertEquals([0.5, 0.0004].map((v) => formatNumber(v, 3)), ["0.500", "4.00e-4"]);
  const grown = columnFormat([0.5, 0.0004, -0.25, null]);
  assertEquals([0.5, 0.0004, -0.25, null].map(grown), ["0.50000", "0.00040", "-0.25000", "–"]);
  const plain = columnFormat([0.12345, 0.5]);
  assertEquals([0.12345, 0.5, 0].map(plain), ["0.123", "0.500", "0.000"]);
  // Beyond MAX_FIXED_DECIMALS, or at 1e5 and above, every value takes an exponent.
  const tiny = columnFormat([0.5, 1.5e-9, 0]);
  assertEquals([0.5, 1.5e-9, 0].map(tiny), ["5.00e-1", "1.50e-9", "0"]);
  const huge = columnFormat([2.5, 123456.7], 3);
  assertEquals([2.5, 123456.7].map(huge), ["2.50e0", "1.23e5"]);
  // Whole numbers are grouped integers, however large (116,280 never beside 1.16e5).
  assertEquals([39330, 116280].map(columnFormat([39330, 116280])), ["39,330", "116,280"]);
  assertEquals(columnFormat([NaN, null, undefined])(0.25), "0.250");
  // Rounding residue of zero (the uniform sphere's median t) does not push a column to exponents.
  const deciles = columnFormat([-0.26, -2.69e-17, 0.0037, 0.22]);
  assertEquals([-0.26, -2.69e-17, 0.0037].map(deciles), ["-0.2600", "0.0000", "0.0037"]);
});

Deno.test("ClaimsSideBySide() and estimateText() print a table's values in one notation", () => {
  const claim = (id: string, value: number, lo: number, hi: number) => ({
    id,
    value,
    verdict: "holds" as const,
    interval: { lo, hi, level: 0.95, resamples: 100, over: ["seeds" as const], blocks: null },
  });
  const html = renderToString(
    <ClaimsSideBySide
      columns={[{
        label: "A",
        claims: [claim("big", 0.5, 0.4, 0.6), claim("small", 0.0004, 0.0001, 0.0007)],
      }]}
    />,
  );
  const numbers = [...html.matchAll(/-?\d+\.\d+(?:e-?\d+)?/g)].map((m) => m[0]);
  assertEquals(numbers, ["0.50000", "0.40000", "0.60000", "0.00040", "0.00010", "0.00070"]);
  const f = tableFormats({ mean: [0.5, 0.0004] }).mean;
  assertEquals(
    estimateText({ mean: 0.5, std: 0.0004, pairs: 2, ci: null }, f),
    "0.50000 ± 0.00040",
  );
  assertStringIncludes(
    intervalText(
      { lo: 0.0004, hi: 0.5, level: 0.9, resamples: 10, over: ["seeds"], blocks: null },
      f,
    ),
    "[0.00040, 0.50000] (90 %",
  );
});

Deno.test("viridis() runs from dark purple to yellow and picks readable text", () => {
  assertEquals(viridis(0), { color: "#440154", darkText: false });
  assertEquals(viridis(1), { color: "#fde725", darkText: true });
  assertEquals(viridis(2).color, "#fde725");
});

/** A heatmap of widths k1 (rows) × k2 (columns) = 1, 2 holding `values`. */
const widths2x2 = (id: string, values: (number | null)[][]) => ({
  id,
  title: id.toUpperCase(),
  xLabel: "k2",
  yLabel: "k1",
  rowLabels: ["1", "2"],
  colLabels: ["1", "2"],
  values,
});

Deno.test("Heatmap() prints every value, titles each cell and labels both axes", () => {
  const data = widths2x2("t", [[0.1, null], [0.3, 0.4]]);
  const svg = renderToString(<Heatmap {...data} />);
  assertEquals((svg.match(/<g class="cell"/g) ?? []).length, 4);
  assertStringIncludes(svg, ">0.100</text>");
  assertStringIncludes(svg, ">n/a</text>");
  assertStringIncludes(svg, "<title>k1 = 2, k2 = 1: 0.300</title>");
  assertStringIncludes(svg, ">k2</text>");
  assertEquals(matrixRange(data.values), [0.1, 0.4]);
  assertEquals(cellText(data, 0, 1), "k1 = 1, k2 = 2: –");
});

Deno.test("Heatmap() prints cells, readouts and colour bar in one notation for the whole matrix", () => {
  const data = widths2x2("f", [[0.5, 0.0004], [null, 0.25]]);
  const svg = renderToString(<Heatmap {...data} />);
  // formatNumber alone printed 0.500 beside 4.00e-4.
  for (const v of ["0.50000", "0.00040", "0.25000"]) assertStringIncludes(svg, `>${v}</text>`);
  assert(!/\de-\d/.test(svg), "no exponent beside fixed decimals");
  assert(!svg.includes("textLength"), "labels that fit keep their natural width");
  assertStringIncludes(svg, "<title>k1 = 1, k2 = 2: 0.00040</title>");
  assertEquals(cellText(data, 1, 1), "k1 = 2, k2 = 2: 0.25000");
  assertEquals(heatmapFormat({ ...data, values: [[0.5, 1e-9]] })(0.5), "5.00e-1");
  // A label wider than its cell is condensed to fit rather than spilling over.
  const many = Array.from({ length: 15 }, (_, i) => String(i));
  const small = renderToString(
    <Heatmap
      {...data}
      rowLabels={many}
      colLabels={many}
      values={many.map((_, r) => many.map((_, c) => (r - c) * 1e-3))}
    />,
  );
  assertMatch(small, /textLength="24" lengthAdjust="spacingAndGlyphs"[^>]*>-0\.0140</);
});

Deno.test("LineChart() draws one path per series, skips non-finite points and hides groups", () => {
  const series = [
    { name: "a", group: "A", points: [[0, 1], [1, 2], [2, NaN]] as [number, number][] },
    { name: "b", group: "B", points: [[0, 2], [1, 3]] as [number, number][] },
  ];
  const all = renderToString(
    <LineChart id="l" title="L" xLabel="x" yLabel="y" series={series} />,
  );
  assertEquals((all.match(/<path /g) ?? []).length, 2);
  assert(!all.includes("NaN"), "no NaN coordinates");
  const hidden = renderToString(
    <LineChart id="l" title="L" xLabel="x" yLabel="y" series={series} hiddenGroups={["A"]} />,
  );
  assertEquals((hidden.match(/<path /g) ?? []).length, 1);
  assertStringIncludes(hidden, "a (hidden)");
});

Deno.test("jsonToCsv() writes record tables and JSON-pointer long tables, quoting safely", () => {
  assertEquals(jsonToCsv([{ a: 1, b: "x,y" }, { a: 2, c: null }]), 'a,b,c\r\n1,"x,y",\r\n2,,\r\n');
  assertEquals(
    jsonToCsv({ "a/b": [true, "=cmd()"] }),
    "path,value\r\n/a~1b/0,true\r\n/a~1b/1,'=cmd()\r\n",
  );
  assertEquals(csvField('say "hi"'), '"say ""hi"""');
});

Deno.test("relativeHref() links between directory pages and files in both modes", () => {
  assertEquals(relativeHref("/", "/sweeps/a/", "server"), "sweeps/a/");
  assertEquals(relativeHref("/", "/sweeps/a/", "static"), "sweeps/a/index.html");
  assertEquals(
    relativeHref("/sweeps/a/claims/", "/sweeps/a/data/claims.json", "static"),
    "../data/claims.json",
  );
  assertEquals(relativeHref("/sweeps/a/", "/sweeps/a/", "server"), "./");
  assertEquals(relativeHref("/sweeps/a/", "/static/site.css", "server"), "../../static/site.css");
});

Deno.test("safeJson() cannot close a script element or open markup", () => {
  const text = safeJson({ s: "</script><script>alert(1)</script>", amp: "&", ls: "\u2028" });
  assert(!/[<>&\u2028]/.test(text));
  assertEquals(JSON.parse(text).s, "</script><script>alert(1)</script>");
});

Deno.test("isSafeName() and isWithin() refuse traversal", () => {
  for (const bad of ["..", ".", ".git", "a/b", "a\\b", "%2e%2e", "a b", "", "a..b", "x\u0000"]) {
    assert(!isSafeName(bad), JSON.stringify(bad));
  }
  assert(isSafeName("tiny-ebb32b98") && isSafeName("CNNSmall-k2-s0-6693b850"));
  assert(
    isWithin("/r", "/r/a/b") && isWithin("/r", "/r") && !isWithin("/r", "/r2") &&
      !isWithin("/r", "/"),
  );
});

Deno.test("contentSecurityPolicy() allows scripts only from the site, no inline script", () => {
  const csp = contentSecurityPolicy();
  assertStringIncludes(csp, "script-src 'self';");
  assert(!csp.includes("unsafe") && !csp.includes("sha256"));
  assert(!contentSecurityPolicy({ meta: true }).includes("frame-ancestors"));
});
