// Conformance self-check: runs the ops training uses on the CPU backend and on a candidate
// backend from the same seeded inputs and reports each op's error relative to the CPU result.
import * as tf from "@tensorflow/tfjs-core";
import { batchNormTraining } from "./_batch_norm.ts";
import { uniformFloats } from "../stats/mod.ts";

/** Sizes the run will use; the check runs its reductions at exactly these sizes. */
export interface ConformanceSizes {
  /** Training batch size. */
  batch: number;
  height: number;
  width: number;
  /** Input channels of the image. */
  channels: number;
  /** Largest matMul inner dimension the run will use (default: max(batch, H·W·C)). */
  innerDim?: number;
}

/** One op's comparison against the CPU backend. */
export interface OpCheck {
  op: string;
  /** max |candidate − cpu| / max(1, max |cpu|). */
  maxError: number;
  pass: boolean;
  /** Human-readable size of the reduction checked. */
  size: string;
}

/** Relative error above which an op is declared wrong (f32 sums of ~10⁵ terms stay far below). */
export const CONFORMANCE_TOLERANCE = 2e-3;

type OpRun = { op: string; size: string; run: () => tf.Tensor };

function opList(sz: ConformanceSizes): OpRun[] {
  const { batch: b, height: h, width: w } = sz;
  const cin = 2, cout = 4;
  const inner = sz.innerDim ?? Math.max(b, h * w * sz.channels);
  const x = () => tf.tensor4d(uniformFloats(b * h * w * cin, 1), [b, h, w, cin]);
  const f = () => tf.tensor4d(uniformFloats(9 * cin * cout, 2), [3, 3, cin, cout]);
  const dy = () => tf.tensor4d(uniformFloats(b * h * w * cout, 3), [b, h, w, cout]);
  const nhw = `${b}×${h}×${w} = ${b * h * w}`;
  return [
    { op: "conv2d", size: nhw, run: () => tf.conv2d(x(), f(), 1, "same") },
    {
      op: "fusedConv2d",
      size: nhw,
      run: () =>
        tf.fused.conv2d({
          x: x(),
          filter: f(),
          strides: 1,
          pad: "same",
          bias: tf.tensor1d(uniformFloats(cout, 6)),
          activation: "relu",
        }),
    },
    {
      op: "conv2dFilterGrad",
      size: nhw,
      run: () => {
        const xs = x(), d = dy();
        return tf.grad((ff: tf.Tensor) =>
          tf.sum(tf.mul(tf.conv2d(xs, ff as tf.Tensor4D, 1, "same"), d))
        )(f());
      },
    },
    {
      op: "conv2dInputGrad",
      size: nhw,
      run: () => {
        const ff = f(), d = dy();
        return tf.grad((xx: tf.Tensor) =>
          tf.sum(tf.mul(tf.conv2d(xx as tf.Tensor4D, ff, 1, "same"), d))
        )(x());
      },
    },
    {
      op: "matMul",
      size: `inner ${inner}`,
      run: () =>
        tf.matMul(
          tf.tensor2d(uniformFloats(4 * inner, 4), [4, inner]),
          tf.tensor2d(uniformFloats(inner * 3, 5), [inner, 3]),
        ),
    },
    {
      op: "batchNorm",
      size: nhw,
      run: () => {
        const xs = x();
        const { mean, variance } = tf.moments(xs, [0, 1, 2]);
        const y = tf.batchNorm(xs, mean, variance, tf.zeros([cin]), tf.ones([cin]), 1e-5);
        return tf.concat([tf.reshape(y, [-1]), mean, variance]);
      },
    },
    {
      // Our fused kernels where registered (two groups, ReLU): output, moments and all gradients.
      op: "batchNormTraining",
      size: nhw,
      run: () => {
        const xs = x(), d = dy();
        const groups = b % 2 === 0 ? 2 : 1;
        const gamma = tf.tensor2d(uniformFloats(groups * cin, 7), [groups, cin]);
        const beta = tf.tensor2d(uniformFloats(groups * cin, 8), [groups, cin]);
        const opts = { groups, epsilon: 1e-5, relu: true };
        const probe = batchNormTraining(xs, gamma, beta, opts);
        const dyIn = tf.slice(d, [0, 0, 0, 0], [-1, -1, -1, cin]);
        const g = tf.grads((a: tf.Tensor, gm: tf.Tensor, bt: tf.Tensor) =>
          tf.sum(tf.mul(batchNormTraining(a, gm, bt, opts).y, dyIn))
        )([xs, gamma, beta]);
        return tf.concat(
          [probe.y, probe.mean, probe.variance, ...g].map((t) => tf.reshape(t, [-1])),
        );
      },
    },
    {
      op: "maxPool",
      size: nhw,
      run: () => {
        const xs = x();
        const pooled = tf.maxPool(xs, 2, 2, "valid");
        const g = tf.grad((z: tf.Tensor) =>
          tf.sum(tf.mul(tf.maxPool(z as tf.Tensor4D, 2, 2, "valid"), 1.5))
        )(xs);
        return tf.concat([tf.reshape(pooled, [-1]), tf.reshape(g, [-1])]);
      },
    },
    {
      op: "reductions",
      size: nhw,
      run: () => {
        const xs = x();
        return tf.concat([
          tf.reshape(tf.sum(xs, [0, 1, 2]), [-1]),
          tf.reshape(tf.max(xs, [1, 2]), [-1]),
          tf.reshape(tf.sum(tf.reshape(xs, [-1])), [1]),
          tf.reshape(tf.mean(xs, [1, 2, 3]), [-1]),
        ]);
      },
    },
  ];
}

async function runAll(backend: string, ops: OpRun[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const out: Float32Array[] = [];
  for (const o of ops) {
    const t = tf.tidy(o.run);
    out.push((await t.data()) as Float32Array);
    t.dispose();
  }
  return out;
}

/**
 * Runs every checked op on the CPU backend and on `backend`, returning per-op errors.
 * Leaves `backend` active. Cost: one forward/backward of each op at the given sizes on both.
 */
export async function checkConformance(
  backend: string,
  sizes: ConformanceSizes,
): Promise<OpCheck[]> {
  const ops = opList(sizes);
  const ref = await runAll("cpu", ops);
  const got = await runAll(backend, ops);
  return ops.map((o, i) => {
    const r = ref[i]!, g = got[i]!;
    let scale = 1, err = 0;
    for (let j = 0; j < r.length; j++) scale = Math.max(scale, Math.abs(r[j]!));
    for (let j = 0; j < r.length; j++) {
      const e = Math.abs(r[j]! - g[j]!);
      err = Math.max(err, Number.isNaN(e) ? Infinity : e);
    }
    if (r.length !== g.length) err = Infinity;
    const maxError = err / scale;
    return { op: o.op, maxError, pass: maxError <= CONFORMANCE_TOLERANCE, size: o.size };
  });
}
