import { assert, assertAlmostEquals, assertEquals, assertNotEquals } from "./_synthetic.ts";
import { analyzeGradients } from "../../lib/analysis/gradients.ts";
import { wasserstein1 } from "../../lib/stats/mod.ts";
import { assertClose } from "../_shared/assert.ts";
import {
  cos,
  dot,
  plant,
  type Planted,
  streamOf,
  sum,
  unit,
  vec,
  withOtherBatchSize,
} from "./_synthetic.ts";

// Concentration rises with k: σ_k = 3, 1.5, 0.75 → cos(u, μ) ≈ 0.32, 0.55, 0.8.
const trend = plant({
  families: ["CNNSmall", "CNNLarge"],
  ks: [2, 4, 8],
  seeds: 4,
  samples: 40,
  dim: 48,
  sigma: (k) => 6 / k,
});
const trendResult = await analyzeGradients(streamOf(trend), trend.models, {
  resamples: 300,
  batchSize: 7,
  blocks: 20,
  perImageMinSeeds: 2,
});

Deno.test("analyzeGradients() p_ind and p(k1,k2) equal a direct recomputation", () => {
  const { similarity } = trendResult;
  const M = trend.models.length, N = trend.samples;
  const pInd = (i: number, j: number) => {
    let s = 0;
    for (let x = 0; x < N; x++) s += cos(vec(trend, i, x), vec(trend, j, x));
    return s / N;
  };
  for (const [i, j] of [[0, 1], [0, 5], [3, 20], [23, 11]] as const) {
    assertClose(similarity.pInd.values[i]![j]!, pInd(i, j), 1e-5, `p_ind(${i},${j})`);
    assertEquals(similarity.pInd.counts[i]![j], N);
  }
  // p(k1, k2) for CNNSmall k=2 vs k=8: every pair of the 4 × 4 members.
  const g2 = similarity.groups.find((g) => g.family === "CNNSmall" && g.k === 2)!;
  const g8 = similarity.groups.find((g) => g.family === "CNNSmall" && g.k === 8)!;
  let s = 0, n = 0;
  for (const i of g2.members) for (const j of g8.members) (s += pInd(i, j), n++);
  const cell = similarity.expected[g2.index]![g8.index]!;
  assertClose(cell.mean, s / n, 1e-5, "p(2,8)");
  assertEquals(cell.modelPairs, 16);
  assertEquals(cell.pairs, 16 * N);
  // Across families: CNNSmall k=2 against CNNLarge k=4.
  const l4 = similarity.groups.find((g) => g.family === "CNNLarge" && g.k === 4)!;
  let sx = 0;
  for (const i of g2.members) for (const j of l4.members) sx += pInd(i, j);
  assertClose(similarity.expected[g2.index]![l4.index]!.mean, sx / 16, 1e-5, "p(S2, L4)");
  assertEquals(similarity.expected[l4.index]![g2.index]!.modelPairs, 16);
  // Within one width only distinct pairs count: 4·3 ordered pairs.
  assertEquals(similarity.expected[g8.index]![g8.index]!.modelPairs, 12);
  assert(cell.ci !== null && cell.ci.lo <= cell.mean! && cell.mean! <= cell.ci.hi);
  assertEquals(M, similarity.models.length);
});

Deno.test("analyzeGradients() spherical variance, mean direction and t match direct formulas", () => {
  const { similarity, reduced } = trendResult;
  const N = trend.samples;
  const g = similarity.groups.find((h) => h.family === "CNNLarge" && h.k === 4)!;
  const h = similarity.groups.find((q) => q.family === "CNNLarge" && q.k === 8)!;
  let sv = 0, md = 0;
  for (let x = 0; x < N; x++) {
    const us = g.members.map((f) => unit(vec(trend, f, x)));
    const S = sum(us);
    sv += 1 - Math.sqrt(dot(S, S)) / us.length;
    const T = sum(h.members.map((f) => unit(vec(trend, f, x))));
    md += cos(S, T);
    // t leave-one-out of the first member: ⟨u, μ(S − u)⟩.
    const f = g.members[0]!, u = us[0]!;
    const rest = S.map((v, q) => v - u[q]!);
    assertAlmostEquals(reduced.t[f * N + x]!, cos(u, rest), 1e-5);
  }
  const entry = similarity.sphericalVariance.find((e) => e.group === g.index)!;
  assertClose(entry.estimate.mean, sv / N, 1e-5, "spherical variance");
  assertEquals(entry.n, 4);
  assertClose(
    similarity.meanDirection[g.index]![h.index]!.mean,
    md / N,
    1e-5,
    "mean-direction cos",
  );
  assertEquals(similarity.meanDirection[g.index]![g.index], null);
  // Across families: CNNLarge k=4 against CNNSmall k=8.
  const o = similarity.groups.find((q) => q.family === "CNNSmall" && q.k === 8)!;
  let mx = 0;
  for (let x = 0; x < N; x++) {
    mx += cos(
      sum(g.members.map((f) => unit(vec(trend, f, x)))),
      sum(o.members.map((f) => unit(vec(trend, f, x)))),
    );
  }
  assertClose(similarity.meanDirection[g.index]![o.index]!.mean, mx / N, 1e-5, "μ across families");
});

Deno.test("analyzeGradients() Table 1 is the mean Wasserstein distance of direct t values", () => {
  const { table1, similarity } = trendResult;
  const N = trend.samples;
  const g = similarity.groups.find((h) => h.family === "CNNSmall" && h.k === 4)!;
  const tOf = (f: number) =>
    Array.from({ length: N }, (_, x) => {
      const us = g.members.map((m) => unit(vec(trend, m, x)));
      const u = unit(vec(trend, f, x));
      const rest = sum(us.filter((_, q) => g.members[q] !== f));
      return cos(u, rest);
    });
  const ts = g.members.map(tOf);
  const ws: number[] = [];
  for (let a = 0; a < ts.length; a++) {
    for (let b = a + 1; b < ts.length; b++) ws.push(wasserstein1(ts[a]!, ts[b]!));
  }
  const mean = ws.reduce((s, v) => s + v, 0) / ws.length;
  const std = Math.sqrt(ws.reduce((s, v) => s + (v - mean) ** 2, 0) / ws.length);
  const row = table1.rows.find((r) => r.family === "CNNSmall" && r.k === 4)!;
  assertClose(row.mean, mean, 1e-5, "Table 1 mean");
  assertClose(row.std, std, 1e-5, "Table 1 std");
  assertEquals(row.modelPairs, 6);
  assertEquals(table1.upperBound, 2);
});

Deno.test("analyzeGradients() finds the planted trend: similarity rises, spherical variance falls, means agree", () => {
  const byId = new Map(trendResult.claims.map((c) => [c.id, c]));
  assertEquals(
    byId.get("similarity-rises-with-width")!.verdict,
    "holds",
    byId.get("similarity-rises-with-width")!.reason,
  );
  assertEquals(byId.get("spherical-variance-falls")!.verdict, "holds");
  assertEquals(
    byId.get("mean-directions-agree")!.verdict,
    "holds",
    byId.get("mean-directions-agree")!.reason,
  );
  // The planted κ ratio shows in the Saw fit: κ grows with k within each family.
  const small = trendResult.marginals.groups.filter((g) => g.family === "CNNSmall");
  assert(
    small[2]!.saw.kappa! > small[1]!.saw.kappa! && small[1]!.saw.kappa! > 1 - 1e-9,
    JSON.stringify(small.map((g) => g.saw)),
  );
  // Split-half within a width stays below 1 and the diagonal of p(k,k) rises in k.
  const fam = trendResult.similarity.byFamily.find((f) => f.family === "CNNSmall")!;
  assert(fam.mean[0]![0]! < fam.mean[1]![1]! && fam.mean[1]![1]! < fam.mean[2]![2]!);
});

Deno.test("analyzeGradients() does not call a planted null a trend", async () => {
  const flat = plant({
    families: ["MLP"],
    ks: [2, 4, 8],
    seeds: 4,
    samples: 40,
    dim: 48,
    sigma: () => 1.5,
    seed: 7,
  });
  const a = await analyzeGradients(streamOf(flat), flat.models, { resamples: 300, blocks: 20 });
  const byId = new Map(a.claims.map((c) => [c.id, c]));
  assertNotEquals(
    byId.get("similarity-rises-with-width")!.verdict,
    "holds",
    byId.get("similarity-rises-with-width")!.reason,
  );
  assertNotEquals(byId.get("spherical-variance-falls")!.verdict, "holds");
  // Separate means per width: H2 must fail although each width is concentrated.
  const apart = plant({
    families: ["MLP"],
    ks: [2, 4],
    seeds: 4,
    samples: 40,
    dim: 48,
    sigma: () => 0.5,
    sharedMean: false,
    seed: 9,
  });
  const b = await analyzeGradients(streamOf(apart), apart.models, { resamples: 300, blocks: 20 });
  const h2 = b.claims.find((c) => c.id === "mean-directions-agree")!;
  assertEquals(h2.verdict, "fails", h2.reason);
  assertEquals(b.claims.find((c) => c.id === "deeper-larger-distance")!.verdict, "inconclusive");
});

Deno.test("analyzeGradients() split-half of two seeds equals their individual similarity", async () => {
  const two = plant({
    families: ["MLP"],
    ks: [1],
    seeds: 2,
    samples: 12,
    dim: 16,
    sigma: () => 1,
    seed: 3,
  });
  const a = await analyzeGradients(streamOf(two), two.models, { resamples: 100 });
  assertClose(
    a.similarity.splitHalf[0]!.estimate.mean,
    a.similarity.pInd.values[0]![1]!,
    1e-6,
    "split-half",
  );
  // With two members, corrected spherical variance is 1 − √max(0, cos).
  let expect = 0;
  for (let x = 0; x < 12; x++) {
    expect += 1 - Math.sqrt(Math.max(0, cos(vec(two, 0, x), vec(two, 1, x))));
  }
  assertClose(
    a.similarity.sphericalVariance[0]!.corrected.mean,
    expect / 12,
    1e-6,
    "corrected spherical variance",
  );
});

Deno.test("analyzeGradients() counts zero gradients and leaves them out", async () => {
  const p = plant({
    families: ["MLP"],
    ks: [1],
    seeds: 3,
    samples: 10,
    dim: 8,
    sigma: () => 1,
    seed: 5,
    scale: 1e-20,
  });
  // Model 1, samples 2 and 5: exactly zero.
  for (const x of [2, 5]) p.data.fill(0, (1 * 10 + x) * 8, (1 * 10 + x + 1) * 8);
  const a = await analyzeGradients(streamOf(p), p.models, { resamples: 50 });
  assertEquals(a.similarity.models[1]!.zeroGradients, 2);
  assertEquals(a.similarity.zeroGradients, 2);
  assertEquals(a.similarity.pInd.counts[0]![1], 8);
  let s = 0;
  for (let x = 0; x < 10; x++) if (x !== 2 && x !== 5) s += cos(vec(p, 0, x), vec(p, 1, x));
  // 1e-20 gradients are normalised with scaled norms, so they match the f64 cosines.
  assertClose(a.similarity.pInd.values[0]![1]!, s / 8, 1e-5, "p_ind with zeros");
  assert(Number.isNaN(a.reduced.t[1 * 10 + 2]!));
  assertEquals(a.marginals.groups[0]!.pooled.pairs, 28);
});

Deno.test("analyzeGradients() small-predicts-large and batch-size rows equal direct recomputations", async () => {
  const p = plant({
    families: ["MLP"],
    ks: [2, 8],
    seeds: 3,
    samples: 20,
    dim: 24,
    sigma: (k) => 4 / k,
    seed: 13,
  });
  // Three more k = 8 models trained "at another batch size": they stay out of the groups.
  const both = withOtherBatchSize(p, {
    family: "MLP",
    k: 8,
    seeds: 3,
    sigma: 3,
    seed: 14,
    as: (m) => ({ ...m, batchSize: 256, loss: 2, accuracy: 0.25 }),
  });
  const models = both.models;
  const a = await analyzeGradients(streamOf(both), models, { resamples: 100 });
  assertEquals(a.similarity.groups.map((g) => g.members), [[0, 1, 2], [3, 4, 5]]);
  let s = 0;
  for (const f of [3, 4, 5]) {
    for (let x = 0; x < 20; x++) {
      s += cos(sum([0, 1, 2].map((m) => unit(vec(both, m, x)))), vec(both, f, x));
    }
  }
  const row = a.smallPredictsLarge.rows[0]!;
  assertClose(row.meanDirection.mean, s / 60, 1e-5, "cos(μ_small, g_large)");
  assert(row.meanDirection.ci !== null && row.meanDirection.ci.lo <= row.meanDirection.mean!);
  let si = 0;
  for (const f of [3, 4, 5]) {
    for (const m of [0, 1, 2]) {
      for (let x = 0; x < 20; x++) si += cos(vec(both, m, x), vec(both, f, x));
    }
  }
  assertClose(row.individual.mean, si / 180, 1e-5, "cos(g_small, g_large)");
  // Averaging the small models' directions predicts a large model better than one small model.
  assert(row.meanDirection.mean! > row.individual.mean!);
  const rows = a.batchSize!.rows;
  assertEquals(rows.map((r) => [r.k, r.batchSize, r.models]), [[2, 64, 3], [8, 64, 3], [
    8,
    256,
    3,
  ]]);
  let q = 0;
  for (const [i, j] of [[6, 7], [6, 8], [7, 8]]) {
    for (let x = 0; x < 20; x++) q += cos(vec(both, i!, x), vec(both, j!, x));
  }
  assertClose(rows[2]!.similarity.mean, q / 60, 1e-5, "batch-size similarity");
  assertEquals([rows[2]!.loss, rows[2]!.accuracy, rows[0]!.loss], [2, 0.25, null]);
  assert(rows[2]!.similarity.ci !== null);
});

/** Type-7 quantile (linear between order statistics), written out here as the oracle. */
function type7(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  const h = (s.length - 1) * q, lo = Math.floor(h);
  return s[lo]! + (h - lo) * ((s[Math.min(lo + 1, s.length - 1)]!) - s[lo]!);
}

Deno.test("analyzeGradients() marginals: deciles of leave-one-out t per image and pooled, and the sphere baseline of d", () => {
  const { marginals, reduced, similarity } = trendResult;
  const N = trend.samples, qs = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
  assertEquals(marginals.dimension, trend.dim);
  assertEquals(marginals.mu, "leave-one-out");
  for (const gm of marginals.groups) {
    const members = similarity.groups[gm.group]!.members;
    // Per test image: the marginal over the group's models (t of each model against the others).
    assertEquals(gm.perImage.map((p) => p.sample), [0, 1, 2, 3]);
    for (const p of gm.perImage) {
      const vals = members.map((f) => reduced.t[f * N + p.sample]!);
      assertEquals(p.pairs, members.length);
      qs.forEach((q, i) =>
        assertClose(p.deciles[i], type7(vals, q), 1e-9, `decile ${q} x=${p.sample}`)
      );
      assertEquals(p.density.length, marginals.grid.length);
    }
    const pooled = members.flatMap((f) => Array.from(reduced.t.subarray(f * N, (f + 1) * N)));
    assertEquals(gm.pooled.pairs, members.length * N);
    qs.forEach((q, i) => assertClose(gm.pooled.deciles[i], type7(pooled, q), 1e-5, `pooled ${q}`));
    // The KDE is a density on [−1, 1].
    const h = marginals.grid[1]! - marginals.grid[0]!;
    assertClose(gm.pooled.density.reduce((a, v) => a + v, 0) * h, 1, 0.02, "∫ KDE");
  }
  // Uniform-sphere baseline for d = D: integrate P_origin on the grid (trapezoid) as the oracle.
  // log P_origin(±1) = −∞ is written as null (JSON has no infinities).
  const grid = marginals.grid;
  const dens = marginals.logPOrigin.map((v) => v === null ? 0 : Math.exp(v));
  assertEquals([marginals.logPOrigin[0], marginals.logPOrigin.at(-1)], [null, null]);
  const upper = (p: number) => {
    let s = 0;
    for (let j = 0; j + 1 < grid.length; j++) {
      if (grid[j]! >= p - 1e-12) s += (dens[j]! + dens[j + 1]!) / 2 * (grid[j + 1]! - grid[j]!);
    }
    return s;
  };
  assertClose(upper(-1), 1, 1e-4, "∫ P_origin");
  for (const p of [0, 0.1, 0.2, 0.3]) {
    const i = marginals.randomBaseline.p.findIndex((v) => Math.abs(v - p) < 1e-12);
    assertClose(marginals.randomBaseline.tail[i], upper(p), 2e-4, `P(Z > ${p})`);
  }
  assertClose(marginals.randomBaseline.tail[0], 0.5, 1e-9, "P(Z > 0)");
  // Decile cut points of the baseline: P(Z > c_q) = 1 − q, symmetric about 0.
  const od = marginals.originDeciles;
  assertClose(od[4], 0, 1e-5, "median of the baseline");
  qs.forEach((q, i) => {
    assertClose(od[i]! + od[8 - i]!, 0, 1e-5, `symmetric decile ${q}`);
  });
  // c_0.9 to grid resolution: the grid point nearest it has an upper mass near 0.1.
  assertClose(upper(Math.round(od[8]! * 500) / 500), 0.1, 0.01, "P(Z > c_0.9)");
});

Deno.test("analyzeGradients() deeper-larger-distance holds for planted seed spread and fails reversed", async () => {
  // Seeds of one group whose t distributions differ (half concentrated, half spread) have large
  // Table 1 distances; seeds that are alike have small ones.
  const opts = { families: ["X"], ks: [4], seeds: 10, samples: 40, dim: 48, seed: 5 };
  const tight = plant({ ...opts, sigma: () => 0.5 });
  const loose = plant({ ...opts, sigma: () => 2 });
  const alike = plant({ ...opts, sigma: () => 1 });
  const rows = (p: Planted, from: number, to: number) =>
    p.data.subarray(from * p.samples * p.dim, to * p.samples * p.dim);
  const run = async (spread: string, same: string) => {
    const models = [
      ...Array.from({ length: 10 }, (_, s) => ({ family: spread, k: 4, seed: s })),
      ...Array.from({ length: 10 }, (_, s) => ({ family: same, k: 4, seed: s })),
    ];
    const data = new Float32Array([...rows(tight, 0, 5), ...rows(loose, 5, 10), ...alike.data]);
    const a = await analyzeGradients(
      streamOf({ models, data, samples: 40, dim: 48 }),
      models,
      { resamples: 300 },
    );
    return a.claims.find((c) => c.id === "deeper-larger-distance")!;
  };
  const holds = await run("CNNLarge", "CNNSmall");
  assertEquals(holds.verdict, "holds", holds.reason);
  assert(holds.value! > 0.1, `W1 difference ${holds.value}`);
  const fails = await run("ResNetSmall", "ResNetLarge");
  assertEquals(fails.verdict, "fails", fails.reason);
  assertClose(fails.value, -holds.value!, 1e-9, "the same distances, reversed");
});
