/**
 * Salience convergence toolkit: WGSL kernels and statistics for studying how the input
 * salience of neural networks converges as their width grows.
 *
 * @module
 */
export * from "./kernels/mod.ts";
