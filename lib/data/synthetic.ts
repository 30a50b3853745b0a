/**
 * A seeded synthetic image data set for tests: each class has a fixed random prototype image and
 * every sample is its class's prototype plus Gaussian noise, so even a linear model beats chance
 * after a few steps.
 *
 * @module
 */
import type { RawDataset } from "./types.ts";
import { mixSeed, mulberry32, normal } from "./_random.ts";

/** Options of `makeSyntheticRaw()`. */
export interface SyntheticOptions {
  /** Seed (default 0); equal seeds give equal bytes. */
  seed?: number;
  /** Channels (default 1). */
  channels?: number;
  /** Height and width (default 8). */
  size?: number;
  /** Number of classes (default 4). */
  numClasses?: number;
  /** Training images (default 256). */
  trainCount?: number;
  /** Test images (default 64). */
  testCount?: number;
  /** Weight of the class prototype in each image, 0–1 (default 0.5). */
  signal?: number;
  /** Standard deviation of the per-pixel Gaussian noise (default 0.25). */
  noise?: number;
}

function positiveInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`synthetic ${name} is ${value}, expected a positive integer`);
  }
  return value;
}

/**
 * Makes the synthetic raw data set: prototypes `P_k` with pixels uniform in [0, 1), sample i of a
 * split has label `i mod K` and pixels `x = signal·P_y + (1 − signal)·0.5 + noise·z`,
 * z ~ N(0, 1), float32, NHWC. Deterministic for a seed (mulberry32 streams per seed and split).
 *
 * Cost O((train + test)·size²·channels).
 *
 * @throws {RangeError} for a non-positive size, count, channel or class number
 * @example
 * ```ts
 * import { makeSyntheticRaw } from "./synthetic.ts";
 * const raw = makeSyntheticRaw({ seed: 3, trainCount: 8, testCount: 4 });
 * if (raw.train.pixels.length !== 8 * 8 * 8 || raw.train.labels[5] !== 1) throw new Error("bad");
 * ```
 */
export function makeSyntheticRaw(options: SyntheticOptions = {}): RawDataset {
  const seed = options.seed ?? 0;
  const channels = positiveInt(options.channels ?? 1, "channels");
  const size = positiveInt(options.size ?? 8, "size");
  const numClasses = positiveInt(options.numClasses ?? 4, "numClasses");
  const signal = options.signal ?? 0.5;
  const noise = options.noise ?? 0.25;
  const per = channels * size * size;
  const protoRand = mulberry32(mixSeed(seed, 1));
  const protos = Array.from(
    { length: numClasses },
    () => Float32Array.from({ length: per }, protoRand),
  );
  const split = (count: number, stream: number) => {
    const gauss = normal(mulberry32(mixSeed(seed, stream)));
    const pixels = new Float32Array(count * per);
    const labels = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      const y = i % numClasses;
      labels[i] = y;
      const p = protos[y] as Float32Array;
      for (let j = 0; j < per; j++) {
        pixels[i * per + j] = signal * (p[j] as number) + (1 - signal) * 0.5 + noise * gauss();
      }
    }
    return { pixels, labels, count };
  };
  return {
    name: "synthetic",
    source: `synthetic seed ${seed}`,
    classes: Array.from({ length: numClasses }, (_, k) => `class ${k}`),
    shape: { channels, height: size, width: size },
    train: split(positiveInt(options.trainCount ?? 256, "trainCount"), 2),
    test: split(positiveInt(options.testCount ?? 64, "testCount"), 3),
  };
}
