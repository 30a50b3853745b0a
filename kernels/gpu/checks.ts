/** Shape and value checks shared by the kernels and their references. */

/** Throws RangeError unless `value` is a positive integer (or a non-negative one when allowed). */
export function checkCount(name: string, value: number, allowZero = false): void {
  if (!Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new RangeError(
      `${name} is ${value}; expected a ${allowZero ? "non-negative" : "positive"} integer.`,
    );
  }
}
