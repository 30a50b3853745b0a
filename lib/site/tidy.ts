/**
 * Tidy tables of the analysis files: one row per observation, one named column per variable, so
 * `pandas.read_csv` (or any CSV reader) reads each as it is. Every figure of the report links the
 * table it was drawn from; the JSON stays beside it. Pure functions (no Deno API).
 * @module
 */
import type {
  AnalysisFile,
  AnalysisKind,
  Estimate,
  GroupMarginal,
  Interval,
  MarginalsFile,
  PairCell,
} from "../analysis/schema.ts";
import type { EpochsJson } from "../sweep/epochs.ts";
import { csvField } from "./csv.ts";

/** One row of a tidy table: column → number, string, boolean or null. */
export type TidyRow = Record<string, number | string | boolean | null>;

/** A tidy table drawn from one analysis file. */
export interface TidySpec<K extends AnalysisKind = AnalysisKind> {
  /** The analysis file it is drawn from. */
  from: K;
  /** What one row is, for the reader. */
  row: string;
  /** Column names, in order. */
  columns: readonly string[];
  rows(file: Extract<AnalysisFile, { kind: K }>): TidyRow[];
}

function ci(i: Interval | null | undefined, prefix = "ci"): TidyRow {
  return {
    [`${prefix}Lo`]: i?.lo ?? null,
    [`${prefix}Hi`]: i?.hi ?? null,
    [`${prefix}Level`]: i?.level ?? null,
  };
}

function est(e: Estimate | null | undefined, prefix = ""): TidyRow {
  const p = (s: string) => (prefix ? prefix + s[0]!.toUpperCase() + s.slice(1) : s);
  return {
    [p("mean")]: e?.mean ?? null,
    [p("std")]: e?.std ?? null,
    [p("pairs")]: e?.pairs ?? 0,
    ...ci(e?.ci, prefix ? `${prefix}Ci` : "ci"),
  };
}

function spec<K extends AnalysisKind>(s: TidySpec<K>): TidySpec<AnalysisKind> {
  return s as unknown as TidySpec<AnalysisKind>;
}

const EST_COLS = ["mean", "std", "pairs", "ciLo", "ciHi", "ciLevel"] as const;

/** Every tidy table, by its CSV name under a sweep's `data/`. */
export const TIDY_TABLES: Readonly<Record<string, TidySpec>> = {
  "pkk.csv": spec({
    from: "similarity",
    row: "one width of one family: p(k,k) over pairs of distinct seeds",
    columns: ["family", "k", "seeds", "modelPairs", ...EST_COLS],
    rows: (s) =>
      s.groups.slice().sort((a, b) => a.family.localeCompare(b.family) || a.k - b.k).map((g) => {
        const c: PairCell | undefined = s.expected[g.index]?.[g.index];
        return {
          family: g.family,
          k: g.k,
          seeds: g.members.length,
          modelPairs: c?.modelPairs ?? 0,
          ...est(c),
        };
      }),
  }),
  "similarity.csv": spec({
    from: "similarity",
    row: "one pair of groups (family, width): the expected similarity p(g1, g2)",
    columns: ["family1", "k1", "family2", "k2", "modelPairs", ...EST_COLS],
    rows: (s) =>
      s.groups.flatMap((a) =>
        s.groups.map((b) => {
          const c = s.expected[a.index]?.[b.index];
          return {
            family1: a.family,
            k1: a.k,
            family2: b.family,
            k2: b.k,
            modelPairs: c?.modelPairs ?? 0,
            ...est(c),
          };
        })
      ),
  }),
  "mean_direction.csv": spec({
    from: "similarity",
    row: "one pair of groups: the mean-direction similarity (diagonal left empty)",
    columns: ["family1", "k1", "family2", "k2", ...EST_COLS],
    rows: (s) =>
      s.groups.flatMap((a) =>
        s.groups.map((b) => ({
          family1: a.family,
          k1: a.k,
          family2: b.family,
          k2: b.k,
          ...est(s.meanDirection[a.index]?.[b.index]),
        }))
      ),
  }),
  "split_half.csv": spec({
    from: "similarity",
    row: "one group: the split-half control of its mean direction",
    columns: ["family", "k", "halfA", "halfB", "splits", ...EST_COLS],
    rows: (s) =>
      s.splitHalf.map((r) => ({
        family: r.family,
        k: r.k,
        halfA: r.halfSizes[0],
        halfB: r.halfSizes[1],
        splits: r.splits,
        ...est(r.estimate),
      })),
  }),
  "spherical_variance.csv": spec({
    from: "similarity",
    row: "one group: spherical variance, raw and corrected for the number of seeds n",
    columns: [
      "family",
      "k",
      "n",
      "raw",
      "rawStd",
      "rawPairs",
      "rawCiLo",
      "rawCiHi",
      "rawCiLevel",
      "corrected",
      "correctedStd",
      "correctedPairs",
      "correctedCiLo",
      "correctedCiHi",
      "correctedCiLevel",
    ],
    rows: (s) =>
      s.sphericalVariance.map((r) => {
        const raw = est(r.estimate, "raw"), cor = est(r.corrected, "corrected");
        return {
          family: r.family,
          k: r.k,
          n: r.n,
          raw: raw.rawMean ?? null,
          rawStd: raw.rawStd ?? null,
          rawPairs: raw.rawPairs ?? 0,
          rawCiLo: raw.rawCiLo ?? null,
          rawCiHi: raw.rawCiHi ?? null,
          rawCiLevel: raw.rawCiLevel ?? null,
          corrected: cor.correctedMean ?? null,
          correctedStd: cor.correctedStd ?? null,
          correctedPairs: cor.correctedPairs ?? 0,
          correctedCiLo: cor.correctedCiLo ?? null,
          correctedCiHi: cor.correctedCiHi ?? null,
          correctedCiLevel: cor.correctedCiLevel ?? null,
        };
      }),
  }),
  "models.csv": spec({
    from: "similarity",
    row: "one model of the analysis",
    columns: [
      "index",
      "id",
      "family",
      "k",
      "seed",
      "batchSize",
      "zeroGradients",
      "nonFiniteGradients",
      "accuracy",
    ],
    rows: (s) =>
      s.models.map((m) => ({
        index: m.index,
        id: m.id,
        family: m.family,
        k: m.k,
        seed: m.seed,
        batchSize: m.batchSize,
        zeroGradients: m.zeroGradients,
        nonFiniteGradients: m.nonFiniteGradients ?? null,
        accuracy: m.accuracy ?? null,
      })),
  }),
  "p_ind.csv": spec({
    from: "similarity",
    row: "one pair of models: the individual similarity p_ind and the images it averaged",
    columns: ["model1", "model2", "pInd", "samples"],
    rows: (s) =>
      s.pInd.values.flatMap((row, i) =>
        row.map((v, j) => ({
          model1: s.models[i]?.id ?? String(i),
          model2: s.models[j]?.id ?? String(j),
          pInd: v,
          samples: s.pInd.counts[i]?.[j] ?? 0,
        }))
      ),
  }),
  "table1.csv": spec({
    from: "table1",
    row: "one width of one family: Wasserstein distance between its models",
    columns: ["family", "k", "mean", "std", "modelPairs", "models", "samplesPerModel"],
    rows: (t) => t.rows.map((r) => ({ ...r })),
  }),
  "marginals.csv": spec({
    from: "marginals",
    row: "one grid point of one group's KDE of t (and the uniform-sphere density)",
    columns: ["family", "k", "t", "density", "pairs", "bandwidth"],
    rows: (m) => [
      ...m.grid.map((t, i) => {
        const lp = m.logPOrigin[i];
        return {
          family: "uniform-sphere",
          k: null,
          t,
          density: lp === null || lp === undefined ? 0 : Math.exp(lp),
          pairs: null,
          bandwidth: null,
        };
      }),
      ...m.groups.flatMap((g) =>
        m.grid.map((t, i) => ({
          family: g.family,
          k: g.k,
          t,
          density: g.pooled.density[i] ?? null,
          pairs: g.pooled.pairs,
          bandwidth: g.pooled.bandwidth,
        }))
      ),
    ],
  }),
  "marginal_deciles.csv": spec({
    from: "marginals",
    row: "one decile of t of one group (family uniform-sphere: the uniform baseline)",
    columns: ["family", "k", "decile", "t"],
    rows: (m) => [
      ...m.originDeciles.map((t, i) => ({
        family: "uniform-sphere",
        k: null,
        decile: (i + 1) * 10,
        t,
      })),
      ...m.groups.flatMap((g) =>
        g.pooled.deciles.map((t, i) => ({ family: g.family, k: g.k, decile: (i + 1) * 10, t }))
      ),
    ],
  }),
  "marginals_per_image.csv": spec({
    from: "marginals",
    row: "one grid point of the KDE of t over one group's models at one probe image",
    columns: ["family", "k", "sample", "t", "density", "pairs", "bandwidth"],
    rows: (m) =>
      m.groups.flatMap((g) =>
        g.perImage.flatMap((im) =>
          m.grid.map((t, i) => ({
            family: g.family,
            k: g.k,
            sample: im.sample,
            t,
            density: im.density[i] ?? null,
            pairs: im.pairs,
            bandwidth: im.bandwidth,
          }))
        )
      ),
  }),
  "saw.csv": spec({
    from: "marginals",
    row: "one width of one family: its Saw-model fit",
    columns: ["family", "k", "kappa", "intercept", "r2", "r2LogDensity", "points"],
    rows: (m) =>
      m.groups.map((g) => ({
        family: g.family,
        k: g.k,
        kappa: g.saw.kappa,
        intercept: g.saw.intercept,
        r2: g.saw.r2,
        r2LogDensity: g.saw.r2LogDensity,
        points: g.saw.points,
      })),
  }),
  "saw_points.csv": spec({
    from: "marginals",
    row:
      "one grid point t of one width: log ψ(t) and log(p_k(t) / P_origin(t)), as the Saw chart plots them",
    columns: ["family", "k", "t", "logPsi", "logRatio"],
    rows: (m) =>
      m.groups.flatMap((g) => sawPoints(m, g).map((p) => ({ family: g.family, k: g.k, ...p }))),
  }),
  "random_baseline.csv": spec({
    from: "marginals",
    row: "one threshold p: the tail P(Z > p) of a random direction's cosine",
    columns: ["p", "tail", "log10Tail"],
    rows: (m) =>
      m.randomBaseline.p.map((p, i) => ({
        p,
        tail: m.randomBaseline.tail[i] ?? null,
        log10Tail: m.randomBaseline.log10Tail[i] ?? null,
      })),
  }),
  "attacks.csv": spec({
    from: "attacks",
    row: "one (source width, target width, image subset) of one family: the decay ratio α",
    columns: ["family", "kSource", "kTarget", "subset", "modelPairs", ...EST_COLS],
    rows: (a) =>
      a.matrices.flatMap((m) =>
        m.ks.flatMap((k1, i) =>
          m.ks.flatMap((k2, j) => {
            const c = m.cells[i]?.[j];
            const base = { family: m.family, kSource: k1, kTarget: k2 };
            const pairs = m.modelPairs[i]?.[j] ?? 0;
            return [
              { ...base, subset: "all", modelPairs: pairs, ...est(c?.all) },
              { ...base, subset: "correct", modelPairs: pairs, ...est(c?.correct) },
            ];
          })
        )
      ),
  }),
  "attack_strategies.csv": spec({
    from: "attacks",
    row: "one (target width, strategy, image subset) of one family: the decay ratio α",
    columns: ["family", "k", "strategy", "subset", "targets", "sourceModels", ...EST_COLS],
    rows: (a) =>
      a.strategies.flatMap((s) =>
        (["all", "correct"] as const).map((subset) => ({
          family: s.family,
          k: s.k,
          strategy: s.strategy,
          subset,
          targets: s.targets,
          sourceModels: s.sourceModels,
          ...est(s.alpha[subset]),
        }))
      ),
  }),
  "ensembles.csv": spec({
    from: "ensembles",
    row: "one ensemble size of one width (members 1: single models averaged)",
    columns: [
      "family",
      "k",
      "members",
      "draws",
      "meanT",
      "meanTStd",
      "meanTPairs",
      "meanTCiLo",
      "meanTCiHi",
      "meanTCiLevel",
      "loss",
      "accuracy",
    ],
    rows: (e) =>
      e.curves.flatMap((c) =>
        c.points.map((p) => {
          const { meanTMean, ...t } = est(p.meanT, "meanT");
          return {
            family: c.family,
            k: c.k,
            members: p.members,
            draws: p.draws,
            meanT: meanTMean ?? null,
            ...t,
            loss: p.loss,
            accuracy: p.accuracy,
          };
        })
      ),
  }),
  "batch_size.csv": spec({
    from: "batchSize",
    row: "one (width, batch size) of one family: similarity between its models",
    columns: ["family", "k", "batchSize", "models", "modelPairs", ...EST_COLS, "loss", "accuracy"],
    rows: (b) =>
      b.rows.map((r) => ({
        family: r.family,
        k: r.k,
        batchSize: r.batchSize,
        models: r.models,
        modelPairs: r.similarity.modelPairs,
        ...est(r.similarity),
        loss: r.loss,
        accuracy: r.accuracy,
      })),
  }),
  "small_predicts_large.csv": spec({
    from: "smallPredictsLarge",
    row: "one (small width, large width, measure) of one family",
    columns: [
      "family",
      "kSmall",
      "kLarge",
      "measure",
      "smallModels",
      "largeModels",
      ...EST_COLS,
    ],
    rows: (f) =>
      f.rows.flatMap((r) => {
        const base = {
          family: r.family,
          kSmall: r.kSmall,
          kLarge: r.kLarge,
          smallModels: r.smallModels,
          largeModels: r.largeModels,
        };
        return [
          { ...base, measure: "mean-direction", ...est(r.meanDirection) },
          { ...base, measure: "individual", ...est(r.individual) },
        ];
      }),
  }),
  "claims.csv": spec({
    from: "claims",
    row: "one paper claim and its verdict",
    columns: [
      "id",
      "verdict",
      "value",
      "ciLo",
      "ciHi",
      "ciLevel",
      "threshold",
      "pairs",
      "statement",
      "measure",
      "reason",
    ],
    rows: (c) =>
      c.claims.map((x) => ({
        id: x.id,
        verdict: x.verdict,
        value: x.value,
        ...ci(x.interval),
        threshold: x.threshold,
        pairs: x.pairs,
        statement: x.statement,
        measure: x.measure,
        reason: x.reason,
      })),
  }),
  "paper.csv": spec({
    from: "paper",
    row:
      "one value of ours beside one published figure of the paper (a width pair or source/target)",
    columns: [
      "figure",
      "paper",
      "paperLo",
      "paperHi",
      "k1",
      "k2",
      "value",
      "ciLo",
      "ciHi",
      "ciLevel",
      "overlaps",
      "differs",
    ],
    rows: (f) =>
      f.rows.flatMap((r) =>
        r.ours.values.map((v) => ({
          figure: r.id,
          paper: r.paper.text,
          paperLo: r.paper.lo,
          paperHi: r.paper.hi,
          k1: v.k1,
          k2: v.k2,
          value: v.value,
          ...ci(v.ci),
          overlaps: r.overlaps,
          differs: r.differs,
        }))
      ),
  }),
  "pooling.csv": spec({
    from: "pooling",
    row:
      "one figure of one pooling variant: a gradient claim's value, or p(k,k) of one width, or p(k1,k2) of adjacent widths",
    columns: [
      "pooling",
      "dimension",
      "main",
      "figure",
      "family",
      "k1",
      "k2",
      "value",
      "verdict",
      "ciLo",
      "ciHi",
      "ciLevel",
    ],
    rows: (f) =>
      f.variants.flatMap((v) => {
        const head = { pooling: v.pooling ?? "none", dimension: v.dimension, main: v.main };
        return [
          ...v.claims.map((c) => ({
            ...head,
            figure: c.id,
            family: null,
            k1: null,
            k2: null,
            value: c.value,
            verdict: c.verdict,
            ...ci(c.interval),
          })),
          ...v.groups.map((g) => ({
            ...head,
            figure: "p(k,k)",
            family: g.family,
            k1: g.k,
            k2: g.k,
            value: g.pWithin.mean,
            verdict: null,
            ...ci(g.pWithin.ci),
          })),
          ...v.adjacent.map((a) => ({
            ...head,
            figure: "p(k1,k2)",
            family: a.family,
            k1: a.k1,
            k2: a.k2,
            value: a.p.mean,
            verdict: null,
            ...ci(a.p.ci),
          })),
        ];
      }),
  }),
};

/**
 * The points of one width's Saw fit, as the report plots them: at each grid point t where the
 * family's log ψ and log P_origin are defined and the width's KDE exceeds the fit's density floor
 * (of its maximum), x = log ψ(t) and y = log(p_k(t)) − log P_origin(t). Cost: one pass over the
 * grid.
 * @example
 * ```ts
 * import { sawPoints } from "./tidy.ts";
 * const m = {
 *   grid: [0, 0.5], logPOrigin: [0, null],
 *   saw: { reference: "chain", densityFloor: 0.01, logPsi: [{ family: "F", values: [1, 2] }] },
 * } as never;
 * const g = { family: "F", pooled: { density: [Math.E, 1] } } as never;
 * const [p, ...rest] = sawPoints(m, g);
 * if (rest.length !== 0 || p!.t !== 0 || p!.logPsi !== 1 || Math.abs(p!.logRatio - 1) > 1e-12) throw new Error();
 * ```
 */
export function sawPoints(
  m: Pick<MarginalsFile, "grid" | "logPOrigin" | "saw">,
  g: Pick<GroupMarginal, "family" | "pooled">,
): { t: number; logPsi: number; logRatio: number }[] {
  const psi = m.saw.logPsi.find((p) => p.family === g.family)?.values ?? [];
  const max = Math.max(...g.pooled.density);
  const out: { t: number; logPsi: number; logRatio: number }[] = [];
  m.grid.forEach((t, i) => {
    const lp = psi[i];
    const lo = m.logPOrigin[i];
    const dens = g.pooled.density[i] ?? 0;
    if (lp === null || lp === undefined || lo === null || lo === undefined) return;
    if (dens <= m.saw.densityFloor * max) return;
    out.push({ t, logPsi: lp, logRatio: Math.log(dens) - lo });
  });
  return out;
}

/**
 * The tidy tables drawn from analysis file `kind`, by CSV name.
 * @example
 * ```ts
 * import { tablesOf } from "./tidy.ts";
 * if (!tablesOf("similarity").includes("pkk.csv")) throw new Error();
 * ```
 */
export function tablesOf(kind: AnalysisKind): string[] {
  return Object.entries(TIDY_TABLES).filter(([, s]) => s.from === kind).map(([n]) => n);
}

/**
 * CSV text (RFC 4180, CRLF, header first) of rows under fixed columns; a cell absent from a row is
 * empty, a column a row has but `columns` lacks is an error (so no value is silently dropped).
 * @throws RangeError naming the column.
 * @example
 * ```ts
 * import { tidyCsv } from "./tidy.ts";
 * if (tidyCsv(["a", "b"], [{ a: 1, b: null }]) !== "a,b\r\n1,\r\n") throw new Error();
 * ```
 */
export function tidyCsv(columns: readonly string[], rows: TidyRow[]): string {
  const known = new Set(columns);
  for (const r of rows) {
    for (const k of Object.keys(r)) {
      if (!known.has(k)) {
        throw new RangeError(`tidy row has column "${k}", not among ${columns.join(", ")}.`);
      }
    }
  }
  const lines = [columns.map(csvField).join(",")];
  for (const r of rows) lines.push(columns.map((c) => csvField(r[c] ?? null)).join(","));
  return lines.join("\r\n") + "\r\n";
}

/** A tidy table built outside {@linkcode TIDY_TABLES} (from files of the sweep, not the analysis). */
export interface TidyTable {
  columns: readonly string[];
  rows: TidyRow[];
}

/**
 * `epochs.csv`: one row per (family, width, epoch) of `analysis/epochs.json`.
 * @example
 * ```ts
 * import { epochsTable } from "./tidy.ts";
 * const t = epochsTable({ rows: [{ family: "F", k: 1, epoch: 2, seeds: 3, testAcc: 0.5, testAccStd: 0.1, pKK: 0.2, pKKInterval: [0.1, 0.3], sphericalVariance: 0.4, sphericalVarianceCorrected: 0.5 }] } as never);
 * if (t.rows[0]?.pKKHi !== 0.3) throw new Error();
 * ```
 */
export function epochsTable(e: EpochsJson): TidyTable {
  return {
    columns: [
      "family",
      "k",
      "epoch",
      "seeds",
      "testAcc",
      "testAccStd",
      "pKK",
      "pKKLo",
      "pKKHi",
      "sphericalVariance",
      "sphericalVarianceCorrected",
    ],
    rows: e.rows.map((r) => ({
      family: r.family,
      k: r.k,
      epoch: r.epoch,
      seeds: r.seeds,
      testAcc: r.testAcc,
      testAccStd: r.testAccStd,
      pKK: r.pKK,
      pKKLo: r.pKKInterval?.[0] ?? null,
      pKKHi: r.pKKInterval?.[1] ?? null,
      sphericalVariance: r.sphericalVariance,
      sphericalVarianceCorrected: r.sphericalVarianceCorrected,
    })),
  };
}

/**
 * A table of several analyses (e.g. one per attribution method): `table`'s rows of each, with a
 * first column `key` naming the analysis.
 * @example
 * ```ts
 * import { stackedTable, TIDY_TABLES } from "./tidy.ts";
 * const t = stackedTable("method", TIDY_TABLES["claims.csv"]!, [["gradient", { claims: [] } as never]]);
 * if (t.columns[0] !== "method" || t.rows.length !== 0) throw new Error();
 * ```
 */
export function stackedTable<K extends AnalysisKind>(
  key: string,
  table: TidySpec,
  parts: [string, Extract<AnalysisFile, { kind: K }>][],
): TidyTable {
  return {
    columns: [key, ...table.columns],
    rows: parts.flatMap(([name, file]) => table.rows(file).map((r) => ({ [key]: name, ...r }))),
  };
}
