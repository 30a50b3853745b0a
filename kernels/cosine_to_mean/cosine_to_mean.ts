/** Cosine to the mean on the GPU. */
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
import { checkBatch } from "../gpu/checks.ts";
import { groupSumsOnDevice, samplesPerChunk } from "../group_means/mod.ts";
import {
  cosineToMean as referenceCosineToMean,
  type CosineToMeanOptions,
  type CosineToMeanResult,
  okMask,
  planTargets,
} from "./_reference.ts";

/** Invocations per workgroup (one workgroup per (model, sample); a power of two). */
export const COSINE_TO_MEAN_WG = 64;

const URL_ = new URL("./cosine_to_mean.wgsl", import.meta.url);

/** Loop iterations of one invocation for vectors of `dim` values. */
export function cosineToMeanLoopBound(dim: number): number {
  return 2 * Math.ceil(dim / COSINE_TO_MEAN_WG) + 2 * Math.log2(COSINE_TO_MEAN_WG);
}

/**
 * t_f(x) = ⟨u_f(x), μ(x)⟩ for every model and sample of one batch, as
 * {@linkcode reference.cosineToMean} computes in f64. μ is, per `target`: `"own"` (default) the
 * leave-one-out mean direction of f's group, `⟨u, S−u⟩/‖S−u‖` with S the group's sum of unit
 * vectors at x; `{ group }` another group's (f left out if it is a member); or `{ mean }` a
 * caller-given `[samples][dim]` mean of a held-out population. Invalid entries (zero gradient,
 * label −1, no other contributor, or S − u = 0) are NaN in `t` and 0 in `valid`. GPU values
 * match the reference within 2e-5·(group size) (f32 sums); where the other members cancel to
 * within f32 rounding, μ is undefined and the GPU may report a value the reference flags.
 *
 * Cost: M·N·D for the group sums plus 2·M·N·D multiply-adds.
 *
 * @throws {TypeError} when lengths do not match, or labels are missing for a group target.
 * @throws {RangeError} when a label or target group is out of range or a given mean is not finite.
 *
 * @example
 * ```ts
 * import { cosineToMean, requestGpu } from "../mod.ts";
 * const gpu = await requestGpu();
 * const units = new Float32Array([1, 0, 1, 0]); // two identical models, one sample
 * const r = await cosineToMean(gpu, units, {
 *   models: 2, dim: 2, zero: new Uint8Array(2), labels: new Int32Array([0, 0]) });
 * if (Math.abs(r.t[0]! - 1) > 1e-6 || r.validCount !== 2) throw new Error("wrong");
 * gpu.destroy();
 * ```
 */
export async function cosineToMean(
  gpu: Gpu,
  units: Float32Array,
  options: CosineToMeanOptions,
): Promise<CosineToMeanResult> {
  const { models: M, dim: D, zero } = options;
  const N = checkBatch(units, zero, M, D);
  const plan = planTargets(options, N);
  return await runUnit(
    gpu,
    "cosine to mean",
    async (device) => {
      assertLoopBound("cosine to mean", cosineToMeanLoopBound(D));
      const code = await loadShader(URL_, { WG: COSINE_TO_MEAN_WG });
      const pipeline = gpu.pipeline(device, `cosine to mean WG${COSINE_TO_MEAN_WG}`, code);
      const given = typeof options.target === "object" && "mean" in options.target
        ? options.target.mean
        : null;
      const step = samplesPerChunk(gpu, M, plan.targets, D);
      const t = new Float32Array(M * N);
      const info = new Uint32Array(2 * M);
      for (let f = 0; f < M; f++) {
        info[2 * f] = plan.index[f]! < 0 ? 0xffffffff : plan.index[f]!;
        info[2 * f + 1] = plan.subtract[f]!;
      }
      for (let x0 = 0; x0 < N; x0 += step) {
        const x1 = Math.min(N, x0 + step), n = x1 - x0;
        let targets: Float32Array;
        let ok: Uint8Array;
        const zeroChunk = packMask(zero, M, N, x0, x1);
        if (given) {
          targets = given.subarray(x0 * D, x1 * D);
          ok = okMask(plan, Uint8Array.from(zeroChunk), null, M, n);
        } else {
          const s = await groupSumsOnDevice(gpu, device, units, zero, {
            M,
            N,
            D,
            G: plan.targets,
            members: plan.members!,
            x0,
            x1,
          }, false);
          targets = s.sums;
          ok = okMask(plan, Uint8Array.from(zeroChunk), s.count, M, n);
        }
        const buffers = new BufferSet(device);
        try {
          const grid = grid2d(device, M * n);
          const params = buffers.uniform(
            "cosine-to-mean params",
            new Uint32Array([M, n, D, plan.targets, grid.x, 0, 0, 0]),
          );
          const out = buffers.storage("cosine-to-mean t", M * n * 4, true);
          const encoder = device.createCommandEncoder({ label: "cosine to mean" });
          const pass = encoder.beginComputePass({ label: "cosine to mean" });
          pass.setPipeline(pipeline);
          pass.setBindGroup(
            0,
            buffers.bind("cosine to mean", pipeline, [
              params,
              buffers.storage("cosine-to-mean units", packSamples(units, M, N, D, x0, x1)),
              buffers.storage("cosine-to-mean targets", targets),
              buffers.storage("cosine-to-mean model info", info),
              buffers.storage("cosine-to-mean ok mask", Uint32Array.from(ok)),
              out,
            ]),
          );
          pass.dispatchWorkgroups(grid.x, grid.y);
          pass.end();
          const [r] = await buffers.submitAndRead(encoder, [[out, M * n * 4]]);
          const chunk = new Float32Array(r!);
          for (let f = 0; f < M; f++) t.set(chunk.subarray(f * n, (f + 1) * n), f * N + x0);
        } finally {
          buffers.destroy();
        }
      }
      const valid = new Uint8Array(M * N);
      let validCount = 0;
      for (let k = 0; k < M * N; k++) {
        if (!Number.isNaN(t[k]!)) {
          valid[k] = 1;
          validCount++;
        }
      }
      return { models: M, samples: N, t, valid, validCount };
    },
    () => referenceCosineToMean(units, options),
  );
}
