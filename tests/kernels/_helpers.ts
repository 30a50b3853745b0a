/** Shared fixtures of the kernel tests: seeded data, the backend variants, GPU-test gating. */
import { type Gpu, requestGpu } from "../../kernels/mod.ts";
import { seededUniform } from "../../lib/stats/mod.ts";
import { testNeeding } from "../_shared/requires.ts";
import { gpuTest, hasAdapter, NO_ADAPTER_REASON } from "../_shared/gpu.ts";

export { gpuTest, hasAdapter };

/** Seeded standard-normal-ish values (sum of uniforms) as float32. */
export function randomGrads(seed: number, length: number, scale = 1): Float32Array {
  const r = seededUniform(seed);
  const out = new Float32Array(length);
  for (let k = 0; k < length; k++) out[k] = (r() + r() + r() - 1.5) * scale;
  return out;
}

/** Largest absolute difference, treating equal NaNs as equal and a NaN mismatch as Infinity. */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let k = 0; k < a.length; k++) {
    const x = a[k]!, y = b[k]!;
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (Number.isNaN(x) !== Number.isNaN(y)) return Infinity;
      continue;
    }
    m = Math.max(m, Math.abs(x - y));
  }
  return m;
}

/** Throws with `message` unless `diff <= tol`. */
export function assertWithin(diff: number, tol: number, message: string): void {
  if (!(diff <= tol)) throw new Error(`${message}: max difference ${diff} exceeds ${tol}`);
}

/** A backend the suite runs every kernel test on. */
export interface Variant {
  name: "webgpu" | "cpu-reference";
  /** Options to pass to requestGpu for this variant. */
  options: { forceCpu?: boolean };
  /** Whether the variant needs an adapter. */
  needsAdapter: boolean;
}

/** Every backend variant: the suites loop over these rather than copying tests. */
export const variants: Variant[] = [
  { name: "webgpu", options: {}, needsAdapter: true },
  { name: "cpu-reference", options: { forceCpu: true }, needsAdapter: false },
];

/**
 * Registers a test for `variant`. A webgpu test with no adapter is skipped with a visible
 * reason in its name, except under CI=true, where it runs and fails.
 */
export function variantTest(
  variant: Variant,
  name: string,
  fn: (gpu: Gpu) => Promise<void> | void,
  extra: { gpuOptions?: Parameters<typeof requestGpu>[0] } = {},
): void {
  testNeeding(!variant.needsAdapter || hasAdapter, NO_ADAPTER_REASON, {
    name: `[${variant.name}] ${name}`,
    fn: async () => {
      const gpu = await requestGpu({ ...variant.options, ...extra.gpuOptions });
      try {
        if (variant.needsAdapter && gpu.backend !== "webgpu") {
          throw new Error(`CI=true and the webgpu variant cannot run: ${gpu.describe()}`);
        }
        await fn(gpu);
      } finally {
        gpu.destroy();
      }
    },
  });
}
