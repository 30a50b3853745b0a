import {
  expectedSimilarity,
  meanSampleStd,
  pIndFromSums,
  wasserstein1,
  wassersteinTable,
} from "../../lib/stats/mod.ts";
import { assert, assertClose, assertThrowsType } from "./_assert.ts";

Deno.test("meanSampleStd() matches numpy's mean and std(ddof=1)", () => {
  // python3 tests/stats/oracle.py → meanSampleStd
  const r = meanSampleStd([0.12, 0.5, 0.33, 0.9, 0.41]);
  assertClose(r.mean, 0.45200000000000007, { abs: 1e-15 });
  assertClose(r.std!, 0.2871759042816789, { rel: 1e-14 });
  assert.equal(r.n, 5);
});

Deno.test("meanSampleStd() of one value has no std; of equal values std 0; empty throws", () => {
  assert.deepEqual(meanSampleStd([0.7]), { mean: 0.7, std: null, n: 1 });
  assert.equal(meanSampleStd([0.25, 0.25, 0.25]).std, 0);
  assertThrowsType(() => meanSampleStd([]), RangeError, /values is empty/);
  assertThrowsType(() => meanSampleStd([1, NaN]), RangeError, /values\[1\] is NaN/);
});

// Five models: widths 10, 10, 10, 20, 20; families A, A, B, A, B.
const P = [
  [1, 0.1, 0.2, 0.3, 0.4],
  [0.1, 1, 0.5, 0.6, 0.7],
  [0.2, 0.5, 1, 0.8, 0.9],
  [0.3, 0.6, 0.8, 1, 0.15],
  [0.4, 0.7, 0.9, 0.15, 1],
];
const widths = [10, 10, 10, 20, 20];
const families = ["A", "A", "B", "A", "B"];

Deno.test("expectedSimilarity() averages pairs f1 ≠ f2 and counts them", () => {
  const m = expectedSimilarity(P, widths);
  assert.deepEqual(m.rowWidths, [10, 20]);
  // p(10,10): pairs (0,1), (0,2), (1,2) → (0.1 + 0.2 + 0.5)/3.
  assertClose(m.mean[0]![0]!, 0.8 / 3, { abs: 1e-15 });
  assert.equal(m.pairs[0]![0], 3);
  // p(10,20): 3 × 2 pairs → (0.3 + 0.4 + 0.6 + 0.7 + 0.8 + 0.9)/6.
  assertClose(m.mean[0]![1]!, 3.7 / 6, { abs: 1e-15 });
  assert.equal(m.pairs[0]![1], 6);
  assertClose(m.mean[1]![0]!, 3.7 / 6, { abs: 1e-15 });
  assertClose(m.mean[1]![1]!, 0.15, { abs: 1e-15 });
  assert.equal(m.pairs[1]![1], 1);
});

Deno.test("expectedSimilarity() within a family and across two families", () => {
  const a = expectedSimilarity(P, widths, { families, family: "A" });
  assertClose(a.mean[0]![0]!, 0.1, { abs: 1e-15 }); // models 0, 1
  assertClose(a.mean[0]![1]!, (0.3 + 0.6) / 2, { abs: 1e-15 });
  assert.equal(a.mean[1]![1], null); // one A model at width 20: no pair
  assert.equal(a.pairs[1]![1], 0);
  const ab = expectedSimilarity(P, widths, { families, family: "A", columnFamily: "B" });
  // rows: A at 10 = {0, 1}, A at 20 = {3}; columns: B at 10 = {2}, B at 20 = {4}.
  assertClose(ab.mean[0]![0]!, (0.2 + 0.5) / 2, { abs: 1e-15 });
  assert.equal(ab.pairs[0]![0], 2);
  assertClose(ab.mean[1]![1]!, 0.15, { abs: 1e-15 });
  assert.equal(ab.pairs[1]![1], 1);
});

Deno.test("expectedSimilarity() never reads the diagonal and refuses needed NaN entries", () => {
  const withNanDiagonal = P.map((row, i) => row.map((v, j) => (i === j ? NaN : v)));
  assert.deepEqual(expectedSimilarity(withNanDiagonal, widths), expectedSimilarity(P, widths));
  const holed = P.map((row) => [...row]);
  holed[1]![3] = NaN;
  assertThrowsType(() => expectedSimilarity(holed, widths), RangeError, /pInd\[1\]\[3\] is NaN/);
  assertThrowsType(() => expectedSimilarity([], []), RangeError, /pInd is empty/);
  assertThrowsType(() => expectedSimilarity(P, [10, 20]), TypeError, /widths has 2/);
  assertThrowsType(() => expectedSimilarity(P, widths, { family: "A" }), TypeError, /families/);
  assertThrowsType(() => expectedSimilarity(P, widths, { families, family: "C" }), RangeError, /C/);
});

Deno.test("pIndFromSums() divides sums by counts and marks count-0 entries NaN", () => {
  const p = pIndFromSums([[0, 2, 1], [2, 0, 3], [1, 3, 0]], [[0, 4, 4], [4, 0, 4], [4, 4, 0]]);
  assert.equal(p[0]![1], 0.5);
  assert.equal(p[2]![1], 0.75);
  assert.ok(Number.isNaN(p[1]![1]));
  // p(1, 1) averages 0.5, 0.25 and 0.75.
  assertClose(expectedSimilarity(p, [1, 1, 1]).mean[0]![0]!, 0.5, { abs: 1e-15 });
  assertThrowsType(() => pIndFromSums([[1]], [[-1]]), RangeError, /counts\[0\]\[0\] is -1/);
});

Deno.test("wassersteinTable() gives mean ± sample std over pairs within each width", () => {
  const v = [[0, 1, 2], [0.5, 1.5, 2.5], [1, 2, 3], [0, 0, 0], [0.2, 0.2, 0.2]];
  const rows = wassersteinTable(v, [10, 10, 10, 20, 20]);
  assert.equal(rows.length, 2);
  const [r10, r20] = rows;
  assert.deepEqual(r10!.distances, [0.5, 1, 0.5]);
  assertClose(r10!.mean!, 2 / 3, { abs: 1e-15 });
  assertClose(r10!.std!, Math.sqrt(((1 / 6) ** 2 * 2 + (1 / 3) ** 2) / 2), { abs: 1e-15 });
  assert.equal(r10!.pairs, 3);
  assertClose(r20!.mean!, 0.2, { abs: 1e-15 });
  assert.equal(r20!.std, null); // one pair: no sample std
  assert.equal(r20!.distances[0], wasserstein1(v[3]!, v[4]!));
});

Deno.test("wassersteinTable() with one model per width has no pairs; bad values throw by index", () => {
  const rows = wassersteinTable([[0.1, 0.2], [0.3]], [10, 20], {
    families: ["A", "A"],
    family: "A",
  });
  assert.deepEqual(rows.map((r) => [r.width, r.models, r.mean, r.std, r.pairs]), [
    [10, 1, null, null, 0],
    [20, 1, null, null, 0],
  ]);
  assertThrowsType(
    () => wassersteinTable([[0.1], []], [10, 10]),
    RangeError,
    /valuesPerModel\[1\] is empty/,
  );
  assertThrowsType(
    () => wassersteinTable([[0.1], [NaN]], [10, 10]),
    RangeError,
    /valuesPerModel\[1\]\[0\]/,
  );
  assertThrowsType(() => wassersteinTable([], []), RangeError, /empty/);
});
