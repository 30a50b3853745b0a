/**
 * Server-side rendering of an island: its props as a JSON data block (never executed), followed
 * by a `data-island` element holding the component's server-rendered markup, which the browser
 * bundle hydrates.
 * @module
 */
import type { ComponentProps, JSX } from "preact";
import { type IslandName, ISLANDS, safeJson } from "./islands.ts";

/**
 * Renders island `name` with plain, JSON-serialisable `props`.
 * @example
 * ```ts
 * import { renderToString } from "preact-render-to-string";
 * import { Island } from "./island.tsx";
 * const html = renderToString(Island({
 *   name: "HeatmapHover",
 *   props: { id: "h", title: "T", xLabel: "k2", yLabel: "k1", rowLabels: ["1"], colLabels: ["1"], values: [[0.5]] },
 * }));
 * if (!html.includes('data-island="HeatmapHover"') || !html.includes('type="application/json"')) {
 *   throw new Error(html);
 * }
 * ```
 */
export function Island<N extends IslandName>(
  { name, props }: { name: N; props: ComponentProps<(typeof ISLANDS)[N]> },
): JSX.Element {
  const Component = ISLANDS[name] as unknown as (p: Record<string, unknown>) => JSX.Element;
  return (
    <>
      <script
        type="application/json"
        data-island-props={name}
        dangerouslySetInnerHTML={{ __html: safeJson(props) }}
      />
      <div data-island={name} class="island">
        <Component {...(props as unknown as Record<string, unknown>)} />
      </div>
    </>
  );
}
