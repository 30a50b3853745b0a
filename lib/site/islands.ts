/**
 * Islands: interactive components the server renders and the browser hydrates. The site's
 * registry of them (`islands.gen.ts` at the site's root) is handed to `createApp`; the server
 * renders an island with {@linkcode Island} (its markup plus its props as a JSON data block) and
 * the page script hydrates it from the same registry.
 * @module
 */
import type { FunctionComponent } from "preact";

/** Island components by name: each name is the component's file name in `islands/`. */
// deno-lint-ignore no-explicit-any
export type IslandRegistry = Readonly<Record<string, FunctionComponent<any>>>;

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
