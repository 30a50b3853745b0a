// Fused training-mode batch norm for tfjs-backend-webgpu, for one model and for S stacked models
// at once: activations [G·B, …, C] seen as [G, R, C] (group g = model g owns rows g·R … (g+1)·R − 1),
// normalised by each group's per-channel moments over its R = B·H·W rows. tfjs composes this from
// moments, batchNorm and their gradients: about twenty elementwise and reduction dispatches per
// layer and direction, each a full pass over the activation. Here:
//
// - Forward, 3 dispatches for R ≤ ROWS_PER_INVOCATION²: (1) each invocation takes 4 channels (a
//   vec4) over at most ROWS_PER_INVOCATION rows of one group and writes its count, mean and sum of
//   squared deviations (sums of x − x₀, x₀ its first row, so no cancellation); (2) the same shader
//   shape merges those partials by Chan's pairwise rule until one per group is left, the last
//   merge writing per group and channel [mean, variance (biased, as tfjs's moments), 1/√(var + ε),
//   γ/√(var + ε)]; (3) y = (x − mean)·scale + β, each invocation 4 channels × ROWS_PER_ELEMENTWISE
//   rows, with an optional ReLU.
// - Backward, 3 dispatches: (1) partial Σdy and Σdy·(x − mean) per group and channel; (2) plain
//   sums of those partials, the last pass writing [dγ = Σdy·x̂, dβ = Σdy, k = γ/σ, p = −k·Σdy·(x −
//   mean)/(σ²·R), q = −k·Σdy/R]; (3) dx = k·dy + p·(x − mean) + q. With the fused ReLU, dy is
//   first masked by y > 0 (y, the saved output) in (1) and (3).
//
// Where the backend allows raw dispatch, every pass that reads the activations fetches them and
// its per-channel vectors (stats, β, the gradient coefficients) from textures: on lavapipe each
// storage-buffer load costs several texel fetches, and the small per-channel vectors are loaded
// by every invocation, so on storage buffers they cost about as much as the activations.
//
// Every invocation loops at most ROWS_PER_INVOCATION (reductions) or ROWS_PER_ELEMENTWISE times,
// asserted under Mesa's cap (LOOP_CAP) before the dispatch.
import * as tf from "@tensorflow/tfjs-core";
import { type KernelFunc, runFlat, storedAsFloat32, type WebGpuBackend } from "./_webgpu_types.ts";
import { assertLoopBound } from "../../kernels/gpu/mod.ts";
import { CHANNEL_TILE_PROLOGUE } from "./_channel_reduce.ts";
import { load4Fn, runFlatTextured, type Textures, texturesFor } from "./_texture_conv.ts";

/** Rows one reduction invocation adds (its loop length); partials per pass fall by this factor. */
export const ROWS_PER_INVOCATION = 256;
/** Rows one elementwise invocation normalises (its loop length). */
export const ROWS_PER_ELEMENTWISE = 32;

/** Kernel names: forward (outputs y and the stats [G, 4, C]) and backward (dx and [G, 5, C]). */
export const BATCH_NORM_KERNELS = ["SalienceBatchNormTrain", "SalienceBatchNormTrainGrad"] as const;

/** Attributes of both kernels. */
interface Attrs {
  groups: number;
  epsilon: number;
  relu: boolean;
}

// The per-channel kernels' index prologue, plus C for the channel count.
const PROLOGUE = `${CHANNEL_TILE_PROLOGUE}  let C = uniforms.channels;
`;

// Reads 4 channels at flat offset o of array a (from its texture where `tex` has one: one rgba
// texel, C a multiple of 4, or four r32float texels); writes 4 channels of v at o (only channels
// < C).
const HELPERS = (arrays: string[], tex: Textures = {}) =>
  arrays.map((a) => load4Fn(a, tex[a])).join("") + `
fn store4(o : i32, c0 : i32, v : vec4<f32>) {
  let C = uniforms.channels;
  result[o] = v.x;
  if (c0 + 1 < C) { result[o + 1] = v.y; }
  if (c0 + 2 < C) { result[o + 2] = v.z; }
  if (c0 + 3 < C) { result[o + 3] = v.w; }
}
`;

const fwdPartial = (tex?: Textures) =>
  `${HELPERS(["x"], tex)}
fn main(index : i32) {${PROLOGUE}
  let base = g * uniforms.rows;
  let k = load4_x((base + start) * C + c0);
  var s1 = vec4<f32>(0.0);
  var s2 = vec4<f32>(0.0);
  for (var r = start; r < end; r = r + 1) {
    let d = load4_x((base + r) * C + c0) - k;
    s1 = s1 + d;
    s2 = s2 + d * d;
  }
  let n = f32(end - start);
  let o = (g * uniforms.parts + part) * 3 * C + c0;
  store4(o, c0, vec4<f32>(n));
  store4(o + C, c0, k + s1 / n);
  store4(o + 2 * C, c0, max(s2 - s1 * s1 / n, vec4<f32>(0.0)));
}
`;

const fwdMerge = (last: boolean) =>
  `${HELPERS(last ? ["p", "gamma"] : ["p"])}
fn main(index : i32) {${PROLOGUE}
  var n = 0.0;
  var mean = vec4<f32>(0.0);
  var m2 = vec4<f32>(0.0);
  for (var j = start; j < end; j = j + 1) {
    let o = (g * uniforms.rows + j) * 3 * C + c0;
    let nb = p[o];
    let tot = n + nb;
    let delta = load4_p(o + C) - mean;
    mean = mean + delta * (nb / tot);
    m2 = m2 + load4_p(o + 2 * C) + delta * delta * (n * nb / tot);
    n = tot;
  }
${
    last
      ? `  let variance = m2 / n;
  let inv = inverseSqrt(variance + uniforms.epsilon);
  let o = g * 4 * C + c0;
  store4(o, c0, mean);
  store4(o + C, c0, variance);
  store4(o + 2 * C, c0, inv);
  store4(o + 3 * C, c0, inv * load4_gamma(g * C + c0));`
      : `  let o = (g * uniforms.parts + part) * 3 * C + c0;
  store4(o, c0, vec4<f32>(n));
  store4(o + C, c0, mean);
  store4(o + 2 * C, c0, m2);`
  }
}
`;

const fwdNormalise = (relu: boolean, tex?: Textures) =>
  `${HELPERS(["x", "stats", "beta"], tex)}
fn main(index : i32) {${PROLOGUE}
  let mean = load4_stats(g * 4 * C + c0);
  let scale = load4_stats(g * 4 * C + 3 * C + c0);
  let shift = load4_beta(g * C + c0);
  let base = g * uniforms.rows;
  for (var r = start; r < end; r = r + 1) {
    let o = (base + r) * C + c0;
    let v = (load4_x(o) - mean) * scale + shift;
    store4(o, c0, ${relu ? "max(v, vec4<f32>(0.0))" : "v"});
  }
}
`;

// The ReLU's mask y > 0 recomputed from x − mean (xc) as the forward did, so y is not read.
const RELU_COEFFICIENTS = `
  let scale = load4_stats(g * 4 * C + 3 * C + c0);
  let shift = load4_beta(g * C + c0);`;

// dy at o, masked by the fused ReLU's y > 0 where `relu`.
const maskedDy = (relu: boolean, o: string) =>
  relu
    ? `select(vec4<f32>(0.0), load4_dy(${o}), xc * scale + shift > vec4<f32>(0.0))`
    : `load4_dy(${o})`;

const bwdPartial = (relu: boolean, tex?: Textures) =>
  `${HELPERS(["dy", "x", "stats", ...(relu ? ["beta"] : [])], tex)}
fn main(index : i32) {${PROLOGUE}
  let mean = load4_stats(g * 4 * C + c0);${relu ? RELU_COEFFICIENTS : ""}
  let base = g * uniforms.rows;
  var sdy = vec4<f32>(0.0);
  var sxd = vec4<f32>(0.0);
  for (var r = start; r < end; r = r + 1) {
    let o = (base + r) * C + c0;
    let xc = load4_x(o) - mean;
    let d = ${maskedDy(relu, "o")};
    sdy = sdy + d;
    sxd = sxd + d * xc;
  }
  let o = (g * uniforms.parts + part) * 2 * C + c0;
  store4(o, c0, sdy);
  store4(o + C, c0, sxd);
}
`;

const bwdMerge = (last: boolean) =>
  `${HELPERS(last ? ["p", "stats", "gamma"] : ["p"])}
fn main(index : i32) {${PROLOGUE}
  var sdy = vec4<f32>(0.0);
  var sxd = vec4<f32>(0.0);
  for (var j = start; j < end; j = j + 1) {
    let o = (g * uniforms.rows + j) * 2 * C + c0;
    sdy = sdy + load4_p(o);
    sxd = sxd + load4_p(o + C);
  }
${
    last
      ? `  let inv = load4_stats(g * 4 * C + 2 * C + c0);
  let k = load4_gamma(g * C + c0) * inv;
  let n = uniforms.scale;
  let o = g * 5 * C + c0;
  store4(o, c0, sxd * inv);
  store4(o + C, c0, sdy);
  store4(o + 2 * C, c0, k);
  store4(o + 3 * C, c0, -k * inv * inv * sxd / n);
  store4(o + 4 * C, c0, -k * sdy / n);`
      : `  let o = (g * uniforms.parts + part) * 2 * C + c0;
  store4(o, c0, sdy);
  store4(o + C, c0, sxd);`
  }
}
`;

const bwdInput = (relu: boolean, tex?: Textures) =>
  `${HELPERS(["dy", "x", "stats", "coef", ...(relu ? ["beta"] : [])], tex)}
fn main(index : i32) {${PROLOGUE}
  let mean = load4_stats(g * 4 * C + c0);${relu ? RELU_COEFFICIENTS : ""}
  let k = load4_coef(g * 5 * C + 2 * C + c0);
  let pc = load4_coef(g * 5 * C + 3 * C + c0);
  let q = load4_coef(g * 5 * C + 4 * C + c0);
  let base = g * uniforms.rows;
  for (var r = start; r < end; r = r + 1) {
    let o = (base + r) * C + c0;
    let xc = load4_x(o) - mean;
    store4(o, c0, k * ${maskedDy(relu, "o")} + pc * xc + q);
  }
}
`;

/** [G, R, C] view of an activation with G groups. */
function geometry(x: tf.TensorInfo, groups: number) {
  const C = x.shape.at(-1)!;
  const size = x.shape.reduce((a, b) => a * b, 1);
  return { G: groups, R: size / (groups * C), C, tiles: Math.ceil(C / 4) };
}

type Geometry = ReturnType<typeof geometry>;

/**
 * One reduction-shaped pass: `rows` rows per group in `parts` invocations per group and tile, each
 * at most `rowsPer` rows; `outRows` rows per group of the output (parts for partials, 1 at the
 * end), `width` channels-sized rows per output row.
 */
function pass(
  backend: WebGpuBackend,
  spec: {
    key: string;
    code: string | ((tex?: Textures) => string);
    names: string[];
    /** Inputs (by name) fetched from textures where raw dispatch is possible. */
    textured?: string[];
    g: Geometry;
    rows: number;
    rowsPer: number;
    width: number;
    outShape?: number[];
    floats?: Record<string, number>;
  },
  inputs: tf.TensorInfo[],
): tf.TensorInfo {
  const { g } = spec;
  const parts = Math.ceil(spec.rows / spec.rowsPer);
  assertLoopBound(spec.key, spec.rowsPer);
  const outputShape = spec.outShape ?? [g.G * parts, spec.width, g.C];
  const invocations = g.G * parts * g.tiles;
  const ints = { rows: spec.rows, parts, rowsPer: spec.rowsPer, channels: g.C };
  const code = typeof spec.code === "string" ? () => spec.code as string : spec.code;
  const tex = texturesFor(backend, spec.textured ?? [], spec.names, inputs, g.C);
  if (tex) {
    return runFlatTextured(
      backend,
      {
        key: `${spec.key}_tex_${g.G}`,
        code: code(tex),
        names: spec.names,
        outputShape,
        invocations,
        ints,
        floats: spec.floats,
      },
      inputs,
      tex,
    );
  }
  return runFlat(backend, {
    key: spec.key,
    code: code(),
    names: spec.names,
    outputShape,
    invocations,
    ints,
    floats: spec.floats,
  }, inputs);
}

/**
 * Reduces per-group partials [G·P, width, C] until one row per group is left; the last pass runs
 * `last` (with `extra` inputs) and writes `lastWidth` rows per group.
 */
function mergeAll(
  backend: WebGpuBackend,
  g: Geometry,
  first: tf.TensorInfo,
  spec: {
    key: string;
    merge: (last: boolean) => string;
    names: (last: boolean) => string[];
    width: number;
    lastWidth: number;
    extra: tf.TensorInfo[];
    floats: Record<string, number>;
  },
): tf.TensorInfo {
  let cur = first, rows = first.shape[0]! / g.G;
  for (;;) {
    const last = rows <= ROWS_PER_INVOCATION;
    const next = pass(backend, {
      key: `${spec.key}_${last ? "last" : "merge"}`,
      code: spec.merge(last),
      names: spec.names(last),
      g,
      rows,
      rowsPer: ROWS_PER_INVOCATION,
      width: spec.width,
      outShape: last ? [g.G, spec.lastWidth, g.C] : undefined,
      floats: spec.floats,
    }, last ? [cur, ...spec.extra] : [cur]);
    backend.disposeData(cur.dataId); // every partial is ours
    if (last) return next;
    cur = next;
    rows = cur.shape[0]! / g.G;
  }
}

/** An elementwise pass over [G, R, C] writing an output of x's shape. */
function elementwise(
  backend: WebGpuBackend,
  spec: {
    key: string;
    code: (tex?: Textures) => string;
    names: string[];
    textured: string[];
    g: Geometry;
    shape: number[];
  },
  inputs: tf.TensorInfo[],
): tf.TensorInfo {
  return pass(backend, {
    key: spec.key,
    code: spec.code,
    names: spec.names,
    textured: spec.textured,
    g: spec.g,
    rows: spec.g.R,
    rowsPer: ROWS_PER_ELEMENTWISE,
    width: 1,
    outShape: spec.shape,
  }, inputs);
}

const forwardKernel: KernelFunc = (args) => {
  const { x, gamma, beta } = args.inputs as Record<"x" | "gamma" | "beta", tf.TensorInfo>;
  const { groups, epsilon, relu } = args.attrs as unknown as Attrs;
  const backend = args.backend as WebGpuBackend;
  const g = geometry(x, groups);
  const partial = pass(backend, {
    key: "salienceBatchNormStats",
    code: fwdPartial,
    names: ["x"],
    textured: ["x"],
    g,
    rows: g.R,
    rowsPer: ROWS_PER_INVOCATION,
    width: 3,
  }, [x]);
  const stats = mergeAll(backend, g, partial, {
    key: "salienceBatchNormStats",
    merge: fwdMerge,
    names: (last) => (last ? ["p", "gamma"] : ["p"]),
    width: 3,
    lastWidth: 4,
    extra: [gamma],
    floats: { epsilon },
  });
  const y = elementwise(backend, {
    key: `salienceBatchNormNormalise_${relu}`,
    code: (tex) => fwdNormalise(relu, tex),
    names: ["x", "stats", "beta"],
    textured: ["x", "stats", "beta"],
    g,
    shape: x.shape,
  }, [x, stats, beta]);
  return [y, stats];
};

const backwardKernel: KernelFunc = (args) => {
  const { dy, x, stats, gamma, beta } = args.inputs as Record<
    "dy" | "x" | "stats" | "gamma" | "beta",
    tf.TensorInfo
  >;
  const { groups, relu } = args.attrs as unknown as Attrs;
  const backend = args.backend as WebGpuBackend;
  const g = geometry(x, groups);
  const masked = relu ? [beta] : [];
  const partial = pass(backend, {
    key: `salienceBatchNormGradSums_${relu}`,
    code: (tex) => bwdPartial(relu, tex),
    names: ["dy", "x", "stats", ...(relu ? ["beta"] : [])],
    textured: ["dy", "x", "stats", ...(relu ? ["beta"] : [])],
    g,
    rows: g.R,
    rowsPer: ROWS_PER_INVOCATION,
    width: 2,
  }, [dy, x, stats, ...masked]);
  const coef = mergeAll(backend, g, partial, {
    key: "salienceBatchNormGradSums",
    merge: bwdMerge,
    names: (last) => (last ? ["p", "stats", "gamma"] : ["p"]),
    width: 2,
    lastWidth: 5,
    extra: [stats, gamma],
    floats: { scale: g.R },
  });
  const dx = elementwise(backend, {
    key: `salienceBatchNormGradInput_${relu}`,
    code: (tex) => bwdInput(relu, tex),
    names: ["dy", "x", "stats", "coef", ...(relu ? ["beta"] : [])],
    textured: ["dy", "x", "stats", "coef", ...(relu ? ["beta"] : [])],
    g,
    shape: x.shape,
  }, [dy, x, stats, coef, ...masked]);
  return [dx, coef];
};

/** Registers the fused batch-norm kernels for `backendName` (a WebGPU backend). */
export function registerBatchNormKernels(backendName: string): string[] {
  unregisterBatchNormKernels(backendName);
  tf.registerKernel({ kernelName: BATCH_NORM_KERNELS[0], backendName, kernelFunc: forwardKernel });
  tf.registerKernel({ kernelName: BATCH_NORM_KERNELS[1], backendName, kernelFunc: backwardKernel });
  return [...BATCH_NORM_KERNELS];
}

/** Removes what {@link registerBatchNormKernels} registered. */
export function unregisterBatchNormKernels(backendName: string): void {
  for (const name of BATCH_NORM_KERNELS) {
    if (tf.getKernel(name, backendName)) tf.unregisterKernel(name, backendName);
  }
}

/** Largest invocation count one flat dispatch holds (65,535 workgroups of 64). */
const MAX_INVOCATIONS = 65_535 * 64;

/** Largest row count per group whose counts and means stay exact in f32 (2²⁴). */
const MAX_ROWS = 2 ** 24;

/** Whether the fused kernels run this batch norm on the active backend. */
function fusedApplies(x: tf.Tensor, groups: number): boolean {
  if (tf.getKernel(BATCH_NORM_KERNELS[0], tf.getBackend()) === undefined) return false;
  const backend = tf.backend() as unknown as WebGpuBackend;
  const g = geometry(x, groups);
  return storedAsFloat32(backend, x) && g.R >= 1 && g.R <= MAX_ROWS &&
    g.G * Math.ceil(g.R / ROWS_PER_ELEMENTWISE) * g.tiles <= MAX_INVOCATIONS;
}

tf.registerGradient({
  kernelName: BATCH_NORM_KERNELS[0],
  inputsToSave: ["x", "gamma", "beta"],
  outputsToSave: [false, true],
  gradFunc: (dys, saved, attrs) => {
    const [x, gamma, beta, stats] = saved as tf.Tensor[];
    const dy = (Array.isArray(dys) ? dys[0] : dys)!;
    const a = attrs as unknown as Attrs;
    // Run here, not inside the closures: the tape calls each closure in its own tidy, which
    // would free the shared outputs after the first.
    const [dx, coef] = tf.engine().runKernel(
      BATCH_NORM_KERNELS[1],
      { dy, x: x!, stats: stats!, gamma: gamma!, beta: beta! },
      attrs as tf.NamedAttrMap,
    ) as [tf.Tensor, tf.Tensor];
    const C = x!.shape.at(-1)!;
    const row = (j: number) =>
      tf.reshape(tf.slice(coef, [0, j, 0], [a.groups, 1, C]), gamma!.shape);
    return { x: () => dx, gamma: () => row(0), beta: () => row(1) };
  },
});

/** What {@link batchNormTraining} returns. */
export interface BatchNormResult {
  /** Normalised (and, with `relu`, rectified) activations, x's shape. */
  y: tf.Tensor;
  /** Per-group, per-channel batch mean [G, C]. */
  mean: tf.Tensor2D;
  /** Per-group, per-channel biased batch variance [G, C]. */
  variance: tf.Tensor2D;
}

/** Options of {@link batchNormTraining}. */
export interface BatchNormOptions {
  /** Groups G (models of a stacked population); x's leading axis holds G·B rows. Default 1. */
  groups?: number;
  /** ε added to the variance. */
  epsilon: number;
  /** Applies ReLU to the output (fused). Default false. */
  relu?: boolean;
  /**
   * Our fused kernels where they are registered for the active backend and the shape fits
   * (default true); false runs tfjs's ops, the reference.
   */
  fused?: boolean;
}

/**
 * Training-mode batch norm of activations x [G·B, …, C] per group g (model g's B rows) and
 * channel: y = (x − mean)/√(var + ε)·γ + β with the group's batch mean and biased variance over
 * its B·H·W rows (tfjs-layers' training rule), γ and β [G, C]; with `relu`, max(y, 0).
 * Differentiable in x, γ and β. With our WebGPU kernels registered ({@link registerBatchNormKernels})
 * it runs as 3 dispatches forward and 3 backward; otherwise as tfjs's moments and elementwise ops.
 *
 * Cost: two reads of x forward, three reads of x and dy backward.
 *
 * @throws {RangeError} when x's leading axis is not a multiple of `groups` or γ, β are not [G, C].
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { batchNormTraining } from "./mod.ts";
 * const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8], [4, 1, 1, 2]);
 * const { y, mean } = batchNormTraining(x, tf.ones([1, 2]), tf.zeros([1, 2]), { epsilon: 1e-5 });
 * if (Math.abs((await mean.data())[0]! - 4) > 1e-6) throw new Error("wrong mean");
 * if (y.shape.join() !== "4,1,1,2") throw new Error("wrong shape");
 * ```
 */
export function batchNormTraining(
  x: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  options: BatchNormOptions,
): BatchNormResult {
  const G = options.groups ?? 1;
  const C = x.shape.at(-1)!;
  if (x.rank < 2 || x.shape[0]! % G !== 0) {
    throw new RangeError(
      `batchNormTraining needs x [G·B, …, C] with a leading axis divisible by ${G} groups; got [${x.shape}].`,
    );
  }
  for (const [name, v] of [["gamma", gamma], ["beta", beta]] as const) {
    if (v.size !== G * C) {
      throw new RangeError(
        `batchNormTraining needs ${name} [${G}, ${C}] (one per group and channel); got [${v.shape}].`,
      );
    }
  }
  const relu = options.relu ?? false;
  const g2 = tf.reshape(gamma, [G, C]), b2 = tf.reshape(beta, [G, C]);
  if ((options.fused ?? true) && fusedApplies(x, G)) {
    const attrs = { groups: G, epsilon: options.epsilon, relu };
    const [y, stats] = tf.engine().runKernel(
      BATCH_NORM_KERNELS[0],
      { x, gamma: g2, beta: b2 },
      attrs as unknown as tf.NamedAttrMap,
    ) as [tf.Tensor, tf.Tensor3D];
    const row = (j: number) => tf.reshape(tf.slice(stats, [0, j, 0], [G, 1, C]), [G, C]);
    return { y, mean: row(0) as tf.Tensor2D, variance: row(1) as tf.Tensor2D };
  }
  const y3 = tf.reshape(x, [G, -1, C]);
  const m = tf.moments(y3, [1], true);
  const norm = tf.mul(tf.sub(y3, m.mean), tf.rsqrt(tf.add(m.variance, options.epsilon)));
  const out = tf.add(tf.mul(norm, tf.reshape(g2, [G, 1, C])), tf.reshape(b2, [G, 1, C]));
  const y = tf.reshape(relu ? tf.relu(out) : out, x.shape);
  return {
    y,
    mean: tf.reshape(m.mean, [G, C]) as tf.Tensor2D,
    variance: tf.reshape(m.variance, [G, C]) as tf.Tensor2D,
  };
}

/** What {@link batchNormTrainingReference} returns (f64). */
export interface BatchNormReference {
  y: Float64Array;
  mean: Float64Array;
  variance: Float64Array;
  /** Gradients of Σ y·dy, when `dy` is given. */
  dx?: Float64Array;
  dgamma?: Float64Array;
  dbeta?: Float64Array;
}

/**
 * Plain-TypeScript training-mode batch norm with f64 accumulation, the test oracle of
 * {@link batchNormTraining}: x [G, R, C] flat (group-major), γ, β [G, C]; with `dy`, the
 * gradients of Σ y·dy by the closed form dx = γ/σ·(dy − mean(dy) − x̂·mean(dy·x̂)).
 *
 * Cost: O(G·R·C), two passes forward and two backward.
 *
 * @example
 * ```ts
 * import { batchNormTrainingReference } from "./mod.ts";
 * const r = batchNormTrainingReference(new Float32Array([1, 3]), {
 *   groups: 1, channels: 1, gamma: new Float32Array([1]), beta: new Float32Array([0]), epsilon: 0,
 * });
 * if (r.mean[0] !== 2 || r.variance[0] !== 1 || r.y[1] !== 1) throw new Error("wrong moments");
 * ```
 */
export function batchNormTrainingReference(
  x: ArrayLike<number>,
  o: {
    groups: number;
    channels: number;
    gamma: ArrayLike<number>;
    beta: ArrayLike<number>;
    epsilon: number;
    relu?: boolean;
    dy?: ArrayLike<number>;
  },
): BatchNormReference {
  const G = o.groups, C = o.channels, R = x.length / (G * C);
  if (!Number.isInteger(R) || R < 1) {
    throw new RangeError(
      `batchNormTrainingReference: ${x.length} values do not split into ${G} groups × rows × ${C} channels.`,
    );
  }
  const mean = new Float64Array(G * C), variance = new Float64Array(G * C);
  const at = (g: number, r: number, c: number) => (g * R + r) * C + c;
  for (let g = 0; g < G; g++) {
    for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) mean[g * C + c]! += x[at(g, r, c)]!;
    for (let c = 0; c < C; c++) mean[g * C + c]! /= R;
    for (let r = 0; r < R; r++) {
      for (let c = 0; c < C; c++) variance[g * C + c]! += (x[at(g, r, c)]! - mean[g * C + c]!) ** 2;
    }
    for (let c = 0; c < C; c++) variance[g * C + c]! /= R;
  }
  const inv = variance.map((v) => 1 / Math.sqrt(v + o.epsilon));
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const gc = Math.floor(i / (R * C)) * C + (i % C);
    const v = (x[i]! - mean[gc]!) * inv[gc]! * o.gamma[gc]! + o.beta[gc]!;
    y[i] = o.relu ? Math.max(v, 0) : v;
  }
  if (!o.dy) return { y, mean, variance };
  const d = Float64Array.from(o.dy, (v, i) => (o.relu && !(y[i]! > 0) ? 0 : v));
  const dbeta = new Float64Array(G * C), dgamma = new Float64Array(G * C);
  const xhat = (i: number, gc: number) => (x[i]! - mean[gc]!) * inv[gc]!;
  for (let i = 0; i < x.length; i++) {
    const gc = Math.floor(i / (R * C)) * C + (i % C);
    dbeta[gc]! += d[i]!;
    dgamma[gc]! += d[i]! * xhat(i, gc);
  }
  const dx = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const gc = Math.floor(i / (R * C)) * C + (i % C);
    dx[i] = o.gamma[gc]! * inv[gc]! *
      (d[i]! - dbeta[gc]! / R - xhat(i, gc) * dgamma[gc]! / R);
  }
  return { y, mean, variance, dx, dgamma, dbeta };
}
