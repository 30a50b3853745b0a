/** Pure-TypeScript reference of the cosine-to-the-mean kernel (f64 arithmetic). */
import { checkBatch } from "../gpu/checks.ts";
import { checkLabels, groupSums, scaledNorm } from "../group_means/mod.ts";

/** Where μ comes from in {@linkcode cosineToMean}. */
export type MeanTarget =
  /** Each model's own group, leaving the model out (labels required; label −1 gives NaN). */
  | "own"
  /** Group `group` (leaving the model out when it is a member). */
  | { group: number }
  /** A caller-given mean (e.g. of a held-out population): `[samples][dim]`, any length. */
  | { mean: Float32Array };

/** Options of {@linkcode cosineToMean}. */
export interface CosineToMeanOptions {
  /** Number of models M. */
  models: number;
  /** Values per unit vector D. */
  dim: number;
  /** `[models][samples]`: 1 where the gradient is zero. */
  zero: Uint8Array;
  /** Group of each model (−1 = none); needed unless the target is a given mean. */
  labels?: Int32Array;
  /** Number of groups (default: largest label + 1). */
  groups?: number;
  /** Where μ comes from (default "own": leave-one-out within the model's group). */
  target?: MeanTarget;
}

/** t_f(x) for every model and sample of one batch. */
export interface CosineToMeanResult {
  /** Number of models M. */
  models: number;
  /** Samples in the batch N. */
  samples: number;
  /** `[models][samples]`: t_f(x) = ⟨u_f(x), μ(x)⟩, NaN where invalid. */
  t: Float32Array;
  /** `[models][samples]`: 1 where t is valid. */
  valid: Uint8Array;
  /** Number of valid entries. */
  validCount: number;
}

/** Per model: target index (−1 = none) and whether to subtract its own unit vector. */
export interface TargetPlan {
  targets: number;
  index: Int32Array;
  subtract: Uint8Array;
  /** `[targets][samples]` contributor counts (for a given mean: 1 where it is non-zero). */
  count: Uint32Array | null;
  members: Uint32Array | null;
}

/** Resolves the target option into per-model target indices. */
export function planTargets(
  options: CosineToMeanOptions,
  samples: number,
): TargetPlan {
  const { models: M, dim: D } = options;
  const target = options.target ?? "own";
  const index = new Int32Array(M);
  const subtract = new Uint8Array(M);
  if (typeof target === "object" && "mean" in target) {
    if (!(target.mean instanceof Float32Array) || target.mean.length !== samples * D) {
      throw new TypeError(
        `target.mean has ${target.mean?.length} values; expected samples × dim = ${samples} × ${D}.`,
      );
    }
    for (let k = 0; k < target.mean.length; k++) {
      if (!Number.isFinite(target.mean[k]!)) {
        throw new RangeError(
          `target.mean holds ${target.mean[k]} at sample ${
            Math.floor(k / D)
          }; expected finite values.`,
        );
      }
    }
    return { targets: 1, index, subtract, count: null, members: null };
  }
  if (!options.labels) {
    throw new TypeError("labels is missing; expected an Int32Array when the target is a group.");
  }
  const { groups, members } = checkLabels(options.labels, M, options.groups);
  if (target === "own") {
    options.labels.forEach((l, f) => {
      index[f] = l;
      subtract[f] = l >= 0 ? 1 : 0;
    });
  } else {
    if (!Number.isInteger(target.group) || target.group < 0 || target.group >= groups) {
      throw new RangeError(
        `target.group is ${target.group}; expected an integer in [0, ${groups}).`,
      );
    }
    options.labels.forEach((l, f) => {
      index[f] = target.group;
      subtract[f] = l === target.group ? 1 : 0;
    });
  }
  return { targets: groups, index, subtract, count: null, members };
}

/** 1 where (f, x) may be valid: non-zero gradient, a target, another contributor. */
export function okMask(
  plan: TargetPlan,
  zero: Uint8Array,
  count: Uint32Array | null,
  M: number,
  N: number,
): Uint8Array {
  const ok = new Uint8Array(M * N);
  for (let f = 0; f < M; f++) {
    const k = plan.index[f]!;
    if (k < 0) continue;
    for (let x = 0; x < N; x++) {
      if (zero[f * N + x]) continue;
      const others = count ? count[k * N + x]! - plan.subtract[f]! : 1;
      ok[f * N + x] = others >= 1 ? 1 : 0;
    }
  }
  return ok;
}

/**
 * t_f(x) = ⟨u_f(x), μ(x)⟩ for every model f and sample x, in f64, with μ the normalised
 * leave-one-out sum of f's own group (`⟨u, S−u⟩/‖S−u‖`), of another group (leaving f out if it
 * is a member), or a caller-given mean. Entries with a zero gradient, no target or no other
 * contributor (S − u = 0) are NaN and flagged in `valid`, never averaged. The reference the
 * WGSL kernel is tested against, and the CPU fallback.
 *
 * Cost: O(M·N·D).
 *
 * @throws {TypeError} when lengths do not match, or labels are missing for a group target.
 * @throws {RangeError} when a label or target group is out of range or a given mean is not finite.
 *
 * @example
 * ```ts
 * import { reference } from "../mod.ts";
 * // three models of one group at one sample; t of model 0 uses the mean of models 1 and 2
 * const u = new Float32Array([1, 0, 0, 1, 0, 1]);
 * const r = reference.cosineToMean(u, {
 *   models: 3, dim: 2, zero: new Uint8Array(3), labels: new Int32Array([0, 0, 0]) });
 * if (Math.abs(r.t[0]!) > 1e-7 || Math.abs(r.t[1]! - Math.SQRT1_2) > 1e-7) throw new Error("wrong");
 * ```
 */
export function cosineToMean(
  units: Float32Array,
  options: CosineToMeanOptions,
): CosineToMeanResult {
  const { models: M, dim: D, zero } = options;
  const N = checkBatch(units, zero, M, D);
  const plan = planTargets(options, N);
  const target = options.target ?? "own";
  let sums: ArrayLike<number>;
  let count: Uint32Array | null = null;
  if (typeof target === "object" && "mean" in target) {
    sums = target.mean;
  } else {
    const s = groupSums(units, zero, plan.members!, plan.targets, M, N, D);
    sums = s.sums;
    count = s.count;
  }
  const ok = okMask(plan, zero, count, M, N);
  const t = new Float32Array(M * N).fill(NaN);
  const valid = new Uint8Array(M * N);
  const v = new Float64Array(D);
  let validCount = 0;
  for (let f = 0; f < M; f++) {
    const k = plan.index[f]!, sub = plan.subtract[f]!;
    for (let x = 0; x < N; x++) {
      if (!ok[f * N + x]) continue;
      const ub = (f * N + x) * D, tb = (k * N + x) * D;
      for (let d = 0; d < D; d++) v[d] = sums[tb + d]! - sub * units[ub + d]!;
      const norm = scaledNorm(v, 0, D);
      if (!(norm > 0)) continue;
      let a = 0;
      for (let d = 0; d < D; d++) a += units[ub + d]! * (v[d]! / norm);
      t[f * N + x] = Math.max(-1, Math.min(1, a));
      valid[f * N + x] = 1;
      validCount++;
    }
  }
  return { models: M, samples: N, t, valid, validCount };
}
