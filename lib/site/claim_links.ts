/**
 * Which figure backs each paper claim, so a claim links to its figure and the figure back to its
 * claim. Pure data and string functions (no Deno API).
 * @module
 */
import { sweepPath } from "./links.ts";
import type { RouteContext } from "./router.ts";

/** Where the figure behind a claim is: the sweep page (path segment) and the figure's anchor. */
export interface ClaimFigure {
  page: string;
  anchor: string;
  /** The figure in a few words, as the link text. */
  label: string;
}

/** The figure that backs each claim of the analysis, by claim id. */
export const CLAIM_FIGURES: Readonly<Record<string, ClaimFigure>> = {
  "similarity-rises-with-width": {
    page: "",
    anchor: "fig-headline",
    label: "p(k,k) against width k",
  },
  "spherical-variance-falls": {
    page: "similarity",
    anchor: "fig-spherical-variance",
    label: "spherical variance by width",
  },
  "mean-directions-agree": {
    page: "similarity",
    anchor: "fig-mean-direction",
    label: "mean-direction similarity",
  },
  "deeper-larger-distance": {
    page: "similarity",
    anchor: "fig-table1",
    label: "Table 1",
  },
  "mean-direction-attack-strongest": {
    page: "attacks",
    anchor: "fig-strategies",
    label: "attack strategies by target width",
  },
  "ensembles-move-to-mean": {
    page: "ensembles",
    anchor: "fig-ensembles",
    label: "E_x[t] against test loss",
  },
  "ensemble-loss-falls": {
    page: "ensembles",
    anchor: "fig-ensembles",
    label: "E_x[t] against test loss",
  },
};

/**
 * The claims a figure backs: the ids of {@linkcode CLAIM_FIGURES} whose anchor is `anchor`.
 * @example
 * ```ts
 * import { claimsOfFigure } from "./claim_links.ts";
 * if (claimsOfFigure("fig-ensembles").length !== 2) throw new Error();
 * ```
 */
export function claimsOfFigure(anchor: string): string[] {
  return Object.entries(CLAIM_FIGURES).filter(([, f]) => f.anchor === anchor).map(([id]) => id);
}

/**
 * Site path (with `#anchor`) of the figure behind claim `id` of sweep `sweep`, or null for a
 * claim no figure is known for.
 * @example
 * ```ts
 * import { claimFigureHref } from "./claim_links.ts";
 * if (claimFigureHref("s", "spherical-variance-falls") !== "/sweeps/s/similarity/#fig-spherical-variance") {
 *   throw new Error();
 * }
 * ```
 */
export function claimFigureHref(sweep: string, id: string): string | null {
  const f = CLAIM_FIGURES[id];
  return f ? `${sweepPath(sweep, f.page)}#${f.anchor}` : null;
}

/**
 * An href from the page of `ctx` to another site path that may carry a `#fragment`.
 * @example
 * ```ts
 * import { hrefWithAnchor } from "./claim_links.ts";
 * const ctx = { href: (to: string) => `rel:${to}` } as never;
 * if (hrefWithAnchor(ctx, "/sweeps/s/#x") !== "rel:/sweeps/s/#x") throw new Error();
 * ```
 */
export function hrefWithAnchor(ctx: RouteContext, to: string): string {
  const i = to.indexOf("#");
  return i < 0 ? ctx.href(to) : ctx.href(to.slice(0, i)) + to.slice(i);
}
