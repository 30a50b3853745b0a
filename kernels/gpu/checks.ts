/** Shape and value checks shared by the kernels and their references. */

/** Throws RangeError unless `value` is a positive integer (or a non-negative one when allowed). */
export function checkCount(name: string, value: number, allowZero = false): void {
  if (!Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new RangeError(
      `${name} is ${value}; expected a ${allowZero ? "non-negative" : "positive"} integer.`,
    );
  }
}

/**
 * Checks a batch of unit vectors `[models][samples][dim]` and its zero mask `[models][samples]`,
 * and returns the number of samples. Throws TypeError on mismatched lengths.
 */
export function checkBatch(
  units: Float32Array,
  zero: Uint8Array,
  models: number,
  dim: number,
): number {
  checkCount("models", models);
  checkCount("dim", dim);
  if (!(units instanceof Float32Array)) {
    throw new TypeError(`units is a ${typeof units}; expected a Float32Array.`);
  }
  if (!(zero instanceof Uint8Array)) {
    throw new TypeError(`zero is a ${typeof zero}; expected a Uint8Array (1 = zero gradient).`);
  }
  if (zero.length % models !== 0 || zero.length === 0) {
    throw new TypeError(
      `zero has ${zero.length} entries; expected models × samples with models = ${models} and samples ≥ 1.`,
    );
  }
  const samples = zero.length / models;
  if (units.length !== models * samples * dim) {
    throw new TypeError(
      `units has ${units.length} values; expected models × samples × dim = ${models} × ${samples} × ${dim} = ${
        models * samples * dim
      }.`,
    );
  }
  return samples;
}

/** Checks a list of model pairs and returns it as a flat Uint32Array `[i0, j0, i1, j1, …]`. */
export function checkPairs(
  pairs: ReadonlyArray<readonly [number, number]>,
  models: number,
): Uint32Array {
  const flat = new Uint32Array(pairs.length * 2);
  pairs.forEach(([i, j], p) => {
    for (const v of [i, j]) {
      if (!Number.isInteger(v) || v < 0 || v >= models) {
        throw new RangeError(
          `pairs[${p}] names model ${v}; expected an integer in [0, ${models}).`,
        );
      }
    }
    flat[2 * p] = i;
    flat[2 * p + 1] = j;
  });
  return flat;
}

/** All pairs (i, j) with i < j among `models` models, in row order. */
export function allPairs(models: number): Array<[number, number]> {
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < models; i++) for (let j = i + 1; j < models; j++) pairs.push([i, j]);
  return pairs;
}

/** The histogram bin of a cosine on [−1, 1] split into `bins` equal bins (clamped). */
export function cosineBin(c: number, bins: number): number {
  const b = Math.floor((c + 1) * 0.5 * bins);
  return b < 0 ? 0 : b >= bins ? bins - 1 : b;
}
