/**
 * Renders a page into a complete HTML document: the shared layout, the page body, and, when the
 * page holds islands or charts, the page script of exactly its islands (see `bundle.ts`) as a
 * classic deferred `<script src>` (no inline script, so the Content-Security-Policy allows only
 * `'self'`, and the static export runs from `file://`, where module scripts are refused).
 * @module
 */
import type { JSX } from "preact";
import { renderToString } from "preact-render-to-string";
import type { RouteContext } from "./router.ts";
import { contentSecurityPolicy } from "./safety.ts";
import { pageScriptPath } from "./bundle.ts";

/** Site path of the stylesheet. */
export const STYLESHEET_PATH = "/static/site.css";

/**
 * Wraps a page body in the layout and renders the document. `<body data-name>` is the sweep's
 * name (or `report`), the prefix of the charts' download file names. Cost: one render of the tree.
 * @example
 * ```ts
 * import { h } from "preact";
 * import { renderPage } from "./render.tsx";
 * const ctx = {
 *   params: { sweep: "s" },
 *   query: new URLSearchParams("family=CNNSmall"),
 *   store: { root: ".", realRoot: "." },
 *   path: "/sweeps/s/",
 *   mode: "server" as const,
 *   href: (to: string) => to,
 * };
 * const html = renderPage("T <1>", h("p", null, "<b>"), ctx);
 * if (!html.includes("<title>T &lt;1></title>") || !html.includes("&lt;b>")) throw new Error();
 * if (html.includes("<script")) throw new Error("no islands and no charts, no script");
 * ```
 */
export function renderPage(title: string, body: JSX.Element, ctx: RouteContext): string {
  const bodyHtml = renderToString(
    <>
      <header class="site-header">
        <a class="brand" href={ctx.href("/")}>Salience convergence report</a>
      </header>
      <main>{body}</main>
      <footer class="site-footer">
        <p>
          Reproduction of “Great Minds Think Alike: The Universal Convergence Trend of Input
          Salience” (NeurIPS 2024). Charts are rendered on the server; every chart links to the JSON
          and CSV it was drawn from.
        </p>
      </footer>
    </>,
  );
  const islands = [...bodyHtml.matchAll(/data-island="([^"]*)"/g)].map((m) => m[1]!);
  const needsScript = islands.length > 0 || bodyHtml.includes('class="chart ');
  const head = renderToString(
    <>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      {ctx.mode === "static" && (
        <meta
          http-equiv="Content-Security-Policy"
          content={contentSecurityPolicy({ meta: true })}
        />
      )}
      <meta name="referrer" content="no-referrer" />
      <title>{title}</title>
      <link rel="icon" href="data:," />
      <link rel="stylesheet" href={ctx.href(STYLESHEET_PATH)} />
    </>,
  );
  const script = needsScript
    ? renderToString(<script src={ctx.href(pageScriptPath(islands))} defer />)
    : "";
  const name = renderToString(<body data-name={ctx.params.sweep ?? "report"} />)
    .replace(/<\/body>$/, "");
  return `<!DOCTYPE html><html lang="en"><head>${head}</head>${name}${bodyHtml}${script}</body></html>`;
}
