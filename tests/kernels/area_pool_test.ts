import * as fc from "fast-check";
import { reference } from "../../kernels/mod.ts";
import { assertWithin, maxDiff } from "./_helpers.ts";
import { assertThrows } from "../_shared/assert.ts";

Deno.test("reference.areaPool() matches a hand-computed 3×3 → 2×2 case with overlapping windows", () => {
  // Input (one channel):   1 2 3
  //                        4 5 6
  //                        7 8 9
  // With H = W = 3 and P = 2, output cell i spans input rows floor(i·3/2) … ceil((i+1)·3/2) − 1:
  // i = 0 → rows 0…1, i = 1 → rows 1…2 (row 1 is shared); columns likewise. So
  //   out[0][0] = mean(1, 2, 4, 5) = 3      out[0][1] = mean(2, 3, 5, 6) = 4
  //   out[1][0] = mean(4, 5, 7, 8) = 6      out[1][1] = mean(5, 6, 8, 9) = 7
  // (PyTorch agrees: F.interpolate(torch.arange(1., 10.).view(1, 1, 3, 3), size=2,
  //  mode="area") → [[3, 4], [6, 7]].)
  const out = reference.areaPool(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), {
    channels: 1,
    height: 3,
    width: 3,
    size: 2,
  });
  assertWithin(maxDiff(out, [3, 4, 6, 7]), 0, "3×3 → 2×2");
});

Deno.test("reference.areaPool() uses overlapping windows for 28 → 8 (rows 3…6 for cell 1)", () => {
  // value = row index, so a cell's value is the mean of its rows: cell 1 spans rows
  // floor(28/8) = 3 … ceil(56/8) − 1 = 6, mean 4.5; cell 7 spans rows 24 … 27, mean 25.5.
  const input = new Float32Array(28 * 28).map((_, k) => Math.floor(k / 28));
  const out = reference.areaPool(input, { channels: 1, height: 28, width: 28, size: 8 });
  assertWithin(Math.abs(out[1 * 8 + 5]! - 4.5), 1e-12, "cell (1, 5)");
  assertWithin(Math.abs(out[7 * 8 + 0]! - 25.5), 1e-12, "cell (7, 0)");
});

Deno.test("reference.areaPool() keeps channels apart (C × H × W layout)", () => {
  // channel c holds the constant c + 1, so every pooled cell of channel c is c + 1
  const input = new Float32Array(3 * 5 * 7).map((_, k) => Math.floor(k / 35) + 1);
  const out = reference.areaPool(input, { channels: 3, height: 5, width: 7, size: 3 });
  const expected = Array.from({ length: 27 }, (_, k) => Math.floor(k / 9) + 1);
  assertWithin(maxDiff(out, expected), 1e-12, "per-channel constants");
});

Deno.test("reference.areaPool() preserves the mean when the size divides height and width", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 3 }),
      fc.integer(),
      (C, a, b, P, seed) => {
        const H = a * P, W = b * P;
        let s = seed;
        const input = new Float32Array(C * H * W).map(() => {
          s = (Math.imul(s, 1103515245) + 12345) | 0;
          return (s >>> 8) / 2 ** 24 - 0.5;
        });
        const out = reference.areaPool(input, { channels: C, height: H, width: W, size: P });
        for (let c = 0; c < C; c++) {
          let mi = 0, mo = 0;
          for (let k = 0; k < H * W; k++) mi += input[c * H * W + k]!;
          for (let k = 0; k < P * P; k++) mo += out[c * P * P + k]!;
          if (Math.abs(mi / (H * W) - mo / (P * P)) > 1e-9) return false;
        }
        return true;
      },
    ),
    { seed: 42, numRuns: 100 },
  );
});

Deno.test("reference.areaPool() throws TypeError on a wrong length", () => {
  assertThrows(
    () => reference.areaPool(new Float32Array(8), { channels: 1, height: 3, width: 3, size: 2 }),
    TypeError,
  );
});
