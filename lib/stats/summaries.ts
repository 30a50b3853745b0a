/**
 * The summaries the report prints: mean ± std, the expected-similarity matrix p(k1, k2) and the
 * table of pairwise Wasserstein distances within each width (the paper's Table 1).
 *
 * @module
 */
import { checkSample } from "./_validate.ts";
import { wasserstein1 } from "./wasserstein.ts";

/** Mean and sample standard deviation (n − 1; the population std is `meanPopulationStd`). */
export interface MeanSampleStd {
  /** Arithmetic mean. */
  mean: number;
  /** Sample standard deviation √(Σ(x − x̄)² / (n − 1)); null when n = 1 (undefined). */
  std: number | null;
  /** Number of values. */
  n: number;
}

/**
 * Mean x̄ = Σx/n and sample standard deviation s = √(Σ(x − x̄)²/(n − 1)) (Bessel's n − 1, as
 * numpy's `std(ddof=1)`; two passes for accuracy).
 *
 * Cost: O(n).
 *
 * @throws {RangeError} when `values` is empty or holds a non-finite entry (named by index)
 * @example
 * ```ts
 * import { meanSampleStd } from "./mod.ts";
 * const { mean, std } = meanSampleStd([1, 2, 3, 4]);
 * if (mean !== 2.5 || Math.abs(std! - Math.sqrt(5 / 3)) > 1e-15) throw new Error("wrong");
 * ```
 */
export function meanSampleStd(values: ArrayLike<number>): MeanSampleStd {
  checkSample("values", values);
  const n = values.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += values[i]!;
  const mean = s / n;
  if (n === 1) return { mean, std: null, n };
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const d = values[i]! - mean;
    ss += d * d;
  }
  return { mean, std: Math.sqrt(ss / (n - 1)), n };
}

/**
 * Individual similarities p_ind = sums / counts, entry by entry, from the accumulated cosine
 * sums and the number of (sample) terms in each; entries with count 0 (e.g. the diagonal, or
 * pairs not computed) come back as NaN and are refused by {@link expectedSimilarity} if it needs
 * them.
 *
 * Cost: O(M²).
 *
 * @throws {TypeError} when the matrices are not square M×M of one size
 * @throws {RangeError} when a count is negative or not finite, or a sum with a positive count is
 *   not finite
 * @example
 * ```ts
 * import { pIndFromSums } from "./mod.ts";
 * const p = pIndFromSums([[0, 3], [3, 0]], [[0, 10], [10, 0]]);
 * if (p[0]![1] !== 0.3 || !Number.isNaN(p[0]![0])) throw new Error("wrong");
 * ```
 */
export function pIndFromSums(
  sums: readonly ArrayLike<number>[],
  counts: readonly ArrayLike<number>[],
): Float64Array[] {
  const m = checkSquare("sums", sums);
  if (checkSquare("counts", counts) !== m) {
    throw new TypeError(
      `counts is ${counts.length}×${counts.length}; expected ${m}×${m} like sums.`,
    );
  }
  return sums.map((row, i) =>
    Float64Array.from({ length: m }, (_, j) => {
      const c = counts[i]![j]!, s = row[j]!;
      if (!(c >= 0) || !Number.isFinite(c)) {
        throw new RangeError(`counts[${i}][${j}] is ${c}; expected a finite count ≥ 0.`);
      }
      if (c === 0) return NaN;
      if (!Number.isFinite(s)) {
        throw new RangeError(`sums[${i}][${j}] is ${s}; expected a finite sum.`);
      }
      return s / c;
    })
  );
}

function checkSquare(name: string, matrix: readonly ArrayLike<number>[]): number {
  const m = matrix.length;
  if (m === 0) throw new RangeError(`${name} is empty; expected an M×M matrix with M ≥ 1.`);
  for (let i = 0; i < m; i++) {
    if (matrix[i]?.length !== m) {
      throw new TypeError(
        `${name}[${i}] has ${matrix[i]?.length} entries; expected ${m} (square).`,
      );
    }
  }
  return m;
}

/** Options of {@link expectedSimilarity} and {@link wassersteinTable}. */
export interface FamilyOptions {
  /** Family label per model (same length as the widths); needed to select families. */
  families?: readonly string[];
  /** Family of the rows (default: every model). */
  family?: string;
  /** Family of the columns in {@link expectedSimilarity} (default: `family`). */
  columnFamily?: string;
}

/** The matrix p(k1, k2) with the number of model pairs behind each cell. */
export interface SimilarityMatrix {
  /** Widths of the rows (ascending), from the row family. */
  rowWidths: number[];
  /** Widths of the columns (ascending), from the column family. */
  columnWidths: number[];
  /** mean[r][c] = p(rowWidths[r], columnWidths[c]); null where no pair exists. */
  mean: (number | null)[][];
  /** Number of distinct model pairs {f1, f2}, f1 ≠ f2, averaged in each cell. */
  pairs: number[][];
}

function selectModels(
  widths: readonly number[],
  families: readonly string[] | undefined,
  family: string | undefined,
): Map<number, number[]> {
  const groups = new Map<number, number[]>();
  widths.forEach((k, i) => {
    if (family !== undefined && families![i] !== family) return;
    const g = groups.get(k);
    if (g) g.push(i);
    else groups.set(k, [i]);
  });
  return new Map([...groups].sort((a, b) => a[0] - b[0]));
}

function checkLabels(m: number, widths: readonly number[], options: FamilyOptions): void {
  if (widths.length !== m) {
    throw new TypeError(`widths has ${widths.length} labels; expected one per model (${m}).`);
  }
  widths.forEach((k, i) => {
    if (typeof k !== "number" || !Number.isFinite(k)) {
      throw new RangeError(`widths[${i}] is ${String(k)}; expected a finite number.`);
    }
  });
  const { families } = options;
  if (families !== undefined && families.length !== m) {
    throw new TypeError(`families has ${families.length} labels; expected one per model (${m}).`);
  }
  if ((options.family !== undefined || options.columnFamily !== undefined) && !families) {
    throw new TypeError(`a family was selected but no families labels were given; pass families.`);
  }
}

/**
 * Expected similarity p(k1, k2) = mean over pairs f1 ∈ F(k1), f2 ∈ F(k2), f1 ≠ f2 of
 * p_ind(f1, f2), for every pair of widths: within one family (rows and columns from `family`,
 * or from all models) or across two (`family` for rows, `columnFamily` for columns). A diagonal
 * cell averages the s(s − 1)/2 pairs of its s distinct models (the model with itself is left
 * out); a cell with no pair is null. Each cell averages the entries P[i][j] over ordered (i, j),
 * which for a symmetric P is the mean over unordered pairs.
 *
 * Cost: O(M²).
 *
 * @param pInd M×M matrix of p_ind (rows), symmetric; the diagonal is never read
 * @param widths width k of each model
 * @throws {TypeError} when the matrix is not square or the labels do not match its size, or a
 *   family is selected without labels
 * @throws {RangeError} when an entry the matrix needs is not finite (named by row and column), a
 *   width is not finite, or the selection holds no model
 * @example
 * ```ts
 * import { expectedSimilarity } from "./mod.ts";
 * const p = [
 *   [1, 0.2, 0.1],
 *   [0.2, 1, 0.3],
 *   [0.1, 0.3, 1],
 * ];
 * const m = expectedSimilarity(p, [10, 10, 20]);
 * // p(10, 10) uses only the pair (0, 1); p(10, 20) averages 0.1 and 0.3.
 * if (m.mean[0]![0] !== 0.2 || m.mean[0]![1] !== 0.2 || m.mean[1]![1] !== null) {
 *   throw new Error("wrong");
 * }
 * ```
 */
export function expectedSimilarity(
  pInd: readonly ArrayLike<number>[],
  widths: readonly number[],
  options: FamilyOptions = {},
): SimilarityMatrix {
  const m = checkSquare("pInd", pInd);
  checkLabels(m, widths, options);
  const rowFamily = options.family;
  const colFamily = options.columnFamily ?? rowFamily;
  const rows = selectModels(widths, options.families, rowFamily);
  const cols = selectModels(widths, options.families, colFamily);
  if (rows.size === 0 || cols.size === 0) {
    throw new RangeError(
      `no model has family ${rows.size === 0 ? rowFamily : colFamily}; ` +
        `expected one of ${[...new Set(options.families)].join(", ")}.`,
    );
  }
  const mean: (number | null)[][] = [], pairs: number[][] = [];
  const sameFamily = rowFamily === colFamily;
  for (const [k1, ri] of rows) {
    const meanRow: (number | null)[] = [], pairsRow: number[] = [];
    for (const [k2, ci] of cols) {
      let s = 0, e = 0;
      for (const i of ri) {
        for (const j of ci) {
          if (i === j) continue;
          const v = pInd[i]![j]!;
          if (!Number.isFinite(v)) {
            throw new RangeError(
              `pInd[${i}][${j}] is ${v}; p(${k1}, ${k2}) needs it finite (compute that pair).`,
            );
          }
          s += v;
          e++;
        }
      }
      meanRow.push(e > 0 ? s / e : null);
      pairsRow.push(sameFamily && k1 === k2 ? e / 2 : e);
    }
    mean.push(meanRow);
    pairs.push(pairsRow);
  }
  return { rowWidths: [...rows.keys()], columnWidths: [...cols.keys()], mean, pairs };
}

/** One row of {@link wassersteinTable}. */
export interface WassersteinRow {
  /** Width k. */
  width: number;
  /** Models of F(k). */
  models: number;
  /** Mean of the pairwise distances; null when F(k) has fewer than 2 models. */
  mean: number | null;
  /** Sample std (n − 1) of the pairwise distances; null with fewer than 2 pairs. */
  std: number | null;
  /** Number of pairs {f1, f2} ⊂ F(k), f1 ≠ f2: s(s − 1)/2. */
  pairs: number;
  /** The distances, pairs in order (0,1), (0,2), …, (1,2), … of the models of F(k). */
  distances: number[];
}

/**
 * The paper's Table 1: for each width k, mean ± std over pairs f1 ≠ f2 in F(k) of the
 * Wasserstein-1 distance between the empirical distributions (over samples x) of the two
 * models' values (e.g. their t values); std is the sample std with n − 1 (see {@link meanSampleStd}).
 * For cosines the distance is at most 2.
 *
 * Cost: O(Σ nᵢ log nᵢ) to sort each model's values once, then O(n) per pair:
 * O(Σₖ s_k² · n) in all.
 *
 * @param valuesPerModel one sample of values per model
 * @param widths width k of each model
 * @throws {TypeError} when label lengths do not match, or a family is selected without labels
 * @throws {RangeError} when a model's values are empty or hold a non-finite entry, or the
 *   selection holds no model
 * @example
 * ```ts
 * import { wassersteinTable } from "./mod.ts";
 * const rows = wassersteinTable([[0, 1], [0.5, 1.5], [1, 2]], [10, 10, 10]);
 * // Pairs (0,1), (0,2), (1,2): shifts 0.5, 1, 0.5.
 * if (rows[0]!.pairs !== 3 || Math.abs(rows[0]!.mean! - 2 / 3) > 1e-15) throw new Error("wrong");
 * ```
 */
export function wassersteinTable(
  valuesPerModel: readonly ArrayLike<number>[],
  widths: readonly number[],
  options: FamilyOptions = {},
): WassersteinRow[] {
  const m = valuesPerModel.length;
  if (m === 0) throw new RangeError(`valuesPerModel is empty; pass one sample per model.`);
  checkLabels(m, widths, options);
  const groups = selectModels(widths, options.families, options.family);
  if (groups.size === 0) {
    throw new RangeError(`no model has family ${options.family}; check the families labels.`);
  }
  const sorted = new Map<number, Float64Array>();
  const sortedOf = (i: number): Float64Array => {
    let s = sorted.get(i);
    if (!s) {
      checkSample(`valuesPerModel[${i}]`, valuesPerModel[i]!);
      s = Float64Array.from(valuesPerModel[i]!).sort();
      sorted.set(i, s);
    }
    return s;
  };
  const out: WassersteinRow[] = [];
  for (const [k, idx] of groups) {
    const distances: number[] = [];
    for (let a = 0; a < idx.length; a++) {
      for (let b = a + 1; b < idx.length; b++) {
        distances.push(wasserstein1(sortedOf(idx[a]!), sortedOf(idx[b]!), { sorted: true }));
      }
    }
    if (idx.length === 1) sortedOf(idx[0]!); // still validate a lone model's values
    const ms = distances.length > 0 ? meanSampleStd(distances) : null;
    out.push({
      width: k,
      models: idx.length,
      mean: ms ? ms.mean : null,
      std: ms ? ms.std : null,
      pairs: distances.length,
      distances,
    });
  }
  return out;
}
