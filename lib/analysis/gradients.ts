/**
 * The gradient-only analysis: from a stream of gradient batches to `similarity.json`,
 * `table1.json`, `marginals.json`, `small_predicts_large.json`, `batch_size.json` and the claims
 * that need only gradients.
 *
 * @module
 */

import type { Gpu } from "../../kernels/mod.ts";
import {
  deciles,
  kde,
  logSphereMarginal,
  randomInt,
  sawLogShape,
  seededUniform,
  sphereTail,
  wasserstein1,
} from "../stats/mod.ts";
import {
  bootInterval,
  type BootSettings,
  drawBlocks,
  drawWith,
  fmt,
  meanOf,
  meanStd,
  percentile,
  round,
  slope,
} from "./_boot.ts";
import { claim } from "./claims.ts";
import { fitSawFamily } from "./saw_family.ts";
import { forEachGram } from "./_grams.ts";
import { GramReducer, type Group, type Reduced } from "./_reduce.ts";
import {
  ANALYSIS_SCHEMA_VERSION,
  type BatchSizeFile,
  type ClaimEntry,
  type Estimate,
  type GradientInfo,
  type GroupEntry,
  type GroupMarginal,
  type Interval,
  type MarginalsFile,
  type ModelEntry,
  type PairCell,
  type SimilarityFile,
  type SmallPredictsLargeFile,
  type Table1File,
} from "./schema.ts";

/** One model as the caller knows it (the sidecar's entry plus optional store fields). */
export interface ModelInput {
  family: string;
  k: number;
  seed: number;
  /** Run id (default `model-<index>`). */
  id?: string;
  /** Training batch size, when the study varies it. */
  batchSize?: number | null;
  /** Test loss and accuracy when recorded (used by `batch_size.json`). */
  loss?: number | null;
  accuracy?: number | null;
}

/** What {@link analyzeGradients} reads: the shape of a `GradientSource` from `lib/npy`. */
export interface BatchStream {
  readonly models: number;
  readonly samples: number;
  readonly dim: number;
  batches(
    batchSize: number,
    options?: { reuseBuffer?: boolean },
  ): AsyncIterable<{ start: number; count: number; data: Float32Array }>;
}

/** Options of {@link analyzeGradients}. */
export interface GradientAnalysisOptions {
  /** Where the gradients came from (the sweep id or file name), copied into every file. */
  source?: string;
  /** What the gradients are (N and D are taken from the stream). */
  info?: Partial<Omit<GradientInfo, "samples" | "dimension">>;
  /** Kernels' device; null (default) computes everything in TypeScript. */
  gpu?: Gpu | null;
  /** Samples per streamed batch (default: about 16 M floats per batch, 8 … 256 samples). */
  batchSize?: number;
  /** Contiguous sample blocks the bootstrap resamples (default min(N, 64)). */
  blocks?: number;
  /** Bootstrap resamples (default 1000; lowered automatically for very many models). */
  resamples?: number;
  /** Interval coverage (default 0.95). */
  level?: number;
  /** Seed of every random choice (splits, bootstrap; default 0). */
  seed?: number;
  /** Random halvings per group for the split-half control (default 8). */
  splits?: number;
  /** Images with their own t marginal in `marginals.json` (default 4). */
  perImageLimit?: number;
  /** KDE grid points on [−1, 1] (default 1001). */
  gridSize?: number;
  /**
   * Where log ψ comes from (default "chain"): each width fitted on the next smaller width's
   * marginal and the slopes multiplied (κ of the smallest width = 1; needs adjacent widths'
   * marginals to overlap), the smallest width for all ("smallest-k"), or all widths pooled.
   */
  sawReference?: "chain" | "smallest-k" | "pooled";
  /** Grid points below this fraction of a density's maximum are left out of the fit (0.01). */
  densityFloor?: number;
  /** Threshold of the disattenuated H2 ratio (default 0.9, fixed before looking at data). */
  h2Threshold?: number;
  /** Progress messages. */
  onProgress?: (message: string) => void;
}

/** Everything {@link analyzeGradients} computes. */
export interface GradientAnalysis {
  similarity: SimilarityFile;
  table1: Table1File;
  marginals: MarginalsFile;
  smallPredictsLarge: SmallPredictsLargeFile;
  /** Null when every model has the same (or no) batch size. */
  batchSize: BatchSizeFile | null;
  /** Claims that need only gradients. */
  claims: ClaimEntry[];
  /** The per-sample summaries (t values and Grams sums) for experiments that reuse them. */
  reduced: Reduced;
  groups: Group[];
  warnings: string[];
  timings: Record<string, number>;
}

/**
 * Runs the gradient-only analysis over a batch stream of M models × N samples × D values.
 *
 * Per sample it forms the M×M Gram of unit gradients (kernels when `gpu` is given) and keeps
 * per-sample summaries (see `docs/analysis.md` for every figure). Cost: O(N·M²·D) for the Grams,
 * O(N·(M² + G²·splits·n²)) for the summaries, O(resamples · B · M²) for the intervals.
 *
 * @throws {TypeError} when `models.length` differs from the stream's M.
 * @throws {RangeError} when the stream holds no samples or no models.
 *
 * @example
 * ```ts
 * import { analyzeGradients } from "./gradients.ts";
 * const data = new Float32Array([1, 0, 0, 1, 1, 0.1, 0, 1]); // 2 models × 2 samples × 2
 * const stream = {
 *   models: 2, samples: 2, dim: 2,
 *   async *batches() { yield { start: 0, count: 2, data }; },
 * };
 * const a = await analyzeGradients(stream, [
 *   { family: "MLP", k: 1, seed: 0 }, { family: "MLP", k: 1, seed: 1 },
 * ], { resamples: 20 });
 * if (!(a.similarity.pInd.values[0]![1]! > 0.99)) throw new Error("wrong p_ind");
 * ```
 */
export async function analyzeGradients(
  stream: BatchStream,
  models: readonly ModelInput[],
  options: GradientAnalysisOptions = {},
): Promise<GradientAnalysis> {
  const M = stream.models, N = stream.samples, D = stream.dim;
  if (models.length !== M) {
    throw new TypeError(
      `models lists ${models.length} entries but the gradients hold ${M} models; pass one entry per model.`,
    );
  }
  if (M < 1 || N < 1) {
    throw new RangeError(
      `gradients hold ${M} models × ${N} samples; expected at least one of each.`,
    );
  }
  const timings: Record<string, number> = {};
  const warnings: string[] = [];
  let t0 = performance.now();
  const seed = options.seed ?? 0;
  const level = options.level ?? 0.95;
  const source = options.source ?? "gradients";
  const generatedAt = new Date().toISOString();
  const header = { schemaVersion: ANALYSIS_SCHEMA_VERSION, generatedAt, source } as const;

  // Primary groups: (family, k) among models of the most common batch size.
  const batchSizes = models.map((m) => m.batchSize ?? null);
  const primary = mostCommon(batchSizes);
  const groups: Group[] = [];
  const groupKey = new Map<string, Group>();
  models.forEach((m, i) => {
    if ((m.batchSize ?? null) !== primary) return;
    const key = `${m.family}\u0000${m.k}`;
    let g = groupKey.get(key);
    if (!g) {
      g = { family: m.family, k: m.k, members: [] };
      groupKey.set(key, g);
      groups.push(g);
    }
    g.members.push(i);
  });
  groups.sort((a, b) => a.family < b.family ? -1 : a.family > b.family ? 1 : a.k - b.k);
  for (const g of groups) g.members.sort((a, b) => models[a]!.seed - models[b]!.seed);
  const G = groups.length;

  // Split halves, fixed before reading any gradient.
  const splits = options.splits ?? 8;
  const rng = seededUniform(seed);
  const halves = groups.map((g) => {
    const n = g.members.length, h = Math.floor(n / 2);
    if (h < 1) return [];
    const out: Array<[number[], number[]]> = [];
    for (let s = 0; s < splits; s++) {
      const p = [...g.members];
      for (let i = p.length - 1; i > 0; i--) {
        const j = randomInt(rng, i + 1);
        [p[i], p[j]] = [p[j]!, p[i]!];
      }
      out.push([p.slice(0, h), p.slice(h, 2 * h)]);
    }
    return out;
  });

  const reducer = new GramReducer(M, N, groups, { blocks: options.blocks, halves });
  const gpu = options.gpu ?? null;
  const streamBatch = options.batchSize ??
    Math.max(8, Math.min(256, Math.floor(16_000_000 / Math.max(1, M * D))));
  for await (const batch of stream.batches(streamBatch, { reuseBuffer: true })) {
    await forEachGram(gpu, batch.data, { models: M, count: batch.count, dim: D }, (i, gram, nz) => {
      reducer.add(batch.start + i, gram, nz);
    });
    options.onProgress?.(
      `reduced samples ${batch.start}..${batch.start + batch.count - 1} of ${N}`,
    );
  }
  const r = reducer.result();
  timings.reduce = performance.now() - t0;
  t0 = performance.now();

  const B = r.blocks;
  // The requested resamples, lowered for very many models to what 3e8 pair-block terms allow,
  // but not below 100.
  const boot: BootSettings = {
    resamples: Math.min(
      options.resamples ?? 1000,
      Math.max(100, Math.floor(3e8 / Math.max(1, M * M * B))),
    ),
    level,
    seed,
  };
  const modelEntries: ModelEntry[] = models.map((m, i) => ({
    index: i,
    id: m.id ?? `model-${i}`,
    family: m.family,
    k: m.k,
    seed: m.seed,
    batchSize: m.batchSize ?? null,
    zeroGradients: r.zeros[i]!,
  }));
  const groupEntries: GroupEntry[] = groups.map((g, index) => ({
    index,
    family: g.family,
    k: g.k,
    members: [...g.members],
  }));
  const zeroTotal = r.zeros.reduce((a, b) => a + b, 0);
  if (zeroTotal > 0) warnings.push(`${zeroTotal} zero gradients were counted and left out.`);

  // ---- p_ind and p(g1, g2) with a joint bootstrap over seeds and sample blocks.
  const pInd = (i: number, j: number) => {
    const c = r.pairCount[i * M + j]!;
    return c > 0 ? r.pairSum[i * M + j]! / c : null;
  };
  const cellOf = (a: number[], b: number[], p: (i: number, j: number) => number | null) => {
    const vals: number[] = [];
    let pairs = 0;
    for (const i of a) {
      for (const j of b) {
        if (i === j) continue;
        const v = p(i, j);
        if (v === null) continue;
        vals.push(v);
        pairs += r.pairCount[i * M + j]!;
      }
    }
    return { ...meanStd(vals), pairs };
  };
  const cellMean = (a: number[], b: number[], p: (i: number, j: number) => number | null) => {
    let s = 0, n = 0;
    for (const i of a) {
      for (const j of b) {
        if (i === j) continue;
        const v = p(i, j);
        if (v !== null) {
          s += v;
          n++;
        }
      }
    }
    return n > 0 ? s / n : null;
  };
  /** Interval of the mean p_ind over distinct pairs of `a` × `b`, seeds and blocks resampled. */
  const pairCellInterval = (a: number[], b: number[], seedShift: number): Interval | null =>
    bootInterval(
      (u) => {
        const w = drawBlocks(u, B);
        const da = drawWith(u, a, true), db = a === b ? da : drawWith(u, b, true);
        return cellMean(da, db, (i, j) => {
          let sum = 0, c = 0;
          for (let q = 0; q < B; q++) {
            if (w[q] === 0) continue;
            sum += w[q]! * r.pairBlockSum[q * M * M + i * M + j]!;
            c += w[q]! * r.pairBlockCount[q * M * M + i * M + j]!;
          }
          return c > 0 ? sum / c : null;
        });
      },
      { ...boot, seed: seed + seedShift },
      ["seeds", "samples"],
      B,
    );
  const cellDraws: number[][] = Array.from({ length: G * G }, () => []);
  const riseDraws: number[] = [];
  const families = [...new Set(groups.map((g) => g.family))];
  const familyGroups = families.map((f) =>
    groups.map((g, i) => ({ g, i })).filter((x) => x.g.family === f)
  );
  const riseOf = (diag: (gi: number) => number | null): number | null => {
    const slopes: number[] = [];
    for (const fg of familyGroups) {
      const xs: number[] = [], ys: number[] = [];
      for (const { g, i } of fg) {
        const v = diag(i);
        if (v === null) continue;
        xs.push(Math.log2(g.k));
        ys.push(v);
      }
      const s = slope(xs, ys);
      if (s !== null) slopes.push(s);
    }
    return meanOf(slopes);
  };
  {
    const u = seededUniform(seed + 1);
    const pw = new Float64Array(M * M);
    for (let rep = 0; rep < boot.resamples; rep++) {
      const w = drawBlocks(u, B);
      pw.fill(NaN);
      for (let i = 0; i < M; i++) {
        for (let j = i + 1; j < M; j++) {
          let s = 0, c = 0;
          for (let b = 0; b < B; b++) {
            const wb = w[b]!;
            if (wb === 0) continue;
            s += wb * r.pairBlockSum[b * M * M + i * M + j]!;
            c += wb * r.pairBlockCount[b * M * M + i * M + j]!;
          }
          if (c > 0) pw[i * M + j] = pw[j * M + i] = s / c;
        }
      }
      const drawn = groups.map((g) => drawWith(u, g.members, true));
      const p = (i: number, j: number) => {
        const v = pw[i * M + j]!;
        return Number.isNaN(v) ? null : v;
      };
      const diag: (number | null)[] = [];
      for (let a = 0; a < G; a++) {
        for (let b = 0; b < G; b++) {
          const v = cellMean(drawn[a]!, drawn[b]!, p);
          if (v !== null) cellDraws[a * G + b]!.push(v);
          if (a === b) diag.push(v);
        }
      }
      const rise = riseOf((gi) => diag[gi] ?? null);
      if (rise !== null) riseDraws.push(rise);
    }
  }
  const seedsSamples: Interval["over"] = ["seeds", "samples"];
  const expected: PairCell[][] = [];
  for (let a = 0; a < G; a++) {
    const row: PairCell[] = [];
    for (let b = 0; b < G; b++) {
      const c = cellOf(groups[a]!.members, groups[b]!.members, pInd);
      row.push({
        mean: round(c.mean),
        std: round(c.std),
        pairs: c.pairs,
        modelPairs: c.n,
        ci: roundInterval(percentile(cellDraws[a * G + b]!, boot, seedsSamples, B)),
      });
    }
    expected.push(row);
  }
  const byFamily = familyGroups.map((fg, fi) => ({
    family: families[fi]!,
    ks: fg.map((x) => x.g.k),
    mean: fg.map((x) => fg.map((y) => expected[x.i]![y.i]!.mean)),
    std: fg.map((x) => fg.map((y) => expected[x.i]![y.i]!.std)),
    modelPairs: fg.map((x) => fg.map((y) => expected[x.i]![y.i]!.modelPairs)),
  }));

  // ---- Per-sample summaries → estimates with sample-block intervals.
  const blockEstimate = (
    values: Float64Array | Float32Array,
    offset: number,
    seedShift: number,
  ): Estimate => {
    const sums = blockSums(values, offset, N, r.blockOf, B);
    const ms = meanStd(values.subarray(offset, offset + N));
    const ci = ms.n === 0 ? null : bootInterval(
      (u) => weighted(sums, drawBlocks(u, B)),
      { ...boot, seed: seed + seedShift },
      ["samples"],
      B,
    );
    return { mean: round(ms.mean), std: round(ms.std), pairs: ms.n, ci: roundInterval(ci) };
  };
  const meanDirection: (Estimate | null)[][] = [];
  for (let a = 0; a < G; a++) {
    const row: (Estimate | null)[] = [];
    for (let c = 0; c < G; c++) {
      row.push(a === c ? null : blockEstimate(r.meanDir, (a * G + c) * N, 100 + a * G + c));
    }
    meanDirection.push(row);
  }
  const splitHalf = groups.flatMap((g, gi) => {
    const h = Math.floor(g.members.length / 2);
    if (h < 1) return [];
    return [{
      group: gi,
      family: g.family,
      k: g.k,
      halfSizes: [h, h] as [number, number],
      splits,
      estimate: blockEstimate(r.splitHalf, gi * N, 10_000 + gi),
    }];
  });
  const sphericalVariance = groups.map((g, gi) => {
    let n = 0;
    for (let x = 0; x < N; x++) n = Math.max(n, r.svN[gi * N + x]!);
    return {
      group: gi,
      family: g.family,
      k: g.k,
      n,
      estimate: blockEstimate(r.sv, gi * N, 20_000 + gi),
      corrected: blockEstimate(r.svCorrected, gi * N, 30_000 + gi),
    };
  });

  const similarity: SimilarityFile = {
    ...header,
    kind: "similarity",
    gradients: {
      samples: N,
      dimension: D,
      scalar: options.info?.scalar ?? null,
      pooling: options.info?.pooling ?? null,
      inputShape: options.info?.inputShape ?? null,
    },
    models: modelEntries,
    groups: groupEntries,
    zeroGradients: zeroTotal,
    pInd: {
      values: Array.from(
        { length: M },
        (_, i) => Array.from({ length: M }, (_, j) => round(pInd(i, j))),
      ),
      counts: Array.from(
        { length: M },
        (_, i) => Array.from({ length: M }, (_, j) => r.pairCount[i * M + j]!),
      ),
    },
    expected,
    byFamily,
    meanDirection,
    splitHalf,
    sphericalVariance,
    bootstrap: { resamples: boot.resamples, level, blocks: B, seed },
  };
  timings.similarity = performance.now() - t0;
  t0 = performance.now();

  // ---- t values per model, Table 1.
  const tOf = (f: number): Float64Array => {
    const out: number[] = [];
    for (let x = 0; x < N; x++) {
      const v = r.t[f * N + x]!;
      if (Number.isFinite(v)) out.push(v);
    }
    return Float64Array.from(out);
  };
  const tSorted = new Map<number, Float64Array>();
  for (const g of groups) for (const f of g.members) tSorted.set(f, tOf(f).sort());
  const wMatrices = groups.map((g) => {
    const n = g.members.length;
    const w = new Float64Array(n * n).fill(NaN);
    for (let a = 0; a < n; a++) {
      for (let b = a + 1; b < n; b++) {
        const ta = tSorted.get(g.members[a]!)!, tb = tSorted.get(g.members[b]!)!;
        if (ta.length === 0 || tb.length === 0) continue;
        w[a * n + b] = w[b * n + a] = wasserstein1(ta, tb, { sorted: true });
      }
    }
    return w;
  });
  const table1: Table1File = {
    ...header,
    kind: "table1",
    basis: "t",
    upperBound: 2,
    rows: groups.map((g, gi) => {
      const n = g.members.length, w = wMatrices[gi]!;
      const vals: number[] = [];
      for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) vals.push(w[a * n + b]!);
      const ms = meanStd(vals);
      return {
        family: g.family,
        k: g.k,
        mean: round(ms.mean),
        std: round(ms.std),
        modelPairs: ms.n,
        models: n,
        samplesPerModel: n === 0 ? 0 : Math.min(...g.members.map((f) => tSorted.get(f)!.length)),
      };
    }),
  };
  timings.table1 = performance.now() - t0;
  t0 = performance.now();

  // ---- Marginals of t, Saw fit, random baseline.
  const gridSize = options.gridSize ?? 1001;
  const grid = Array.from({ length: gridSize }, (_, j) => -1 + (2 * j) / (gridSize - 1));
  const dSphere = Math.max(2, D);
  const logPOrigin = grid.map((t) => logSphereMarginal(t, dSphere));
  const densityFloor = options.densityFloor ?? 0.01;
  const perImageLimit = Math.min(options.perImageLimit ?? 4, N);
  const densities = new Map<number, Float64Array>();
  const groupMarginals: GroupMarginal[] = groups.map((g, gi) => {
    const pooled: number[] = [];
    for (const f of g.members) for (const v of tSorted.get(f)!) pooled.push(v);
    let density: number[] = new Array(gridSize).fill(0), bandwidth = 0, dec: number[] = [];
    if (pooled.length >= 2) {
      try {
        const kd = kde(pooled, { gridSize });
        densities.set(gi, kd.density);
        density = Array.from(kd.density, (v) => round(v)!);
        bandwidth = kd.bandwidth;
        dec = deciles(pooled);
      } catch (e) {
        warnings.push(`KDE of t for ${g.family} k=${g.k}: ${(e as Error).message}`);
      }
    }
    const perImage: GroupMarginal["perImage"] = [];
    for (let x = 0; x < perImageLimit; x++) {
      const vals: number[] = [];
      for (const f of g.members) {
        const v = r.t[f * N + x]!;
        if (Number.isFinite(v)) vals.push(v);
      }
      if (vals.length < 2) continue;
      try {
        const kd = kde(vals, { gridSize });
        perImage.push({
          sample: x,
          pairs: vals.length,
          density: Array.from(kd.density, (v) => round(v)!),
          bandwidth: kd.bandwidth,
          deciles: deciles(vals),
        });
      } catch {
        // Identical values have no bandwidth: that image has no density to draw.
      }
    }
    return {
      group: gi,
      family: g.family,
      k: g.k,
      pooled: {
        pairs: pooled.length,
        mean: round(meanOf(pooled)),
        density,
        bandwidth,
        deciles: dec.map((v) => round(v)!),
      },
      perImage,
      saw: { kappa: null, intercept: null, r2: null, r2LogDensity: null, points: 0 },
    };
  });
  const sawReference = options.sawReference ?? "chain";
  const logPsiOut: MarginalsFile["saw"]["logPsi"] = [];
  const floorOpt = { relativeFloor: densityFloor };
  for (const [fi, fg] of familyGroups.entries()) {
    const withDensity = fg.filter((x) => densities.has(x.i));
    if (withDensity.length === 0) continue;
    let ref: Float64Array | null = null;
    if (sawReference === "pooled") {
      const pooled: number[] = [];
      for (const { g } of withDensity) {
        for (const f of g.members) for (const v of tSorted.get(f)!) pooled.push(v);
      }
      ref = kde(pooled, { gridSize }).density;
    }
    const shapeOf = ref ?? densities.get(withDensity[0]!.i)!;
    logPsiOut.push({
      family: families[fi]!,
      values: Array.from(sawLogShape(grid, shapeOf, dSphere, floorOpt), (v) => round(v)),
    });
    const fits = fitSawFamily(grid, withDensity.map((x) => densities.get(x.i)!), dSphere, {
      reference: ref ?? (sawReference === "pooled" ? "chain" : sawReference),
      densityFloor,
    });
    fits.forEach((fit, q) => {
      const { g, i } = withDensity[q]!;
      if ("error" in fit) {
        warnings.push(`Saw fit for ${g.family} k=${g.k}: ${fit.error}`);
        return;
      }
      groupMarginals[i]!.saw = {
        kappa: round(fit.kappa),
        intercept: round(fit.intercept),
        r2: round(fit.r2),
        r2LogDensity: round(fit.r2LogDensity),
        points: fit.points,
      };
    });
  }
  const pGrid = Array.from({ length: 101 }, (_, j) => j / 100);
  const tails = pGrid.map((p) => sphereTail(p, dSphere));
  const originSample = originDeciles(dSphere);
  const marginals: MarginalsFile = {
    ...header,
    kind: "marginals",
    dimension: D,
    mu: "leave-one-out",
    grid: grid.map((v) => round(v, 8)!),
    logPOrigin: logPOrigin.map((v) => round(v)),
    originDeciles: originSample,
    groups: groupMarginals,
    saw: { reference: sawReference, densityFloor, logPsi: logPsiOut },
    randomBaseline: {
      p: pGrid,
      tail: tails.map((t) => t.value),
      log10Tail: tails.map((t) => round(t.log10)!),
    },
  };
  timings.marginals = performance.now() - t0;
  t0 = performance.now();

  // ---- Small predicts large.
  const spl: SmallPredictsLargeFile["rows"] = [];
  for (const fg of familyGroups) {
    for (const s of fg) {
      for (const l of fg) {
        if (!(s.g.k < l.g.k)) continue;
        let sum = 0, cnt = 0;
        const perModel: number[] = [];
        for (const f of l.g.members) {
          const c = r.toMeanCount[s.i * M + f]!;
          if (c === 0) continue;
          sum += r.toMeanSum[s.i * M + f]!;
          cnt += c;
          perModel.push(r.toMeanSum[s.i * M + f]! / c);
        }
        const ms = meanStd(perModel);
        const ind = cellOf(s.g.members, l.g.members, pInd);
        spl.push({
          family: s.g.family,
          kSmall: s.g.k,
          kLarge: l.g.k,
          meanDirection: {
            mean: round(cnt > 0 ? sum / cnt : null),
            std: round(ms.std),
            pairs: cnt,
            ci: roundInterval(bootInterval(
              (u) => {
                const w = drawBlocks(u, B);
                let bs = 0, bc = 0;
                for (const f of drawWith(u, l.g.members)) {
                  for (let q = 0; q < B; q++) {
                    bs += w[q]! * r.toMeanBlockSum[(q * G + s.i) * M + f]!;
                    bc += w[q]! * r.toMeanBlockCount[(q * G + s.i) * M + f]!;
                  }
                }
                return bc > 0 ? bs / bc : null;
              },
              { ...boot, seed: seed + 40_000 + s.i * G + l.i },
              ["seeds", "samples"],
              B,
            )),
          },
          individual: {
            mean: round(ind.mean),
            std: round(ind.std),
            pairs: ind.pairs,
            modelPairs: ind.n,
            ci: expected[s.i]![l.i]!.ci,
          },
          smallModels: s.g.members.length,
          largeModels: l.g.members.length,
        });
      }
    }
  }
  const smallPredictsLarge: SmallPredictsLargeFile = {
    ...header,
    kind: "smallPredictsLarge",
    rows: spl,
  };

  // ---- Batch size.
  let batchSize: BatchSizeFile | null = null;
  const distinct = new Set(batchSizes.filter((b) => b !== null));
  if (distinct.size > 1) {
    const keyed = new Map<string, number[]>();
    models.forEach((m, i) => {
      if (m.batchSize == null) return;
      const key = `${m.family}\u0000${m.k}\u0000${m.batchSize}`;
      keyed.set(key, [...(keyed.get(key) ?? []), i]);
    });
    batchSize = {
      ...header,
      kind: "batchSize",
      rows: [...keyed.values()].map((members) => {
        const m0 = models[members[0]!]!;
        const c = cellOf(members, members, pInd);
        return {
          family: m0.family,
          k: m0.k,
          batchSize: m0.batchSize!,
          models: members.length,
          similarity: {
            mean: round(c.mean),
            std: round(c.std),
            pairs: c.pairs,
            modelPairs: c.n,
            ci: members.length >= 2
              ? roundInterval(pairCellInterval(members, members, 50_000 + members[0]!))
              : null,
          },
          loss: round(meanOf(members.map((i) => models[i]!.loss ?? null))),
          accuracy: round(meanOf(members.map((i) => models[i]!.accuracy ?? null))),
        };
      }).sort((a, b) =>
        a.family < b.family ? -1 : a.family > b.family ? 1 : a.k - b.k || a.batchSize - b.batchSize
      ),
    };
  }

  // ---- Claims that need only gradients.
  const claims: ClaimEntry[] = [];
  const diagPairs = groups.reduce((s, _, gi) => s + expected[gi]![gi]!.pairs, 0);
  {
    const value = riseOf((gi) => expected[gi]![gi]!.mean);
    const interval = roundInterval(percentile(riseDraws, boot, seedsSamples, B));
    claims.push(claim({
      id: "similarity-rises-with-width",
      statement:
        "Two independently trained models of one family have more similar input gradients the wider they are.",
      measure: "mean over families of the least-squares slope of p(k, k) against log2 k",
      value,
      interval,
      threshold: 0,
      side: "above",
      pairs: diagPairs,
      unit: "per doubling of k",
    }));
  }
  {
    const svBlocks = groups.map((_, gi) => blockSums(r.svCorrected, gi * N, N, r.blockOf, B));
    const svOf = (w: Float64Array | null) => riseOf((gi) => weighted(svBlocks[gi]!, w));
    const value = svOf(null);
    const interval = roundInterval(
      bootInterval((u) => svOf(drawBlocks(u, B)), { ...boot, seed: seed + 2 }, ["samples"], B),
    );
    claims.push(claim({
      id: "spherical-variance-falls",
      statement:
        "H1: the spherical variance of a family's unit gradients falls as the width grows.",
      measure:
        "mean over families of the slope of the corrected spherical variance (1 − √(mean pairwise cosine)) against log2 k",
      value,
      interval,
      threshold: 0,
      side: "below",
      pairs: sphericalVariance.reduce((s, v) => s + v.corrected.pairs, 0),
      unit: "per doubling of k",
    }));
  }
  {
    const h2Threshold = options.h2Threshold ?? 0.9;
    const adjacent: Array<[number, number]> = [];
    for (const fg of familyGroups) {
      for (let q = 0; q + 1 < fg.length; q++) adjacent.push([fg[q]!.i, fg[q + 1]!.i]);
    }
    const shBlocks = groups.map((_, gi) => blockSums(r.splitHalf, gi * N, N, r.blockOf, B));
    const crossBlocks = adjacent.map(([a, c]) => [
      blockSums(r.crossHalf, (a * G + c) * N, N, r.blockOf, B),
      blockSums(r.crossHalf, (c * G + a) * N, N, r.blockOf, B),
    ]);
    const ratio = (w: Float64Array | null) => {
      const vals: number[] = [];
      adjacent.forEach(([a, c], q) => {
        const x1 = weighted(crossBlocks[q]![0]!, w), x2 = weighted(crossBlocks[q]![1]!, w);
        const sa = weighted(shBlocks[a]!, w), sc = weighted(shBlocks[c]!, w);
        if (x1 === null || x2 === null || sa === null || sc === null || !(sa > 0) || !(sc > 0)) {
          return;
        }
        vals.push((x1 + x2) / 2 / Math.sqrt(sa * sc));
      });
      return meanOf(vals);
    };
    const value = ratio(null);
    const interval = roundInterval(
      bootInterval((u) => ratio(drawBlocks(u, B)), { ...boot, seed: seed + 3 }, ["samples"], B),
    );
    const md = meanOf(adjacent.map(([a, c]) => meanDirection[a]![c]!.mean));
    const sh = meanOf(splitHalf.map((s) => s.estimate.mean));
    claims.push(claim({
      id: "mean-directions-agree",
      statement:
        "H2: the mean gradient directions of different widths agree (beyond what averaging alone gives).",
      measure:
        `mean over adjacent widths of cos(μ_half(k1), μ_half(k2)) / √(split-half(k1)·split-half(k2)), halves of equal size ` +
        `(raw mean-direction similarity of adjacent widths ${fmt(md)}, split-half control ${
          fmt(sh)
        })`,
      value,
      interval,
      threshold: h2Threshold,
      side: "above",
      pairs: adjacent.length * N,
      unit: "ratio",
      missing: value !== null
        ? undefined
        : adjacent.length === 0
        ? "no family has two widths with at least two seeds each"
        : "the split-half similarity is not positive at some width (its mean direction is noise) or no sample had both halves defined",
    }));
  }
  {
    const pairsOfFamilies: Array<[string, string]> = [["CNNLarge", "CNNSmall"], [
      "ResNetLarge",
      "ResNetSmall",
    ]];
    const terms: Array<[number, number]> = [];
    for (const [deep, shallow] of pairsOfFamilies) {
      for (const g of groups) {
        if (g.family !== deep) continue;
        const s = groups.findIndex((h) => h.family === shallow && h.k === g.k);
        if (s >= 0) terms.push([groups.indexOf(g), s]);
      }
    }
    const meanW = (gi: number, members: number[] | null) => {
      const g = groups[gi]!, n = g.members.length, w = wMatrices[gi]!;
      const idx = members ?? g.members.map((_, q) => q);
      const vals: number[] = [];
      for (const a of idx) {
        for (const b of idx) {
          if (a !== b && Number.isFinite(w[a * n + b]!)) vals.push(w[a * n + b]!);
        }
      }
      return meanOf(vals);
    };
    const diff = (draw: ((gi: number) => number[]) | null) =>
      meanOf(terms.map(([d, s]) => {
        const a = meanW(d, draw ? draw(d) : null), b = meanW(s, draw ? draw(s) : null);
        return a === null || b === null ? null : a - b;
      }));
    const value = terms.length ? diff(null) : null;
    const interval = terms.length
      ? roundInterval(
        bootInterval(
          (u) => diff((gi) => drawWith(u, groups[gi]!.members.map((_, q) => q), true)),
          { ...boot, seed: seed + 4 },
          ["seeds"],
          null,
        ),
      )
      : null;
    claims.push(claim({
      id: "deeper-larger-distance",
      statement:
        "Deeper families (CNNLarge, ResNetLarge) have larger Table 1 distances than their shallower counterparts.",
      measure:
        `mean over shared widths of W1(deeper) − W1(shallower) (${terms.length} width pairs)`,
      value,
      interval,
      threshold: 0,
      side: "above",
      pairs: terms.reduce(
        (s, [d, sh]) => s + (table1.rows[d]!.models + table1.rows[sh]!.models) * N,
        0,
      ),
      unit: "distance",
      missing: terms.length === 0
        ? "no family pair (CNNLarge/CNNSmall or ResNetLarge/ResNetSmall) shares a width"
        : undefined,
    }));
  }
  timings.claims = performance.now() - t0;

  return {
    similarity,
    table1,
    marginals,
    smallPredictsLarge,
    batchSize,
    claims,
    reduced: r,
    groups,
    warnings,
    timings,
  };
}

function mostCommon<T>(list: readonly T[]): T | null {
  const counts = new Map<T, number>();
  for (const v of list) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: T | null = null, n = -1;
  for (const [v, c] of counts) if (c > n) [best, n] = [v, c];
  return best;
}

function blockSums(
  values: Float64Array | Float32Array,
  offset: number,
  n: number,
  blockOf: Int32Array,
  B: number,
) {
  const s = new Float64Array(B), c = new Float64Array(B);
  for (let x = 0; x < n; x++) {
    const v = values[offset + x]!;
    if (!Number.isFinite(v)) continue;
    s[blockOf[x]!]! += v;
    c[blockOf[x]!]!++;
  }
  return { s, c };
}

function weighted(b: { s: Float64Array; c: Float64Array }, w: Float64Array | null): number | null {
  let s = 0, c = 0;
  for (let i = 0; i < b.s.length; i++) {
    const wi = w ? w[i]! : 1;
    s += wi * b.s[i]!;
    c += wi * b.c[i]!;
  }
  return c > 0 ? s / c : null;
}

function originDeciles(d: number): number[] {
  // Invert P(Z > p) by bisection at each decile.
  return [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9].map((q) => {
    let lo = -1, hi = 1;
    for (let it = 0; it < 60; it++) {
      const mid = (lo + hi) / 2;
      if (1 - sphereTail(mid, d).value < q) lo = mid;
      else hi = mid;
    }
    return Number(((lo + hi) / 2).toPrecision(6));
  });
}

function roundInterval(i: Interval | null): Interval | null {
  return i === null ? null : { ...i, lo: round(i.lo)!, hi: round(i.hi)! };
}
