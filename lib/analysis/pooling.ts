/**
 * The same salience analysed at two poolings, side by side: the authors' demo compares input
 * gradients area-pooled to 8×8 per channel, our presets may compare them unpooled. One salience
 * pass serves both: unpooled gradients are pooled while they stream ({@link pooledStream}); a
 * sweep whose main salience is pooled keeps the unpooled gradients of the same pass beside it
 * (`salience-unpooled.npy`). `pooling.json` ({@link poolingFile}) lists both variants' p(k, k),
 * adjacent-width p(k1, k2) and gradient claims.
 *
 * @module
 */

import { reference } from "../../kernels/mod.ts";
import type { GradientAnalysis } from "./gradients.ts";
import { KeptBuffer } from "../npy/kept_buffer.ts";
import type { BatchStream } from "./inputs.ts";
import { familiesOf } from "./grouping.ts";
import {
  ANALYSIS_SCHEMA_VERSION,
  type PoolingFile,
  type PoolingVariant,
  type SimilarityFile,
} from "./schema.ts";

/** The pooling the authors' demo compares gradients at (8 × 8 per channel). */
export const PAPER_POOL = 8;

/** The salience file a run keeps unpooled beside a pooled `salience.npy`. */
export const UNPOOLED_SALIENCE = "salience-unpooled.npy";

/** Image shape of the unpooled gradient rows (C·H·W, channel-major). */
export interface ChwShape {
  channels: number;
  height: number;
  width: number;
}

/**
 * A batch stream of unpooled [C·H·W] gradients seen area-pooled to `size × size` per channel
 * (PyTorch's `interpolate(mode='area')`, the kernels' reference `areaPool`), so D becomes
 * C·size². Cost: O(M · N · C·H·W) over a pass.
 *
 * @throws {RangeError} when the stream's D is not C·H·W, or size is not in 1 … min(H, W).
 *
 * @example
 * ```ts
 * import { pooledStream } from "./pooling.ts";
 * const s = pooledStream({
 *   models: 1, samples: 1, dim: 4,
 *   async *batches() { yield { start: 0, count: 1, data: Float32Array.of(1, 2, 3, 4) }; },
 * }, { channels: 1, height: 2, width: 2 }, 1);
 * for await (const b of s.batches(1)) if (b.data[0] !== 2.5) throw new Error("wrong");
 * ```
 */
export function pooledStream(stream: BatchStream, shape: ChwShape, size: number): BatchStream {
  const { channels: C, height: H, width: W } = shape;
  if (stream.dim !== C * H * W) {
    throw new RangeError(
      `the gradients have D = ${stream.dim} but the input shape is ${C}×${H}×${W}; pool only unpooled gradients.`,
    );
  }
  if (!Number.isInteger(size) || size < 1 || size > Math.min(H, W)) {
    throw new RangeError(
      `pool size ${size} does not fit ${H}×${W} images; pick an integer in 1 … ${Math.min(H, W)}.`,
    );
  }
  const per = C * H * W, out = C * size * size;
  const kept = new KeptBuffer();
  return {
    models: stream.models,
    samples: stream.samples,
    dim: out,
    async *batches(batchSize, options) {
      const buffer = options?.reuseBuffer
        ? kept.take(stream.models * Math.min(batchSize, stream.samples) * out)
        : null;
      try {
        for await (const b of stream.batches(batchSize, options)) {
          const rows = stream.models * b.count;
          const data = buffer ? buffer.subarray(0, rows * out) : new Float32Array(rows * out);
          for (let r = 0; r < rows; r++) {
            data.set(
              reference.areaPool(b.data.subarray(r * per, (r + 1) * per), {
                channels: C,
                height: H,
                width: W,
                size,
              }),
              r * out,
            );
          }
          yield { start: b.start, count: b.count, data };
        }
      } finally {
        if (buffer) kept.give(buffer);
      }
    },
  };
}

/**
 * One variant's entry of `pooling.json` from its analysis. Cost: O(G + claims).
 *
 * @example
 * ```ts ignore
 * import { poolingVariant } from "./pooling.ts";
 * const v = poolingVariant(analysis, { pooling: 8, folder: "pooling/pooled-8", main: false });
 * ```
 */
export function poolingVariant(
  a: Pick<GradientAnalysis, "similarity" | "claims">,
  where: { pooling: number | null; folder: string; main: boolean },
): PoolingVariant {
  const sim: SimilarityFile = a.similarity;
  const groups = sim.groups.map((g) => ({
    family: g.family,
    k: g.k,
    pWithin: sim.expected[g.index]![g.index]!,
  }));
  const adjacent: PoolingVariant["adjacent"] = [];
  for (const fg of familiesOf(sim.groups.map((g) => ({ ...g })))) {
    for (let q = 0; q + 1 < fg.groups.length; q++) {
      const a1 = fg.groups[q]!, a2 = fg.groups[q + 1]!;
      adjacent.push({
        family: fg.family,
        k1: a1.g.k,
        k2: a2.g.k,
        p: sim.expected[a1.i]![a2.i]!,
      });
    }
  }
  return {
    pooling: where.pooling,
    dimension: sim.gradients.dimension,
    folder: where.folder,
    main: where.main,
    groups,
    adjacent,
    claims: a.claims.map((c) => ({
      id: c.id,
      value: c.value,
      interval: c.interval,
      verdict: c.verdict,
      reason: c.reason,
    })),
  };
}

/**
 * `pooling.json`: the main variant first, then the comparison or why it is missing.
 *
 * @example
 * ```ts
 * import { poolingFile } from "./pooling.ts";
 * const f = poolingFile("s", [], "the gradients are not images");
 * if (f.kind !== "pooling" || f.skipped === null) throw new Error();
 * ```
 */
export function poolingFile(
  source: string,
  variants: PoolingVariant[],
  skipped: string | null,
): PoolingFile {
  return {
    schemaVersion: ANALYSIS_SCHEMA_VERSION,
    kind: "pooling",
    generatedAt: new Date().toISOString(),
    source,
    variants,
    skipped,
  };
}
