import {
  deriveSeed,
  drawBlockWeights,
  leastSquaresSlope,
  meanOfFinite,
  meanPopulationStd,
  meanSampleStd,
  percentileOfDraws,
  resampledInterval,
  seededUniform,
} from "../../lib/stats/mod.ts";
import { assert, assertClose } from "./_assert.ts";

Deno.test("meanPopulationStd() divides by n and meanSampleStd() by n − 1", () => {
  // numpy: python3 -c "import numpy as np; v=[0.12,0.5,0.33,0.9,0.41]; print(np.std(v), np.std(v,ddof=1))"
  const v = [0.12, 0.5, 0.33, 0.9, 0.41];
  assertClose(meanPopulationStd(v).std!, 0.2568579, { abs: 1e-6 });
  assertClose(meanSampleStd(v).std!, 0.2871759, { abs: 1e-6 });
  const r = meanPopulationStd([1, NaN, 3, Infinity]);
  assert(r.mean === 2 && r.std === 1 && r.n === 2, JSON.stringify(r));
  assert(meanPopulationStd([]).mean === null && meanOfFinite([null, NaN]) === null);
});

Deno.test("deriveSeed() gives distinct seeds to distinct stream names and indices", () => {
  const seen = new Set<number>();
  for (const label of ["similarity", "h1", "h2", "deeper", "meanDirection"]) {
    for (let a = 0; a < 40; a++) for (let b = 0; b < 40; b++) seen.add(deriveSeed(7, label, a, b));
  }
  assert(seen.size === 5 * 40 * 40, `collisions: ${5 * 1600 - seen.size}`);
  assert(deriveSeed(1, "x") !== deriveSeed(2, "x"));
});

Deno.test("resampledInterval() is null when fewer than half the draws are defined", () => {
  let i = 0;
  const half = resampledInterval(() => (i++ % 3 === 0 ? 1 : null), {
    resamples: 30,
    level: 0.9,
    seed: 0,
  });
  assert(half === null);
  assert(percentileOfDraws([1], { resamples: 1, level: 0.9 }) === null);
});

Deno.test("drawBlockWeights() draws as many blocks as there are; leastSquaresSlope() fits a line", () => {
  const w = drawBlockWeights(seededUniform(3), 9);
  assert(w.reduce((a, b) => a + b, 0) === 9);
  assertClose(leastSquaresSlope([0, 1, 2, 3], [1, 2.9, 5.1, 7])!, 2.02, { abs: 1e-12 });
});
