import { deepStrictEqual as assertEquals, ok, throws } from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import {
  BATCH_NORM_KERNELS,
  BATCH_NORM_ROWS_PER_INVOCATION,
  batchNormTraining,
  batchNormTrainingReference,
  initTf,
  installBoundedKernels,
  LOOP_CAP,
} from "../../lib/tf/mod.ts";
import { gpuTest } from "../_shared/gpu.ts";

// Shapes [G·B, H, W, C] and groups G: rows per group and channel R = B·H·W. The first has
// R = 70 × 31 × 31 = 67,270, past LOOP_CAP and past 256² (263 partials, so two merge passes);
// the others channel counts that are not multiples of 4, one row per group, and one group.
const CASES: { shape: [number, number, number, number]; groups: number; relu: boolean }[] = [
  { shape: [140, 31, 31, 5], groups: 2, relu: true },
  { shape: [12, 5, 5, 8], groups: 3, relu: false },
  { shape: [6, 3, 3, 2], groups: 1, relu: true },
  { shape: [4, 1, 1, 3], groups: 4, relu: false },
];

function seeded(n: number, seed: number, scale = 1, offset = 0): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2147483648 - 1) * scale + offset;
  });
}

type Outputs = Record<"y" | "mean" | "variance" | "dx" | "dgamma" | "dbeta", Float32Array>;

async function run(
  c: (typeof CASES)[number],
  fused: boolean,
): Promise<{ out: Outputs; inputs: Record<string, Float32Array> }> {
  const [n, h, w, C] = c.shape, G = c.groups;
  // An offset of 3 against a spread of 2: a mean far from 0 tests the variance's cancellation.
  const x = seeded(n * h * w * C, 1, 2, 3), dy = seeded(x.length, 2);
  const gamma = seeded(G * C, 3, 0.5, 1), beta = seeded(G * C, 4, 0.5);
  const out = tf.tidy(() => {
    const xs = tf.tensor4d(x, c.shape), d = tf.tensor4d(dy, c.shape);
    const gm = tf.tensor2d(gamma, [G, C]), bt = tf.tensor2d(beta, [G, C]);
    const opts = { groups: G, epsilon: 1e-5, relu: c.relu, fused };
    const r = batchNormTraining(xs, gm, bt, opts);
    const [dx, dgamma, dbeta] = tf.grads((a: tf.Tensor, b: tf.Tensor, e: tf.Tensor) =>
      tf.sum(tf.mul(batchNormTraining(a, b, e, opts).y, d))
    )([xs, gm, bt]);
    return { y: r.y, mean: r.mean, variance: r.variance, dx, dgamma, dbeta } as Record<
      keyof Outputs,
      tf.Tensor
    >;
  });
  const read: Partial<Outputs> = {};
  for (const [k, t] of Object.entries(out)) {
    read[k as keyof Outputs] = (await t.data()) as Float32Array;
    t.dispose();
  }
  return { out: read as Outputs, inputs: { x, dy, gamma, beta } };
}

/** max |a − b| / max(1, max |b|). */
function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assertEquals(a.length, b.length);
  let e = 0, s = 1;
  for (let i = 0; i < b.length; i++) {
    e = Math.max(e, Math.abs(a[i]! - b[i]!));
    s = Math.max(s, Math.abs(b[i]!));
  }
  return e / s;
}

// f32 sums of up to 67,270 terms in a tree of 256-term partials, against f64 or another summation
// order: the largest difference seen is 1.2e-5 (dγ, whose terms cancel).
const TOLERANCE = 1e-4;

async function checkAgainstReference(fused: boolean): Promise<void> {
  for (const c of CASES) {
    const { out, inputs } = await run(c, fused);
    const ref = batchNormTrainingReference(inputs.x!, {
      groups: c.groups,
      channels: c.shape[3],
      gamma: inputs.gamma!,
      beta: inputs.beta!,
      epsilon: 1e-5,
      relu: c.relu,
      dy: inputs.dy!,
    });
    for (const k of Object.keys(out) as (keyof Outputs)[]) {
      const err = relError(out[k], ref[k]!);
      ok(err < TOLERANCE, `${fused ? "fused" : "tfjs"} ${c.shape} G=${c.groups} ${k}: ${err}`);
    }
  }
}

Deno.test("batchNormTrainingReference() gives zero-mean unit-variance outputs and a dβ of Σdy", () => {
  const x = seeded(2 * 50 * 3, 9, 4, -2), dy = seeded(x.length, 10);
  const r = batchNormTrainingReference(x, {
    groups: 2,
    channels: 3,
    gamma: [1, 1, 1, 1, 1, 1],
    beta: [0, 0, 0, 0, 0, 0],
    epsilon: 0,
    dy,
  });
  for (let gc = 0; gc < 6; gc++) {
    const g = Math.floor(gc / 3), c = gc % 3;
    let m = 0, v = 0, sd = 0;
    for (let row = 0; row < 50; row++) {
      const i = (g * 50 + row) * 3 + c;
      m += r.y[i]! / 50;
      v += r.y[i]! ** 2 / 50;
      sd += dy[i]!;
    }
    ok(Math.abs(m) < 1e-12 && Math.abs(v - 1) < 1e-12, `group ${g} channel ${c}: ${m}, ${v}`);
    ok(Math.abs(r.dbeta![gc]! - sd) < 1e-12);
    // Batch norm's output is invariant to shifting x, so Σ dx = 0 per group and channel.
    let sdx = 0;
    for (let row = 0; row < 50; row++) sdx += r.dx![(g * 50 + row) * 3 + c]!;
    ok(Math.abs(sdx) < 1e-9, `Σ dx = ${sdx}`);
  }
});

Deno.test("batchNormTraining() on tfjs's ops matches the f64 reference (CPU)", async () => {
  await tf.setBackend("cpu");
  await checkAgainstReference(false);
});

Deno.test("batchNormTraining() names the shape it needs", () => {
  throws(
    () =>
      batchNormTraining(tf.ones([3, 2]), tf.ones([2, 2]), tf.zeros([2, 2]), {
        groups: 2,
        epsilon: 1e-5,
      }),
    /divisible by 2 groups; got \[3,2\]/,
  );
  throws(
    () =>
      batchNormTraining(tf.ones([4, 2]), tf.ones([2]), tf.zeros([2, 2]), {
        groups: 2,
        epsilon: 1e-5,
      }),
    /gamma \[2, 2\]/,
  );
});

gpuTest(
  "batchNormTraining() fused on WebGPU matches the f64 reference and tfjs's ops, reductions past the loop cap",
  async () => {
    ok(70 * 31 * 31 > LOOP_CAP && 70 * 31 * 31 > BATCH_NORM_ROWS_PER_INVOCATION ** 2);
    await initTf({ backend: "webgpu", sizes: { batch: 16, height: 8, width: 8, channels: 1 } });
    try {
      ok(tf.getKernel(BATCH_NORM_KERNELS[0], "webgpu"), "fused kernels installed");
      const before = tf.memory().numTensors;
      await checkAgainstReference(true); // on textures
      assertEquals(tf.memory().numTensors, before, "no tensors leak");
      installBoundedKernels("webgpu", { textures: false });
      await checkAgainstReference(true); // as tfjs programs on storage buffers
      installBoundedKernels("webgpu");
      // Both paths on the same adapter, side by side.
      for (const c of CASES) {
        const a = (await run(c, true)).out, b = (await run(c, false)).out;
        for (const k of Object.keys(a) as (keyof Outputs)[]) {
          const err = relError(a[k], b[k]);
          ok(err < TOLERANCE, `fused vs tfjs ${c.shape} ${k}: ${err}`);
        }
      }
      // The fused path really ran: 3 of our dispatches per direction, not tfjs's ops.
      const p = await tf.profile(() => {
        tf.tidy(() => {
          const x = tf.tensor4d(seeded(2 * 6 * 6 * 4, 5), [2, 6, 6, 4]);
          tf.grad((a: tf.Tensor) =>
            tf.sum(batchNormTraining(a, tf.ones([1, 4]), tf.zeros([1, 4]), { epsilon: 1e-5 }).y)
          )(x);
        });
      });
      const names = p.kernels.map((k) => k.name);
      ok(
        names.includes(BATCH_NORM_KERNELS[0]) && names.includes(BATCH_NORM_KERNELS[1]),
        `${names}`,
      );
      ok(!names.includes("Square") && !names.includes("Rsqrt"), `tfjs's ops ran: ${names}`);
    } finally {
      await initTf({ backend: "cpu" });
    }
  },
);
