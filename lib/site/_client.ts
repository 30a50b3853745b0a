/**
 * Browser side of the page script (a classic deferred script, so it runs from `file://` too):
 * hydrates every `[data-island]` element from the JSON props block just before it, with the
 * components of the site's island registry, then adds the SVG and PNG download buttons to every
 * chart. The bundle's entry (see `bundle.ts`) imports the registry and calls {@linkcode start}.
 * @module
 */
import { h, hydrate } from "preact";
import { attachDownloads } from "./downloads.ts";
import type { IslandRegistry } from "./islands.ts";

/** Hydrates every island on the page from `registry`. */
export function boot(registry: IslandRegistry): void {
  for (const el of Array.from(document.querySelectorAll<HTMLElement>("[data-island]"))) {
    const name = el.dataset.island;
    const component = name ? registry[name] : undefined;
    const block = el.previousElementSibling;
    if (!component || !(block instanceof HTMLScriptElement) || block.type !== "application/json") {
      console.warn(`island "${name}" has no component or props block; left static.`);
      continue;
    }
    hydrate(h(component, JSON.parse(block.textContent ?? "{}")), el);
  }
}

/** Hydrates the islands, then adds the chart downloads (even when an island fails). */
export function start(registry: IslandRegistry): void {
  if (typeof document === "undefined") return;
  try {
    boot(registry);
  } finally {
    attachDownloads();
  }
}
