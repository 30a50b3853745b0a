import { deciles, quantile, quantiles } from "../../lib/stats/mod.ts";
import { assert, assertClose, assertThrowsType } from "./_assert.ts";

Deno.test("quantiles() matches numpy.quantile (type 7, linear)", () => {
  // python3 tests/stats/oracle.py → quantiles (numpy 2.4.6, method="linear")
  const values = [0.93, -0.4, 0.12, 0.5, 0.5, 0.77, -0.01, 0.33];
  const expected = [-0.4, -0.12699999999999997, 0.0875, 0.41500000000000004, 0.818, 0.93];
  quantiles(values, [0, 0.1, 0.25, 0.5, 0.9, 1]).forEach((q, i) =>
    assertClose(q, expected[i]!, { abs: 1e-15 }, `q${i}`)
  );
});

Deno.test("deciles() of 0..100 are 10, 20, …, 90", () => {
  const d = deciles(Array.from({ length: 101 }, (_, i) => 100 - i));
  d.forEach((v, i) => assertClose(v, 10 * (i + 1), { abs: 1e-12 }));
});

Deno.test("quantile() of one sample or equal samples is that value", () => {
  assert.equal(quantile([0.4], 0.37), 0.4);
  assert.deepEqual(deciles([2, 2, 2]), new Array(9).fill(2));
});

Deno.test("quantiles() are non-decreasing in the probability and leave the input unsorted", () => {
  const v = [0.3, -0.2, 0.9, 0.1];
  const q = quantiles(v, [0, 0.2, 0.4, 0.6, 0.8, 1]);
  for (let i = 1; i < q.length; i++) assert.ok(q[i]! >= q[i - 1]!);
  assert.deepEqual(v, [0.3, -0.2, 0.9, 0.1]);
});

Deno.test("quantiles() throw on empty input, NaN by index, and probabilities outside [0, 1]", () => {
  assertThrowsType(() => deciles([]), RangeError, /values is empty/);
  assertThrowsType(() => quantile([1, NaN, 2], 0.5), RangeError, /values\[1\] is NaN/);
  assertThrowsType(() => quantiles([1, 2], [0.5, 1.2]), RangeError, /probs\[1\] is 1.2/);
});
