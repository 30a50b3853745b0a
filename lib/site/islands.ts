/**
 * The island registry: every interactive component in `islands/`, by name. The server renders an
 * island with {@linkcode Island} (its markup plus its props as a JSON data block); the browser
 * bundle built from `_client.ts` hydrates the same components from this registry.
 * @module
 */
import HeatmapHover from "../../islands/HeatmapHover.tsx";
import KdeFamilies from "../../islands/KdeFamilies.tsx";

/** Island components by name (the file name in `islands/`). */
export const ISLANDS = { HeatmapHover, KdeFamilies } as const;

/** Name of a registered island. */
export type IslandName = keyof typeof ISLANDS;

/**
 * JSON for a `<script type="application/json">` block: `<`, `>`, `&` and the line separators are
 * escaped so no value can close the element or start markup.
 * @example
 * ```ts
 * import { safeJson } from "./islands.ts";
 * if (safeJson({ a: "</script>" }).includes("<")) throw new Error("unescaped");
 * ```
 */
export function safeJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}
