// Each step of the analysis pipeline on its own, from per-sample summaries built by hand or by
// the reducer, against direct recomputations.
import { GramReducer } from "../../lib/analysis/_reduce.ts";
import { batchSizeFile } from "../../lib/analysis/batch_size.ts";
import { claimScope, deeperDistanceClaim } from "../../lib/analysis/gradient_claims.ts";
import { familiesOf, groupModels, splitHalves } from "../../lib/analysis/grouping.ts";
import { fileHeader, type ModelInput } from "../../lib/analysis/inputs.ts";
import { distanceMatrices, sortedT, table1File } from "../../lib/analysis/table1.ts";
import { wasserstein1 } from "../../lib/stats/mod.ts";
import { assert, assertAlmostEquals, assertEquals } from "./_synthetic.ts";

const header = fileHeader("test", "2026-01-01T00:00:00.000Z");

/** Summaries of M models over N samples whose Gram at sample x is `gram(x)`. */
function reduce(
  models: ModelInput[],
  N: number,
  gram: (x: number, i: number, j: number) => number,
) {
  const M = models.length;
  const { groups } = groupModels(models);
  const reducer = new GramReducer(M, N, groups, {
    blocks: N,
    halves: splitHalves(groups, { splits: 2, seed: 0 }),
  });
  const g = new Float64Array(M * M);
  const nz = new Uint8Array(M); // every row live (ROW_LIVE = 0)
  for (let x = 0; x < N; x++) {
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < M; j++) {
        g[i * M + j] = i === j ? 1 : gram(x, i, j);
      }
    }
    reducer.add(x, g, nz);
  }
  return { r: reducer.result(), groups };
}

Deno.test("groupModels() groups the most common batch size by family and k, seeds ascending", () => {
  const { groups, primaryBatchSize } = groupModels([
    { family: "B", k: 1, seed: 1, batchSize: 64 },
    { family: "A", k: 2, seed: 0, batchSize: 64 },
    { family: "B", k: 1, seed: 0, batchSize: 64 },
    { family: "A", k: 2, seed: 1, batchSize: 32 },
  ]);
  assertEquals(primaryBatchSize, 64);
  assertEquals(groups.map((g) => [g.family, g.k, g.members]), [["A", 2, [1]], ["B", 1, [2, 0]]]);
  assertEquals(familiesOf(groups).map((f) => f.family), ["A", "B"]);
});

Deno.test("splitHalves() gives disjoint halves of ⌊n/2⌋ members, none for a lone model", () => {
  const h = splitHalves([{ family: "A", k: 1, members: [4, 5, 6, 7, 8] }, {
    family: "A",
    k: 2,
    members: [9],
  }], { splits: 3, seed: 2 });
  assertEquals(h[1], []);
  for (const [a, b] of h[0]!) {
    assertEquals(a.length, 2);
    assertEquals(b.length, 2);
    assert(a.every((v) => !b.includes(v)), "halves overlap");
  }
});

Deno.test("table1File() from hand-made summaries equals W1 of the models' t values", () => {
  // Three models of one width; t of model f at sample x is planted through a constant Gram.
  const models = [0, 1, 2].map((seed) => ({ family: "A", k: 1, seed }));
  const { r, groups } = reduce(models, 5, (x, i, j) => 0.1 * (x + 1) + 0.01 * (i + j));
  const t = sortedT(r, groups);
  const d = distanceMatrices(groups, t);
  const file = table1File({ groups, tSorted: t, distances: d, header });
  const w = [[0, 1], [0, 2], [1, 2]].map(([a, b]) => wasserstein1(t.get(a!)!, t.get(b!)!));
  const mean = w.reduce((s, v) => s + v, 0) / 3;
  assertAlmostEquals(file.rows[0]!.mean!, mean, 1e-6);
  assertEquals(file.rows[0]!.modelPairs, 3);
  assertEquals(file.rows[0]!.samplesPerModel, 5);
});

Deno.test("batchSizeFile() is null for one batch size and averages p_ind per batch size", () => {
  const one = [0, 1].map((seed) => ({ family: "A", k: 1, seed, batchSize: 8 }));
  const a = reduce(one, 4, () => 0.5);
  const boot = { resamples: 50, level: 0.9 };
  assertEquals(batchSizeFile({ r: a.r, models: one, boot, seedOf: () => 0, header }), null);
  const two = [8, 8, 16, 16].map((b, seed) => ({ family: "A", k: 1, seed, batchSize: b }));
  const b = reduce(two, 4, (_x, i, j) => (i < 2 && j < 2 ? 0.7 : i >= 2 && j >= 2 ? 0.2 : 0));
  const file = batchSizeFile({ r: b.r, models: two, boot, seedOf: () => 0, header })!;
  assertEquals(file.rows.map((row) => [row.batchSize, row.similarity.mean]), [[8, 0.7], [16, 0.2]]);
});

Deno.test("deeperDistanceClaim() holds when the deeper family's t distributions are further apart", () => {
  // CNNLarge members' t differ by a shift that grows with the seed; CNNSmall's are identical.
  const models = ["CNNLarge", "CNNSmall"].flatMap((family) =>
    [0, 1, 2, 3].map((seed) => ({ family, k: 4, seed }))
  );
  const { r, groups } = reduce(models, 30, (x, i, j) => {
    const deep = i < 4 && j < 4;
    return deep ? 0.1 + 0.12 * (i + j) + 0.01 * (x % 3) : 0.4 + 0.001 * (x % 3);
  });
  const t = sortedT(r, groups);
  const distances = distanceMatrices(groups, t);
  const table1 = table1File({ groups, tSorted: t, distances, header });
  assert(table1.rows[0]!.mean! > table1.rows[1]!.mean!, "planted distances");
  const c = deeperDistanceClaim({
    r,
    scope: claimScope(groups, models, null),
    boot: { resamples: 200, level: 0.95 },
    seedOf: () => 1,
  });
  assert(c.value! > 0, `value ${c.value} ${c.reason}`);
  assertEquals(c.verdict, "holds");
});
