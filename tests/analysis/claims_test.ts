// Planted data per claim: built so the claim is true → holds, false → fails, noise →
// inconclusive; and claims with too few seeds (or too few models above the accuracy floor) say so.
import { analyzeGradients } from "../../lib/analysis/gradients.ts";
import { H2_UNIT } from "../../lib/analysis/gradient_claims.ts";
import type { ClaimEntry } from "../../lib/analysis/schema.ts";
import { assert, assertEquals, plant, type Planted, streamOf } from "./_synthetic.ts";

const base = { families: ["CNNSmall"], ks: [2, 4, 8], seeds: 4, samples: 40, dim: 48 };
const options = { resamples: 300, blocks: 20 };

async function claimsOf(p: Planted): Promise<Map<string, ClaimEntry>> {
  const a = await analyzeGradients(streamOf(p), p.models, options);
  return new Map(a.claims.map((c) => [c.id, c]));
}
function expectVerdict(claims: Map<string, ClaimEntry>, id: string, verdict: string) {
  const c = claims.get(id)!;
  assertEquals(c.verdict, verdict, `${id}: ${c.reason}`);
}

// Concentration rising with k (σ = 3, 1.5, 0.75), falling with k (σ = 1, 2, 4), and none at all.
const rising = await claimsOf(plant({ ...base, sigma: (k) => 6 / k, seed: 11 }));
const falling = await claimsOf(plant({ ...base, sigma: (k) => k / 2, seed: 12 }));
const noise = await claimsOf(plant({ ...base, sigma: () => 1e4, seed: 13 }));

for (const id of ["similarity-rises-with-width", "spherical-variance-falls"]) {
  Deno.test(`${id}: planted-true holds, planted-false fails, noise is inconclusive`, () => {
    expectVerdict(rising, id, "holds");
    expectVerdict(falling, id, "fails");
    expectVerdict(noise, id, "inconclusive");
    assertEquals(rising.get(id)!.interval!.over, ["seeds", "samples"]);
  });
}

Deno.test("spherical-variance-falls reports its dependence on similarity-rises-with-width", () => {
  const d = rising.get("spherical-variance-falls")!.dependsOn!;
  assertEquals(d.claim, "similarity-rises-with-width");
  // 1 − √p falls as p rises: their bootstrap draws are strongly negatively correlated.
  assert(d.drawCorrelation! < -0.8, `correlation ${d.drawCorrelation}`);
});

Deno.test("mean-directions-agree (H2): shared mean holds, separate means fail, noise is inconclusive", async () => {
  const shared = await claimsOf(plant({ ...base, sigma: () => 0.7, seed: 14 }));
  const apart = await claimsOf(plant({ ...base, sigma: () => 0.7, sharedMean: false, seed: 15 }));
  expectVerdict(shared, "mean-directions-agree", "holds");
  expectVerdict(apart, "mean-directions-agree", "fails");
  expectVerdict(noise, "mean-directions-agree", "inconclusive");
  assert(apart.get("mean-directions-agree")!.interval!.hi < 0.9);
});

Deno.test("mean-directions-agree is labelled a ratio estimating a cosine, unclamped, since its draws exceed 1", async () => {
  // One mean direction shared by every width: the ratio of unbiased estimates scatters around 1,
  // so with 4 seeds per width part of its bootstrap interval lies above 1, where no cosine can be.
  const shared = await claimsOf(plant({ ...base, sigma: () => 0.7, seed: 14 }));
  const h2 = shared.get("mean-directions-agree")!;
  assert(h2.interval!.hi > 1, `interval ${JSON.stringify(h2.interval)}`);
  assert(h2.reason.includes(`(${H2_UNIT})`), h2.reason);
  assert(!h2.reason.includes("(cosine)"), h2.reason);
  assert(/not itself a cosine/.test(h2.measure) && /above 1/.test(h2.measure), h2.measure);
});

Deno.test("deeper-larger-distance: spread seeds hold, reversed fail, alike families are inconclusive", async () => {
  // Deeper family: half its seeds concentrated (σ 0.5), half spread (σ 2); shallower: all σ 1.
  const spread = (deep: string, shallow: string, deepSpread: boolean) =>
    plant({
      families: [deep, shallow],
      ks: [4],
      seeds: 8,
      samples: 40,
      dim: 48,
      seed: 16,
      sigma: (_k, family, seed) => family === deep && deepSpread ? (seed! < 4 ? 0.5 : 2) : 1,
    });
  expectVerdict(
    await claimsOf(spread("CNNLarge", "CNNSmall", true)),
    "deeper-larger-distance",
    "holds",
  );
  expectVerdict(
    await claimsOf(spread("CNNSmall", "CNNLarge", true)),
    "deeper-larger-distance",
    "fails",
  );
  expectVerdict(
    await claimsOf(spread("CNNLarge", "CNNSmall", false)),
    "deeper-larger-distance",
    "inconclusive",
  );
});

Deno.test("claims with fewer than 3 seeds per width are inconclusive and say why", async () => {
  const two = await claimsOf(plant({ ...base, seeds: 2, sigma: (k) => 6 / k, seed: 17 }));
  for (
    const id of ["similarity-rises-with-width", "spherical-variance-falls", "mean-directions-agree"]
  ) {
    const c = two.get(id)!;
    assertEquals(c.verdict, "inconclusive", c.reason);
    assert(c.reason.includes("fewer than 3 seeds"), c.reason);
    assertEquals(c.interval, null);
  }
});

Deno.test("the accuracy floor leaves models out of the claims and lists them with their accuracy", async () => {
  const p = plant({ ...base, sigma: (k) => 6 / k, seed: 18 });
  p.models.forEach((m) => (m.accuracy = m.seed < 2 ? 0.4 : 0.9));
  const a = await analyzeGradients(streamOf(p), p.models, options);
  const floor = a.similarity.accuracyFloor!;
  assertEquals(floor.minTestAccuracy, 0.75);
  assertEquals(floor.excluded.length, 6);
  assert(floor.excluded.every((e) => e.accuracy === 0.4 && e.seed < 2));
  assertEquals(floor.range, [0.4, 0.9]);
  const rise = a.claims.find((c) => c.id === "similarity-rises-with-width")!;
  assertEquals(rise.verdict, "inconclusive", rise.reason);
  assert(rise.reason.includes("below the accuracy floor 0.75"), rise.reason);
  // Without a floor the same models give the planted trend.
  const b = await analyzeGradients(streamOf(p), p.models, { ...options, minTestAccuracy: null });
  assertEquals(b.claims.find((c) => c.id === "similarity-rises-with-width")!.verdict, "holds");
  assertEquals(b.similarity.accuracyFloor!.excluded, []);
});
