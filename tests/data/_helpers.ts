// Shared helpers of the data tests: equality checks, fixture folders, and the rule for data
// that may be absent (skipped with a reason locally, a failure under CI=true, which installs it).
import { FASHION_MNIST_DEBIAN_DIR } from "../../lib/data/mod.ts";
import { join } from "node:path";

export function assert(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(message);
}

export function assertEquals(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: got ${a}, expected ${e}`);
}

export { assertClose } from "../_shared/assert.ts";

export function bytesEqual(a: Uint8Array | Float32Array | Int32Array, b: typeof a): boolean {
  if (a.length !== b.length || a.constructor !== b.constructor) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Runs `fn`, expects it to throw an instance of `type` whose message contains every `parts`. */
export async function assertRejects(
  fn: () => unknown,
  type: new (...args: never[]) => Error,
  parts: string[],
): Promise<Error> {
  let caught: unknown;
  try {
    await fn();
  } catch (e) {
    caught = e;
  }
  if (!(caught instanceof type)) {
    throw new Error(
      `expected ${type.name}, got ${
        caught instanceof Error ? caught.name + ": " + caught.message : String(caught)
      }`,
    );
  }
  for (const p of parts) {
    if (!caught.message.includes(p)) {
      throw new Error(`message "${caught.message}" lacks "${p}"`);
    }
  }
  return caught;
}

export const isCI = Deno.env.get("CI") === "true";

/** Whether Debian's full Fashion-MNIST is installed. */
export const fullFashionMnistPresent = (() => {
  try {
    return Deno.statSync(join(FASHION_MNIST_DEBIAN_DIR, "train-images-idx3-ubyte.gz")).isFile;
  } catch {
    return false;
  }
})();

/**
 * `ignore` for tests that need the full Fashion-MNIST: skipped (with a printed reason) when it is
 * absent, except under CI=true, where the test runs and fails on the missing file.
 */
export function ignoreWithoutFullFashionMnist(): boolean {
  if (fullFashionMnistPresent || isCI) return false;
  console.warn(
    `skipping: full Fashion-MNIST not found in ${FASHION_MNIST_DEBIAN_DIR} ` +
      `(apt-get install dataset-fashion-mnist)`,
  );
  return true;
}

/** A fresh temporary folder, removed by the returned cleanup. */
export async function tempDir(
  prefix: string,
): Promise<{ dir: string; [Symbol.asyncDispose](): Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix });
  return { dir, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}
