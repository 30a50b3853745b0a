import { deepStrictEqual as assertEquals, ok, rejects } from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { initTf } from "../../lib/tf/mod.ts";
import { createModel } from "../../lib/models/mod.ts";
import {
  attribute,
  predictLogits,
  SALIENCE_METHODS,
  type SalienceMethod,
  type SalienceScalar,
  smoothGradNoise,
} from "../../lib/salience/mod.ts";
import { readNpy, writeNpy } from "../../lib/npy/mod.ts";
import { seededUniform } from "../../lib/stats/mod.ts";
import { testNeeding } from "../_shared/requires.ts";

await initTf({ backend: "cpu" });

const H = 3, W = 2, C = 2, PER = H * W * C, CLASSES = 3;
const u = seededUniform(11);
const rand = (n: number, scale = 1) =>
  Float32Array.from({ length: n }, () => (2 * u() - 1) * scale);

/** A hand-built tfjs MLP on the flattened H×W×C input with the given [in, out] kernels. */
function mlp(kernels: { w: Float32Array; b: Float32Array; out: number }[]): tfl.LayersModel {
  const layers: tfl.layers.Layer[] = [tfl.layers.flatten({ inputShape: [H, W, C] })];
  kernels.forEach((k, i) =>
    layers.push(tfl.layers.dense({
      units: k.out,
      activation: i < kernels.length - 1 ? "relu" : "linear",
    }))
  );
  const m = tfl.sequential({ layers });
  let fan = PER;
  m.setWeights(kernels.flatMap((k) => {
    const t = [tf.tensor2d(k.w, [fan, k.out]), tf.tensor1d(k.b)];
    fan = k.out;
    return t;
  }));
  return m;
}

const N = 4;
const images = rand(N * PER, 1.5);
const labels = new Int32Array([0, 2, 1, 2]);
const linearW = rand(PER * CLASSES), linearB = rand(CLASSES);
const linear = mlp([{ w: linearW, b: linearB, out: CLASSES }]);
const deepLayers = [
  { w: rand(PER * 10, 0.6), b: rand(10, 0.2), out: 10 },
  { w: rand(10 * 8, 0.6), b: rand(8, 0.2), out: 8 },
  { w: rand(8 * CLASSES, 0.6), b: rand(CLASSES, 0.2), out: CLASSES },
];
const deep = mlp(deepLayers);
const SG = { method: "smoothgrad", samples: 5, sigma: 0.2, seed: 7 } as const;
const IG_BASE = [0.25, -0.5];
const IG = { method: "integrated-gradients", steps: 6, baseline: IG_BASE } as const;
const METHODS: SalienceMethod[] = [{ method: "gradient" }, { method: "gradient-x-input" }, SG, IG];

function assertNear(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string) {
  assertEquals(a.length, b.length, `${what}: lengths`);
  let scale = 0, worst = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]!));
    worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  }
  ok(scale > 0, `${what}: expected a nonzero reference`);
  ok(worst <= tol * Math.max(1, scale), `${what}: worst error ${worst} (scale ${scale})`);
}

Deno.test("attribute() equals the closed forms on a linear model (true-class logit)", async () => {
  const data = { images, labels };
  const want = (f: (i: number, j: number, wy: number) => number) =>
    Float32Array.from({ length: N * PER }, (_, p) => {
      const i = Math.floor(p / PER), j = p % PER;
      return f(i, j, linearW[j * CLASSES + labels[i]!]!);
    });
  const opts = { layout: "hwc" as const, batchSize: 7 };
  const grad = await attribute(linear, data, { method: "gradient" }, opts);
  assertNear(grad.values, want((_i, _j, wy) => wy), 1e-6, "gradient = W_y");
  const gxi = await attribute(linear, data, { method: "gradient-x-input" }, opts);
  assertNear(gxi.values, want((i, j, wy) => wy * images[i * PER + j]!), 1e-6, "g ⊙ x");
  const sg = await attribute(linear, data, SG, opts);
  assertNear(sg.values, want((_i, _j, wy) => wy), 1e-5, "SmoothGrad of a linear map = W_y");
  const ig = await attribute(linear, data, IG, opts);
  const igWant = want((i, j, wy) => (images[i * PER + j]! - IG_BASE[j % C]!) * wy);
  assertNear(ig.values, igWant, 1e-5, "IG = (x − x′) ⊙ W_y");
  ok(ig.completeness!.maxAbsError < 1e-4, `completeness ${ig.completeness!.maxAbsError}`);
  for (const r of [grad, gxi, sg]) assertEquals(r.completeness, null);
});

Deno.test("attribute() in C×H×W layout is the H×W×C result transposed", async () => {
  for (const method of METHODS) {
    const hwc = await attribute(deep, { images, labels }, method, { layout: "hwc" });
    const chw = await attribute(deep, { images, labels }, method);
    for (let i = 0; i < N; i++) {
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          for (let c = 0; c < C; c++) {
            assertEquals(
              chw.values[i * PER + (c * H + y) * W + x],
              hwc.values[i * PER + (y * W + x) * C + c],
            );
          }
        }
      }
    }
  }
});

/** The scalar of one sample from f32 logits, in f64. */
function scalarOf(z: Float32Array, y: number, scalar: SalienceScalar): number {
  const m = Math.max(...z);
  const sum = z.reduce((a, v) => a + Math.exp(v - m), 0);
  const logP = z[y]! - m - Math.log(sum);
  return scalar === "true-class-logit"
    ? z[y]!
    : scalar === "true-class-probability"
    ? Math.exp(logP)
    : -logP;
}

/**
 * Central finite differences of the scalar at `points` (rows of PER values, sample `of[r]`'s
 * label) for coordinates `coords`, all in one batched forward pass.
 */
async function finiteDifferences(
  points: Float32Array[],
  of: number[],
  coords: number[],
  scalar: SalienceScalar,
): Promise<number[][]> {
  const h = 2e-3, batch = new Float32Array(points.length * coords.length * 2 * PER);
  let r = 0;
  for (const p of points) {
    for (const j of coords) {
      for (const sgn of [1, -1]) {
        batch.set(p, r * PER);
        batch[r * PER + j]! += sgn * h;
        r++;
      }
    }
  }
  const z = await predictLogits(deep, batch);
  const s = (row: number, y: number) =>
    scalarOf(z.subarray(row * CLASSES, (row + 1) * CLASSES), y, scalar);
  return points.map((_, pi) =>
    coords.map((_, ci) => {
      const row = (pi * coords.length + ci) * 2;
      return (s(row, labels[of[pi]!]!) - s(row + 1, labels[of[pi]!]!)) / (2 * h);
    })
  );
}

Deno.test("attribute() matches finite differences on a small ReLU network for every method", async () => {
  const coords = [0, 3, 5, 8, 11];
  for (const scalar of ["true-class-probability", "loss"] as const) {
    const opts = { scalar, layout: "hwc" as const, batchSize: 5 };
    const at = async (m: SalienceMethod) =>
      (await attribute(deep, { images, labels }, m, opts)).values;
    const [g, gxi, sg, ig] = [
      await at(METHODS[0]!),
      await at(METHODS[1]!),
      await at(SG),
      await at(IG),
    ];
    for (let i = 0; i < N; i++) {
      const x = images.slice(i * PER, (i + 1) * PER);
      const fdX = (await finiteDifferences([x], [i], coords, scalar))[0]!;
      // SmoothGrad: the mean finite-difference gradient at the same noisy copies.
      let lo = Infinity, hi = -Infinity;
      for (const v of x) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
      const noise = smoothGradNoise(SG, i, PER);
      const noisy = Array.from(
        { length: SG.samples },
        (_, j) => x.map((v, t) => v + SG.sigma * (hi - lo) * noise[j * PER + t]!),
      );
      const fdNoisy = await finiteDifferences(noisy, noisy.map(() => i), coords, scalar);
      // IG: (x − x′) times the mean finite-difference gradient at the midpoints.
      const path = Array.from(
        { length: IG.steps },
        (_, j) => x.map((v, t) => IG_BASE[t % C]! + ((j + 0.5) / IG.steps) * (v - IG_BASE[t % C]!)),
      );
      const fdPath = await finiteDifferences(path, path.map(() => i), coords, scalar);
      const got = (a: Float32Array) => coords.map((j) => a[i * PER + j]!);
      const mean = (rows: number[][], c: number) =>
        rows.reduce((a, r) => a + r[c]!, 0) / rows.length;
      const tol = 2e-3;
      assertNear(got(g), fdX, tol, `${scalar} gradient, sample ${i}`);
      assertNear(got(gxi), coords.map((j, c) => fdX[c]! * x[j]!), tol, `${scalar} g ⊙ x, ${i}`);
      assertNear(
        got(sg),
        coords.map((_, c) => mean(fdNoisy, c)),
        tol,
        `${scalar} SmoothGrad, ${i}`,
      );
      assertNear(
        got(ig),
        coords.map((j, c) => (x[j]! - IG_BASE[j % C]!) * mean(fdPath, c)),
        tol,
        `${scalar} IG, ${i}`,
      );
    }
  }
});

Deno.test("attribute() Integrated Gradients' completeness error falls with the steps and is measured", async () => {
  const run = (steps: number) =>
    attribute(
      deep,
      { images, labels },
      { method: "integrated-gradients", steps, baseline: "zero" },
      {
        scalar: "true-class-probability",
      },
    );
  const coarse = (await run(1)).completeness!, fine = (await run(128)).completeness!;
  // Independent check of delta: s(x) − s(0) from the logits.
  const zx = await predictLogits(deep, images),
    z0 = await predictLogits(deep, new Float32Array(PER));
  for (let i = 0; i < N; i++) {
    const d = scalarOf(zx.subarray(i * 3, i * 3 + 3), labels[i]!, "true-class-probability") -
      scalarOf(z0, labels[i]!, "true-class-probability");
    ok(Math.abs(fine.delta[i]! - d) < 1e-6);
  }
  ok(
    coarse.relativeError > 10 * fine.relativeError,
    `${coarse.relativeError} vs ${fine.relativeError}`,
  );
  ok(fine.relativeError < 1e-2, `relative completeness error ${fine.relativeError} at 128 steps`);
});

Deno.test("attribute() fixes the predicted class at x, and SmoothGrad with σ = 0 is the gradient", async () => {
  const z = await predictLogits(linear, images);
  const pred = Int32Array.from({ length: N }, (_, i) => {
    const r = Array.from(z.subarray(i * 3, i * 3 + 3));
    return r.indexOf(Math.max(...r));
  });
  const a = await attribute(linear, { images, labels }, IG, { scalar: "predicted-class-logit" });
  const b = await attribute(linear, { images, labels: pred }, IG);
  assertEquals(Array.from(a.values), Array.from(b.values));
  const g = await attribute(deep, { images, labels }, { method: "gradient" });
  const s0 = await attribute(deep, { images, labels }, { ...SG, sigma: 0 });
  assertNear(s0.values, g.values, 1e-6, "σ = 0");
  const s1 = await attribute(deep, { images, labels }, SG, { batchSize: 3 });
  const s2 = await attribute(deep, { images, labels }, SG, { batchSize: 64 });
  assertNear(s1.values, s2.values, 1e-6, "noise independent of batching");
});

Deno.test("attribute() rejects bad settings with errors that name them, and frees its tensors", async () => {
  const data = { images, labels };
  await rejects(attribute(deep, data, { method: "lime" } as never), RangeError);
  await rejects(attribute(deep, data, { ...SG, samples: 0 }), /samples is 0/);
  await rejects(attribute(deep, data, { ...IG, steps: 1.5 }), RangeError);
  await rejects(attribute(deep, data, { ...IG, baseline: [0] }), TypeError);
  await rejects(attribute(deep, { images, labels: new Int32Array([0]) }, IG), TypeError);
  await rejects(
    attribute(deep, { images, labels: new Int32Array([0, 1, 2, 3]).fill(5) }, SG),
    RangeError,
  );
  const before = tf.memory().numTensors;
  for (const m of METHODS) await attribute(deep, data, m, { batchSize: 4 });
  assertEquals(tf.memory().numTensors, before);
});

/** The first of `python3`, `/usr/bin/python3` that imports torch and numpy, or null. */
function torchPython(): string | null {
  for (const py of ["python3", "/usr/bin/python3"]) {
    try {
      const r = new Deno.Command(py, {
        args: ["-c", "import torch, numpy"],
        stdout: "null",
        stderr: "null",
      })
        .outputSync();
      if (r.success) return py;
    } catch { /* not installed */ }
  }
  return null;
}
const PY = torchPython();

testNeeding(PY !== null, "no python3 that imports torch and numpy", {
  name: "attribute() equals PyTorch's computation of every method on the same weights",
  async fn() {
    // python3 tests/salience/torch_methods.py DIR (float64 torch, same weights, noise, baseline)
    if (PY === null) throw new Error("python3 with torch and numpy is required under CI.");
    const dir = await Deno.makeTempDir();
    try {
      const scalars: SalienceScalar[] = ["true-class-logit", "loss"];
      let fan = PER;
      for (const [i, k] of deepLayers.entries()) {
        await writeNpy(join(dir, `w${i}.npy`), [fan, k.out], k.w);
        await writeNpy(join(dir, `b${i}.npy`), [k.out], k.b);
        fan = k.out;
      }
      await writeNpy(join(dir, "x.npy"), [N, PER], images);
      const noise = new Float32Array(N * SG.samples * PER);
      for (let i = 0; i < N; i++) noise.set(smoothGradNoise(SG, i, PER), i * SG.samples * PER);
      await writeNpy(join(dir, "noise.npy"), [N, SG.samples, PER], noise);
      await writeNpy(
        join(dir, "baseline.npy"),
        [PER],
        Float32Array.from({ length: PER }, (_, t) => IG_BASE[t % C]!),
      );
      await Deno.writeTextFile(
        join(dir, "case.json"),
        JSON.stringify({
          layers: deepLayers.length,
          labels: Array.from(labels),
          scalars,
          smoothgrad: { samples: SG.samples, sigma: SG.sigma },
          ig: { steps: IG.steps },
        }),
      );
      const script = fileURLToPath(new URL("./torch_methods.py", import.meta.url));
      const r = await new Deno.Command(PY, { args: [script, dir], stderr: "piped" }).output();
      ok(r.success, new TextDecoder().decode(r.stderr));
      for (const scalar of scalars) {
        for (const m of METHODS) {
          const ours = await attribute(deep, { images, labels }, m, { scalar, layout: "hwc" });
          const theirs = await readNpy(join(dir, `out-${scalar}-${m.method}.npy`));
          assertNear(ours.values, theirs.data, 1e-5, `${scalar} ${m.method} vs PyTorch`);
        }
      }
      assertEquals(SALIENCE_METHODS.length, METHODS.length);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("attribute() runs every method on a family model (CNNSmall with batch norm)", async () => {
  const shape = { channels: C, height: 8, width: 8 };
  const m = createModel({ family: "CNNSmall", k: 1, seed: 2, shape, classes: CLASSES });
  const x = rand(2 * 128), y = new Int32Array([1, 0]);
  for (const method of METHODS) {
    const r = await attribute(m, { images: x, labels: y }, method);
    ok(r.values.length === 2 * 128 && r.values.every(Number.isFinite), method.method);
  }
  m.dispose();
});
