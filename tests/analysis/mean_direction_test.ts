// μ including the model beside the leave-one-out μ: t from the summaries against a direct
// computation, the per-image marginal's seed minimum, and the bias each estimate carries.
import { analyzeGradients } from "../../lib/analysis/gradients.ts";
import { includingModelT, meanDirectionBias } from "../../lib/analysis/mean_direction.ts";
import {
  assert,
  assertAlmostEquals,
  assertEquals,
  cos,
  plant,
  streamOf,
  sum,
  unit,
  vec,
} from "./_synthetic.ts";

const p = plant({
  families: ["CNNSmall"],
  ks: [2, 4],
  seeds: 12,
  samples: 16,
  dim: 24,
  sigma: (k) => 4 / k,
  seed: 9,
});
// One zero gradient: model 3 at sample 5 is left out of its group's mean there.
p.data.fill(0, (3 * 16 + 5) * 24, (3 * 16 + 6) * 24);
const a = await analyzeGradients(streamOf(p), p.models, {
  resamples: 50,
  includingModelMean: true,
  perImageLimit: 3,
});

Deno.test("includingModelT() is cos(u_f, Σ of the group's unit gradients) with f included", () => {
  const t = includingModelT(a.reduced, a.groups);
  for (const g of a.groups) {
    for (const f of g.members.slice(0, 4)) {
      for (const x of [0, 5, 15]) {
        const live = g.members.filter((m) => !(m === 3 && x === 5));
        if (!live.includes(f)) {
          assert(Number.isNaN(t[f * 16 + x]!), "a zero gradient has no t");
          continue;
        }
        const s = sum(live.map((m) => unit(vec(p, m, x))));
        assertAlmostEquals(t[f * 16 + x]!, cos(vec(p, f, x), s), 2e-5, `f ${f} x ${x}`);
      }
    }
  }
});

Deno.test("marginals.json reports μ including the model beside leave-one-out, with each one's bias", () => {
  const m = a.marginals;
  assert(m.muIncludingModel!.includes("√((1 + (n − 1)p)/n)"), m.muIncludingModel);
  for (const gm of m.groups) {
    const inc = gm.includingModel!;
    // Including the model pulls μ toward u_f: t is higher than leave-one-out.
    assert(inc.pooled.mean! > gm.pooled.mean!, `${inc.pooled.mean} vs ${gm.pooled.mean}`);
    // 12 seeds ≥ the default minimum of 10: per-image marginals for the first 3 images.
    assertEquals(inc.perImage.map((q) => q.sample), [0, 1, 2]);
    assertEquals(gm.perImage.map((q) => q.sample), [0, 1, 2]);
    const e = inc.expected!;
    assertEquals(e.seeds, 12);
    // The measured means sit near what independent draws with the group's p(k, k) predict.
    assertAlmostEquals(inc.pooled.mean!, e.includingModel, 0.05, "including the model");
    assertAlmostEquals(gm.pooled.mean!, e.leaveOneOut!, 0.05, "leave-one-out");
    assert(e.leaveOneOut! < e.population && e.population < e.includingModel);
  }
});

Deno.test("per-image marginals need the seed minimum; the default analysis has no includingModel", async () => {
  const few = plant({
    families: ["CNNSmall"],
    ks: [2],
    seeds: 4,
    samples: 8,
    dim: 12,
    sigma: () => 1,
  });
  const b = await analyzeGradients(streamOf(few), few.models, { resamples: 20 });
  assertEquals(b.marginals.perImageMinSeeds, 10);
  assertEquals(b.marginals.groups[0]!.perImage, []);
  assertEquals(b.marginals.groups[0]!.includingModel, undefined);
  assertEquals(b.marginals.muIncludingModel, undefined);
});

Deno.test("meanDirectionBias(): both estimates tend to √p; unrelated directions give 1/√n including the model", () => {
  const big = meanDirectionBias(1e8, 0.25);
  assertAlmostEquals(big.leaveOneOut, 0.5, 1e-4);
  assertAlmostEquals(big.includingModel, 0.5, 1e-4);
  const none = meanDirectionBias(100, 0);
  assertEquals([none.leaveOneOut, none.includingModel, none.population], [0, 0.1, 0]);
  // n = 2: leave-one-out t is the other model's cosine p; including the model, the bisector's.
  const two = meanDirectionBias(2, 0.36);
  assertAlmostEquals(two.leaveOneOut, 0.36, 1e-12);
  assertAlmostEquals(two.includingModel, Math.sqrt(0.68), 1e-12);
});
