/**
 * Browser entry of the island bundle: finds every `[data-island]` element, reads the JSON props
 * block just before it and hydrates the registered component.
 * @module
 */
import { h, hydrate } from "preact";
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
