/**
 * `/analyze/`: the analysis in the reader's browser. A reader drops an `[M, N, D]` float32
 * `.npy` and its models JSON (the files `deno task analyze --grads G.npy --models M.json` reads)
 * and the page runs the same analysis there: the same WGSL kernels on the browser's WebGPU, or
 * the float64 TypeScript reference where it has none, and shows the p(k1, k2) heatmaps and the
 * claims. Nothing is uploaded; the page needs no results directory.
 * @module
 */
import type { JSX } from "preact";
import { Island } from "../lib/site/island.tsx";
import type { RouteContext } from "../lib/site/router.ts";
import BrowserAnalysis from "../islands/BrowserAnalysis.tsx";

/** The command the page reproduces. */
export const ANALYZE_COMMAND = "deno task analyze --grads G.npy --models M.json";

/** Nothing to load: the reader's files are the data. */
export function load(): Promise<null> {
  return Promise.resolve(null);
}

/** Page title. */
export function title(): string {
  return "Analyse your gradients in the browser — salience convergence report";
}

/** The in-browser analysis page. */
export default function Analyze(_: { data: null; ctx: RouteContext }): JSX.Element {
  return (
    <>
      <h1>Analyse your gradients in the browser</h1>
      <p>
        Gradients from any framework: a float32, C-order <code>.npy</code>{" "}
        of shape [M, N, D] (M models, N probe samples, D values per gradient) and a JSON listing
        each model in order, <code>[{'{"family": "CNNSmall", "k": 10, "seed": 0}'}, …]</code> or
        {" "}
        <code>{'{"models": [...], "scalar": ..., "pooling": ..., "inputShape": [C, H, W]}'}</code>.
        This page runs{" "}
        <code>{ANALYZE_COMMAND}</code>'s analysis with its defaults (1,000 bootstrap resamples, seed
        0) on the same WGSL kernels, in your browser's WebGPU where it has one and on the float64
        TypeScript reference otherwise, and says which ran.
      </p>
      <p class="muted">
        The files are read by this page and never leave your machine: nothing is uploaded, and the
        page may connect only to the site it came from. Gradients with NaN or ±Inf are counted and
        left out, as the command line does by default.
      </p>
      <noscript>
        <p class="notice">
          This page needs JavaScript; without it, run <code>{ANALYZE_COMMAND}</code>{" "}
          and serve the result with <code>deno task serve</code>.
        </p>
      </noscript>
      <Island component={BrowserAnalysis} props={{ command: ANALYZE_COMMAND }} />
    </>
  );
}
