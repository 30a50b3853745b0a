import {
  assessClaim,
  bootstrapInterval,
  normalSampler,
  seededUniform,
  verdict,
} from "../../lib/stats/mod.ts";
import { assert, assertClose, assertThrowsType } from "./_assert.ts";

Deno.test("bootstrapInterval() of a mean covers the truth at about the stated rate", () => {
  // 200 independent data sets of 40 N(0, 1) values; the 90 % percentile interval of the mean
  // should cover 0 in roughly 90 % of them (binomial sd ≈ 2 %).
  const normal = normalSampler(seededUniform(12));
  let covered = 0;
  const sets = 200;
  for (let s = 0; s < sets; s++) {
    const x = Array.from({ length: 40 }, normal);
    const ci = bootstrapInterval(
      (_m, idx) => idx.reduce((acc, i) => acc + x[i]!, 0) / idx.length,
      { models: 1, samples: x.length, resamples: 400, level: 0.9, seed: s },
    );
    if (ci.lower <= 0 && 0 <= ci.upper) covered++;
  }
  assert.ok(covered / sets > 0.82 && covered / sets < 0.97, `coverage ${covered / sets}`);
});

Deno.test("bootstrapInterval() width matches the standard error of a mean (≈ 2·1.96·σ/√n)", () => {
  const normal = normalSampler(seededUniform(3));
  const x = Array.from({ length: 400 }, () => 0.5 * normal());
  const ci = bootstrapInterval(
    (_m, idx) => idx.reduce((acc, i) => acc + x[i]!, 0) / idx.length,
    { models: 1, samples: x.length, resamples: 2000, seed: 4 },
  );
  assertClose(ci.upper - ci.lower, 2 * 1.96 * 0.5 / Math.sqrt(400), { rel: 0.15 });
  assert.ok(ci.lower < ci.estimate && ci.estimate < ci.upper);
});

Deno.test("bootstrapInterval() resamples both axes and is reproducible by seed", () => {
  // value[model][sample]: model effects dominate, so resampling models widens the interval.
  const normal = normalSampler(seededUniform(21));
  const effects = Array.from({ length: 6 }, () => normal());
  const values = effects.map((e) => Array.from({ length: 50 }, () => e + 0.1 * normal()));
  const stat = (m: Int32Array, s: Int32Array) => {
    let acc = 0;
    for (const i of m) for (const j of s) acc += values[i]![j]!;
    return acc / (m.length * s.length);
  };
  const opts = { models: 6, samples: 50, resamples: 500, seed: 9 };
  const both = bootstrapInterval(stat, opts);
  const samplesOnly = bootstrapInterval(stat, { ...opts, resampleModels: false });
  assert.ok(
    both.upper - both.lower > 5 * (samplesOnly.upper - samplesOnly.lower),
    `both axes ${both.upper - both.lower} vs samples only ${samplesOnly.upper - samplesOnly.lower}`,
  );
  assert.deepEqual(bootstrapInterval(stat, opts), both);
  const seen = new Set<number>();
  bootstrapInterval((m, s) => {
    seen.add(m.length * 1000 + s.length);
    return 0;
  }, { ...opts, resamples: 5 });
  assert.deepEqual([...seen], [6050]);
});

Deno.test("bootstrapInterval() of a constant statistic is a point; NaN replicates throw", () => {
  const ci = bootstrapInterval(() => 0.3, { models: 3, samples: 4, resamples: 50 });
  assert.equal(ci.lower, 0.3);
  assert.equal(ci.upper, 0.3);
  let calls = 0;
  assertThrowsType(
    () => bootstrapInterval(() => (calls++ === 3 ? NaN : 1), { models: 2, samples: 2 }),
    RangeError,
    /replicate 2/,
  );
  assertThrowsType(
    () => bootstrapInterval(() => 1, { models: 0, samples: 2 }),
    RangeError,
    /models is 0/,
  );
  assertThrowsType(
    () => bootstrapInterval(() => 1, { models: 1, samples: 1, level: 1 }),
    RangeError,
    /level is 1/,
  );
});

Deno.test("verdict() holds above, fails below and is inconclusive across the threshold", () => {
  const gt = { direction: ">" as const, threshold: 0.5 };
  const lt = { direction: "<" as const, threshold: 0.5 };
  assert.equal(verdict({ lower: 0.6, upper: 0.9 }, gt), "holds");
  assert.equal(verdict({ lower: 0.1, upper: 0.4 }, gt), "fails");
  assert.equal(verdict({ lower: 0.1, upper: 0.5 }, gt), "fails");
  assert.equal(verdict({ lower: 0.4, upper: 0.6 }, gt), "inconclusive");
  assert.equal(verdict({ lower: 0.5, upper: 0.6 }, gt), "inconclusive");
  assert.equal(verdict({ lower: 0.1, upper: 0.4 }, lt), "holds");
  assert.equal(verdict({ lower: 0.6, upper: 0.9 }, lt), "fails");
  assert.equal(verdict({ lower: 0.4, upper: 0.6 }, lt), "inconclusive");
});

Deno.test("verdict() rejects reversed intervals, NaN ends and unknown directions", () => {
  const gt = { direction: ">" as const, threshold: 0 };
  assertThrowsType(() => verdict({ lower: 1, upper: 0 }, gt), RangeError, /lower \(1\) is above/);
  assertThrowsType(() => verdict({ lower: NaN, upper: 0 }, gt), RangeError, /lower is NaN/);
  assertThrowsType(
    // @ts-expect-error: testing a value outside the type
    () => verdict({ lower: 0, upper: 1 }, { direction: ">=", threshold: 0 }),
    RangeError,
    /direction is >=/,
  );
});

Deno.test("assessClaim() returns the interval with the verdict on it", () => {
  const x = [0.5, 0.52, 0.49, 0.51, 0.5, 0.48];
  const mean = (_m: Int32Array, s: Int32Array) => s.reduce((acc, i) => acc + x[i]!, 0) / s.length;
  const opts = { models: 1, samples: x.length, seed: 2 };
  const above = assessClaim(mean, { direction: ">", threshold: 0.4 }, opts);
  assert.equal(above.verdict, "holds");
  assert.deepEqual(
    { lower: above.lower, upper: above.upper },
    (({ lower, upper }) => ({ lower, upper }))(bootstrapInterval(mean, opts)),
  );
  assert.equal(assessClaim(mean, { direction: "<", threshold: 0.4 }, opts).verdict, "fails");
  assert.equal(assessClaim(mean, { direction: ">", threshold: 0.5 }, opts).verdict, "inconclusive");
});
