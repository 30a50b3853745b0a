/**
 * P×P area pooling per channel (PyTorch's `interpolate(mode='area')`), on the CPU.
 *
 * @module
 */
export { areaPool, type PoolOptions } from "./area_pool.ts";
