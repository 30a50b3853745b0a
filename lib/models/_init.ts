// Seeded initialisers that reproduce PyTorch's default layer initialisation.
import * as tfl from "@tensorflow/tfjs-layers";

type Initializer = ReturnType<typeof tfl.initializers.zeros>;

/** A deterministic stream of 31-bit seeds derived from one model seed (splitmix32). */
export class SeedStream {
  #state: number;
  constructor(seed: number) {
    this.#state = (seed ^ 0x9e3779b9) >>> 0;
  }
  next(): number {
    this.#state = (this.#state + 0x9e3779b9) >>> 0;
    let z = this.#state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) & 0x7fffffff;
  }
}

/**
 * PyTorch's default weight init for Conv/Linear: kaiming_uniform(a = √5), i.e.
 * U(−1/√fan_in, 1/√fan_in), which is variance scaling with scale 1/3, fan-in, uniform.
 */
export function torchKernelInit(seeds: SeedStream): Initializer {
  return tfl.initializers.varianceScaling({
    scale: 1 / 3,
    mode: "fanIn",
    distribution: "uniform",
    seed: seeds.next(),
  });
}

/** PyTorch's default bias init: U(−1/√fan_in, 1/√fan_in). */
export function torchBiasInit(fanIn: number, seeds: SeedStream): Initializer {
  const bound = 1 / Math.sqrt(fanIn);
  return tfl.initializers.randomUniform({ minval: -bound, maxval: bound, seed: seeds.next() });
}
