/**
 * Server-side rendering of an island: its props as a JSON data block (never executed), followed
 * by a `data-island` element holding the component's server-rendered markup, which the page
 * script hydrates from the site's island registry. The island's name is its component's name,
 * which is also its file name in `islands/` and its key in the registry (`createApp` refuses a
 * page whose island is not registered).
 * @module
 */
import type { ComponentProps, FunctionComponent, JSX } from "preact";
import { safeJson } from "./islands.ts";

/**
 * Renders `component` as an island with plain, JSON-serialisable `props`.
 * @throws TypeError when the component has no name to register it by.
 * @example
 * ```ts
 * import { renderToString } from "preact-render-to-string";
 * import { h } from "preact";
 * import { Island } from "./island.tsx";
 * function Hello(p: { who: string }) { return h("p", null, `hello ${p.who}`); }
 * const html = renderToString(Island({ component: Hello, props: { who: "<you>" } }));
 * if (!html.includes('data-island="Hello"') || !html.includes('type="application/json"')) {
 *   throw new Error(html);
 * }
 * ```
 */
// deno-lint-ignore no-explicit-any
export function Island<C extends FunctionComponent<any>>(
  { component, props }: { component: C; props: ComponentProps<C> },
): JSX.Element {
  const name = component.name;
  if (!name) throw new TypeError("an island component needs a name (a named function).");
  const Component = component as unknown as (p: Record<string, unknown>) => JSX.Element;
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
