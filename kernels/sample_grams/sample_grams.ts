/**
 * Normalise and per-sample Grams on the device: for a batch `[models][samples][dim]` of
 * gradients, two programs in one compute pass and one submit per chunk of samples —
 * `row_scales.wgsl` (each row's largest magnitude, zero and NaN/Inf rows flagged) and
 * `sample_grams.wgsl` (register-tiled Grams of the scaled rows) — then only the M×M Grams and
 * the row flags are read back and finished into cosines (shared with the f64 reference).
 */
import { packSamples, runUnit } from "../gpu/dispatch.ts";
import type { Gpu } from "../gpu/gpu.ts";
import { LOOP_CAP } from "../gpu/gpu.ts";
import type { Dispatch, Program } from "../gpu/program.ts";
import { runPrograms } from "../gpu/program.ts";
import { checkCount } from "../gpu/checks.ts";
import {
  type BatchShape,
  finishGrams,
  type SampleGrams,
  sampleGramsReference,
} from "./_reference.ts";

/** Lanes per workgroup of the row-scale program (a power of two: it is also TREE_WG). */
export const ROW_SCALE_WG = 64;
/** Lanes per workgroup of the Gram program (lavapipe's SIMD width on AVX2). */
export const GRAM_WG = 8;
/** A rows each lane owns (lane-varying loads per step). */
export const GRAM_RA = 2;
/** B rows every lane shares (uniform loads per step). */
export const GRAM_RB = 8;
/** Model rows of one A tile. */
export const GRAM_A_TILE = GRAM_WG * GRAM_RA;

/** Loop iterations of one row-scale invocation for rows of `cols4` vec4. */
export function rowScaleLoopBound(cols4: number): number {
  return Math.ceil(cols4 / ROW_SCALE_WG) + 1 + 2 * (Math.log2(ROW_SCALE_WG) + 1);
}

/** Loop iterations of one Gram invocation for rows of `cols4` vec4. */
export function gramLoopBound(cols4: number): number {
  return cols4 + 1;
}

/**
 * The unrolled body of the Gram program for `ra` × `rb` chains: row bases and scales, the loads
 * of one step, the multiply-adds and the stores. The one place the shader's source varies.
 */
export function gramKernelBody(
  ra: number,
  rb: number,
): { RA: number; RB: number; DECLARE: string; LOAD: string; FMA: string; STORE: string } {
  const as = Array.from({ length: ra }, (_, i) => i);
  const bs = Array.from({ length: rb }, (_, j) => j);
  const chains = as.flatMap((r) => bs.map((j) => [r, j] as const));
  return {
    RA: ra,
    RB: rb,
    DECLARE: [
      ...as.map((r) =>
        `  let a${r} = rowBase(i0 + ${r}u, x);\n  let sa${r} = rowScale(i0 + ${r}u, x);`
      ),
      ...bs.map((j) =>
        `  let b${j} = rowBase(j0 + ${j}u, x);\n  let sb${j} = rowScale(j0 + ${j}u, x);`
      ),
      ...chains.map(([r, j]) => `  var c${r}_${j} = vec4f(0.0);`),
    ].join("\n"),
    LOAD: [
      ...as.map((r) => `    let x${r} = grads[a${r} + k] * sa${r};`),
      ...bs.map((j) => `    let y${j} = grads[b${j} + k] * sb${j};`),
    ].join("\n"),
    FMA: chains.map(([r, j]) => `    c${r}_${j} = fma(x${r}, y${j}, c${r}_${j});`).join("\n"),
    STORE: chains.map(([r, j]) =>
      `  store(xl, i0 + ${r}u, j0 + ${j}u, dot(c${r}_${j}, vec4f(1.0)));`
    ).join("\n"),
  };
}

/** The row-scale program. */
export const ROW_SCALES: Program = {
  label: "row scales",
  shader: new URL("./row_scales.wgsl", import.meta.url),
  constants: { WG: ROW_SCALE_WG, TREE_WG: ROW_SCALE_WG },
  params: ["rows", "cols4", "gridX"],
  bindings: ["grads", "scales", "status"],
};

/** The per-sample Gram program. */
export const SAMPLE_GRAMS: Program = {
  label: "sample grams",
  shader: new URL("./sample_grams.wgsl", import.meta.url),
  source: gramKernelBody(GRAM_RA, GRAM_RB),
  constants: { WG: GRAM_WG },
  params: ["models", "count", "cols4", "sample0", "samples", "tilePairs", "gridX"],
  bindings: ["grads", "scales", "tiles", "grams"],
};

/** Tile pairs (A tile, B block) that touch the upper triangle of an M×M Gram, packed. */
export function tilePairs(models: number): Uint32Array {
  const out: number[] = [];
  const nA = Math.ceil(models / GRAM_A_TILE), nB = Math.ceil(models / GRAM_RB);
  for (let t = 0; t < nA; t++) {
    for (let b = 0; b < nB; b++) {
      if (t * GRAM_A_TILE <= b * GRAM_RB + GRAM_RB - 1) out.push((t << 16) | b);
    }
  }
  return Uint32Array.from(out);
}

/** Options of {@linkcode sampleGrams}: the batch's shape. */
export type SampleGramsOptions = BatchShape;

function checkShape(grads: Float32Array, shape: BatchShape): void {
  checkCount("models", shape.models);
  checkCount("samples", shape.samples);
  checkCount("dim", shape.dim);
  if (shape.models > 2 ** 16 * GRAM_RB) {
    throw new RangeError(`models is ${shape.models}; expected at most ${2 ** 16 * GRAM_RB}.`);
  }
  const want = shape.models * shape.samples * shape.dim;
  if (grads.length !== want) {
    throw new TypeError(
      `gradients hold ${grads.length} values; expected models × samples × dim = ${shape.models} × ${shape.samples} × ${shape.dim} = ${want}.`,
    );
  }
}

/** Samples per chunk: the input `[M][n][cols4·4]` and the Grams `[n][M][M]` fit one binding. */
function chunkSamples(shape: BatchShape, cols4: number, maxBytes: number): number {
  const perSample = Math.max(shape.models * cols4 * 16, shape.models * shape.models * 4);
  const n = Math.floor(maxBytes / perSample);
  if (n < 1) {
    throw new RangeError(
      `one sample's ${shape.models} × ${shape.dim} gradients (or its ${shape.models}² Gram) exceed the ${maxBytes}-byte storage binding; pass fewer models per call.`,
    );
  }
  return Math.min(shape.samples, n);
}

/** Samples x0 … x1−1 of `[M][S][D]` as `[M][x1−x0][cols4·4]`, zero-padded (no copy if unneeded). */
function chunkInput(
  grads: Float32Array,
  shape: BatchShape,
  cols4: number,
  x0: number,
  x1: number,
): Float32Array {
  const { models: m, samples: s, dim } = shape;
  if (cols4 * 4 === dim) return packSamples(grads, m, s, dim, x0, x1);
  const n = x1 - x0, width = cols4 * 4;
  const out = new Float32Array(m * n * width);
  for (let i = 0; i < m; i++) {
    for (let x = 0; x < n; x++) {
      const src = (i * s + x0 + x) * dim;
      out.set(grads.subarray(src, src + dim), (i * n + x) * width);
    }
  }
  return out;
}

/**
 * The per-sample cosine matrices of a gradient batch `[models][samples][dim]` (float32,
 * model-major): rows normalised with scaled norms (zero and NaN/±Inf rows flagged and left
 * out), then cos(u_i(x), u_j(x)) for every sample and pair. On the device: one submit per chunk
 * of samples that fits a storage binding (`maxBindingBytes` lowers it to force splits), reading
 * back only the M×M Grams and the row flags; on the CPU path the float64 reference.
 *
 * Precision: f32 products summed in f32 per sample: cosines within 1e-5 of the f64 reference
 * at D = 70,000 (tests). Cost: O(S·M²·D) multiply-adds; one upload of the batch.
 *
 * @throws {TypeError} when `grads` is not models × samples × dim long.
 * @throws {RangeError} on a non-positive size, a row longer than 4·(LOOP_CAP − 1) values, or one
 * sample too large for a storage binding.
 *
 * @example
 * ```ts
 * import { requestGpu, sampleGrams } from "../mod.ts";
 * const gpu = await requestGpu({ forceCpu: true });
 * // 2 models × 1 sample × 2 values: (3, 4) and (4, 3)
 * const r = await sampleGrams(gpu, Float32Array.from([3, 4, 4, 3]), { models: 2, samples: 1, dim: 2 });
 * if (Math.abs(r.grams[1]! - 24 / 25) > 1e-12) throw new Error(`cos ${r.grams[1]}`);
 * ```
 */
export function sampleGrams(
  gpu: Gpu,
  grads: Float32Array,
  shape: SampleGramsOptions,
): Promise<SampleGrams> {
  checkShape(grads, shape);
  const cols4 = Math.ceil(shape.dim / 4);
  if (gramLoopBound(cols4) > LOOP_CAP) {
    throw new RangeError(
      `dim is ${shape.dim}; one Gram invocation walks a whole row, so dim may be at most ${
        4 * (LOOP_CAP - 1)
      } (pool the gradients first).`,
    );
  }
  if (gpu.backend === "cpu") return Promise.resolve(sampleGramsReference(grads, shape));
  return sampleGramsOnDevice(gpu, grads, shape, cols4);
}

async function sampleGramsOnDevice(
  gpu: Gpu,
  grads: Float32Array,
  shape: BatchShape,
  cols4: number,
): Promise<SampleGrams> {
  const { models: m, samples: s } = shape;
  const raw = new Float32Array(s * m * m);
  const status = new Uint8Array(m * s);
  const tiles = tilePairs(m);
  const step = chunkSamples(shape, cols4, gpu.maxBindingBytes);
  for (let x0 = 0; x0 < s; x0 += step) {
    const x1 = Math.min(s, x0 + step), n = x1 - x0;
    const input = chunkInput(grads, shape, cols4, x0, x1);
    const part = await runUnit(gpu, "sample grams", async (device, buffers) => {
      const data = await gpu.uploadShared(device, "sample grams input", input);
      const scales = buffers.storage("row scales", m * n * 4, true);
      const flags = buffers.storage("row status", m * n * 4, true);
      const grams = buffers.storage("sample grams", n * m * m * 4, true);
      const dispatches: Dispatch[] = [
        {
          program: ROW_SCALES,
          params: { rows: m * n, cols4 },
          bindings: { grads: data, scales, status: flags },
          workgroups: m * n,
          loopBound: rowScaleLoopBound(cols4),
        },
        {
          program: SAMPLE_GRAMS,
          params: { models: m, count: n, cols4, sample0: 0, samples: n, tilePairs: tiles.length },
          bindings: { grads: data, scales, tiles: buffers.storage("tile pairs", tiles), grams },
          workgroups: n * tiles.length,
          loopBound: gramLoopBound(cols4),
        },
      ];
      const [g, f] = await runPrograms(gpu, device, buffers, dispatches, [
        [grams, n * m * m * 4],
        [flags, m * n * 4],
      ]);
      return { raw: new Float32Array(g!), status: new Uint32Array(f!) };
    }, () => null);
    if (part === null) return sampleGramsReference(grads, shape); // the device was lost for good
    raw.set(part.raw, x0 * m * m);
    for (let i = 0; i < m; i++) {
      for (let x = 0; x < n; x++) status[i * s + x0 + x] = part.status[i * n + x]!;
    }
  }
  return finishGrams(raw, status, shape);
}
