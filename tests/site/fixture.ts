/**
 * Test fixture for the report site: writes a small, SYNTHETIC sweep (2 families × 3 widths ×
 * 3 seeds × 2 batch sizes) into a folder, in the store's and the analysis's schema, with numbers
 * from seeded formulas shaped like the paper's trends. Nothing here is a measured result.
 * @module
 */
import { join } from "node:path";
import type {
  AlphaCell,
  AnalysisKind,
  AttacksFile,
  BatchSizeFile,
  ClaimsFile,
  EnsemblePoint,
  EnsemblesFile,
  Estimate,
  GroupEntry,
  Interval,
  MarginalsFile,
  ModelEntry,
  PairCell,
  SimilarityFile,
  SmallPredictsLargeFile,
  SummaryFile,
  Table1File,
} from "../../lib/analysis/schema.ts";
import { ANALYSIS_FILES } from "../../lib/analysis/schema.ts";
import { seededUniform } from "../../lib/stats/mod.ts";
import { writeNpy, writeSidecar } from "../../lib/npy/mod.ts";
import {
  hashConfig,
  markComplete,
  type PlanEntry,
  runIdOf,
  type RunJson,
  type SweepConfig,
  sweepIdOf,
  writeJson,
  writePlan,
  writeRun,
  writeSweep,
} from "../../lib/store/mod.ts";

/** Families, widths and seeds of the fixture. */
export const FIXTURE = {
  families: ["CNNSmall", "ResNetSmall"],
  widths: [2, 4, 8],
  seeds: 3,
  batchSizes: [32, 64],
  probe: 64,
  dimension: 784,
} as const;

/** A string that must always appear escaped. */
export const HOSTILE = "<script>alert(1)</script>";

const round = (v: number, d = 6) => Number(v.toFixed(d));
const lvl = (k: number) => Math.log2(k) - 1; // 0, 1, 2 for k = 2, 4, 8

function interval(mean: number, half: number, over: Interval["over"]): Interval {
  return {
    lo: round(mean - half),
    hi: round(mean + half),
    level: 0.95,
    resamples: 200,
    over,
    blocks: 16,
  };
}

function estimate(mean: number, std: number, pairs: number, over: Interval["over"]): Estimate {
  return {
    mean: round(mean),
    std: round(std),
    pairs,
    ci: interval(mean, 1.96 * std / Math.sqrt(Math.max(2, pairs / 64)), over),
  };
}

/** CNNSmall's trainable parameters for C input channels and 10 classes (matches 39,330 at C=3, k=10). */
function paramsOf(family: string, k: number, c: number): number {
  return family === "CNNSmall"
    ? 378 * k * k + (9 * c + 125) * k + 10
    : 1240 * k * k + 42 * k + 9 * c * k;
}

/** Options of {@linkcode writeFixtureSweep}. */
export interface FixtureOptions {
  /** Analysis files to leave out (to test the pages' notices). */
  omit?: AnalysisKind[];
  /** Sweep name (the id is `<name>-<hash8>`). */
  name?: string;
}

/**
 * Writes the synthetic sweep under `root` and returns its folder name. Cost: ~60 small JSON files.
 */
export async function writeFixtureSweep(
  root: string,
  options: FixtureOptions = {},
): Promise<string> {
  const rand = seededUniform(20241); // the same fixture on every run
  const noise = (s: number) => (rand() - 0.5) * 2 * s;
  const config: SweepConfig = {
    name: options.name ?? "fixture",
    dataset: {
      name: "synthetic",
      dir: null,
      trainImages: 512,
      testImages: 256,
      probeImages: FIXTURE.probe,
    },
    families: [...FIXTURE.families],
    widths: [...FIXTURE.widths],
    seeds: FIXTURE.seeds,
    training: { epochs: 3, batchSizes: [...FIXTURE.batchSizes], lr: 0.1, schedule: "inverse-sqrt" },
    salience: { scalar: "true-class-logit", pool: null },
    experiments: {
      logits: true,
      ensembles: { sizes: [1, 2, 3] },
      attack: { epsilon: 0.05, strategies: ["largest", "same-width", "mean-direction"] },
    },
    backend: "cpu",
  };
  const configHash = hashConfig(config);
  const sweepId = sweepIdOf(config.name, configHash);
  const dir = join(root, sweepId);
  await writeSweep(dir, {
    schemaVersion: 1,
    kind: "sweep",
    sweepId,
    configHash,
    created: "2026-01-01T00:00:00.000Z",
    toolkit: { name: "@salience/convergence", version: "0.1.0" },
    config,
  });
  const runs: PlanEntry[] = [];
  for (const family of FIXTURE.families) {
    for (const k of FIXTURE.widths) {
      for (const batchSize of FIXTURE.batchSizes) {
        for (let seed = 0; seed < FIXTURE.seeds; seed++) {
          const h = hashConfig({ configHash, family, k, seed, batchSize });
          runs.push({
            index: runs.length,
            runId: runIdOf({ family, k, seed, configHash: h }),
            family,
            k,
            seed,
            batchSize,
            configHash: h,
          });
        }
      }
    }
  }
  await writePlan(dir, {
    schemaVersion: 1,
    kind: "plan",
    sweepId,
    configHash,
    runs,
    sharding: { rule: "round-robin", description: "index % n" },
  });
  for (const p of runs) {
    const runDir = join(dir, "runs", p.runId);
    const base = 0.55 + 0.08 * lvl(p.k) + (p.family === "CNNSmall" ? 0 : 0.03) -
      (p.batchSize - 32) / 1000;
    const history = [1, 2, 3].map((epoch) => {
      const acc = Math.min(0.97, base - 0.12 / epoch + noise(0.01));
      return {
        epoch,
        trainLoss: round(1.9 - 0.35 * epoch - 0.1 * lvl(p.k) + noise(0.02)),
        testLoss: round(2.0 - 0.3 * epoch - 0.12 * lvl(p.k) + noise(0.03)),
        testAcc: round(acc, 4),
        lr: round(0.1 / Math.sqrt(epoch)),
        seconds: round(3 + p.k * 0.8 + noise(0.3), 2),
      };
    });
    const last = history[history.length - 1] ?? history[0]!;
    const run: RunJson = {
      schemaVersion: 1,
      kind: "run",
      runId: p.runId,
      family: p.family,
      k: p.k,
      seed: p.seed,
      batchSize: p.batchSize,
      configHash: p.configHash,
      params: paramsOf(p.family, p.k, 1),
      backend: { tfjs: "cpu", adapter: null, software: false },
      input: { shape: [1, 28, 28], classes: 10 },
      history,
      final: { testLoss: last.testLoss, testAcc: last.testAcc },
      salience: {
        file: "salience.npy",
        shape: [FIXTURE.probe, FIXTURE.dimension],
        sidecar: "salience.json",
      },
      logits: { file: "logits.npy", shape: [FIXTURE.probe, 10] },
      seconds: { train: round(history.reduce((s, h) => s + h.seconds, 0), 2), salience: 0.4 },
      started: "2026-01-01T00:00:00.000Z",
      finished: "2026-01-01T00:01:00.000Z",
    };
    await writeRun(runDir, run);
    // The arrays run.json declares, so that its COMPLETE marker lists every artifact.
    const salience = Float32Array.from(
      { length: FIXTURE.probe * FIXTURE.dimension },
      (_, i) => Math.sin(i * 0.37 + p.k),
    );
    await writeNpy(join(runDir, "salience.npy"), [FIXTURE.probe, FIXTURE.dimension], salience);
    await writeSidecar(join(runDir, "salience.npy"), {
      format: "salience-gradients",
      version: 1,
      scalar: "true-class-logit",
      pooling: null,
      input: { channels: 1, height: 28, width: 28 },
      models: [{ family: p.family, k: p.k, seed: p.seed }],
      probe: { dataset: "synthetic", split: "test", indices: [...Array(FIXTURE.probe).keys()] },
    });
    const logits = Float32Array.from(
      { length: FIXTURE.probe * 10 },
      (_, i) => Math.cos(i * 0.11 + p.seed),
    );
    await writeNpy(join(runDir, "logits.npy"), [FIXTURE.probe, 10], logits);
    await markComplete(runDir, p.runId);
  }
  await writeAnalysis(dir, sweepId, runs, noise, options.omit ?? []);
  return sweepId;
}

async function writeAnalysis(
  dir: string,
  sweepId: string,
  runs: PlanEntry[],
  noise: (s: number) => number,
  omit: AnalysisKind[],
): Promise<void> {
  const header = <K extends AnalysisKind>(kind: K) => ({
    schemaVersion: 1 as const,
    kind,
    generatedAt: "2026-01-01T00:05:00.000Z",
    source: sweepId,
  });
  const N = FIXTURE.probe;
  const models: ModelEntry[] = runs.map((r, index) => ({
    index,
    id: r.runId,
    family: r.family,
    k: r.k,
    seed: r.seed,
    batchSize: r.batchSize,
    zeroGradients: 0,
  }));
  // Analysis groups are (family, k) over the models of the first batch size.
  const main = models.filter((m) => m.batchSize === FIXTURE.batchSizes[0]);
  const groups: GroupEntry[] = [];
  for (const family of FIXTURE.families) {
    for (const k of FIXTURE.widths) {
      groups.push({
        index: groups.length,
        family,
        k,
        members: main.filter((m) => m.family === family && m.k === k).map((m) => m.index),
      });
    }
  }
  const pk = (f1: string, k1: number, f2: string, k2: number) =>
    (0.01 + 0.012 * (lvl(k1) + lvl(k2))) * (f1 === f2 ? 1 : 0.7);
  const M = models.length;
  const pIndValues: (number | null)[][] = [];
  for (let i = 0; i < M; i++) {
    const row: (number | null)[] = [];
    for (let j = 0; j < M; j++) {
      const a = models[i]!;
      const b = models[j]!;
      row.push(i === j ? 1 : round(pk(a.family, a.k, b.family, b.k) + noise(0.003)));
    }
    pIndValues.push(row);
  }
  const expected: PairCell[][] = groups.map((a) =>
    groups.map((b) => {
      const pairs = a.index === b.index ? 6 : 9;
      return {
        ...estimate(pk(a.family, a.k, b.family, b.k) + noise(0.002), 0.004, pairs * N, [
          "seeds",
          "samples",
        ]),
        modelPairs: pairs,
      };
    })
  );
  const meanDirection = groups.map((a) =>
    groups.map((b) =>
      a.index === b.index ? null : estimate(
        (0.3 + 0.08 * (lvl(a.k) + lvl(b.k))) * (a.family === b.family ? 1 : 0.8) + noise(0.01),
        0.05,
        N,
        ["samples"],
      )
    )
  );
  const similarity: SimilarityFile = {
    ...header("similarity"),
    gradients: {
      samples: N,
      dimension: FIXTURE.dimension,
      scalar: "true-class-logit",
      pooling: null,
      inputShape: [1, 28, 28],
    },
    models,
    groups,
    zeroGradients: 0,
    pInd: { values: pIndValues, counts: pIndValues.map((r) => r.map(() => N)) },
    expected,
    byFamily: FIXTURE.families.map((family) => {
      const gs = groups.filter((g) => g.family === family);
      return {
        family,
        ks: [...FIXTURE.widths],
        mean: gs.map((a) => gs.map((b) => expected[a.index]![b.index]!.mean)),
        std: gs.map((a) => gs.map((b) => expected[a.index]![b.index]!.std)),
        modelPairs: gs.map((a) => gs.map((b) => expected[a.index]![b.index]!.modelPairs)),
      };
    }),
    meanDirection,
    splitHalf: groups.map((g) => ({
      group: g.index,
      family: g.family,
      k: g.k,
      halfSizes: [2, 1],
      splits: 3,
      estimate: estimate(0.2 + 0.1 * lvl(g.k) + noise(0.01), 0.04, N, ["samples"]),
    })),
    sphericalVariance: groups.map((g) => ({
      group: g.index,
      family: g.family,
      k: g.k,
      n: 3,
      estimate: estimate(0.42 - 0.02 * lvl(g.k) + noise(0.005), 0.01, N, ["samples"]),
      corrected: estimate(0.9 - 0.05 * lvl(g.k) + noise(0.01), 0.02, N, ["samples"]),
    })),
    bootstrap: { resamples: 200, level: 0.95, blocks: 16, seed: 1 },
  };
  const table1: Table1File = {
    ...header("table1"),
    basis: "t",
    upperBound: 2,
    rows: groups.map((g) => ({
      family: g.family,
      k: g.k,
      mean: round(0.06 + 0.015 * lvl(g.k) + (g.family === "ResNetSmall" ? 0.01 : 0) + noise(0.003)),
      std: round(0.01 + noise(0.002)),
      modelPairs: 3,
      models: 3,
      samplesPerModel: N,
    })),
  };
  const grid = Array.from({ length: 201 }, (_, i) => round(-1 + i / 100, 4));
  const d = FIXTURE.dimension;
  const rawLog = grid.map((t) => ((d - 3) / 2) * Math.log(1 - t * t));
  const maxLog = Math.max(...rawLog);
  const norm = Math.log(rawLog.reduce((s, v) => s + Math.exp(v - maxLog), 0) * 0.01) + maxLog;
  // −∞ at t = ±1 is written as null, as the analysis writes it.
  const logPOrigin = rawLog.map((v) => Number.isFinite(v) ? round(v - norm, 4) : null);
  const originAt = (i: number) => {
    const v = logPOrigin[i];
    return v === null || v === undefined ? -Infinity : v;
  };
  const zq = [-1.2816, -0.8416, -0.5244, -0.2533, 0, 0.2533, 0.5244, 0.8416, 1.2816];
  const gauss = (m: number, s: number) =>
    grid.map((t) => round(Math.exp(-0.5 * ((t - m) / s) ** 2) / (s * Math.sqrt(2 * Math.PI)), 6));
  const tMean = (g: GroupEntry) => 0.05 + 0.03 * lvl(g.k) + (g.family === "ResNetSmall" ? 0.01 : 0);
  const densityFloor = 1e-3;
  const logPsi = FIXTURE.families.map((family) => {
    const ref = groups.find((g) => g.family === family)!;
    const dens = gauss(tMean(ref), 0.04);
    const mx = Math.max(...dens);
    return {
      family,
      values: dens.map((v, i) =>
        v > densityFloor * mx ? round(Math.log(v) - originAt(i), 4) : null
      ),
    };
  });
  const pGrid = Array.from({ length: 51 }, (_, i) => round(i / 100, 4));
  const tail = pGrid.map((p) => {
    let s = 0;
    for (let i = 0; i < grid.length; i++) if (grid[i]! >= p) s += Math.exp(originAt(i)) * 0.01;
    return s;
  });
  const marginals: MarginalsFile = {
    ...header("marginals"),
    dimension: d,
    mu: "leave-one-out",
    grid,
    logPOrigin,
    originDeciles: zq.map((z) => round(z / Math.sqrt(d))),
    groups: groups.map((g) => ({
      group: g.index,
      family: g.family,
      k: g.k,
      pooled: {
        pairs: 3 * N,
        mean: round(tMean(g)),
        density: gauss(tMean(g), 0.04),
        bandwidth: 0.012,
        deciles: zq.map((z) => round(tMean(g) + 0.04 * z)),
      },
      perImage: [0, 1].map((sample) => ({
        sample,
        pairs: 3,
        density: gauss(tMean(g) + 0.01 * sample, 0.06),
        bandwidth: 0.03,
        deciles: zq.map((z) => round(tMean(g) + 0.01 * sample + 0.06 * z)),
      })),
      saw: {
        kappa: round(1 + 0.35 * lvl(g.k) + noise(0.03), 4),
        intercept: round(noise(0.2), 4),
        r2: round(0.97 - 0.01 * lvl(g.k), 4),
        r2LogDensity: round(0.9 - 0.02 * lvl(g.k), 4),
        points: 40,
      },
      includingModel: {
        pooled: {
          pairs: 3 * N,
          mean: round(tMean(g) + 0.2),
          density: gauss(tMean(g) + 0.2, 0.04),
          bandwidth: 0.012,
          deciles: zq.map((z) => round(tMean(g) + 0.2 + 0.04 * z)),
        },
        perImage: [],
        expected: {
          pWithin: 0.09,
          seeds: 3,
          population: 0.3,
          leaveOneOut: 0.1718,
          includingModel: 0.6683,
        },
      },
    })),
    muIncludingModel: "groups[].includingModel: t with μ including the model (test fixture)",
    saw: { reference: "smallest-k", densityFloor, logPsi },
    randomBaseline: {
      p: pGrid,
      tail: tail.map((v) => Number(v.toPrecision(6))),
      log10Tail: tail.map((v) => round(Math.log10(Math.max(v, 1e-300)), 4)),
    },
  };
  const alpha = (a: number): AlphaCell => ({
    all: estimate(a, 0.05, 3 * N, ["targets", "samples"]),
    correct: estimate(a - 0.03, 0.05, 2 * N, ["targets", "samples"]),
  });
  const attacks: AttacksFile = {
    ...header("attacks"),
    epsilon: 0.05,
    clip: [[-0.4242, 2.8215]],
    scalar: "true-probability",
    samples: N,
    matrices: FIXTURE.families.map((family) => ({
      family,
      ks: [...FIXTURE.widths],
      cells: FIXTURE.widths.map((k1) =>
        FIXTURE.widths.map((k2) => alpha(0.9 - 0.06 * lvl(k1) - 0.03 * lvl(k2) + noise(0.01)))
      ),
      modelPairs: FIXTURE.widths.map(() => FIXTURE.widths.map(() => 6)),
    })),
    strategies: FIXTURE.families.flatMap((family) =>
      FIXTURE.widths.flatMap((k) =>
        (["largest", "same-width", "mean-direction"] as const).map((strategy) => ({
          family,
          k,
          strategy,
          targets: 3,
          sourceModels: strategy === "mean-direction" ? 2 : 1,
          alpha: alpha(
            0.85 - 0.04 * lvl(k) -
              (strategy === "mean-direction" ? 0.1 : strategy === "largest" ? 0.03 : 0) +
              noise(0.01),
          ),
        }))
      )
    ),
    claims: [],
  };
  const point = (members: number, k: number, draws: number): EnsemblePoint => ({
    members,
    draws,
    meanT: estimate(0.2 + 0.04 * lvl(k) + 0.06 * (members - 1) + noise(0.01), 0.03, N * draws, [
      "members",
      "samples",
    ]),
    loss: round(1.2 - 0.1 * lvl(k) - 0.05 * (members - 1) + noise(0.01)),
    accuracy: round(0.6 + 0.05 * lvl(k) + 0.02 * (members - 1), 4),
  });
  const ensembles: EnsemblesFile = {
    ...header("ensembles"),
    samples: N,
    curves: groups.map((g) => ({
      family: g.family,
      k: g.k,
      models: 3,
      points: [1, 2].map((m) => point(m, g.k, m === 1 ? 3 : 3)),
    })),
    singles: main.map((m) => ({
      model: m.index,
      family: m.family,
      k: m.k,
      seed: m.seed,
      point: point(1, m.k, 1),
    })),
    claims: [],
  };
  const batchSize: BatchSizeFile = {
    ...header("batchSize"),
    rows: groups.flatMap((g) =>
      FIXTURE.batchSizes.map((b) => ({
        family: g.family,
        k: g.k,
        batchSize: b,
        models: 3,
        similarity: {
          ...estimate(
            pk(g.family, g.k, g.family, g.k) + (b - 32) / 3200 + noise(0.002),
            0.004,
            3 * N,
            ["seeds", "samples"],
          ),
          modelPairs: 3,
        },
        loss: round(1.1 - 0.1 * lvl(g.k) + (b - 32) / 640),
        accuracy: round(0.62 + 0.05 * lvl(g.k) - (b - 32) / 3200, 4),
      }))
    ),
  };
  const spl: SmallPredictsLargeFile = {
    ...header("smallPredictsLarge"),
    rows: FIXTURE.families.flatMap((family) =>
      FIXTURE.widths.flatMap((ks, i) =>
        FIXTURE.widths.slice(i + 1).map((kl) => ({
          family,
          kSmall: ks,
          kLarge: kl,
          meanDirection: estimate(0.05 + 0.02 * (lvl(ks) + lvl(kl)) + noise(0.003), 0.01, 3 * N, [
            "samples",
          ]),
          individual: {
            ...estimate(pk(family, ks, family, kl) + noise(0.002), 0.004, 9 * N, [
              "seeds",
              "samples",
            ]),
            modelPairs: 9,
          },
          smallModels: 3,
          largeModels: 3,
        }))
      )
    ),
  };
  const claim = (
    id: string,
    statement: string,
    value: number,
    half: number,
    claimedSign: 1 | -1,
  ) => {
    const ci = interval(value, half, ["seeds", "samples"]);
    const verdict = claimedSign * ci.lo > 0 && claimedSign * ci.hi > 0
      ? "holds" as const
      : claimedSign * ci.lo < 0 && claimedSign * ci.hi < 0
      ? "fails" as const
      : "inconclusive" as const;
    return {
      id,
      statement,
      measure: `fixture measure for ${id}`,
      value: round(value),
      interval: ci,
      threshold: 0,
      verdict,
      reason: `interval [${ci.lo}, ${ci.hi}] against 0`,
      pairs: 18 * N,
    };
  };
  const claims: ClaimsFile = {
    ...header("claims"),
    claims: [
      claim("similarity-rises-with-width", "Similarity p(k, k) rises with width.", 0.012, 0.004, 1),
      claim(
        "spherical-variance-falls",
        "Spherical variance falls as width grows (H1).",
        -0.02,
        0.008,
        -1,
      ),
      claim(
        "mean-directions-agree",
        "Mean directions of different widths agree (H2).",
        0.01,
        0.03,
        1,
      ),
      claim(
        "deeper-larger-distance",
        "Deeper families have larger Table 1 distances.",
        0.01,
        0.004,
        1,
      ),
      claim(
        "mean-direction-attack-strongest",
        "The mean-direction attack is the strongest.",
        0.02,
        0.01,
        -1,
      ),
      claim("ensembles-move-to-mean", "Ensembles move towards the mean direction.", 0.06, 0.01, 1),
      claim("ensemble-loss-falls", "Ensemble test loss falls with size.", -0.05, 0.02, -1),
    ],
  };
  const cellOf = (mean: number) => ({
    mean,
    std: 0.01,
    pairs: 6 * N,
    ci: {
      lo: mean - 0.01,
      hi: mean + 0.01,
      level: 0.95,
      resamples: 100,
      over: ["seeds"],
      blocks: 4,
    },
    modelPairs: 6,
  });
  const variant = (pooling: number | null, dimension: number, folder: string, shift: number) => ({
    pooling,
    dimension,
    folder,
    main: folder === "",
    groups: groups.map((g) => ({
      family: g.family,
      k: g.k,
      pWithin: cellOf(0.1 + shift + g.k / 100),
    })),
    adjacent: [],
    claims: claims.claims.slice(0, 2).map((c) => ({
      id: c.id,
      value: c.value,
      interval: c.interval,
      verdict: c.verdict,
      reason: c.reason,
    })),
  });
  const pooling = {
    ...header("pooling"),
    variants: [variant(null, d, "", 0), variant(8, 64, "pooling/pooled-8", 0.25)],
    skipped: null,
  };
  const paper = {
    ...header("paper"),
    reference: "the authors' demo: CNNSmall on CIFAR-10",
    family: "CNNSmall",
    pooling: 8,
    rows: [{
      id: "rho-largest-widths",
      figure: "ρ = p(k1, k2) between the two largest widths",
      paper: { lo: 0.42, hi: 0.42, text: "about 0.42 for k = 112 against k = 128" },
      ours: {
        range: [0.31, 0.31],
        text: "0.31 for k = 4 against k = 8",
        values: [{
          k1: 4,
          k2: 8,
          value: 0.31,
          ci: { lo: 0.28, hi: 0.34, level: 0.95, resamples: 100, over: ["seeds"], blocks: 4 },
        }],
      },
      overlaps: false,
      differs: "64 probe images instead of 256; k = 4 against 8 instead of k = 112 against 128",
    }],
    missing: null,
  };
  const written: Partial<Record<AnalysisKind, unknown>> = {
    similarity,
    table1,
    marginals,
    attacks,
    ensembles,
    batchSize,
    smallPredictsLarge: spl,
    claims,
    pooling,
    paper,
  };
  const files = (Object.keys(written) as AnalysisKind[]).filter((k) => !omit.includes(k));
  const summary: SummaryFile = {
    ...header("summary"),
    backend: { kind: "reference", adapter: null, software: null },
    counts: {
      models: M,
      groups: groups.length,
      families: 2,
      samples: N,
      dimension: d,
      zeroGradients: 0,
      nonZeroPairs: M * N,
    },
    timings: { read: 12, reduce: 40, marginals: 8, claims: 5 },
    files: files.map((k) => ANALYSIS_FILES[k]),
    skipped: omit.filter((k) => k !== "summary").map((k) => ({
      file: ANALYSIS_FILES[k],
      reason: "left out by the test fixture",
    })),
    warnings: [],
  };
  written.summary = summary;
  for (const [kind, value] of Object.entries(written) as [AnalysisKind, unknown][]) {
    if (omit.includes(kind)) continue;
    await writeJson(join(dir, "analysis", ANALYSIS_FILES[kind]), value);
  }
}

/**
 * Writes a sweep whose names carry markup (a run id, family names and a config name equal to
 * {@linkcode HOSTILE}), bypassing the store's name checks as a tampered folder would.
 */
export async function writeHostileSweep(root: string): Promise<string> {
  const name = "hostile-sweep";
  const dir = join(root, name);
  await Deno.mkdir(join(dir, "runs", "safe-run"), { recursive: true });
  await Deno.mkdir(join(dir, "analysis"), { recursive: true });
  const sweep = {
    schemaVersion: 1,
    kind: "sweep",
    sweepId: HOSTILE,
    configHash: "0123456789abcdef",
    created: "2026-01-02T00:00:00.000Z",
    toolkit: { name: HOSTILE, version: "0" },
    config: {
      name: HOSTILE,
      dataset: { name: HOSTILE, dir: null, trainImages: 1, testImages: 1, probeImages: 1 },
      families: [HOSTILE],
      widths: [1],
      seeds: 1,
      training: { epochs: 1, batchSizes: [1], lr: 0.1, schedule: "constant" },
      salience: { scalar: "true-logit", pool: null },
      experiments: { logits: false, ensembles: null, attack: null },
      backend: "cpu",
    },
  };
  const plan = {
    schemaVersion: 1,
    kind: "plan",
    sweepId: HOSTILE,
    configHash: "0123456789abcdef",
    runs: [
      {
        index: 0,
        runId: HOSTILE,
        family: HOSTILE,
        k: 1,
        seed: 0,
        batchSize: 1,
        configHash: "01234567",
      },
      {
        index: 1,
        runId: "safe-run",
        family: HOSTILE,
        k: 1,
        seed: 1,
        batchSize: 1,
        configHash: "01234567",
      },
      {
        index: 2,
        runId: "../../escape",
        family: "x",
        k: 1,
        seed: 2,
        batchSize: 1,
        configHash: "01234567",
      },
    ],
    sharding: { rule: "round-robin", description: HOSTILE },
  };
  const run = {
    schemaVersion: 1,
    kind: "run",
    runId: HOSTILE,
    family: HOSTILE,
    k: 1,
    seed: 1,
    batchSize: 1,
    configHash: "01234567",
    params: 10,
    backend: { tfjs: HOSTILE, adapter: null, software: false },
    input: { shape: [1, 2, 2], classes: 2 },
    history: [{ epoch: 1, trainLoss: 1, testLoss: 1, testAcc: 0.5, lr: 0.1, seconds: 1 }],
    final: { testLoss: 1, testAcc: 0.5 },
    salience: { file: "salience.npy", shape: [1, 4], sidecar: "salience.json" },
    logits: null,
    seconds: { train: 1, salience: 1 },
    started: "2026-01-02T00:00:00.000Z",
    finished: "2026-01-02T00:00:01.000Z",
  };
  const claims = {
    schemaVersion: 1,
    kind: "claims",
    generatedAt: "2026-01-02T00:00:00.000Z",
    source: HOSTILE,
    claims: [{
      id: HOSTILE,
      statement: HOSTILE,
      measure: HOSTILE,
      value: null,
      interval: null,
      threshold: 0,
      verdict: "inconclusive",
      reason: HOSTILE,
      pairs: 0,
    }],
  };
  const similarityLike = {
    schemaVersion: 1,
    kind: "table1",
    generatedAt: "2026-01-02T00:00:00.000Z",
    source: HOSTILE,
    basis: "t",
    upperBound: 2,
    rows: [{
      family: HOSTILE,
      k: 1,
      mean: 0.1,
      std: 0.01,
      modelPairs: 1,
      models: 2,
      samplesPerModel: 1,
    }],
  };
  await writeJson(join(dir, "sweep.json"), sweep);
  await writeJson(join(dir, "plan.json"), plan);
  await writeJson(join(dir, "runs", "safe-run", "run.json"), run);
  await writeJson(join(dir, "analysis", "claims.json"), claims);
  await writeJson(join(dir, "analysis", "table1.json"), similarityLike);
  return name;
}
