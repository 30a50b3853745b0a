/** Minimal assertions (jsr:@std/assert is unreachable here). */

/** Throws unless `cond` is truthy. */
export function assert(cond: unknown, msg = "assertion failed"): asserts cond {
  if (!cond) throw new Error(msg);
}

/** Deep equality through JSON (enough for plain data). */
export function assertEquals(actual: unknown, expected: unknown, msg = ""): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${msg ? msg + ": " : ""}expected ${e}, got ${a}`);
}

/** Throws unless `text` contains `part`. */
export function assertStringIncludes(text: string, part: string, msg = ""): void {
  if (!text.includes(part)) {
    throw new Error(
      `${msg ? msg + ": " : ""}expected to find ${JSON.stringify(part)} in ${
        JSON.stringify(text.slice(0, 300))
      }…`,
    );
  }
}

/** Throws unless `text` matches `re`. */
export function assertMatch(text: string, re: RegExp, msg = ""): void {
  if (!re.test(text)) throw new Error(`${msg ? msg + ": " : ""}expected ${re} to match`);
}
