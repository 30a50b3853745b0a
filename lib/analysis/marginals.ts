/**
 * `marginals.json` from the t values: per group the KDE of t pooled over models and samples and
 * per test image, its deciles, the Saw fit of each width's marginal, the uniform-sphere
 * marginal and the random baseline.
 *
 * @module
 */

import {
  deciles,
  kde,
  logSphereMarginal,
  meanOfFinite,
  sawLogShape,
  sphereTail,
} from "../stats/mod.ts";
import type { Group, Reduced } from "./_reduce.ts";
import { cellMean, pIndOf } from "./_cells.ts";
import { meanDirectionBias } from "./mean_direction.ts";
import { round } from "./_format.ts";
import type { FamilyGroups } from "./grouping.ts";
import type { FileHeader } from "./inputs.ts";
import { fitSawFamily } from "./saw_family.ts";
import type { GroupMarginal, MarginalsFile } from "./schema.ts";

/** Options of {@link marginalsFile}. */
export interface MarginalsOptions {
  /** KDE grid points on [−1, 1] (default 1001). */
  gridSize?: number;
  /** Images with their own t marginal (default 4). */
  perImageLimit?: number;
  /** Where log ψ comes from (default "chain"; see `GradientAnalysisOptions`). */
  sawReference?: "chain" | "smallest-k" | "pooled";
  /** Grid points below this fraction of a density's maximum are left out of the fit (0.01). */
  densityFloor?: number;
  /** Fewest seeds a group needs for its per-image marginals (default {@link PER_IMAGE_MIN_SEEDS}). */
  perImageMinSeeds?: number;
}

/** What `includingModel` is and how it is biased, written into `marginals.json`. */
export const MU_INCLUDING_MODEL_NOTE =
  "groups[].includingModel: t = cos(u_f(x), μ(x)) with μ the mean of every seed of the width, f included (the paper's μ). " +
  "For n seeds whose unit gradients have pairwise cosine p it averages about √((1 + (n − 1)p)/n), above the population's √p " +
  "(1/√n even for unrelated directions); the leave-one-out t averages about √(n − 1)·p/√(1 + (n − 2)p), below √p. " +
  "expected gives the three for the group's p(k, k) and n.";

/**
 * Fewest seeds per width for a per-image marginal of t: a KDE over fewer models is mostly its
 * kernel (the paper's one-image figure uses 100 seeds).
 */
export const PER_IMAGE_MIN_SEEDS = 10;

/** The per-image marginals of t over a group's models at the first `limit` images. */
function perImageOf(
  t: Float32Array,
  members: readonly number[],
  N: number,
  limit: number,
  gridSize: number,
): GroupMarginal["perImage"] {
  const out: GroupMarginal["perImage"] = [];
  for (let x = 0; x < limit; x++) {
    const vals: number[] = [];
    for (const f of members) {
      const v = t[f * N + x]!;
      if (Number.isFinite(v)) vals.push(v);
    }
    if (vals.length < 2) continue;
    try {
      const kd = kde(vals, { gridSize });
      out.push({
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
  return out;
}

/**
 * Builds `marginals.json` and the warnings of KDEs or fits that could not be formed.
 * Cost: O(G · (gridSize · pairs)) for the KDEs plus the Saw fits.
 */
export function marginalsFile(input: {
  r: Reduced;
  groups: readonly Group[];
  families: readonly FamilyGroups[];
  tSorted: ReadonlyMap<number, Float64Array>;
  dimension: number;
  header: FileHeader;
  options?: MarginalsOptions;
  /** t against μ including the model ({@link includingModelT}), reported beside when given. */
  includingModel?: Float32Array | null;
}): { file: MarginalsFile; warnings: string[] } {
  const { r, groups, tSorted } = input;
  const options = input.options ?? {};
  const N = r.samples, D = input.dimension;
  const warnings: string[] = [];
  const gridSize = options.gridSize ?? 1001;
  const grid = Array.from({ length: gridSize }, (_, j) => -1 + (2 * j) / (gridSize - 1));
  const dSphere = Math.max(2, D);
  const logPOrigin = grid.map((t) => logSphereMarginal(t, dSphere));
  const densityFloor = options.densityFloor ?? 0.01;
  const perImageLimit = Math.min(options.perImageLimit ?? 4, N);
  const perImageMinSeeds = options.perImageMinSeeds ?? PER_IMAGE_MIN_SEEDS;
  const densities = new Map<number, Float64Array>();
  const pooledOf = (g: Group) => {
    const pooled: number[] = [];
    for (const f of g.members) for (const v of tSorted.get(f)!) pooled.push(v);
    return pooled;
  };
  const pInd = pIndOf(r);
  const includingBlock = (
    g: Group,
    t: Float32Array,
  ): NonNullable<GroupMarginal["includingModel"]> => {
    const vals: number[] = [];
    for (const f of g.members) {
      for (let x = 0; x < N; x++) {
        const v = t[f * N + x]!;
        if (Number.isFinite(v)) vals.push(v);
      }
    }
    let density: number[] = new Array(gridSize).fill(0), bandwidth = 0;
    if (vals.length >= 2) {
      try {
        const kd = kde(vals, { gridSize });
        density = Array.from(kd.density, (v) => round(v)!);
        bandwidth = kd.bandwidth;
      } catch (e) {
        warnings.push(
          `KDE of t (μ including the model) for ${g.family} k=${g.k}: ${(e as Error).message}`,
        );
      }
    }
    const p = cellMean(g.members, g.members, pInd);
    const bias = p === null ? null : meanDirectionBias(g.members.length, p);
    return {
      pooled: {
        pairs: vals.length,
        mean: round(meanOfFinite(vals)),
        density,
        bandwidth,
        deciles: vals.length ? deciles(vals).map((v) => round(v)!) : [],
      },
      perImage: g.members.length >= perImageMinSeeds
        ? perImageOf(t, g.members, N, perImageLimit, gridSize)
        : [],
      expected: bias === null ? null : {
        pWithin: round(p)!,
        seeds: g.members.length,
        population: round(bias.population)!,
        leaveOneOut: round(bias.leaveOneOut),
        includingModel: round(bias.includingModel)!,
      },
    };
  };
  const groupMarginals: GroupMarginal[] = groups.map((g, gi) => {
    const pooled = pooledOf(g);
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
    const perImage = g.members.length >= perImageMinSeeds
      ? perImageOf(r.t, g.members, N, perImageLimit, gridSize)
      : [];
    const incl = input.includingModel ? includingBlock(g, input.includingModel) : null;
    return {
      ...(incl ? { includingModel: incl } : {}),
      group: gi,
      family: g.family,
      k: g.k,
      pooled: {
        pairs: pooled.length,
        mean: round(meanOfFinite(pooled)),
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
  for (const fg of input.families) {
    const withDensity = fg.groups.filter((x) => densities.has(x.i));
    if (withDensity.length === 0) continue;
    let ref: Float64Array | null = null;
    if (sawReference === "pooled") {
      const pooled: number[] = [];
      for (const { g } of withDensity) for (const v of pooledOf(g)) pooled.push(v);
      ref = kde(pooled, { gridSize }).density;
    }
    const shapeOf = ref ?? densities.get(withDensity[0]!.i)!;
    logPsiOut.push({
      family: fg.family,
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
  return {
    file: {
      ...input.header,
      kind: "marginals",
      dimension: D,
      mu: "leave-one-out",
      perImageMinSeeds,
      ...(input.includingModel ? { muIncludingModel: MU_INCLUDING_MODEL_NOTE } : {}),
      grid: grid.map((v) => round(v, 8)!),
      logPOrigin: logPOrigin.map((v) => round(v)),
      originDeciles: originDeciles(dSphere),
      groups: groupMarginals,
      saw: { reference: sawReference, densityFloor, logPsi: logPsiOut },
      randomBaseline: {
        p: pGrid,
        tail: tails.map((t) => t.value),
        log10Tail: tails.map((t) => round(t.log10)!),
      },
    },
    warnings,
  };
}

/** Decile cut points of the uniform-sphere marginal in dimension d (bisection on its tail). */
function originDeciles(d: number): number[] {
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
