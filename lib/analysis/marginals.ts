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
  const densities = new Map<number, Float64Array>();
  const pooledOf = (g: Group) => {
    const pooled: number[] = [];
    for (const f of g.members) for (const v of tSorted.get(f)!) pooled.push(v);
    return pooled;
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
