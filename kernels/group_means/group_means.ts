/** Group mean directions on the GPU. */
import {
  assertLoopBound,
  BufferSet,
  grid2d,
  loadShader,
  packMask,
  packSamples,
  runUnit,
} from "../gpu/dispatch.ts";
import type { Gpu } from "../gpu/gpu.ts";
import { allPairs, checkBatch, checkPairs } from "../gpu/checks.ts";
import { pairCosinesOnDevice } from "../pairwise_similarity/mod.ts";
import {
  betweenSums,
  checkLabels,
  finishMeans,
  groupMeans as referenceGroupMeans,
  type GroupMeansOptions,
  type GroupMeansResult,
} from "./_reference.ts";

/** Invocations per workgroup of both group-means entry points (a power of two). */
export const GROUP_WG = 64;

const URL_ = new URL("./group_means.wgsl", import.meta.url);

/** Loop iterations of one invocation: summing `largestGroup` members, or a direction row. */
export function groupLoopBound(largestGroup: number, dim: number): number {
  return Math.max(largestGroup, 3 * Math.ceil(dim / GROUP_WG) + 2 * Math.log2(GROUP_WG));
}

/** Runs the sum and direction passes for samples [x0, x1) of a batch; returns S, counts, ‖S‖, μ. */
export async function groupSumsOnDevice(
  gpu: Gpu,
  device: GPUDevice,
  units: Float32Array,
  zero: Uint8Array,
  shape: {
    M: number;
    N: number;
    D: number;
    G: number;
    members: Uint32Array;
    x0: number;
    x1: number;
  },
  wantDirections: boolean,
): Promise<
  { sums: Float32Array; count: Uint32Array; sumNorm: Float32Array; direction: Float32Array }
> {
  const { M, N, D, G, members, x0, x1 } = shape;
  const n = x1 - x0;
  let largest = 0;
  for (let g = 0; g < G; g++) largest = Math.max(largest, members[g + 1]! - members[g]!);
  assertLoopBound("group means", groupLoopBound(largest, D));
  const code = await loadShader(URL_, { WG: GROUP_WG });
  const sumPipe = gpu.pipeline(device, `group means WG${GROUP_WG}`, code, "sumMembers");
  const dirPipe = gpu.pipeline(device, `group means WG${GROUP_WG}`, code, "normalizeSums");
  const buffers = new BufferSet(device);
  try {
    const values = G * n * D;
    const sumGrid = grid2d(device, Math.ceil(values / GROUP_WG));
    const dirGrid = grid2d(device, G * n);
    const params = (gridX: number) =>
      buffers.uniform("group-means params", new Uint32Array([M, n, D, G, gridX, 0, 0, 0]));
    const input = buffers.storage("group-means units", packSamples(units, M, N, D, x0, x1));
    const zeroBuf = buffers.storage("group-means zero mask", packMask(zero, M, N, x0, x1));
    const memberBuf = buffers.storage("group-means members", members);
    const sums = buffers.storage("group sums", values * 4, true);
    const stats = buffers.storage("group stats", G * n * 8, true);
    const dirs = buffers.storage("group directions", wantDirections ? values * 4 : 16, true);
    const encoder = device.createCommandEncoder({ label: "group means" });
    const pass = encoder.beginComputePass({ label: "group means" });
    pass.setPipeline(sumPipe);
    pass.setBindGroup(
      0,
      buffers.bind("group sums", sumPipe, [
        params(sumGrid.x),
        input,
        zeroBuf,
        memberBuf,
        sums,
        stats,
      ]),
    );
    pass.dispatchWorkgroups(sumGrid.x, sumGrid.y);
    if (wantDirections) {
      pass.setPipeline(dirPipe);
      pass.setBindGroup(
        0,
        buffers.bind("group directions", dirPipe, [
          params(dirGrid.x),
          null,
          null,
          null,
          sums,
          stats,
          dirs,
        ]),
      );
      pass.dispatchWorkgroups(dirGrid.x, dirGrid.y);
    }
    pass.end();
    const reads: Array<[GPUBuffer, number]> = [[sums, values * 4], [stats, G * n * 8]];
    if (wantDirections) reads.push([dirs, values * 4]);
    const [s, st, dr] = await buffers.submitAndRead(encoder, reads);
    const words = new Uint32Array(st!);
    const asFloat = new Float32Array(st!);
    const count = new Uint32Array(G * n);
    const sumNorm = new Float32Array(G * n);
    for (let r = 0; r < G * n; r++) {
      count[r] = words[2 * r]!;
      sumNorm[r] = asFloat[2 * r + 1]!;
    }
    return {
      sums: new Float32Array(s!),
      count,
      sumNorm,
      direction: dr ? new Float32Array(dr) : new Float32Array(0),
    };
  } finally {
    buffers.destroy();
  }
}

/** Samples per chunk so that units, sums and directions each fit one binding. */
export function samplesPerChunk(gpu: Gpu, M: number, G: number, D: number): number {
  const perSample = 4 * D * Math.max(M, G);
  const step = Math.floor(gpu.maxBindingBytes / perSample);
  if (step < 1) {
    throw new RangeError(
      `group means: one sample of ${
        Math.max(M, G)
      } vectors (${perSample} bytes) exceeds maxBindingBytes = ${gpu.maxBindingBytes}; raise it or pool the gradients.`,
    );
  }
  return step;
}

/** Copies rows [x0, x1) of a `[rows][n][width]` chunk into `[rows][N][width]` at x0. */
function scatter(
  dst: ArrayLike<number> & { set(a: ArrayLike<number>, o: number): void },
  src: Float32Array | Uint32Array,
  rows: number,
  N: number,
  x0: number,
  n: number,
  width: number,
): void {
  for (let r = 0; r < rows; r++) {
    dst.set(src.subarray(r * n * width, (r + 1) * n * width), (r * N + x0) * width);
  }
}

/**
 * Group mean directions of one batch, as {@linkcode reference.groupMeans} computes in f64: for
 * each group G and sample x, the count of the group's models with a non-zero gradient,
 * `m_G(x)` (their mean unit vector), `‖m_G(x)‖`, spherical variance `1 − ‖m_G(x)‖`,
 * `μ_G(x) = m/‖m‖` (`valid` = 0 and zeros where count or m is 0), and with `between` the cosines
 * between groups' mean directions per sample and summed over samples with counts. Models with
 * label −1 are left out. Sums are f32 on the GPU over at most M terms (mean values within
 * 1e-6·M of the reference), norms scaled by the largest magnitude.
 *
 * Cost: M·N·D additions, G·N·D for the directions, G²·N·D/2 for `between`.
 *
 * @throws {TypeError} when lengths do not match models × samples × dim or labels ≠ models.
 * @throws {RangeError} when a label is below −1, no model is in any group, or one sample of
 *   all models exceeds a storage binding.
 *
 * @example
 * ```ts
 * import { groupMeans, requestGpu } from "../mod.ts";
 * const gpu = await requestGpu();
 * const r = await groupMeans(gpu, new Float32Array([1, 0, -1, 0]), {
 *   models: 2, dim: 2, zero: new Uint8Array(2), labels: new Int32Array([0, 0]) });
 * if (r.valid[0] !== 0 || r.meanNorm[0] !== 0) throw new Error("antipodal vectors cancel");
 * gpu.destroy();
 * ```
 */
export async function groupMeans(
  gpu: Gpu,
  units: Float32Array,
  options: GroupMeansOptions,
): Promise<GroupMeansResult> {
  const { models: M, dim: D, zero } = options;
  const N = checkBatch(units, zero, M, D);
  const { groups: G, members } = checkLabels(options.labels, M, options.groups);
  return await runUnit(
    gpu,
    "group means",
    async (device) => {
      const step = samplesPerChunk(gpu, M, G, D);
      const sums = new Float32Array(G * N * D);
      const direction = new Float32Array(G * N * D);
      const count = new Uint32Array(G * N);
      const sumNorm = new Float32Array(G * N);
      for (let x0 = 0; x0 < N; x0 += step) {
        const x1 = Math.min(N, x0 + step), n = x1 - x0;
        const r = await groupSumsOnDevice(
          gpu,
          device,
          units,
          zero,
          { M, N, D, G, members, x0, x1 },
          true,
        );
        scatter(sums, r.sums, G, N, x0, n, D);
        scatter(direction, r.direction, G, N, x0, n, D);
        scatter(count, r.count, G, N, x0, n, 1);
        scatter(sumNorm, r.sumNorm, G, N, x0, n, 1);
      }
      const result: GroupMeansResult = {
        groups: G,
        samples: N,
        dim: D,
        count,
        direction,
        ...finishMeans(sums, count, sumNorm, D),
      };
      if (options.between && G > 1) {
        const pairs = allPairs(G);
        const pairList = checkPairs(pairs, G);
        const invalid = new Uint8Array(G * N).map((_, r) => 1 - result.valid[r]!);
        const cosines = new Float32Array(pairs.length * N);
        const cstep = Math.max(
          1,
          Math.min(step, Math.floor(gpu.maxBindingBytes / (4 * pairs.length))),
        );
        for (let x0 = 0; x0 < N; x0 += cstep) {
          const x1 = Math.min(N, x0 + cstep), n = x1 - x0;
          const r = await pairCosinesOnDevice(
            gpu,
            device,
            packSamples(direction, G, N, D, x0, x1),
            packMask(invalid, G, N, x0, x1),
            { M: G, n, D, bins: 0, pairList },
          );
          scatter(cosines, r.cosines, pairs.length, N, x0, n, 1);
        }
        result.between = { ...betweenSums(G, N, result.valid, cosines), cosines };
      } else if (options.between) {
        result.between = {
          ...betweenSums(G, N, result.valid, new Float32Array(0)),
          cosines: new Float32Array(0),
        };
      }
      return result;
    },
    () => referenceGroupMeans(units, options),
  );
}
