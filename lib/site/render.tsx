/**
 * Renders a page into a complete HTML document: the shared layout, the page body, and, when the
 * page holds islands, one inline module bootstrap whose SHA-256 goes into the page's
 * Content-Security-Policy (the only inline script the policy allows).
 * @module
 */
import type { JSX } from "preact";
import { renderToString } from "preact-render-to-string";
import type { RouteContext } from "./router.ts";
import { contentSecurityPolicy, sha256Base64 } from "./safety.ts";

/** A rendered document and the hashes of its inline scripts. */
export interface RenderedPage {
  html: string;
  scriptHashes: string[];
}

/** Site path of the island bundle. */
export const ISLAND_BUNDLE_PATH = "/_islands/islands.js";
/** Site path of the stylesheet. */
export const STYLESHEET_PATH = "/static/site.css";

/**
 * The inline bootstrap that loads the island bundle relative to the page and hydrates.
 * @example
 * ```ts
 * import { bootstrapScript } from "./render.tsx";
 * const ctx = {
 *   params: { sweep: "s" },
 *   query: new URLSearchParams("family=CNNSmall"),
 *   store: { root: ".", realRoot: "." },
 *   path: "/sweeps/s/",
 *   mode: "server" as const,
 *   href: (to: string) => to,
 * };
 * if (bootstrapScript(ctx) !== 'import{boot}from"/_islands/islands.js";boot();') throw new Error();
 * ```
 */
export function bootstrapScript(ctx: RouteContext): string {
  return `import{boot}from${JSON.stringify(ctx.href(ISLAND_BUNDLE_PATH))};boot();`;
}

/**
 * Wraps a page body in the layout and renders the document. Cost: one render of the tree plus a
 * SHA-256 of the bootstrap.
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
 * const page = await renderPage("T <1>", h("p", null, "<b>"), ctx);
 * if (!page.html.includes("<title>T &lt;1></title>") || !page.html.includes("&lt;b>")) throw new Error();
 * if (page.scriptHashes.length !== 0) throw new Error("no islands, no bootstrap");
 * ```
 */
export async function renderPage(
  title: string,
  body: JSX.Element,
  ctx: RouteContext,
): Promise<RenderedPage> {
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
  const hasIslands = bodyHtml.includes("data-island=");
  const bootstrap = hasIslands ? bootstrapScript(ctx) : "";
  const scriptHashes = hasIslands ? [await sha256Base64(bootstrap)] : [];
  const head = renderToString(
    <>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      {ctx.mode === "static" && (
        <meta
          http-equiv="Content-Security-Policy"
          content={contentSecurityPolicy(scriptHashes, { meta: true })}
        />
      )}
      <meta name="referrer" content="no-referrer" />
      <title>{title}</title>
      <link rel="icon" href="data:," />
      <link rel="stylesheet" href={ctx.href(STYLESHEET_PATH)} />
    </>,
  );
  const script = hasIslands ? `<script type="module">${bootstrap}</script>` : "";
  return {
    html:
      `<!DOCTYPE html><html lang="en"><head>${head}</head><body>${bodyHtml}${script}</body></html>`,
    scriptHashes,
  };
}
