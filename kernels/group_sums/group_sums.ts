/**
 * The group reductions on the device: after the Gram stage (`row_scales`, `sample_grams`), five
 * programs in the same compute pass and submit — `inv_norms` (sample-major inverse norms, 0 for
 * rows left out), `cosines` (unit-vector cosines, rows left out zeroed), `block_sums` (per-block pair sums and counts), `set_sums` (per-model row sums over
 * model sets) and `set_pairs` (per-sample set-pair sums) — and only those summaries are read
 * back: per batch `[blocks][M][M]` sums and counts, `[G][n][M]` row sums, `[n][pairs]` pair
 * sums and the `[M][n]` row flags, never the `[n][M][M]` Grams.
 */
import { runUnit, TEX_SHIFT, TEX_WIDTH } from "../gpu/dispatch.ts";
import { type Gpu, LOOP_CAP } from "../gpu/gpu.ts";
import type { Dispatch, Program } from "../gpu/program.ts";
import { runPrograms } from "../gpu/program.ts";
import {
  checkShape,
  chunkInput,
  chunkSamples,
  gramStage,
  gramStageBytes,
  gramStageMaxBytes,
  ROW_NON_FINITE,
  ROW_ZERO,
  type SampleGramsOptions,
  sampleGramsReference,
} from "../sample_grams/mod.ts";
import {
  blockRanges,
  type GroupSums,
  groupSumsReference,
  largestSet,
  type SetPlan,
} from "./_reference.ts";
import BLOCK_SUMS_WGSL from "./block_sums.wgsl" with { type: "text" };
import COSINES_WGSL from "./cosines.wgsl" with { type: "text" };
import INV_NORMS_WGSL from "./inv_norms.wgsl" with { type: "text" };
import SET_PAIRS_WGSL from "./set_pairs.wgsl" with { type: "text" };
import SET_SUMS_WGSL from "./set_sums.wgsl" with { type: "text" };

/** Invocations per workgroup of the four reduction programs. */
export const REDUCE_WG = 64;

const program = (
  file: string,
  text: string,
  params: string[],
  bindings: string[],
): Program => ({
  label: file.replace(".wgsl", "").replace("_", " "),
  shader: { file: `group_sums/${file}`, text },
  constants: { WG: REDUCE_WG, TEX_SHIFT },
  params: [...params, "gridX"],
  bindings,
});

/** Sample-major inverse norms of the scaled rows, 0 for rows left out. */
export const INV_NORMS: Program = program("inv_norms.wgsl", INV_NORMS_WGSL, ["models", "samples"], [
  "raw",
  "status",
  "inv",
]);
/** Cosines from scaled Grams, rows left out zeroed. */
export const COSINES: Program = program("cosines.wgsl", COSINES_WGSL, ["models", "samples"], [
  "raw",
  "inv",
  "cosines",
]);
/** Per-block pair sums and live-pair counts. */
export const BLOCK_SUMS: Program = program("block_sums.wgsl", BLOCK_SUMS_WGSL, [
  "models",
  "samples",
  "blocks",
], [
  "cosines",
  "inv",
  "ranges",
  "sums",
  "counts",
]);
/** Per-model row sums over model sets. */
export const SET_SUMS: Program = program("set_sums.wgsl", SET_SUMS_WGSL, [
  "models",
  "samples",
  "k0",
  "k1",
], [
  "cosines",
  "steps",
  "starts",
  "members",
  "sums",
]);
/** Per-sample set-pair sums. */
export const SET_PAIRS: Program = program("set_pairs.wgsl", SET_PAIRS_WGSL, [
  "models",
  "samples",
  "pairs",
], [
  "sums",
  "starts",
  "members",
  "pairList",
  "out",
]);

/** The five reduction programs. */
export const GROUP_SUM_PROGRAMS: readonly Program[] = [
  INV_NORMS,
  COSINES,
  BLOCK_SUMS,
  SET_SUMS,
  SET_PAIRS,
];

const workgroups = (items: number) => Math.ceil(items / REDUCE_WG);

/**
 * Loop iterations of `set_sums` per set besides one per texel of its members: the set's own step
 * and entering its member loop.
 */
export const SET_STEP = 2;
/** Loop iterations of a four-column loop (one per column, and one for entering it). */
const PACKED_LOOP = 5;
/** The member slot that pads a set to whole texels of {@linkcode packedSets} (no model). */
export const NO_MEMBER = 0xffffffff;

/**
 * The plan's sets as `set_sums` and `set_pairs` fetch them: members four to an rgba32uint texel,
 * every set starting on a texel of its own and padded with {@linkcode NO_MEMBER}, and per set the
 * first texel (`starts`, sets + 1 of them). One fetch then names four members: on a software
 * adapter the member fetch had cost as much as the cosine fetch it indexes.
 */
export function packedSets(plan: SetPlan): { starts: Uint32Array; members: Uint32Array } {
  const sets = plan.starts.length - 1;
  const starts = new Uint32Array(sets + 1);
  for (let s = 0; s < sets; s++) {
    starts[s + 1] = starts[s]! + Math.ceil((plan.starts[s + 1]! - plan.starts[s]!) / 4);
  }
  const members = new Uint32Array(4 * Math.max(1, starts[sets]!)).fill(NO_MEMBER);
  for (let s = 0; s < sets; s++) {
    members.set(plan.members.subarray(plan.starts[s]!, plan.starts[s + 1]!), 4 * starts[s]!);
  }
  return { starts, members };
}

/** A {@linkcode setWalk} step's flag: its sums are kept as the parent of the derived steps after it. */
export const STEP_PARENT = 0x40000000;
/** A {@linkcode setWalk} step's flag: its set's sums are the parent's minus the step before's. */
export const STEP_DERIVED = 0x80000000;
/** The set index bits of a {@linkcode setWalk} step. */
const STEP_SET = 0x3fffffff;
/** Loop iterations of a derived step (the set loop's own; no member loop). */
export const DERIVED_STEP = 1;

/** The order `set_sums` walks the plan's sets in, and its dispatches (see {@linkcode setWalk}). */
export interface SetWalk {
  /** Per step the set it stores, with {@linkcode STEP_PARENT} / {@linkcode STEP_DERIVED}. */
  steps: Uint32Array;
  /** Consecutive step ranges [k0, k1) with their loop bounds: one `set_sums` dispatch each. */
  ranges: Array<[number, number, number]>;
}

/** The members of every set of `plan`. */
function setMembers(plan: SetPlan): number[][] {
  return Array.from(
    { length: plan.starts.length - 1 },
    (_, s) => [...plan.members.subarray(plan.starts[s]!, plan.starts[s + 1]!)],
  );
}

/**
 * Where set b is the complement of the set before it (a = b − 1) in another set p — a ∩ b = ∅
 * and a ∪ b = p, as a group's two split halves are — the parent p of each such b (−1 elsewhere).
 * A set that is some b's parent is never itself an a or b, and no set is both.
 */
function complements(sets: number[][]): Int32Array {
  const key = (members: number[]) => [...members].sort((x, y) => x - y).join(",");
  const byKey = new Map<string, number>();
  sets.forEach((m, s) => {
    if (m.length > 0 && !byKey.has(key(m))) byKey.set(key(m), s);
  });
  const parentOf = new Int32Array(sets.length).fill(-1);
  for (let b = 1; b < sets.length; b++) {
    const ma = sets[b - 1]!, mb = sets[b]!;
    if (ma.length === 0 || mb.length === 0) continue;
    const inA = new Set(ma);
    if (mb.some((f) => inA.has(f))) continue;
    const p = byKey.get(key([...ma, ...mb]));
    if (p !== undefined) parentOf[b] = p;
  }
  const parents = new Set([...parentOf].filter((p) => p >= 0));
  const used = new Uint8Array(sets.length);
  for (let b = 1; b < sets.length; b++) {
    const p = parentOf[b]!;
    if (p < 0) continue;
    if (parents.has(b) || parents.has(b - 1) || used[b - 1] || used[b]) {
      parentOf[b] = -1;
      continue;
    }
    used[b - 1] = used[b] = 1;
  }
  return parentOf;
}

/**
 * The walk of `set_sums` over the plan's sets: each set that is the complement of the set
 * before it within a third (half B of a split: its group minus half A) is derived as that
 * difference, with no member loop (half the set sums' fetches for the analysis's split halves);
 * so each parent set is walked first ({@linkcode STEP_PARENT}), then its pairs (a, then b
 * {@linkcode STEP_DERIVED}); then every other set in the plan's order. The steps are cut into
 * consecutive ranges whose loop iterations — {@linkcode SET_STEP} per summed set and one per
 * texel of its members ({@linkcode packedSets}), {@linkcode DERIVED_STEP} per derived one —
 * stay under the cap, a parent and its pairs never split (where they would not fit one range
 * they are summed as plain sets). A set alone over the cap still gets its own range (the
 * dispatcher's assertion then refuses it).
 *
 * Precision: a derived half's sums carry its group's f32 rounding (about 1e-7 of the group's
 * size per sum) rather than its own.
 *
 * @example
 * ```ts
 * import { setPlan } from "./_reference.ts";
 * import { setWalk, STEP_DERIVED, STEP_PARENT } from "./group_sums.ts";
 * // A group of four, then its halves: the second half is the group minus the first.
 * const walk = setWalk(setPlan(4, [[0, 1, 2, 3], [0, 2], [1, 3]], 1, []));
 * const want = [0 | STEP_PARENT, 1, (2 | STEP_DERIVED) >>> 0];
 * if (String(walk.steps) !== String(want)) throw new Error(String(walk.steps));
 * ```
 */
export function setWalk(plan: SetPlan, cap = LOOP_CAP): SetWalk {
  const sets = setMembers(plan);
  const plain = (s: number) => SET_STEP + Math.ceil(sets[s]!.length / 4);
  const parentOf = complements(sets);
  const units: Array<{ steps: number[]; cost: number }> = [];
  const walked = new Uint8Array(sets.length);
  for (let p = 0; p < sets.length; p++) {
    const pairs: number[] = [];
    parentOf.forEach((q, b) => {
      if (q === p) pairs.push(b);
    });
    if (pairs.length === 0) continue;
    const cost = plain(p) + pairs.reduce((c, b) => c + plain(b - 1) + DERIVED_STEP, 0);
    if (cost > cap) continue; // summed as plain sets below
    units.push({
      steps: [p | STEP_PARENT, ...pairs.flatMap((b) => [b - 1, (b | STEP_DERIVED) >>> 0])],
      cost,
    });
    walked[p] = 1;
    for (const b of pairs) walked[b - 1] = walked[b] = 1;
  }
  for (let s = 0; s < sets.length; s++) {
    if (!walked[s]) units.push({ steps: [s], cost: plain(s) });
  }
  const steps: number[] = [];
  const ranges: Array<[number, number, number]> = [];
  let k0 = 0, bound = 0;
  for (const unit of units) {
    if (steps.length > k0 && bound + unit.cost > cap) {
      ranges.push([k0, steps.length, bound]);
      k0 = steps.length;
      bound = 0;
    }
    steps.push(...unit.steps);
    bound += unit.cost;
  }
  if (steps.length > k0) ranges.push([k0, steps.length, bound]);
  return { steps: Uint32Array.from(steps), ranges };
}

/** The set a {@linkcode setWalk} step stores. */
export function stepSet(step: number): number {
  return step & STEP_SET;
}

/**
 * The group reductions of a gradient batch `[models][samples][dim]` (float32, model-major):
 * rows normalised with scaled norms (zero and NaN/±Inf rows flagged and left out), per-sample
 * cosines, then per block of `blockOf` (one non-decreasing block id per sample) the pair sums
 * Σ_x cos[x][i][j] and live-pair counts, per model the row sums Σ_{j∈s} cos[x][f][j] over the
 * plan's first `rowSets` sets, and per sample the listed set-pair sums Σ_{f∈a, j∈b} cos[x][f][j].
 * On the device: one submit per chunk of samples (at most LOOP_CAP − 1 samples, and what fits
 * a storage binding), reading back only those summaries; on the CPU path the float64
 * reference of the same steps.
 *
 * Precision: f32 sums on the device (pair sums within 1e-5 relative of the f64 reference).
 * Cost: O(n·M²·D) for the Grams, O(n·M² + S·n·|set| + n·P·|set|) for the reductions.
 *
 * @throws {TypeError} when `grads` is not models × samples × dim long.
 * @throws {RangeError} on a bad size, a `blockOf` that is not one non-decreasing id per
 * sample, or a set larger than the loop cap.
 *
 * @example
 * ```ts
 * import { groupSums, requestGpu, setPlan } from "../mod.ts";
 * const gpu = await requestGpu({ forceCpu: true });
 * // 2 models × 1 sample × 2 values: (3, 4) and (4, 3); one set of both
 * const plan = setPlan(2, [[0, 1]], 1, [[0, 0]]);
 * const r = await groupSums(gpu, Float32Array.from([3, 4, 4, 3]), { models: 2, samples: 1, dim: 2 }, plan, new Int32Array(1));
 * // ‖u_0 + u_1‖² = 2 + 2·24/25
 * if (Math.abs(r.pairSums[0]! - (2 + 48 / 25)) > 1e-12) throw new Error(`${r.pairSums[0]}`);
 * ```
 */
export function groupSums(
  gpu: Gpu,
  grads: Float32Array,
  shape: SampleGramsOptions,
  plan: SetPlan,
  blockOf: Int32Array,
): Promise<GroupSums> {
  checkShape(grads, shape);
  if (blockOf.length !== shape.samples) {
    throw new RangeError(
      `blockOf holds ${blockOf.length} ids; expected one per sample (${shape.samples}).`,
    );
  }
  blockRanges(blockOf); // validates before any work
  const reference = () => groupSumsReference(sampleGramsReference(grads, shape), plan, blockOf);
  if (gpu.backend === "cpu") return Promise.resolve(reference());
  return groupSumsOnDevice(gpu, grads, shape, plan, blockOf, reference);
}

async function groupSumsOnDevice(
  gpu: Gpu,
  grads: Float32Array,
  shape: SampleGramsOptions,
  plan: SetPlan,
  blockOf: Int32Array,
  reference: () => GroupSums,
): Promise<GroupSums> {
  const { models: m, samples: s } = shape;
  const mm = m * m, cols4 = Math.ceil(shape.dim / 4), m4 = Math.ceil(m / 4);
  const sets = plan.starts.length - 1, np = plan.pairs.length / 2, g = plan.rowSets;
  // set_pairs walks the texels of one set's members (and enters the loop once).
  const setLoop = Math.ceil(largestSet(plan) / 4) + 1;
  const packed = packedSets(plan);
  const walk = setWalk(plan);
  const { blocks } = blockRanges(blockOf);
  const blockIndex = new Map<number, number>();
  blocks.forEach((b, k) => blockIndex.set(b, k));
  const out: GroupSums = {
    models: m,
    samples: s,
    status: new Uint8Array(m * s),
    zeros: 0,
    nonFinite: 0,
    blocks,
    blockSums: new Float64Array(blocks.length * mm),
    blockCounts: new Float64Array(blocks.length * mm),
    rowSums: new Float64Array(g * s * m),
    pairSums: new Float64Array(s * np),
  };
  // The packed cosines take M·⌈M/4⌉ rgba32float texels per sample.
  const perSample = Math.max(gramStageBytes(m, cols4), m * m4 * 16, sets * m4 * 16, np * 4);
  const step = chunkSamples(shape, perSample, gramStageMaxBytes(gpu));
  for (let x0 = 0; x0 < s; x0 += step) {
    const x1 = Math.min(s, x0 + step), n = x1 - x0;
    const input = chunkInput(grads, shape, cols4, x0, x1);
    const local = blockRanges(blockOf.subarray(x0, x1));
    const nb = local.blocks.length;
    let longest = 0;
    for (let b = 0; b < nb; b++) {
      longest = Math.max(longest, local.ranges[2 * b + 1]! - local.ranges[2 * b]!);
    }
    const part = await runUnit(gpu, "group sums", async (device, buffers) => {
      const stage = gramStage(gpu, device, buffers, input, {
        models: m,
        samples: n,
        cols4,
        tile: shape.tile,
      });
      const inv = buffers.flatTexture("inverse norms", "rgba32float", TEX_WIDTH, n * m4);
      const cosines = buffers.flatTexture("cosines", "rgba32float", TEX_WIDTH, n * m * m4);
      const sums = buffers.storage("block sums", nb * mm * 4, true);
      const counts = buffers.storage("block counts", nb * mm * 4, true);
      const starts = buffers.flatTexture("set starts", "r32uint", TEX_WIDTH, packed.starts);
      const members = buffers.flatTexture("set members", "rgba32uint", TEX_WIDTH, packed.members);
      const steps = buffers.flatTexture(
        "set walk",
        "r32uint",
        TEX_WIDTH,
        walk.steps.length ? walk.steps : Uint32Array.of(0),
      );
      const rows = buffers.readableTexture(
        "set sums",
        "rgba32float",
        TEX_WIDTH,
        Math.max(1, sets * n * m4),
      );
      const pairs = buffers.storage("set pairs", Math.max(1, n * np) * 4, true);
      const dispatches: Dispatch[] = [
        ...stage.dispatches,
        {
          program: INV_NORMS,
          params: { models: m, samples: n },
          bindings: { raw: stage.grams, status: stage.status, inv },
          workgroups: workgroups(n * m4),
          loopBound: PACKED_LOOP,
        },
        {
          program: COSINES,
          params: { models: m, samples: n },
          bindings: { raw: stage.grams, inv, cosines },
          workgroups: workgroups(n * m * m4),
          loopBound: PACKED_LOOP,
        },
        {
          program: BLOCK_SUMS,
          params: { models: m, samples: n, blocks: nb },
          bindings: {
            cosines,
            inv,
            ranges: buffers.storage("block ranges", local.ranges),
            sums,
            counts,
          },
          workgroups: workgroups(nb * m * m4),
          loopBound: longest + 1,
        },
        ...walk.ranges.map(([k0, k1, bound]): Dispatch => ({
          program: SET_SUMS,
          params: { models: m, samples: n, k0, k1 },
          bindings: { cosines, steps, starts, members, sums: rows.view },
          workgroups: workgroups(n * m4),
          loopBound: bound,
        })),
        {
          program: SET_PAIRS,
          params: { models: m, samples: n, pairs: np },
          bindings: {
            sums: rows.view,
            starts,
            members,
            pairList: buffers.flatTexture(
              "pair list",
              "r32uint",
              TEX_WIDTH,
              plan.pairs.length ? plan.pairs : Uint32Array.of(0, 0),
            ),
            out: pairs,
          },
          workgroups: workgroups(n * np),
          loopBound: setLoop,
        },
      ];
      const [f, bs, bc, rs, ps] = await runPrograms(gpu, device, buffers, dispatches, [
        [stage.status, m * n * 4],
        [sums, nb * mm * 4],
        [counts, nb * mm * 4],
        [rows.texture, Math.max(1, g * n * m4) * 16],
        [pairs, Math.max(1, n * np) * 4],
      ]);
      return {
        status: new Uint32Array(f!),
        blockSums: new Float32Array(bs!),
        blockCounts: new Uint32Array(bc!),
        rowSums: new Float32Array(rs!),
        pairSums: new Float32Array(ps!),
      };
    }, () => null);
    if (part === null) return reference(); // the device was lost for good
    for (let i = 0; i < m; i++) {
      for (let x = 0; x < n; x++) out.status[i * s + x0 + x] = part.status[i * n + x]!;
    }
    for (let b = 0; b < nb; b++) {
      const o = blockIndex.get(local.blocks[b]!)! * mm;
      for (let e = 0; e < mm; e++) {
        out.blockSums[o + e]! += part.blockSums[b * mm + e]!;
        out.blockCounts[o + e]! += part.blockCounts[b * mm + e]!;
      }
    }
    // Rows come back ⌈M/4⌉·4 wide (set_sums.wgsl's packed texels).
    const wide = m4 * 4;
    for (let r = 0; r < g; r++) {
      if (wide === m) {
        out.rowSums.set(part.rowSums.subarray(r * n * m, (r + 1) * n * m), (r * s + x0) * m);
        continue;
      }
      for (let x = 0; x < n; x++) {
        const from = (r * n + x) * wide;
        out.rowSums.set(part.rowSums.subarray(from, from + m), (r * s + x0 + x) * m);
      }
    }
    out.pairSums.set(part.pairSums.subarray(0, n * np), x0 * np);
  }
  for (const v of out.status) {
    if (v === ROW_ZERO) out.zeros++;
    else if (v === ROW_NON_FINITE) out.nonFinite++;
  }
  return out;
}
