// Sizes are validated before anything is allocated, and a bad value is one line naming its key.
import { assertRejects, assertStringIncludes, assertThrows } from "../_shared/assert.ts";
import { resolveConfigFile } from "../../lib/sweep/config.ts";
import { parseSweepArgs } from "../../lib/cli/sweep.ts";

const base = { preset: "tiny" };
const resolve = (over: Record<string, unknown>) =>
  resolveConfigFile({ ...base, ...over }, "bounds.json");

Deno.test("a plan of a billion seeds is refused before it is built", () => {
  const t0 = performance.now();
  const err = assertThrows(() => resolve({ seeds: 1e9 }), RangeError, "lower 'seeds'");
  assertStringIncludes(err.message, "bounds.json: the plan would hold");
  assertStringIncludes(err.message, "expected at most 100,000");
  if (performance.now() - t0 > 1000) throw new Error("the plan was built before the check");
});

Deno.test("image counts and widths too large for an array name their key", () => {
  assertThrows(
    () => resolve({ dataset: { trainImages: 1e12, testImages: null, probeImages: 16 } }),
    RangeError,
    "'dataset.trainImages' is 1,000,000,000,000",
  );
  assertThrows(() => resolve({ widths: [1, 1e6] }), RangeError, "'widths' holds 1,000,000");
});

Deno.test("salience.pool larger than the images is refused before training", () => {
  assertThrows(
    () => resolve({ salience: { pool: 100 } }),
    RangeError,
    "'salience.pool' is 100, larger than the 8×8 images of synthetic",
  );
});

Deno.test("a non-finite number is shown as it is, not as null", () => {
  // JSON.parse("1e999") is Infinity.
  const err = assertThrows(
    () => resolve({ training: JSON.parse('{"lr": 1e999}') }),
    RangeError,
    "'training.lr' is Infinity",
  );
  assertStringIncludes(err.message, "expected a number in (0, 10]");
});

Deno.test("sweep --out '' is refused instead of writing into the current folder", async () => {
  await assertRejects(
    () => parseSweepArgs(["--preset", "tiny", "--out", ""], {}),
    RangeError,
    "--out is ''",
  );
});
