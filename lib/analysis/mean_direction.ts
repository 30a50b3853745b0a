/**
 * t against the mean direction of the whole group, the model included (the paper's μ, estimated
 * from all its seeds), beside the leave-one-out t the analysis uses by default, and the bias of
 * each estimate for a group of n seeds whose unit gradients have pairwise cosine p.
 *
 * From the per-sample summaries alone: with S the sum of the group's n non-zero unit gradients,
 * ‖S‖ = n·(1 − spherical variance); the leave-one-out t = ⟨u, S − u⟩/‖S − u‖ and
 * ‖S‖² = ‖S − u‖² + 2⟨u, S − u⟩ + 1 give ‖S − u‖ = −t + √(t² + ‖S‖² − 1), and then
 * t_incl = ⟨u, S⟩/‖S‖ = (1 + t·‖S − u‖)/‖S‖.
 *
 * @module
 */

import type { Group, Reduced } from "./_reduce.ts";

/**
 * Per model and sample, cos(u_f(x), S(x)) with S the sum over every non-zero member of f's group,
 * f included; NaN where the leave-one-out t is undefined. [M][N] like `Reduced.t`.
 * Cost: O(M · N).
 *
 * @example
 * ```ts ignore
 * import { includingModelT } from "./mean_direction.ts";
 * const t = includingModelT(analysis.reduced, analysis.groups);
 * ```
 */
export function includingModelT(r: Reduced, groups: readonly Group[]): Float32Array {
  const N = r.samples;
  const out = new Float32Array(r.models * N).fill(NaN);
  groups.forEach((g, gi) => {
    for (let x = 0; x < N; x++) {
      const n = r.svN[gi * N + x]!, sv = r.sv[gi * N + x]!;
      if (n < 2 || !Number.isFinite(sv)) continue;
      const s = n * (1 - sv);
      if (!(s > 0)) continue;
      for (const f of g.members) {
        const t = r.t[f * N + x]!;
        if (!Number.isFinite(t)) continue;
        const rest = -t + Math.sqrt(Math.max(0, t * t + s * s - 1));
        out[f * N + x] = Math.max(-1, Math.min(1, (1 + t * rest) / s));
      }
    }
  });
  return out;
}

/**
 * What each estimate of μ gives for E[t] in a group of n seeds whose unit gradients are
 * independent draws with pairwise cosine p (so the population mean direction has cosine √p with
 * each): leave-one-out √(n − 1)·p/√(1 + (n − 2)p), biased toward 0 for small n; including the
 * model √((1 + (n − 1)p)/n), biased upward (1/√n even when p = 0). Both tend to √p as n grows.
 *
 * @example
 * ```ts
 * import { meanDirectionBias } from "./mean_direction.ts";
 * const b = meanDirectionBias(100, 0);
 * if (Math.abs(b.includingModel - 0.1) > 1e-12 || b.leaveOneOut !== 0) throw new Error();
 * ```
 */
export function meanDirectionBias(
  n: number,
  p: number,
): { population: number; leaveOneOut: number; includingModel: number } {
  const q = Math.max(0, p);
  return {
    population: Math.sqrt(q),
    leaveOneOut: n >= 2 ? Math.sqrt(n - 1) * q / Math.sqrt(1 + (n - 2) * q) : NaN,
    includingModel: Math.sqrt((1 + (n - 1) * q) / n),
  };
}
