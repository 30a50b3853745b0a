// Assertions shared by the statistics tests.
import assert from "node:assert/strict";

export { assert };
export { assertClose } from "../_shared/assert.ts";

/** Throws unless `fn` throws an instance of `type` whose message matches `pattern`. */
export function assertThrowsType(
  fn: () => unknown,
  type: new (...args: never[]) => Error,
  pattern?: RegExp,
): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof type, `expected ${type.name}, got ${String(e)}`);
    if (pattern) assert.match((e as Error).message, pattern);
    return true;
  });
}

/** Trapezoid integral of y over x. */
export function trapezoid(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let j = 1; j < x.length; j++) s += (x[j]! - x[j - 1]!) * (y[j]! + y[j - 1]!) / 2;
  return s;
}
