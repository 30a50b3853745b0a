/**
 * Suggestions for misspelt names: the known name nearest to an unknown one (by edit distance),
 * for the one-line errors of config keys, presets and command-line options.
 *
 * @module
 */

/** Levenshtein distance between two short strings. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

/**
 * The known name nearest to `name` when it is close enough to be a typo (edit distance at most
 * 2, or a third of the name's length), else `null`.
 *
 * @example
 * ```ts
 * import { nearestName } from "./mod.ts";
 * if (nearestName("widhts", ["widths", "seeds"]) !== "widths") throw new Error("no suggestion");
 * ```
 */
export function nearestName(name: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const k of known) {
    const d = distance(name.toLowerCase(), k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  return bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : null;
}

/**
 * ` Did you mean 'x'?` when `name` is near one of `known`, else the empty string: the tail of
 * an error message about an unknown name.
 *
 * @example
 * ```ts
 * import { didYouMean } from "./mod.ts";
 * if (didYouMean("tiyn", ["tiny", "default"]) !== " Did you mean 'tiny'?") throw new Error();
 * if (didYouMean("zzzz", ["tiny"]) !== "") throw new Error("no suggestion for a stranger");
 * ```
 */
export function didYouMean(name: string, known: readonly string[]): string {
  const near = nearestName(name, known);
  return near === null ? "" : ` Did you mean '${near}'?`;
}
