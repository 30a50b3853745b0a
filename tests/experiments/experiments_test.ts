import {
  type AttackModel,
  attackStudy,
  ensembleLoss,
  ensembleStudy,
  fgsm,
  populationFor,
  trueClassProbability,
} from "../../lib/experiments/mod.ts";
import { normalSampler, seededUniform } from "../../lib/stats/mod.ts";
import { assert, assertAlmostEquals, assertEquals } from "../analysis/_synthetic.ts";

/** A linear softmax classifier z = W x: ∇x p_y = p_y (W_y − Σ_c p_c W_c) in closed form. */
function linear(family: string, k: number, seed: number, W: Float64Array, C: number, D: number) {
  const logitsOf = (x: Float32Array, n: number) => {
    const z = new Float32Array(n * C);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < C; c++) {
        let s = 0;
        for (let q = 0; q < D; q++) s += W[c * D + q]! * x[i * D + q]!;
        z[i * C + c] = s;
      }
    }
    return z;
  };
  const model: AttackModel & { W: Float64Array } = {
    family,
    k,
    seed,
    W,
    logits: (x, n) => Promise.resolve(logitsOf(x, n)),
    probabilityGradient: (x, y, n) => {
      const z = logitsOf(x, n);
      const g = new Float32Array(n * D);
      for (let i = 0; i < n; i++) {
        const p = softmax(z.subarray(i * C, (i + 1) * C));
        for (let q = 0; q < D; q++) {
          let mix = 0;
          for (let c = 0; c < C; c++) mix += p[c]! * W[c * D + q]!;
          g[i * D + q] = p[y[i]!]! * (W[y[i]! * D + q]! - mix);
        }
      }
      return Promise.resolve(g);
    },
  };
  return model;
}

function softmax(z: ArrayLike<number>): Float64Array {
  const m = Math.max(...Array.from(z));
  const e = Float64Array.from(z, (v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

const C = 3, D = 6, N = 15;
const normal = normalSampler(seededUniform(21));
const W0 = Float64Array.from({ length: C * D }, () => normal());
const models = [1, 2].flatMap((k) =>
  [0, 1, 2].map((seed) => linear("Lin", k, seed, W0.map((v) => v + (1.5 / k) * normal()), C, D))
);
const images = Float32Array.from(
  { length: N * D },
  () => Math.max(-0.9, Math.min(0.9, 0.4 * normal())),
);
const labels = Int32Array.from({ length: N }, (_, i) => i % C);
const probe = { images, labels, dim: D, classes: C, clip: [-1, 1] as const };

async function ratio(target: AttackModel, dir: Float32Array, eps = 0.05) {
  const adv = fgsm(images, dir, { epsilon: eps, clip: [-1, 1] });
  const before = trueClassProbability(await target.logits(images, N), labels, C);
  const after = trueClassProbability(await target.logits(adv, N), labels, C);
  return { r: Array.from(after.p, (v, x) => v / before.p[x]!), correct: before.correct };
}

Deno.test("fgsm() steps against the sign and clips to the valid range", () => {
  const x = fgsm(Float32Array.of(0, 0.99, -0.99, 0.3), Float32Array.of(-2, -1e-30, 5, 0), {
    epsilon: 0.05,
    clip: [-1, 1],
  });
  assertEquals(Array.from(x, (v) => Number(v.toFixed(6))), [0.05, 1, -1, 0.3]);
});

Deno.test("linear test model: its closed-form ∇x p_y matches finite differences", async () => {
  const m = models[0]!;
  const g = await m.probabilityGradient(images.subarray(0, D), labels.subarray(0, 1), 1);
  for (let q = 0; q < D; q++) {
    const h = 1e-3;
    const plus = Float32Array.from(images.subarray(0, D)), minus = Float32Array.from(plus);
    plus[q]! += h;
    minus[q]! -= h;
    const pp = trueClassProbability(await m.logits(plus, 1), labels.subarray(0, 1), C).p[0]!;
    const pm = trueClassProbability(await m.logits(minus, 1), labels.subarray(0, 1), C).p[0]!;
    assertAlmostEquals(g[q]!, (pp - pm) / (2 * h), 1e-3);
  }
});

const study = await attackStudy(models, probe, { resamples: 200, batchSize: 4 });

Deno.test("attackStudy() α(k1, k2) equals the direct mean of decay ratios over source/target pairs", async () => {
  const mat = study.file.matrices[0]!;
  assertEquals(mat.ks, [1, 2]);
  for (const [a, k1] of mat.ks.entries()) {
    for (const [b, k2] of mat.ks.entries()) {
      const all: number[] = [], cor: number[] = [];
      for (const s of models.filter((m) => m.k === k1)) {
        const g = await s.probabilityGradient(images, labels, N);
        for (const t of models.filter((m) => m.k === k2 && m !== s)) {
          const { r, correct } = await ratio(t, g);
          all.push(...r);
          cor.push(...r.filter((_, x) => correct[x]));
        }
      }
      const cell = mat.cells[a]![b]!;
      assertAlmostEquals(cell.all.mean!, all.reduce((p, q) => p + q, 0) / all.length, 1e-9);
      assertAlmostEquals(cell.correct.mean!, cor.reduce((p, q) => p + q, 0) / cor.length, 1e-9);
      assertEquals(cell.all.pairs, all.length);
      assertEquals(mat.modelPairs[a]![b], k1 === k2 ? 6 : 9);
    }
  }
  // A white-box step lowers p_y on every image: the attack direction has the right sign.
  const self = await ratio(
    models[0]!,
    await models[0]!.probabilityGradient(images, labels, N),
    0.01,
  );
  assert(self.r.every((v) => v < 1), JSON.stringify(self.r));
});

Deno.test("attackStudy() mean-direction attack uses the unit gradients of the other seeds of the width", async () => {
  // Direct: target = first model of k = 2; population = the two other k = 2 models.
  const targets = models.filter((m) => m.k === 2);
  const all: number[] = [];
  for (const t of targets) {
    const sum = new Float64Array(N * D);
    for (const s of targets.filter((m) => m !== t)) {
      const g = await s.probabilityGradient(images, labels, N);
      for (let x = 0; x < N; x++) {
        let n2 = 0;
        for (let q = 0; q < D; q++) n2 += g[x * D + q]! ** 2;
        for (let q = 0; q < D; q++) sum[x * D + q]! += g[x * D + q]! / Math.sqrt(n2);
      }
    }
    all.push(...(await ratio(t, Float32Array.from(sum))).r);
  }
  const entry = study.file.strategies.find((s) => s.k === 2 && s.strategy === "mean-direction")!;
  assertEquals(entry.targets, 3);
  assertEquals(entry.sourceModels, 2);
  assertAlmostEquals(entry.alpha.all.mean!, all.reduce((p, q) => p + q, 0) / all.length, 1e-9);
  assertEquals(populationFor(3, models, "same-width"), [4, 5]);
  assertEquals(populationFor(3, models, "all-families"), [0, 1, 2, 4, 5]);
  const c = study.file.claims[0]!;
  assertEquals(c.id, "mean-direction-attack-strongest");
  assert(
    c.interval !== null && c.interval.lo <= c.value! && c.value! <= c.interval.hi,
    JSON.stringify(c),
  );
  const largest = study.file.strategies.filter((s) => s.strategy === "largest");
  assertEquals(largest.map((s) => s.k), [1, 2]);
  // The single-source strategies are cells of α(k1, k2) (every target has as many sources):
  // same width is the diagonal, the largest source attacking k = 1 is α(2, 1).
  const cells = study.file.matrices[0]!.cells;
  const same = study.file.strategies.filter((s) => s.strategy === "same-width");
  assertEquals(same.map((s) => s.k), [1, 2]);
  for (const [i, e] of same.entries()) {
    assertAlmostEquals(e.alpha.all.mean!, cells[i]![i]!.all.mean!, 1e-9);
    assertAlmostEquals(e.alpha.correct.mean!, cells[i]![i]!.correct.mean!, 1e-9);
  }
  assertAlmostEquals(largest[0]!.alpha.all.mean!, cells[1]![0]!.all.mean!, 1e-9);
});

Deno.test("ensembleLoss() is the cross-entropy of the averaged logits", () => {
  const a = Float32Array.of(2, 0, 0, 1), b = Float32Array.of(0, 0, 1, 3);
  const r = ensembleLoss([a, b], Int32Array.of(0, 1), 2);
  const ce = (z: number[], y: number) => Math.log(z.reduce((s, v) => s + Math.exp(v), 0)) - z[y]!;
  assertAlmostEquals(r.loss, (ce([1, 0], 0) + ce([0.5, 2], 1)) / 2, 1e-12);
  assertEquals(r.accuracy, 1);
});

Deno.test("ensembleStudy() measures t against held-out seeds and finds the planted convergence", async () => {
  // Logit salience of a linear model is the row W_y: members = W0 + noise, so averaging members
  // moves the ensemble's salience toward W0, the direction of the held-out mean.
  const nrm = normalSampler(seededUniform(5));
  const base = Float64Array.from({ length: C * 40 }, () => nrm());
  const members = Array.from({ length: 8 }, (_, seed) => {
    const W = base.map((v) => v + 1.2 * nrm());
    const gradient = new Float32Array(N * 40), logits = new Float32Array(N * C);
    for (let x = 0; x < N; x++) {
      for (let q = 0; q < 40; q++) gradient[x * 40 + q] = W[labels[x]! * 40 + q]!;
      for (let c = 0; c < C; c++) logits[x * C + c] = W[c * 40 + (x % 40)]!;
    }
    return { family: "Lin", k: 4, seed, logits, gradient };
  });
  const { file } = await ensembleStudy(members, { labels, classes: C, dim: 40 }, {
    heldOut: 3,
    draws: 5,
    resamples: 200,
  });
  const curve = file.curves[0]!;
  assertEquals(curve.points.map((p) => p.members), [1, 2, 3, 4, 5]);
  // Direct value for size 1: each of the 5 pool members against μ of seeds 0..2, averaged.
  let s = 0;
  for (const m of members.slice(3)) {
    for (let x = 0; x < N; x++) {
      const mu = new Float64Array(40);
      for (const h of members.slice(0, 3)) {
        const g = h.gradient.subarray(x * 40, x * 40 + 40);
        const n = Math.hypot(...g);
        g.forEach((v, q) => (mu[q]! += v / n));
      }
      const g = m.gradient.subarray(x * 40, x * 40 + 40);
      let dot = 0;
      g.forEach((v, q) => (dot += v * mu[q]!));
      s += dot / (Math.hypot(...g) * Math.hypot(...mu)) / N;
    }
  }
  assertAlmostEquals(curve.points[0]!.meanT.mean!, s / 5, 1e-6);
  assert(curve.points[4]!.meanT.mean! > curve.points[0]!.meanT.mean!);
  const move = file.claims.find((c) => c.id === "ensembles-move-to-mean")!;
  assertEquals(move.verdict, "holds", move.reason);
  // Loss beside t, written out: cross-entropy of the averaged logits of the members.
  const crossEntropy = (ms: typeof members) => {
    let loss = 0;
    for (let x = 0; x < N; x++) {
      const z = Array.from({ length: C }, (_, c) => {
        let a = 0;
        for (const m of ms) a += m.logits[x * C + c]! / ms.length;
        return a;
      });
      const mx = Math.max(...z);
      const lse = mx + Math.log(z.reduce((acc, v) => acc + Math.exp(v - mx), 0));
      loss += (lse - z[labels[x]!]!) / N;
    }
    return loss;
  };
  const pool = members.slice(3);
  assertEquals(curve.points[4]!.draws, 1);
  assertAlmostEquals(curve.points[4]!.loss, crossEntropy(pool), 1e-6);
  assertAlmostEquals(
    curve.points[0]!.loss,
    pool.reduce((a, m) => a + crossEntropy([m]), 0) / pool.length,
    1e-6,
  );
  assertEquals(file.singles.length, 8);
  const falls = file.claims.find((c) => c.id === "ensemble-loss-falls")!;
  assertEquals(falls.verdict, "holds", falls.reason);
  assert(curve.points[4]!.loss < curve.points[0]!.loss, "the full ensemble beats single models");
});

Deno.test("attackStudy() takes clean predictions from given logits: the models' own give the computed study, others change it", async () => {
  const opts = { resamples: 200, batchSize: 4 };
  const own = await Promise.all(models.map((m) => m.logits(images, N)));
  const given = await attackStudy(models, probe, { ...opts, cleanLogits: own });
  const strip = (f: typeof study.file) => JSON.stringify({ ...f, generatedAt: null });
  assertEquals(strip(given.file), strip(study.file));
  // Only model 0's clean logits given, and wrong: every ratio with it as target changes.
  const wrong = [own[0]!.map((v) => -v), ...own.slice(1).map(() => null)];
  const other = await attackStudy(models, probe, { ...opts, cleanLogits: wrong });
  assert(strip(other.file) !== strip(study.file), "wrong clean logits were not used");
});
