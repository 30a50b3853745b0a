/**
 * Salience convergence toolkit: WGSL kernels and statistics for studying how the input
 * salience of neural networks converges as their width grows. The root re-exports the kernels
 * (`./kernels`) and the statistics (`./stats`); the data sets, models, training, salience, store,
 * analysis and experiments have entry points of their own (see `deno.json` `exports`).
 *
 * @example
 * ```ts
 * import { requestGpu, sphereTail } from "./mod.ts";
 * const gpu = await requestGpu({ forceCpu: true });
 * if (gpu.backend !== "cpu" || !(sphereTail(0, 784).value === 0.5)) throw new Error();
 * gpu.destroy();
 * ```
 *
 * @module
 */
export * from "./kernels/mod.ts";
export * from "./lib/stats/mod.ts";
