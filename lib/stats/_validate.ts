// Input checks shared by the statistics in this folder (private).

/**
 * Throws unless `values` is non-empty and every entry is a finite number.
 * `name` is how the caller's argument is named in the message.
 */
export function checkSample(name: string, values: ArrayLike<number>): void {
  if (values == null || typeof values.length !== "number") {
    throw new TypeError(`${name} is ${String(values)}; expected an array of numbers.`);
  }
  if (values.length === 0) {
    throw new RangeError(`${name} is empty; pass at least one value.`);
  }
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new RangeError(
        `${name}[${i}] is ${String(v)}; expected a finite number (remove or fix that entry).`,
      );
    }
  }
}

/** Throws unless `value` is a finite number within [lo, hi]. */
export function checkInRange(name: string, value: number, lo: number, hi: number): void {
  if (typeof value !== "number" || !(value >= lo && value <= hi)) {
    throw new RangeError(`${name} is ${String(value)}; expected a number in [${lo}, ${hi}].`);
  }
}

/** Throws unless `value` is an integer ≥ `min`. */
export function checkInteger(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`${name} is ${String(value)}; expected an integer ≥ ${min}.`);
  }
}

/** Sorted ascending Float64Array copy of a checked sample. */
export function sortedCopy(name: string, values: ArrayLike<number>): Float64Array {
  checkSample(name, values);
  const out = Float64Array.from(values);
  out.sort();
  return out;
}
