// Small assertion helpers on top of node:assert, shared by the store and sweep tests.
import { strict as nodeAssert } from "node:assert";

export function assert(cond: unknown, msg = "assertion failed"): asserts cond {
  nodeAssert.ok(cond, msg);
}

export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  nodeAssert.deepStrictEqual(actual, expected, msg);
}

export function assertStringIncludes(actual: string, part: string): void {
  nodeAssert.ok(
    actual.includes(part),
    `expected ${JSON.stringify(actual)} to include ${JSON.stringify(part)}`,
  );
}

// deno-lint-ignore no-explicit-any
type ErrorClass = new (...args: any[]) => Error;

function check(err: unknown, cls: ErrorClass, part?: string): Error {
  nodeAssert.ok(err instanceof cls, `expected ${cls.name}, got ${String(err)}`);
  if (part !== undefined) assertStringIncludes((err as Error).message, part);
  return err as Error;
}

export function assertThrows(fn: () => unknown, cls: ErrorClass, part?: string): Error {
  try {
    fn();
  } catch (err) {
    return check(err, cls, part);
  }
  throw new Error(`expected ${cls.name} to be thrown`);
}

export async function assertRejects(
  fn: () => Promise<unknown>,
  cls: ErrorClass,
  part?: string,
): Promise<Error> {
  try {
    await fn();
  } catch (err) {
    return check(err, cls, part);
  }
  throw new Error(`expected ${cls.name} to be thrown`);
}

/**
 * Throws unless `actual` is a number with |actual − expected| ≤ abs + rel·|expected|; `tol` as a
 * number is an absolute tolerance. A null or undefined `actual` fails, naming `what`.
 */
export function assertClose(
  actual: number | null | undefined,
  expected: number,
  tol: number | { abs?: number; rel?: number },
  what = "value",
): void {
  if (actual === null || actual === undefined) {
    throw new nodeAssert.AssertionError({ message: `${what} is ${actual}, expected ${expected}` });
  }
  const { abs = 0, rel = 0 } = typeof tol === "number" ? { abs: tol } : tol;
  const limit = abs + rel * Math.abs(expected);
  if (!(Math.abs(actual - expected) <= limit)) {
    throw new nodeAssert.AssertionError({
      message: `${what}: got ${actual}, expected ${expected} ± ${limit} (off by ${
        Math.abs(actual - expected)
      })`,
    });
  }
}
