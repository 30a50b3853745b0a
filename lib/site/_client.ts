/**
 * Browser entry of the page script (a classic deferred script, so it runs from `file://` too):
 * hydrates every `[data-island]` element from the JSON props block just before it, then adds the
 * SVG and PNG download buttons to every chart.
 * @module
 */
import { h, hydrate } from "preact";
import { attachDownloads } from "./downloads.ts";
import { type IslandName, ISLANDS } from "./islands.ts";

/** Hydrates every island on the page. */
export function boot(): void {
  for (const el of Array.from(document.querySelectorAll<HTMLElement>("[data-island]"))) {
    const name = el.dataset.island as IslandName | undefined;
    const component = name ? ISLANDS[name] : undefined;
    const block = el.previousElementSibling;
    if (!component || !(block instanceof HTMLScriptElement) || block.type !== "application/json") {
      console.warn(`island "${name}" has no component or props block; left static.`);
      continue;
    }
    // deno-lint-ignore no-explicit-any
    hydrate(h(component as any, JSON.parse(block.textContent ?? "{}")), el);
  }
}

if (typeof document !== "undefined") {
  try {
    boot();
  } finally {
    attachDownloads();
  }
}
