/** Comparing analysis outputs: every number of two JSON trees, and the analysis files as JSON. */
import type { GradientAnalysis } from "../../lib/analysis/mod.ts";

/**
 * Largest difference between two JSON trees' numbers, relative to max(1, |a|, |b|) (densities
 * of 20 are written to six digits); Infinity when their shapes, keys or non-numbers differ.
 */
export function jsonDiff(a: unknown, b: unknown): number {
  if (typeof a === "number" && typeof b === "number") {
    return Math.abs(a - b) / Math.max(1, Math.abs(a), Math.abs(b));
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return Infinity;
    return a.reduce((m: number, v, i) => Math.max(m, jsonDiff(v, b[i])), 0);
  }
  if (a && b && typeof a === "object" && typeof b === "object") {
    const ka = Object.keys(a).sort(), kb = Object.keys(b).sort();
    if (ka.join() !== kb.join()) return Infinity;
    const ra = a as Record<string, unknown>, rb = b as Record<string, unknown>;
    return ka.reduce((m, k) => Math.max(m, jsonDiff(ra[k], rb[k])), 0);
  }
  return a === b ? 0 : Infinity;
}

/** The files of an analysis as they would be written (JSON), without their timestamps. */
export function analysisJson(a: GradientAnalysis): Record<string, unknown> {
  const files = {
    similarity: a.similarity,
    table1: a.table1,
    marginals: a.marginals,
    smallPredictsLarge: a.smallPredictsLarge,
    batchSize: a.batchSize,
    claims: a.claims,
  };
  return JSON.parse(JSON.stringify(files, (k, v) => (k === "generatedAt" ? null : v)));
}
