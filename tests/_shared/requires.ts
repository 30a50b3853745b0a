/**
 * Registering tests that need something a machine may lack (a WebGPU adapter, a browser): without
 * it they are skipped with the reason in their name, except under CI=true, where they run and fail.
 */

/** True under CI=true, where a test whose requirement is missing fails instead of being skipped. */
export const CI: boolean = Deno.env.get("CI") === "true";

/**
 * Registers `test`, which needs something that is `present` or not on this machine. When it is
 * absent the test is skipped, with `reason` appended to its name, unless CI=true: then it runs, and
 * `test.fn` must fail on the missing requirement.
 */
export function testNeeding(
  present: boolean,
  reason: string,
  test: Deno.TestDefinition,
): void {
  const skip = !present && !CI;
  Deno.test({ ...test, name: `${test.name}${skip ? ` (skipped: ${reason})` : ""}`, ignore: skip });
}
