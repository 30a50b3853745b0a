// Planted data for the experiments' claims: built so the claim is true → holds, false → fails,
// noise → inconclusive (and, where a claim cannot fail by construction, the reason is tested).
import {
  ensembleStudy,
  meanDirectionAttackClaim,
  pairwiseCosine,
  predictedEnsembleT,
  type StrategyCell,
} from "../../lib/experiments/mod.ts";
import { normalSampler, seededUniform } from "../../lib/stats/mod.ts";
import type { ClaimEntry } from "../../lib/analysis/schema.ts";
import { assert, assertAlmostEquals, assertEquals, cos, unit } from "../analysis/_synthetic.ts";

const N = 40, D = 64, C = 3;
const labels = Int32Array.from({ length: N }, (_, x) => x % C);

/**
 * Members of one family at widths 2 and 4, 8 seeds each: gradient = scale(seed)·(μ̂(x) + σ·z),
 * z ~ N(0, I/D), so the pairwise cosine is about 1/(1 + σ²); logits = 2·onehot(y) + spread·noise.
 */
function members(o: {
  sigma: number;
  scale?: (seed: number) => number;
  logitSpread?: number;
  seed: number;
}) {
  const normal = normalSampler(seededUniform(o.seed));
  const mu = Array.from({ length: N }, () => unit(Array.from({ length: D }, () => normal())));
  const sharedNoise = Float32Array.from({ length: N * C }, () => normal());
  return [2, 4].flatMap((k) =>
    Array.from({ length: 8 }, (_, seed) => {
      const s = o.scale ? o.scale(seed) : 1;
      const gradient = new Float32Array(N * D), logits = new Float32Array(N * C);
      for (let x = 0; x < N; x++) {
        for (let q = 0; q < D; q++) {
          gradient[x * D + q] = s * (mu[x]![q]! + o.sigma * normal() / Math.sqrt(D));
        }
        for (let c = 0; c < C; c++) {
          const own = o.logitSpread === undefined ? 2 * normal() : o.logitSpread * normal();
          logits[x * C + c] = (labels[x] === c ? 2 : 0) + sharedNoise[x * C + c]! + own;
        }
      }
      return { family: "CNNSmall", k, seed, logits, gradient };
    })
  );
}

async function ensembleClaimsOf(m: ReturnType<typeof members>) {
  const { file } = await ensembleStudy(m, { labels, classes: C, dim: D }, { resamples: 300 });
  return { file, claims: new Map(file.claims.map((c) => [c.id, c])) };
}
function expectVerdict(claims: Map<string, ClaimEntry>, id: string, verdict: string) {
  const c = claims.get(id)!;
  assertEquals(c.verdict, verdict, `${id}: ${c.reason}`);
}

Deno.test("predictedEnsembleT(): its limits and the simulated cosine of independent draws", () => {
  // m → ∞: the ensemble is the mean direction, and t is the held-out mean's own cosine to it.
  const p = 0.3, h = 4;
  assertAlmostEquals(predictedEnsembleT(p, 1e9, h)!, Math.sqrt(h * p / (1 + (h - 1) * p)), 1e-6);
  assertEquals(predictedEnsembleT(0, 3, 2), null);
  // Independent draws u = (μ + σz)/‖·‖ in D = 2000: simulated E[t] for m = 3, h = 5.
  const normal = normalSampler(seededUniform(3));
  const dim = 2000, sigma = 1.2;
  const mu = unit(Array.from({ length: dim }, () => normal()));
  const draw = () =>
    unit(Array.from({ length: dim }, (_, q) => mu[q]! + sigma * normal() / Math.sqrt(dim)));
  let t = 0, pw = 0;
  const reps = 20;
  for (let r = 0; r < reps; r++) {
    const e = Array.from({ length: 3 }, draw), held = Array.from({ length: 5 }, draw);
    const sum = (vs: Float64Array[]) =>
      vs.reduce((a, v) => a.map((x, q) => x + v[q]!), new Float64Array(dim));
    t += cos(sum(e), sum(held)) / reps;
    pw += cos(e[0]!, e[1]!) / reps;
  }
  assertAlmostEquals(t, predictedEnsembleT(pw, 3, 5)!, 0.02);
});

Deno.test("pairwiseCosine() is the mean over pairs of the direct cosines", () => {
  const normal = normalSampler(seededUniform(4));
  const gs = Array.from({ length: 4 }, () => Float32Array.from({ length: 2 * 5 }, () => normal()));
  gs[2]!.fill(0, 5, 10); // a zero gradient at sample 1 is left out
  const r = pairwiseCosine(gs, 2, 5);
  for (let x = 0; x < 2; x++) {
    const vs = gs.map((g) => g.subarray(x * 5, x * 5 + 5)).filter((v) => v.some((q) => q !== 0));
    let s = 0, n = 0;
    for (let i = 0; i < vs.length; i++) {
      for (let j = i + 1; j < vs.length; j++) (s += cos(vs[i]!, vs[j]!), n++);
    }
    assertAlmostEquals(r[x]!, s / n, 1e-5);
  }
});

Deno.test("ensembles-move-to-mean: planted-true holds, dominated ensembles fail, noise is inconclusive", async () => {
  // Equal norms: averaging members realises the predicted rise (ratio about 1).
  const agree = await ensembleClaimsOf(members({ sigma: 1.5, seed: 31 }));
  expectVerdict(agree.claims, "ensembles-move-to-mean", "holds");
  const ratio = agree.claims.get("ensembles-move-to-mean")!;
  assert(Math.abs(ratio.value! - 1) < 0.25, `ratio ${ratio.value}`);
  assertEquals(ratio.interval!.over, ["seeds", "samples"]);
  // Each curve reports p(k, k) and the predicted E_x[t] beside the measured one.
  const curve = agree.file.curves[0]!;
  assertEquals(curve.heldOut, 4);
  assertAlmostEquals(curve.pWithin!, 1 / (1 + 1.5 ** 2), 0.06);
  for (const point of curve.points) {
    assertAlmostEquals(point.predictedT!, point.meanT.mean!, 0.06, `size ${point.members}`);
  }
  // Same directions, but each seed's gradient is 30× the previous seed's: the mean of the raw
  // gradients is its largest member, so ensembles do not move although p(k, k) > 0.
  const dominated = await ensembleClaimsOf(
    members({ sigma: 1.5, scale: (s) => 30 ** s, seed: 32 }),
  );
  expectVerdict(dominated.claims, "ensembles-move-to-mean", "fails");
  // A slope of E_x[t] against size would still call the dominated ensembles a rise.
  const d = dominated.file.curves[0]!.points;
  assert(
    d.at(-1)!.meanT.mean! >= d[0]!.meanT.mean! - 0.05,
    JSON.stringify(d.map((p) => p.meanT.mean)),
  );
  const noise = await ensembleClaimsOf(members({ sigma: 1e4, seed: 33 }));
  expectVerdict(noise.claims, "ensembles-move-to-mean", "inconclusive");
});

Deno.test("ensemble-loss-falls: diverse members hold, identical members fail, and noise holds too (Jensen)", async () => {
  const diverse = await ensembleClaimsOf(members({ sigma: 1.5, seed: 34 }));
  expectVerdict(diverse.claims, "ensemble-loss-falls", "holds");
  // Members with the same logits: the ensemble's loss is the members' (slope exactly 0).
  const same = await ensembleClaimsOf(members({ sigma: 1.5, logitSpread: 0, seed: 35 }));
  expectVerdict(same.claims, "ensemble-loss-falls", "fails");
  assertEquals(same.claims.get("ensemble-loss-falls")!.value, 0);
  // Logits of pure noise (no label signal): averaging still lowers the cross-entropy, because it
  // is convex in the logits. No planted noise can make this claim inconclusive; its measure says so.
  const noise = members({ sigma: 1e4, seed: 36 }).map((m) => ({
    ...m,
    logits: m.logits.map((_, i) => 4 * Math.sin(i * (m.seed + 1.3) + m.k)),
  }));
  expectVerdict((await ensembleClaimsOf(noise)).claims, "ensemble-loss-falls", "holds");
  assert(diverse.claims.get("ensemble-loss-falls")!.measure.includes("convex"));
});

/** Strategy cells of two widths × 6 targets whose per-image ratios are planted. */
function cells(alpha: { mean: number; largest: number; same: number }, seed: number) {
  const normal = normalSampler(seededUniform(seed));
  const ratios = (a: number) =>
    Array.from({ length: 6 }, (_, t) => ({
      t,
      r: Float64Array.from({ length: N }, () => Math.max(0, a + 0.15 * normal())),
    }));
  return [2, 4].map((k): StrategyCell => ({
    family: "CNNSmall",
    k,
    largest: ratios(alpha.largest),
    same: ratios(alpha.same),
    mean: ratios(alpha.mean),
    sources: [5, 5, 5, 5, 5, 5],
  }));
}
const attackOptions = {
  resamples: 300,
  level: 0.95,
  seed: 0,
  epsilon: 0.05,
  strategyName: "mean-direction",
};

Deno.test("mean-direction-attack-strongest: stronger mean attack holds, weaker fails, alike is inconclusive", () => {
  const strongest = meanDirectionAttackClaim(
    cells({ mean: 0.5, largest: 0.7, same: 0.65 }, 41),
    N,
    attackOptions,
  );
  assertEquals(strongest.verdict, "holds", strongest.reason);
  assertAlmostEquals(strongest.value!, 0.5 - 0.65, 0.03);
  const weaker = meanDirectionAttackClaim(
    cells({ mean: 0.8, largest: 0.7, same: 0.6 }, 42),
    N,
    attackOptions,
  );
  assertEquals(weaker.verdict, "fails", weaker.reason);
  // All three strategies draw their ratios from one distribution: the difference is near 0.
  const alike = meanDirectionAttackClaim(
    cells({ mean: 0.6, largest: 0.6, same: 0.6 }, 43),
    N,
    attackOptions,
  );
  assertEquals(alike.verdict, "inconclusive", alike.reason);
  const none = meanDirectionAttackClaim([], N, attackOptions);
  assertEquals(none.verdict, "inconclusive");
  assert(none.reason.includes("Not measurable"), none.reason);
});
