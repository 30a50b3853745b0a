import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import {
  addRelu,
  checkConformance,
  filterGradChunk,
  globalMaxPool,
  groupedConv2d,
  hasGroupedConv,
  initTf,
  installBoundedKernels,
  LOOP_CAP,
  rawPipelinesCompiled,
  textureConvDispatches,
  uninstallBoundedKernels,
} from "../../lib/tf/mod.ts";
import { gpuTest } from "../_shared/gpu.ts";

/** max |got − ref| / max(1, max |ref|); NaN (so any bound fails) when `got` holds NaN or is short. */
function relativeError(ref: ArrayLike<number>, got: ArrayLike<number>): number {
  let e = 0, scale = 1;
  for (let i = 0; i < ref.length; i++) {
    e = Math.max(e, Math.abs(ref[i]! - got[i]!));
    scale = Math.max(scale, Math.abs(ref[i]!));
  }
  return e / scale;
}

/** The two convolution paths of the bounded kernels, compared on the same cases. */
const CONV_PATHS = [
  { path: "textures", textures: true },
  { path: "storage buffers", textures: false },
] as const;

/**
 * Runs `compute` on the WebGPU backend with each of {@linkcode CONV_PATHS} installed and checks
 * every output against `ref` (relative error under `tolerance`) and the texture-conv dispatches
 * it issued against `dispatches(textures)`: a count, or "some" for at least one. `paths`: a
 * subset of them.
 */
async function onEachConvPath(
  label: string,
  ref: readonly ArrayLike<number>[],
  compute: () => Promise<ArrayLike<number>[]>,
  dispatches: (textures: boolean) => number | "some",
  tolerance: number,
  paths: readonly (typeof CONV_PATHS)[number][] = CONV_PATHS,
): Promise<void> {
  for (const { path, textures } of paths) {
    installBoundedKernels("webgpu", { textures });
    const before = textureConvDispatches();
    const got = await compute();
    const want = dispatches(textures), issued = textureConvDispatches() - before;
    ok(want === "some" ? issued > 0 : issued === want, `${label} on ${path}: ${issued} dispatches`);
    ref.forEach((r, j) => {
      const e = relativeError(r, got[j]!);
      ok(e < tolerance, `${label} on ${path}, output ${j}: ${e}`);
    });
  }
}

/**
 * The CPU backend's outputs of `run` beside both WebGPU convolution paths' (see
 * {@linkcode onEachConvPath}): f32 sums in another order, relative error far below 1e-4 (seen:
 * ≤ 2e-6). `vec`: some convolution of the case runs on textures (stride 1, or target channels a
 * multiple of 4).
 */
async function convsAgainstCpu(
  label: string,
  vec: boolean,
  run: () => tf.Tensor[],
  each: () => void = () => {},
): Promise<void> {
  await tf.setBackend("cpu");
  const ref = await Promise.all(run().map((t) => t.data()));
  await tf.setBackend("webgpu");
  await onEachConvPath(
    label,
    ref,
    () => {
      each();
      return Promise.all(run().map((t) => t.data()));
    },
    (textures) => textures && vec ? "some" : 0,
    1e-4,
  );
}

/**
 * Seeded inputs `x` (sines) and filters `f` (cosines) of the given shapes, with `conv(x, f)` and
 * the gradients of Σ y·sin y (y = conv) with respect to both: a cotangent that is not uniform.
 */
function convAndGrads(
  xShape: number[],
  fShape: number[],
  conv: (x: tf.Tensor4D, f: tf.Tensor) => tf.Tensor,
  pad: (x: tf.Tensor4D) => tf.Tensor4D = (x) => x,
): { x: tf.Tensor4D; f: tf.Tensor; y: tf.Tensor; gx: tf.Tensor; gf: tf.Tensor } {
  const wave = (shape: number[], fn: (i: number) => number) =>
    tf.tensor(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => fn(i)), shape);
  const x = pad(wave(xShape, (i) => Math.sin(i * 0.7)) as tf.Tensor4D);
  const f = wave(fShape, (i) => Math.cos(i * 1.3));
  const [gx, gf] = tf.grads((a: tf.Tensor, c: tf.Tensor) => {
    const y = conv(a as tf.Tensor4D, c);
    return tf.sum(tf.mul(y, tf.sin(y)));
  })([x, f]);
  return { x, f, y: conv(x, f), gx: gx!, gf: gf! };
}

Deno.test("initTf() with backend cpu activates the CPU backend and checks nothing", async () => {
  const r = await initTf({ backend: "cpu" });
  assertEquals([r.backend, tf.getBackend(), r.checks.length], ["cpu", "cpu", 0]);
});

Deno.test("filterGradChunk() keeps chunk·(oH+2)·(oW+2) under the loop cap", () => {
  assertEquals(filterGradChunk(28, 28), 72);
  assertEquals(filterGradChunk(32, 32), 56);
  for (const h of [1, 7, 14, 28, 32, 64]) {
    ok(filterGradChunk(h, h) * (h + 2) * (h + 2) <= LOOP_CAP || filterGradChunk(h, h) === 1);
  }
});

gpuTest("initTf() reports the adapter and per-op errors at the run's sizes", async () => {
  const r = await initTf({
    backend: "auto",
    sizes: { batch: 16, height: 28, width: 28, channels: 1 },
  });
  assertEquals(r.backend, "webgpu");
  ok(r.adapter);
  assertEquals(r.checks.map((c) => c.op), [
    "conv2d",
    "fusedConv2d",
    "conv2dFilterGrad",
    "conv2dInputGrad",
    "matMul",
    "batchNorm",
    "batchNormTraining",
    "maxPool",
    "reductions",
  ]);
  ok(r.checks.every((c) => c.pass && c.maxError < 1e-3));
  if (r.software) {
    ok(r.boundedKernels.includes("Conv2DBackpropFilter"), r.note);
    ok(r.boundedKernels.includes("SalienceBatchNormTrain"), r.note);
  }
  await tf.setBackend("cpu");
});

gpuTest(
  "checkConformance() names the failing filter gradient at batch 128 on software adapters, and bounded kernels fix it",
  async () => {
    const r = await initTf({
      backend: "auto",
      sizes: { batch: 16, height: 28, width: 28, channels: 1 },
    });
    const sizes = { batch: 128, height: 28, width: 28, channels: 1 };
    uninstallBoundedKernels("webgpu");
    const raw = await checkConformance("webgpu", sizes);
    if (r.software) {
      const bad = raw.filter((c) => !c.pass).map((c) => c.op);
      assertEquals(bad, ["conv2dFilterGrad"]); // Mesa's 65,535-iteration cap: 128·28·28 = 100,352
    }
    for (const mode of ["tiled", "chunked"] as const) {
      installBoundedKernels("webgpu", { mode });
      const fixed = await checkConformance("webgpu", sizes);
      uninstallBoundedKernels("webgpu");
      assertEquals(fixed.filter((c) => !c.pass), [], mode);
    }
    await tf.setBackend("cpu");
  },
);

gpuTest(
  "installBoundedKernels() convolutions match the CPU backend on strided, padded, 1×1, 7×7 and odd shapes",
  async () => {
    await initTf({ backend: "auto", sizes: { batch: 4, height: 8, width: 8, channels: 1 } });
    // [batch, side, in channels, out channels, stride, padding, kernel]
    const cases = [
      [4, 28, 1, 8, 1, "same", 3],
      [3, 7, 32, 64, 1, "same", 3],
      [4, 16, 6, 10, 2, 1, 3],
      [4, 31, 3, 5, 2, 0, 1],
      [2, 32, 3, 6, 2, 3, 7],
      [4, 9, 5, 7, 2, "same", 3],
      [3, 6, 2, 3, 1, "valid", 3],
      // Long reductions: 2,304 channel terms per output (forward and input gradient), 67,424
      // positions per filter-gradient element (over Mesa's 65,535 iterations if done in one loop).
      [2, 5, 256, 12, 1, "same", 3],
      [2, 5, 12, 256, 1, "same", 3],
      [86, 28, 1, 4, 1, "same", 3],
    ] as const;
    for (const [b, h, ci, co, s, pad, k] of cases) {
      const p = pad === "same" ? "same" : "valid";
      const bias = () => tf.tensor1d(Array.from({ length: co }, (_, i) => i * 0.1 - 0.3));
      const fused = (x: tf.Tensor4D, f: tf.Tensor, activation?: "relu") =>
        tf.fused.conv2d({
          x,
          filter: f as tf.Tensor4D,
          strides: s,
          pad: p,
          bias: bias(),
          activation,
        });
      const padded = (x: tf.Tensor4D) =>
        typeof pad === "number" && pad > 0
          ? tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]])
          : x;
      await convsAgainstCpu(
        `case ${[b, h, ci, co, s, pad, k]}`,
        true, // the filter gradient runs on textures whatever the shape
        () =>
          tf.tidy(() => {
            const { x, f, gx, gf } = convAndGrads([b, h, h, ci], [k, k, ci, co], fused, padded);
            return [tf.conv2d(x, f as tf.Tensor4D, s, p), fused(x, f, "relu"), gx, gf]
              .map((t) => tf.reshape(t, [-1]));
          }),
      );
    }
    await tf.setBackend("cpu");
  },
);

gpuTest(
  "installBoundedKernels() Sum, Mean and Max over leading (or per-model inner) axes match the CPU backend",
  async () => {
    await initTf({ backend: "auto", sizes: { batch: 4, height: 8, width: 8, channels: 1 } });
    // [128, 7, 7, 24]: CNNSmall(3)'s global max pool at S = 4, batch 32.
    const shapes = [
      [3, 5, 7, 6],
      [70001, 3],
      [2, 9, 4],
      [1, 1, 1, 5],
      [3, 70001, 4],
      [4, 3, 3, 8],
      [128, 7, 7, 24],
    ];
    for (const shape of shapes) {
      const run = () =>
        tf.tidy(() => {
          const n = shape.reduce((a, b) => a * b, 1);
          const x = tf.tensor(Array.from({ length: n }, (_, i) => Math.sin(i * 0.37)), shape);
          const lead = shape.slice(0, -1).map((_, i) => i);
          return [
            tf.sum(x, lead),
            tf.mean(x, lead, true),
            tf.sum(x, lead.map((a) => a - shape.length), true),
            tf.max(x, lead),
            tf.sum(x, [shape.length - 1]), // not a leading-axes reduction: tfjs's kernel
            tf.max(x, [shape.length - 1]),
            // Per model of a stack [S, …, C], or global max pooling: every axis but the first
            // and last.
            ...(shape.length >= 3
              ? [
                tf.sum(x, lead.slice(1)),
                tf.mean(x, lead.slice(1), true),
                tf.max(x, lead.slice(1)),
                tf.max(x, lead.slice(1), true),
              ]
              : []),
          ].map((t) => tf.reshape(t, [-1]));
        });
      await tf.setBackend("cpu");
      const ref = await Promise.all(run().map((t) => t.data()));
      await tf.setBackend("webgpu");
      installBoundedKernels("webgpu");
      const got = run();
      for (let j = 0; j < ref.length; j++) {
        const g = await got[j]!.data();
        assertEquals(g.length, ref[j]!.length);
        const e = relativeError(ref[j]!, g);
        ok(e < 1e-4, `${shape} output ${j}: ${e}`);
      }
    }
    uninstallBoundedKernels("webgpu");
    await tf.setBackend("cpu");
  },
);

gpuTest(
  "installBoundedKernels() per-channel Add/Sub/Multiply/RealDiv match the CPU backend",
  async () => {
    await initTf({ backend: "auto", sizes: { batch: 4, height: 8, width: 8, channels: 1 } });
    const pairs: [number[], number[]][] = [
      [[3, 5, 7, 8], [8]],
      [[8], [2, 3, 3, 8]],
      [[4, 6, 12], [1, 1, 12]],
      [[3, 50, 8], [3, 1, 8]], // per model of a stack
      [[2, 1, 1, 4], [2, 3, 5, 4]],
      [[5, 6], [6]], // 6 channels: not a multiple of 4
      [[4, 32, 28, 28, 3], [4, 1, 1, 1, 3]], // CNNSmall(3)'s first bias add, S = 4 × batch 32
      [[5, 3], [3]], // 15 elements: the last invocation's 4 reach past the end
      [[3, 1, 7], [3, 5, 7]],
      [[1], [2, 3, 1]],
      [[4, 4], [4, 4]], // same shape: tfjs's kernel
    ];
    const ops = [tf.add, tf.sub, tf.mul, tf.div] as const;
    for (const [sa, sb] of pairs) {
      const run = () =>
        tf.tidy(() => {
          const a = tf.tensor(
            Array.from({ length: sa.reduce((x, y) => x * y, 1) }, (_, i) => Math.sin(i) + 2),
            sa,
          );
          const b = tf.tensor(
            Array.from({ length: sb.reduce((x, y) => x * y, 1) }, (_, i) => Math.cos(i) + 2),
            sb,
          );
          return ops.map((op) => tf.reshape(op(a, b), [-1]));
        });
      await tf.setBackend("cpu");
      const ref = await Promise.all(run().map((t) => t.data()));
      await tf.setBackend("webgpu");
      installBoundedKernels("webgpu");
      const got = await Promise.all(run().map((t) => t.data()));
      ref.forEach((r, j) => {
        for (let i = 0; i < r.length; i++) {
          ok(
            Math.abs(r[i]! - got[j]![i]!) <= 1e-6 * Math.max(1, Math.abs(r[i]!)),
            `${sa} ${sb} op ${j}`,
          );
        }
      });
    }
    // A bool cast to float32 may stay stored as an integer: it must not reach our float shader.
    const masked = () =>
      tf.tidy(() => {
        const x = tf.tensor(Array.from({ length: 72 }, (_, i) => Math.sin(i)), [2, 3, 3, 4]);
        const v = tf.tensor(Array.from({ length: 8 }, (_, i) => i + 1), [2, 1, 1, 4]);
        return tf.reshape(tf.mul(v, tf.cast(tf.greater(x, 0), "float32")), [-1]);
      });
    await tf.setBackend("cpu");
    const want = await masked().data();
    await tf.setBackend("webgpu");
    installBoundedKernels("webgpu");
    assertEquals([...await masked().data()], [...want]);
    uninstallBoundedKernels("webgpu");
    await tf.setBackend("cpu");
  },
);

gpuTest(
  "groupedConv2d() of S models (one dispatch per direction on WebGPU) matches per-model convolutions on the CPU backend",
  async () => {
    await initTf({ backend: "auto", sizes: { batch: 4, height: 8, width: 8, channels: 1 } });
    // [models, batch per model, side, in channels, out channels, stride, padding, kernel]
    const cases = [
      [3, 4, 28, 1, 8, 1, "same", 3],
      [4, 3, 7, 32, 64, 1, "same", 3],
      [2, 4, 16, 6, 10, 2, "valid", 3],
      [3, 2, 9, 5, 7, 2, "same", 1],
      // Long reductions: 1,152 channel terms per output, 37,632 positions per filter element.
      [2, 2, 5, 128, 20, 1, "same", 3],
      [2, 48, 28, 1, 4, 1, "same", 3],
      // CNNSmall(3)'s channel counts (not multiples of 4: r32float weights in the strips).
      [4, 2, 14, 6, 12, 1, "same", 3],
      [2, 3, 9, 3, 5, 1, "valid", 3],
    ] as const;
    for (const [S, b, h, ci, co, st, pad, k] of cases) {
      const conv = (x: tf.Tensor4D, f: tf.Tensor) => groupedConv2d(x, f, [st, st], pad);
      await convsAgainstCpu(
        `case ${[S, b, h, ci, co, st, pad, k]}`,
        true, // the filter gradient runs on textures whatever the shape
        () =>
          tf.tidy(() => {
            const { y, gx, gf } = convAndGrads([S * b, h, h, ci], [S, k, k, ci, co], conv);
            return [y, gx, gf].map((t) => tf.reshape(t, [-1]));
          }),
        () => ok(hasGroupedConv(), "grouped kernels registered on WebGPU"),
      );
    }
    uninstallBoundedKernels("webgpu");
    ok(!hasGroupedConv(), "grouped kernels removed with the others");
    await tf.setBackend("cpu");
  },
);

gpuTest(
  "groupedConv2d() texture kernels take the batch as a uniform: a new batch size compiles nothing and matches the CPU backend",
  async () => {
    await initTf({ backend: "auto", sizes: { batch: 4, height: 8, width: 8, channels: 1 } });
    // [models, side, in channels, out channels, stride, padding]: forward blocks, strip input
    // gradient, per-tap and all-taps filter gradients, at stride 1 and 2.
    const cases = [
      [2, 9, 8, 12, 1, "same"],
      [3, 11, 4, 8, 2, "valid"],
      [2, 13, 3, 4, 1, "same"],
    ] as const;
    const convPipelines = () =>
      ["salienceBlockConv_", "salienceStripConv_", "salienceTexConvFilter_"]
        .reduce((a, p) => a + rawPipelinesCompiled(p), 0);
    for (const [S, h, ci, co, st, pad] of cases) {
      const conv = (x: tf.Tensor4D, f: tf.Tensor) => groupedConv2d(x, f, [st, st], pad);
      // The first batch compiles the pipelines; the later ones (smaller and larger) reuse them.
      for (const [i, b] of [3, 1, 5].entries()) {
        const before = convPipelines();
        await convsAgainstCpu(
          `batch ${b} of case ${[S, h, ci, co, st, pad]}`,
          true,
          () =>
            tf.tidy(() => {
              const { y, gx, gf } = convAndGrads([S * b, h, h, ci], [S, 3, 3, ci, co], conv);
              return [y, gx, gf].map((t) => tf.reshape(t, [-1]));
            }),
        );
        if (i > 0) {
          assertEquals(convPipelines(), before, `batch ${b} compiled new pipelines`);
        }
      }
    }
    uninstallBoundedKernels("webgpu");
    await tf.setBackend("cpu");
  },
);

gpuTest(
  "groupedConv2d() with a per-model bias (added in the forward kernel) matches conv + bias on the CPU backend, bias gradient included",
  async () => {
    await initTf({ backend: "auto", sizes: { batch: 4, height: 8, width: 8, channels: 1 } });
    // [models, batch per model, side, in channels, out channels, stride]: strips, r32float weights,
    // the per-pixel tiles (stride 2) and the storage-buffer path (3 output channels, stride 2).
    const cases = [
      [3, 4, 12, 4, 8, 1],
      [2, 3, 9, 3, 6, 1],
      [2, 4, 10, 8, 4, 2],
      [2, 2, 9, 2, 3, 2],
    ] as const;
    for (const [S, b, h, ci, co, st] of cases) {
      await convsAgainstCpu(
        `bias case ${[S, b, h, ci, co, st]}`,
        true, // the filter gradient runs on textures whatever the shape
        () =>
          tf.tidy(() => {
            const bias = tf.tensor2d(
              Array.from({ length: S * co }, (_, i) => Math.cos(i * 0.9)),
              [S, co],
            );
            const x = tf.tensor4d(
              Array.from({ length: S * b * h * h * ci }, (_, i) => Math.sin(i * 0.7)),
              [S * b, h, h, ci],
            );
            const f = tf.tensor(
              Array.from({ length: S * 9 * ci * co }, (_, i) => Math.cos(i * 1.3)),
              [S, 3, 3, ci, co],
            );
            const loss = (a: tf.Tensor, c: tf.Tensor, v: tf.Tensor) => {
              const y = groupedConv2d(a as tf.Tensor4D, c, [st, st], "same", v);
              return tf.sum(tf.mul(y, tf.sin(y)));
            };
            const y = groupedConv2d(x, f, [st, st], "same", bias);
            const [gx, gf, gb] = tf.grads(loss)([x, f, bias]);
            return [y, gx!, gf!, gb!].map((t) => tf.reshape(t, [-1]));
          }),
      );
    }
    uninstallBoundedKernels("webgpu");
    await tf.setBackend("cpu");
  },
);

gpuTest(
  "groupedConv2d() runs its input gradient only where the input needs one (not for an image)",
  async () => {
    await initTf({ backend: "auto", sizes: { batch: 4, height: 8, width: 8, channels: 1 } });
    await tf.setBackend("webgpu");
    installBoundedKernels("webgpu");
    const x = tf.tensor4d(Array.from({ length: 2 * 6 * 6 }, (_, i) => Math.sin(i)), [2, 6, 6, 1]);
    const f = tf.variable(tf.tensor(Array.from({ length: 2 * 9 * 4 }, (_, i) => Math.cos(i)), [
      2,
      3,
      3,
      1,
      4,
    ]));
    const loss = () => tf.sum(tf.square(groupedConv2d(x, f, [1, 1], "same"))) as tf.Scalar;
    const count = async (fn: () => void) => {
      const p = await tf.profile(fn);
      return (name: string) => p.kernels.filter((k) => k.name === name).length;
    };
    const onlyFilter = await count(() => tf.variableGrads(loss, [f]).grads[f.name]!.dispose());
    assertEquals(onlyFilter("SalienceGroupedConv2DBackpropFilter"), 1);
    assertEquals(onlyFilter("SalienceGroupedConv2DBackpropInput"), 0);
    const onlyInput = await count(() =>
      tf.grads((a: tf.Tensor) =>
        tf.sum(tf.square(groupedConv2d(a as tf.Tensor4D, f, [1, 1], "same")))
      )([x])[0]!.dispose()
    );
    assertEquals(onlyInput("SalienceGroupedConv2DBackpropInput"), 1);
    assertEquals(onlyInput("SalienceGroupedConv2DBackpropFilter"), 0);
    x.dispose();
    f.dispose();
    uninstallBoundedKernels("webgpu");
    await tf.setBackend("cpu");
  },
);

gpuTest(
  "installBoundedKernels() MaxPool and MaxPoolGrad match the CPU backend on textures and storage buffers, ties and odd sides included",
  async () => {
    await initTf({ backend: "auto", sizes: { batch: 4, height: 8, width: 8, channels: 1 } });
    // [shape, window, stride, padding]; the last two are not plain windows: tfjs's kernel, which
    // breaks ties unlike the CPU backend, so those inputs have none.
    const cases: [[number, number, number, number], number, number, "valid" | "same"][] = [
      [[2, 28, 28, 16], 2, 2, "valid"],
      [[3, 7, 7, 8], 2, 2, "valid"],
      [[2, 9, 6, 4], 3, 3, "valid"],
      [[128, 28, 28, 6], 2, 2, "valid"], // CNNSmall(3)'s first pool, S = 4 at batch 32
      [[3, 7, 9, 3], 2, 2, "valid"],
      [[2, 5, 5, 1], 2, 2, "valid"],
      [[2, 8, 8, 4], 3, 2, "same"],
      [[2, 6, 6, 6], 2, 3, "valid"],
    ];
    for (const [shape, k, s, pad] of cases) {
      const run = () =>
        tf.tidy(() => {
          const n = shape.reduce((a, b) => a * b, 1);
          // Rounded and ReLU'd: many ties, zeros among them.
          const raw = tf.tensor(Array.from({ length: n }, (_, i) => 3 * Math.sin(i * 0.61)), shape);
          const ours = k === s && pad === "valid";
          const x = (ours ? tf.relu(tf.round(raw)) : raw) as tf.Tensor4D;
          const g = tf.grad((a: tf.Tensor) => {
            const y = tf.maxPool(a as tf.Tensor4D, k, s, pad);
            return tf.sum(tf.mul(y, tf.cos(tf.reshape(tf.range(0, y.size), y.shape))));
          })(x);
          const y = tf.maxPool(raw as tf.Tensor4D, k, s, pad);
          return tf.concat([tf.reshape(g, [-1]), tf.reshape(y, [-1])]);
        });
      await tf.setBackend("cpu");
      const want = await run().data();
      await tf.setBackend("webgpu");
      for (const textures of [true, false]) {
        installBoundedKernels("webgpu", { textures });
        const got = await run().data();
        ok(relativeError(want, got) < 1e-6, `${shape} ${k}/${s} ${pad} textures ${textures}`);
      }
    }
    uninstallBoundedKernels("webgpu");
    await tf.setBackend("cpu");
  },
);

gpuTest(
  "installBoundedKernels() Tile of a per-channel vector matches the CPU backend",
  async () => {
    await initTf({ backend: "auto", sizes: { batch: 4, height: 8, width: 8, channels: 1 } });
    // [shape, reps]; the last two are other tilings: tfjs's kernel.
    const cases: [number[], number[]][] = [
      [[1, 1, 1, 16], [5, 7, 3, 1]],
      [[1, 8], [70001, 1]],
      [[2, 1, 8], [1, 3, 1]],
      [[1, 1, 4], [2, 2, 2]],
    ];
    for (const [shape, reps] of cases) {
      const run = () =>
        tf.tidy(() => {
          const n = shape.reduce((a, b) => a * b, 1);
          const x = tf.tensor(Array.from({ length: n }, (_, i) => Math.sin(i) + i), shape);
          return tf.reshape(tf.tile(x, reps), [-1]);
        });
      await tf.setBackend("cpu");
      const want = await run().data();
      await tf.setBackend("webgpu");
      installBoundedKernels("webgpu");
      assertEquals([...await run().data()], [...want], `${shape} × ${reps}`);
    }
    uninstallBoundedKernels("webgpu");
    await tf.setBackend("cpu");
  },
);

/** Float64 NHWC convolution, its input gradient and filter gradient for the cotangent `dy`. */
function convReference64(
  x: Float32Array,
  w: Float32Array,
  dy: Float32Array,
  g: {
    b: number;
    h: number;
    ci: number;
    co: number;
    k: number;
    s: number;
    pad: "same" | "valid" | number;
  },
) {
  const info = tf.backend_util.computeConv2DInfo(
    [g.b, g.h, g.h, g.ci],
    [g.k, g.k, g.ci, g.co],
    g.s,
    1,
    g.pad,
  );
  const { outHeight: oh, outWidth: ow } = info;
  const { top, left } = info.padInfo;
  const y = new Float64Array(g.b * oh * ow * g.co);
  const dx = new Float64Array(x.length), dw = new Float64Array(w.length);
  for (let n = 0; n < g.b; n++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const o = ((n * oh + oy) * ow + ox) * g.co;
        for (let kh = 0; kh < g.k; kh++) {
          const iy = oy * g.s - top + kh;
          if (iy < 0 || iy >= g.h) continue;
          for (let kw = 0; kw < g.k; kw++) {
            const ix = ox * g.s - left + kw;
            if (ix < 0 || ix >= g.h) continue;
            const xi = ((n * g.h + iy) * g.h + ix) * g.ci;
            for (let c = 0; c < g.ci; c++) {
              const wi = ((kh * g.k + kw) * g.ci + c) * g.co;
              const xv = x[xi + c]!;
              let acc = 0;
              for (let q = 0; q < g.co; q++) {
                y[o + q] = y[o + q]! + xv * w[wi + q]!;
                acc += dy[o + q]! * w[wi + q]!;
                dw[wi + q] = dw[wi + q]! + xv * dy[o + q]!;
              }
              dx[xi + c] = dx[xi + c]! + acc;
            }
          }
        }
      }
    }
  }
  return { y, dx, dw, outShape: [g.b, oh, ow, g.co] };
}

/**
 * A convolution case's operands for S models (x, w and the cotangent dy, each model's after the
 * previous one's; deterministic waves) and {@link convReference64} of each model, joined in the
 * same order. `outShape` is one model's.
 */
function convCase64(S: number, g: Parameters<typeof convReference64>[3]) {
  const { b, h, ci, co, k } = g;
  const wave = (n: number, f: number) =>
    Float32Array.from({ length: n }, (_, i) => Math.sin(i * f + 0.3));
  const o = tf.backend_util.computeConv2DInfo([b, h, h, ci], [k, k, ci, co], g.s, 1, g.pad);
  const xPer = b * h * h * ci, wPer = k * k * ci * co, per = b * o.outHeight * o.outWidth * co;
  const x = wave(S * xPer, 0.7), w = wave(S * wPer, 1.3), dy = wave(S * per, 0.11);
  const refs = Array.from({ length: S }, (_, m) =>
    convReference64(
      x.subarray(m * xPer, (m + 1) * xPer),
      w.subarray(m * wPer, (m + 1) * wPer),
      dy.subarray(m * per, (m + 1) * per),
      g,
    ));
  const joined = (f: (r: (typeof refs)[number]) => Float64Array) => {
    const out = new Float64Array(S * f(refs[0]!).length);
    refs.forEach((r, m) => out.set(f(r), m * f(r).length));
    return out;
  };
  return {
    x,
    w,
    dy,
    outShape: refs[0]!.outShape as [number, number, number, number],
    y: joined((r) => r.y),
    dx: joined((r) => r.dx),
    dw: joined((r) => r.dw),
  };
}

gpuTest(
  "installBoundedKernels() convolutions on textures and on storage buffers match a float64 reference at CNNSmall(8)'s shapes",
  async () => {
    await initTf({ backend: "auto", sizes: { batch: 4, height: 8, width: 8, channels: 1 } });
    await tf.setBackend("webgpu");
    // [batch, side, in channels, out channels, stride, padding, kernel]: CNNSmall(8)'s layers at
    // batch 64 (28×28×1 inputs), a strided one, and a filter gradient over 67,424 positions.
    const cases = [
      [64, 28, 1, 8, 1, "same", 3],
      [64, 28, 8, 16, 1, "same", 3],
      [64, 14, 16, 32, 1, "same", 3],
      [64, 7, 32, 64, 1, "same", 3],
      [5, 9, 12, 20, 2, "valid", 3],
      [86, 28, 4, 4, 1, "same", 3],
      // The default sweep's few-channel layers (all-taps filter gradient), and past the loop cap.
      [32, 28, 3, 6, 1, "same", 3],
      [32, 28, 2, 4, 1, "same", 3],
      [90, 28, 1, 3, 1, "same", 3],
      [7, 16, 3, 6, 2, "valid", 3],
      // Stride 2 in blocks (forward) and row strips (input gradient): ResNetSmall(4)'s stem (7×7 on the 3-padded 28×28 image, one
      // target channel in the input gradient: the narrow layout), a stage's first 3×3 and its
      // 1×1 shortcut, odd sides and 'same' padding (uneven), r32float sources (2, 3 channels).
      [32, 34, 1, 4, 2, "valid", 7],
      [16, 34, 1, 2, 2, "valid", 7],
      [16, 16, 4, 8, 2, "valid", 3],
      [16, 14, 4, 8, 2, "valid", 1],
      [9, 15, 3, 8, 2, "same", 7],
      [6, 13, 6, 4, 2, "same", 3],
      [5, 12, 2, 12, 2, "same", 4],
      // The narrow input gradient at stride 1 (CNNSmall's first layer, 1 → 8; 3 → 4).
      [8, 28, 1, 8, 1, "same", 3],
      [8, 11, 3, 4, 1, "same", 3],
      // Reductions past Mesa's 65,535 iterations, on textures at stride 2: 49 · 1,400 = 68,600
      // terms per forward output, up to 16 · 4,200 = 67,200 per input-gradient output.
      [1, 9, 1400, 4, 2, "same", 7],
      [1, 9, 1, 4200, 2, "same", 7],
    ] as const;
    for (const [b, h, ci, co, s, pad, k] of cases) {
      const ref = convCase64(1, { b, h, ci, co, k, s, pad });
      const { x, w, dy } = ref;
      // f32 accumulation over ≤ 67,424 terms against float64 (seen: ≤ 1.2e-5, both paths).
      await onEachConvPath(
        `case ${[b, h, ci, co, s, pad, k]}`,
        [ref.y, ref.dx, ref.dw],
        () =>
          Promise.all(
            tf.tidy(() => {
              const xt = tf.tensor4d(x, [b, h, h, ci]), wt = tf.tensor4d(w, [k, k, ci, co]);
              const dyt = tf.tensor4d(dy, ref.outShape);
              const [gx, gw] = tf.grads((a: tf.Tensor, c: tf.Tensor) =>
                tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, c as tf.Tensor4D, s, pad), dyt))
              )([xt, wt]);
              return [tf.conv2d(xt, wt, s, pad), gx!, gw!];
            }).map(async (t) => {
              const v = await t.data();
              t.dispose();
              return v;
            }),
          ),
        // Both forwards, the input gradient and the filter gradient on textures, any stride.
        (textures) => textures ? 4 : 0,
        5e-5,
        // The per-pixel tiles on storage buffers loop over taps × channels in one invocation, so
        // reductions past the cap run on textures only (the assertion refuses them there).
        k * k * (1 + Math.max(ci, co)) > LOOP_CAP ? CONV_PATHS.slice(0, 1) : CONV_PATHS,
      );
    }
    uninstallBoundedKernels("webgpu");
    await tf.setBackend("cpu");
  },
);

gpuTest(
  "groupedConv2d() of S > 1 models matches a float64 reference per model, strided, padded and past the loop cap",
  async () => {
    await initTf({ backend: "auto", sizes: { batch: 4, height: 8, width: 8, channels: 1 } });
    await tf.setBackend("webgpu");
    installBoundedKernels("webgpu");
    // [models, batch per model, side, in channels, out channels, stride, padding, kernel]: odd
    // sides (partial row blocks and column strips), stride 2, and 49 · 1,400 = 68,600 terms per
    // forward output (past Mesa's 65,535 iterations if one loop did them).
    const cases = [
      [3, 2, 9, 8, 12, 2, "same", 3],
      [2, 3, 11, 4, 4, 1, "valid", 3],
      [2, 2, 13, 12, 20, 1, "same", 3],
      [2, 1, 9, 1400, 4, 2, "same", 7],
    ] as const;
    for (const [S, b, h, ci, co, s, pad, k] of cases) {
      const ref = convCase64(S, { b, h, ci, co, k, s, pad });
      const { x, w, dy } = ref, [, oh, ow] = ref.outShape;
      const before = textureConvDispatches();
      const got = await Promise.all(
        tf.tidy(() => {
          const xt = tf.tensor4d(x, [S * b, h, h, ci]), wt = tf.tensor(w, [S, k, k, ci, co]);
          const dyt = tf.tensor4d(dy, [S * b, oh, ow, co]);
          const [gx, gw] = tf.grads((a: tf.Tensor, c: tf.Tensor) =>
            tf.sum(tf.mul(groupedConv2d(a as tf.Tensor4D, c, [s, s], pad), dyt))
          )([xt, wt]);
          return [groupedConv2d(xt, wt, [s, s], pad), gx!, gw!];
        }).map(async (t) => {
          const v = await t.data();
          t.dispose();
          return v;
        }),
      );
      // Two forwards, the input gradient and the filter gradient, all on textures.
      assertEquals(textureConvDispatches() - before, 4);
      // f32 accumulation over ≤ 68,600 terms against float64.
      [ref.y, ref.dx, ref.dw].forEach((r, j) => {
        const e = relativeError(r, got[j]!);
        ok(e < 5e-5, `case ${[S, b, h, ci, co, s, pad, k]}, output ${j}: ${e}`);
      });
    }
    uninstallBoundedKernels("webgpu");
    await tf.setBackend("cpu");
  },
);

gpuTest(
  "Stride-1 input gradients run as forward blocks over the rotated filter and match a float64 reference, one model and S > 1",
  async () => {
    await initTf({ backend: "auto", sizes: { batch: 4, height: 8, width: 8, channels: 1 } });
    await tf.setBackend("webgpu");
    installBoundedKernels("webgpu");
    // [models, batch per model, side, in channels, out channels, padding, kernel]: 'same' 3×3
    // (pad 1), 5×5 (pad 2) and 4×4 (pad 1 above, 2 below: uneven), 1×1, 'valid' (the rotated
    // filter's padding KH − 1), explicit pads 2 and 3 on a 3×3 (rotated padding 0 and −1), sides
    // that leave partial 7×7 blocks, channel counts off multiples of 4 (r32float dy and weights).
    const cases = [
      [1, 3, 10, 8, 12, "same", 3],
      [1, 2, 11, 6, 5, "same", 5],
      [1, 2, 9, 8, 4, "valid", 1],
      [1, 2, 10, 4, 8, 2, 3],
      [1, 2, 8, 4, 4, 3, 3],
      [3, 2, 10, 8, 16, "same", 3],
      [2, 3, 13, 12, 8, "same", 5],
      [4, 2, 9, 4, 8, "same", 4],
      [2, 2, 7, 16, 32, "valid", 3],
      [2, 2, 6, 7, 6, "same", 1],
    ] as const;
    for (const [S, b, h, ci, co, pad, k] of cases) {
      const label = `case ${[S, b, h, ci, co, pad, k]}`;
      const ref = convCase64(S, { b, h, ci, co, k, s: 1, pad });
      const { x, w, dy } = ref, [, oh, ow] = ref.outShape;
      const blocks = rawPipelinesCompiled("salienceBlockConv_input_");
      const strips = rawPipelinesCompiled("salienceStripConv_input_");
      const before = textureConvDispatches();
      const gx = tf.tidy(() => {
        const xt = tf.tensor4d(x, [S * b, h, h, ci]);
        const dyt = tf.tensor4d(dy, [S * b, oh, ow, co]);
        const conv = (a: tf.Tensor4D) =>
          S === 1
            ? tf.conv2d(a, tf.tensor4d(w, [k, k, ci, co]), 1, pad)
            : groupedConv2d(a, tf.tensor(w, [S, k, k, ci, co]), [1, 1], pad as "same" | "valid");
        return tf.grad((a: tf.Tensor) => tf.sum(tf.mul(conv(a as tf.Tensor4D), dyt)))(xt);
      });
      const got = await gx.data();
      gx.dispose();
      // The forward and the input gradient (no filter gradient) ran on textures, the input
      // gradient as a new block pipeline and no strip one.
      assertEquals(textureConvDispatches() - before, 2, label);
      assertEquals(rawPipelinesCompiled("salienceBlockConv_input_") - blocks, 1, label);
      assertEquals(rawPipelinesCompiled("salienceStripConv_input_"), strips, label);
      // f32 sums of ≤ 25 · 12 = 300 terms against float64.
      const e = relativeError(ref.dx, got);
      ok(e < 1e-5, `${label}: ${e}`);
    }
    uninstallBoundedKernels("webgpu");
    await tf.setBackend("cpu");
  },
);

gpuTest(
  "addRelu() on WebGPU is relu(a + b) and its gradient in one kernel each way, on textures and buffers",
  async () => {
    await initTf({ backend: "webgpu", sizes: { batch: 4, height: 8, width: 8, channels: 1 } });
    try {
      // 4·5·6·8 = 960 elements (rgba textures) and 3·5·7 = 105 (storage buffers, a short last vec4).
      for (const shape of [[4, 5, 6, 8], [3, 5, 7]]) {
        const n = shape.reduce((x, y) => x * y, 1);
        const a = Float32Array.from({ length: n }, (_, i) => Math.sin(1.7 * i) * 2);
        const b = Float32Array.from({ length: n }, (_, i) => Math.cos(0.9 * i));
        const dy = Float32Array.from({ length: n }, (_, i) => 1 + (i % 7));
        const run = (fused: boolean) =>
          tf.tidy(() => {
            const at = tf.tensor(a, shape), bt = tf.tensor(b, shape), dt = tf.tensor(dy, shape);
            const f = (p: tf.Tensor, q: tf.Tensor) =>
              tf.sum(tf.mul(fused ? addRelu(p, q) : tf.relu(tf.add(p, q)), dt));
            const y = fused ? addRelu(at, bt) : tf.relu(tf.add(at, bt));
            const [ga, gb] = tf.grads(f)([at, bt]);
            return [y, ga!, gb!];
          });
        const raw = rawPipelinesCompiled("salienceAddRelu");
        const prof = await tf.profile(() => run(true));
        // Textures (raw pipelines, one per direction) only where the size is a multiple of 4.
        assertEquals(
          rawPipelinesCompiled("salienceAddRelu") - raw,
          n % 4 === 0 ? 2 : 0,
          `${shape}`,
        );
        const names = prof.kernels.map((k) => k.name);
        ok(
          names.includes("SalienceAddRelu") && names.includes("SalienceAddReluGrad"),
          names.join(),
        );
        ok(!names.includes("Relu") && !names.includes("Step"), names.join());
        tf.dispose(prof.result as tf.Tensor[]);
        const got = run(true), ref = run(false);
        for (let i = 0; i < 3; i++) {
          const [g, r] = [await got[i]!.data(), await ref[i]!.data()];
          // Forward: a + b rounded once either way; the gradient is dy or exactly 0.
          assertEquals(Array.from(g), Array.from(r), `${shape}: output ${i}`);
        }
        ok(
          (await got[1]!.data()).some((v) => v === 0) && (await got[1]!.data()).some((v) => v > 0),
        );
        tf.dispose([...got, ...ref]);
      }
    } finally {
      await tf.setBackend("cpu");
    }
  },
);

gpuTest(
  "globalMaxPool() on WebGPU: tfjs's max over H, W and its gradient, ties included, in one kernel back",
  async () => {
    await initTf({ backend: "webgpu", sizes: { batch: 4, height: 8, width: 8, channels: 1 } });
    try {
      // C = 8: our gradient kernel; C = 6: tfjs's ops (C not a multiple of 4).
      for (const [n, h, w, c] of [[3, 5, 7, 8], [2, 3, 3, 6]] as const) {
        const size = n * h * w * c;
        // Values on a coarse grid, so channels hold tied maxima.
        const x = Float32Array.from({ length: size }, (_, i) => Math.round(3 * Math.sin(1.3 * i)));
        const dy = Float32Array.from({ length: n * c }, (_, i) => 1 + i);
        const run = (ours: boolean) =>
          tf.tidy(() => {
            const xt = tf.tensor4d(x, [n, h, w, c]), dt = tf.tensor2d(dy, [n, c]);
            const pool = (a: tf.Tensor) =>
              ours ? globalMaxPool(a as tf.Tensor4D) : tf.max(a, [1, 2]) as tf.Tensor2D;
            return [pool(xt), tf.grad((a: tf.Tensor) => tf.sum(tf.mul(pool(a), dt)))(xt)];
          });
        const prof = await tf.profile(() => run(true));
        const names = prof.kernels.map((k) => k.name);
        tf.dispose(prof.result as tf.Tensor[]);
        ok(names.includes("SalienceGlobalMaxGrad") === (c % 4 === 0), `${c}: ${names.join()}`);
        ok(c % 4 !== 0 || !names.includes("Equal"), names.join());
        const got = run(true), ref = run(false);
        for (let i = 0; i < 2; i++) {
          assertEquals(Array.from(await got[i]!.data()), Array.from(await ref[i]!.data()), `${c}`);
        }
        const g = await got[1]!.data();
        const winners = g.filter((v) => v !== 0).length;
        ok(winners > n * c, `ties get the gradient too (${winners} of ${n * c} channels' maxima)`);
        tf.dispose([...got, ...ref]);
      }
    } finally {
      await tf.setBackend("cpu");
    }
  },
);

gpuTest(
  "Stride-1 filter gradients walk output rows and match a float64 reference, one model and S > 1, past the loop cap",
  async () => {
    await initTf({ backend: "auto", sizes: { batch: 4, height: 8, width: 8, channels: 1 } });
    await tf.setBackend("webgpu");
    installBoundedKernels("webgpu");
    // [models, batch per model, side, in channels, out channels, stride, padding, kernel, walks
    // rows]: channel counts off multiples of 4 (r32float x and dy, partial channel tiles), fewer
    // than 4 in-channels (every tap row per invocation), an explicit padding of 2, 'valid' 5×5,
    // an uneven 4×4, 14 columns (16 out-channels per tile), 2 · 86 · 784 = 134,848 positions
    // (67,424 per model: several row chunks, past Mesa's 65,535 iterations if one loop did
    // them); strided columns and 1×1 taps keep the per-tap layout.
    const cases = [
      [1, 3, 10, 5, 6, 1, "same", 3, true],
      [3, 2, 14, 8, 20, 1, "same", 3, true],
      [1, 2, 9, 3, 8, 1, 2, 3, true],
      [2, 2, 8, 4, 4, 1, "valid", 5, true],
      [2, 3, 10, 6, 8, 1, "same", 4, true],
      [2, 86, 28, 1, 8, 1, "same", 3, true],
      [2, 2, 9, 8, 12, 2, "same", 3, false],
      [2, 2, 9, 8, 12, 1, "same", 1, false],
    ] as const;
    for (const [S, b, h, ci, co, s, pad, k, rows] of cases) {
      const label = `case ${[S, b, h, ci, co, s, pad, k]}`;
      const ref = convCase64(S, { b, h, ci, co, k, s, pad });
      const { x, w, dy } = ref, [, oh, ow] = ref.outShape;
      const compiled = rawPipelinesCompiled("salienceTexConvFilterRows_");
      const before = textureConvDispatches();
      const gw = tf.tidy(() => {
        const xt = tf.tensor4d(x, [S * b, h, h, ci]);
        const dyt = tf.tensor4d(dy, [S * b, oh, ow, co]);
        const conv = (c: tf.Tensor) =>
          S === 1
            ? tf.conv2d(xt, c as tf.Tensor4D, s, pad)
            : groupedConv2d(xt, c, [s, s], pad as "same" | "valid");
        const wt = S === 1 ? tf.tensor4d(w, [k, k, ci, co]) : tf.tensor(w, [S, k, k, ci, co]);
        return tf.grad((c: tf.Tensor) => tf.sum(tf.mul(conv(c), dyt)))(wt);
      });
      const got = await gw.data();
      gw.dispose();
      // The forward and the filter gradient ran on textures, the filter gradient as a new
      // row-walk pipeline where the layout applies and as none otherwise.
      assertEquals(textureConvDispatches() - before, 2, label);
      assertEquals(
        rawPipelinesCompiled("salienceTexConvFilterRows_") - compiled,
        rows ? 1 : 0,
        label,
      );
      // f32 accumulation over ≤ 67,424 terms against float64.
      const e = relativeError(ref.dw, got);
      ok(e < 5e-5, `${label}: ${e}`);
    }
    uninstallBoundedKernels("webgpu");
    await tf.setBackend("cpu");
  },
);
