/**
 * Server-side building blocks shared by the pages: chart figures with their data links, notices
 * for absent or unreadable files, number and interval formatting, and the sweep navigation.
 * @module
 */
import type { ComponentChildren, JSX } from "preact";
import { renderToString } from "preact-render-to-string";
import type { AnalysisFile, AnalysisKind, Estimate, Interval } from "../analysis/schema.ts";
import { columnFormat, formatNumber, type NumberFormat } from "./charts/mod.ts";
import { claimsOfFigure } from "./claim_links.ts";
import { dataPath, sweepPath } from "./links.ts";
import type { RouteContext } from "./router.ts";
import { analysisFileName, type Loaded } from "./store_reader.ts";
import {
  type AnalysisPageData,
  isExternal,
  skippedReason,
  type SweepBase,
  sweepFolder,
} from "./sweep_data.ts";

/**
 * A chart or table with its title and links to the data behind it.
 * @example
 * ```ts
 * import { renderToString } from "preact-render-to-string";
 * import { Figure } from "./components.tsx";
 * const ctx = {
 *   params: { sweep: "s" },
 *   query: new URLSearchParams("family=CNNSmall"),
 *   store: { root: ".", realRoot: "." },
 *   path: "/sweeps/s/",
 *   mode: "server" as const,
 *   href: (to: string) => to,
 * };
 * const html = renderToString(Figure({ title: "T", ctx, sweep: "s", file: "claims.json", children: "x" }));
 * if (!html.includes("/sweeps/s/data/claims.csv")) throw new Error(html);
 * ```
 */
export function Figure(
  props: {
    title: string;
    ctx: RouteContext;
    sweep: string;
    /** Data file names under the sweep's `data/` (e.g. `similarity.json`). */
    file: string;
    /**
     * The tidy CSV of this figure (a name under `data/`), or several (its points, then its
     * table), when it is not `<file>.csv`.
     */
    csv?: string | string[];
    /** The figure's anchor (`id`); claims that this figure backs link to it. */
    anchor?: string;
    caption?: ComponentChildren;
    children: ComponentChildren;
  },
): JSX.Element {
  const backs = props.anchor ? claimsOfFigure(props.anchor) : [];
  const claimsPage = props.ctx.href(sweepPath(props.sweep, "claims"));
  return (
    <figure class="figure" id={props.anchor}>
      <figcaption>
        <h3>{props.title}</h3>
        <DataLinks ctx={props.ctx} sweep={props.sweep} file={props.file} csv={props.csv} />
      </figcaption>
      {props.caption && <p class="caption">{props.caption}</p>}
      {backs.length > 0 && (
        <p class="backs">
          Evidence for the claim{backs.length > 1 ? "s" : ""} {backs.map((id, i) => (
            <>
              {i > 0 && ", "}
              <a href={`${claimsPage}#claim-${id}`}>
                <code>{id}</code>
              </a>
            </>
          ))}
        </p>
      )}
      <div class="figure-body">{props.children}</div>
    </figure>
  );
}

/**
 * `Data: <name>.json · <name>.csv`: links to a data file of the sweep in both formats, in a
 * `span` (inside a figure caption) or a `p` (under a table).
 * @example
 * ```ts
 * import { renderToString } from "preact-render-to-string";
 * import { DataLinks } from "./components.tsx";
 * const ctx = {
 *   params: { sweep: "s" },
 *   query: new URLSearchParams(),
 *   store: { root: ".", realRoot: "." },
 *   path: "/sweeps/s/",
 *   mode: "server" as const,
 *   href: (to: string) => to,
 * };
 * const html = renderToString(DataLinks({ ctx, sweep: "s", file: "runs.json", tag: "p" }));
 * if (!html.startsWith('<p class="data-links">') || !html.includes("/sweeps/s/data/runs.csv")) {
 *   throw new Error(html);
 * }
 * ```
 */
export function DataLinks(
  props: {
    ctx: RouteContext;
    sweep: string;
    file: string;
    csv?: string | string[];
    tag?: "span" | "p";
  },
): JSX.Element {
  const base = props.file.replace(/\.json$/, "");
  const csvs = [props.csv ?? `${base}.csv`].flat();
  const Tag = props.tag ?? "span";
  return (
    <Tag class="data-links">
      Data: <a href={props.ctx.href(dataPath(props.sweep, `${base}.json`))}>{base}.json</a>
      {csvs.map((csv) => (
        <>
          {" · "}
          <a href={props.ctx.href(dataPath(props.sweep, csv))}>{csv}</a>
        </>
      ))}
    </Tag>
  );
}

/**
 * A data table: one header row of `head`, then the rows given as children.
 * @example
 * ```ts
 * import { renderToString } from "preact-render-to-string";
 * import { DataTable } from "./components.tsx";
 * const html = renderToString(DataTable({ head: ["k", "n"], children: null }));
 * if (html !== '<table class="data"><thead><tr><th>k</th><th>n</th></tr></thead><tbody></tbody></table>') {
 *   throw new Error(html);
 * }
 * ```
 */
export function DataTable(
  props: {
    head: string[];
    /** Header cells drawn after those of `head` (e.g. one per width). */
    moreHead?: ComponentChildren;
    class?: string;
    children?: ComponentChildren;
  },
): JSX.Element {
  return (
    <table class={props.class ?? "data"}>
      <thead>
        <tr>
          {
            // deno-lint-ignore jsx-key -- rendered once on the server, never diffed
            props.head.map((h) => <th>{h}</th>)
          }
          {props.moreHead}
        </tr>
      </thead>
      <tbody>{props.children}</tbody>
    </table>
  );
}

/**
 * A table with one row per item and one column per width k: the row's label in a header cell,
 * then `cell(row, k)` (a `<td>`) for each k.
 * @example
 * ```ts
 * import { renderToString } from "preact-render-to-string";
 * import { WidthTable } from "./components.tsx";
 * const html = renderToString(WidthTable({ ks: [2], rows: ["MLP"], label: (r) => r, cell: () => null as never }));
 * if (!html.includes(">k = 2</th>") || !html.includes("<th>MLP</th>")) throw new Error(html);
 * ```
 */
export function WidthTable<R>(
  props: {
    ks: number[];
    rows: R[];
    label: (row: R) => string;
    cell: (row: R, k: number) => JSX.Element;
    class?: string;
  },
): JSX.Element {
  return (
    <DataTable
      head={["Family"]}
      moreHead={props.ks.map((k) => <th key={k}>k = {k}</th>)}
      class={props.class}
    >
      {props.rows.map((r) => (
        <tr>
          <th>{props.label(r)}</th>
          {props.ks.map((k) => props.cell(r, k))}
        </tr>
      ))}
    </DataTable>
  );
}

/** What produces each analysis file, told to the reader when it is absent. */
export const PRODUCED_BY: Record<AnalysisKind, string> = {
  summary: "the analysis step",
  similarity: "the analysis step",
  table1: "the analysis step",
  marginals: "the analysis step",
  attacks:
    "the analysis step when the sweep's config enables the black-box attack (experiments.attack) and the runs kept checkpoints",
  ensembles:
    "the analysis step when the sweep's config writes logits and sets ensemble sizes (experiments.logits, experiments.ensembles)",
  batchSize:
    "the analysis step on a sweep whose config trains several batch sizes (training.batchSizes, e.g. the batch-size preset)",
  smallPredictsLarge: "the analysis step on a sweep with at least two widths",
  claims: "the analysis step",
  pooling:
    "the analysis step on image salience (the same gradients analysed pooled to 8×8 and unpooled)",
  paper: "the analysis step of a sweep (our figures beside the paper's published ones)",
};

/**
 * Notice for an analysis file that is absent or unreadable.
 * @example
 * ```ts
 * import { renderToString } from "preact-render-to-string";
 * import { AnalysisNotice } from "./components.tsx";
 * const html = renderToString(
 *   AnalysisNotice({ kind: "attacks", loaded: { status: "missing", file: "" }, sweep: "s" }),
 * );
 * if (!html.includes("analysis/attacks.json")) throw new Error(html);
 * ```
 */
export function AnalysisNotice(
  props: {
    kind: AnalysisKind;
    loaded: Loaded<unknown>;
    sweep: string;
    skipped?: string | null;
    /** The folder is an external analysis (gradients only, no training records). */
    external?: boolean;
    /** The sweep's folder as given to the site (default `results/<sweep>`). */
    dir?: string;
  },
): JSX.Element {
  const file = `analysis/${analysisFileName(props.kind)}`;
  if (props.loaded.status === "invalid") {
    return (
      <div class="notice error" role="alert">
        <strong>{file}</strong> could not be read: {props.loaded.message}
      </div>
    );
  }
  if (props.external) {
    return (
      <div class="notice missing" role="status">
        <p>
          <strong>{file}</strong>{" "}
          is absent from this analysis, so this section is empty. An analysis of external gradients
          writes only the files drawn from gradients (summary, similarity, Table 1, marginals,
          small-predicts-large, claims):
        </p>
        <pre><code>deno task analyze --grads G.npy --models M.json</code></pre>
        {props.skipped && <p>The last analysis skipped it: {props.skipped}</p>}
      </div>
    );
  }
  return (
    <div class="notice missing" role="status">
      <p>
        <strong>{file}</strong>{" "}
        is absent from this sweep, so this section is empty. It is written by{" "}
        {PRODUCED_BY[props.kind]}:
      </p>
      <pre><code>deno task analyze --run {props.dir ?? `results/${props.sweep}`}</code></pre>
      {props.skipped && <p>The last analysis skipped it: {props.skipped}</p>}
    </div>
  );
}

/**
 * Notice for a file a page needs that is absent (`absent` says why and what writes it, ending
 * before `command`) or unreadable (its parse error), with the command that writes it.
 * @example
 * ```ts
 * import { renderToString } from "preact-render-to-string";
 * import { FileNotice } from "./components.tsx";
 * const html = renderToString(FileNotice({
 *   file: "analysis/epochs.json", loaded: { status: "invalid", file: "", message: "bad JSON" },
 *   absent: "is absent:", command: "deno task sweep",
 * }));
 * if (!html.includes("could not be read: bad JSON")) throw new Error(html);
 * ```
 */
export function FileNotice(
  props: { file: string; loaded: Loaded<unknown>; absent: string; command: string },
): JSX.Element {
  return (
    <div class="notice missing" role="status">
      <p>
        <strong>{props.file}</strong> {props.loaded.status === "invalid"
          ? `could not be read: ${props.loaded.message}`
          : props.absent}
      </p>
      <pre><code>{props.command}</code></pre>
    </div>
  );
}

/**
 * A number, or "–" for null.
 * @example
 * ```ts
 * import { num } from "./components.tsx";
 * if (num(null) !== "–" || num(0.5, 2) !== "0.50") throw new Error();
 * ```
 */
export function num(v: number | null | undefined, digits = 3): string {
  return formatNumber(v, digits);
}

/**
 * The formats of a table's numeric columns, each picked from that column's values with
 * `columnFormat` (`columns` maps a column's name to its values, intervals' ends included), so
 * every column holds one notation.
 * @example
 * ```ts
 * import { tableFormats } from "./components.tsx";
 * const f = tableFormats({ value: [0.5, 0.0004], n: [3, 12] }, 3);
 * if (f.value(0.5) !== "0.50000" || f.n(12) !== "12") throw new Error(f.value(0.5));
 * ```
 */
export function tableFormats<K extends string>(
  columns: Record<K, Iterable<number | null | undefined>>,
  digits = 3,
): Record<K, NumberFormat> {
  const out = {} as Record<K, NumberFormat>;
  for (const key of Object.keys(columns) as K[]) out[key] = columnFormat(columns[key], digits);
  return out;
}

/**
 * The numbers an estimate prints (mean, std and its interval's ends), for {@linkcode tableFormats}.
 * @example
 * ```ts
 * import { estimateNumbers } from "./components.tsx";
 * if (estimateNumbers({ mean: 1, std: 2, pairs: 3, ci: null }).join() !== "1,2,,") throw new Error();
 * ```
 */
export function estimateNumbers(e: Estimate | null | undefined): (number | null | undefined)[] {
  return e ? [e.mean, e.std, e.ci?.lo, e.ci?.hi] : [];
}

/**
 * `[lo, hi]` of an interval with its level, or an empty string; `digits` may be a column's
 * {@linkcode NumberFormat} (see `columnFormat`), so a table's intervals share one notation.
 * @example
 * ```ts
 * import { intervalText } from "./components.tsx";
 * const t = intervalText({ lo: 0.1, hi: 0.2, level: 0.95, resamples: 100, over: ["seeds"], blocks: null });
 * if (!t.startsWith("[0.100, 0.200] (95 %")) throw new Error(t);
 * ```
 */
export function intervalText(
  ci: Interval | null | undefined,
  digits: number | NumberFormat = 3,
): string {
  if (!ci) return "";
  const f = formatOf(digits);
  return `[${f(ci.lo)}, ${f(ci.hi)}] (${
    Math.round(ci.level * 100)
  } %, ${ci.resamples} resamples over ${ci.over.join(" + ")})`;
}

/**
 * `mean ± std` of an estimate; `digits` may be a column's {@linkcode NumberFormat}.
 * @example
 * ```ts
 * import { estimateText } from "./components.tsx";
 * if (estimateText({ mean: 0.5, std: 0.1, pairs: 4, ci: null }) !== "0.500 ± 0.100") throw new Error();
 * ```
 */
export function estimateText(
  e: Estimate | null | undefined,
  digits: number | NumberFormat = 3,
): string {
  if (!e || e.mean === null) return "–";
  const f = formatOf(digits);
  return e.std === null ? f(e.mean) : `${f(e.mean)} ± ${f(e.std)}`;
}

/** A column's formatter, or {@linkcode formatNumber} at `digits` for a lone value. */
function formatOf(digits: number | NumberFormat): NumberFormat {
  return typeof digits === "number" ? (v) => formatNumber(v, digits) : digits;
}

/** The pages of a sweep, in navigation order: [path segment, label]. */
export const SWEEP_PAGES: readonly [string, string][] = [
  ["", "Overview"],
  ["similarity", "Similarity"],
  ["gallery", "Gallery"],
  ["distributions", "Distributions"],
  ["attacks", "Attacks"],
  ["ensembles", "Ensembles"],
  ["batch_size", "Batch size"],
  ["small_predicts_large", "Small → large"],
  ["methods", "Methods"],
  ["epochs", "Epochs"],
  ["claims", "Claims"],
];

/**
 * The pages an external analysis (gradients only: no runs, checkpoints, logits or per-epoch
 * salience) can have; its navigation shows only these.
 */
export const EXTERNAL_PAGES: readonly string[] = [
  "",
  "similarity",
  "distributions",
  "small_predicts_large",
  "claims",
];

/**
 * Navigation between the pages of one sweep.
 * @example
 * ```ts
 * import { renderToString } from "preact-render-to-string";
 * import { SweepNav } from "./components.tsx";
 * const ctx = {
 *   params: { sweep: "s" },
 *   query: new URLSearchParams("family=CNNSmall"),
 *   store: { root: ".", realRoot: "." },
 *   path: "/sweeps/s/",
 *   mode: "server" as const,
 *   href: (to: string) => to,
 * };
 * const html = renderToString(SweepNav({ ctx, sweep: "s", current: "claims" }));
 * if (!html.includes('href="/sweeps/s/claims/" aria-current="page"')) throw new Error(html);
 * ```
 */
export function SweepNav(
  props: {
    ctx: RouteContext;
    sweep: string;
    current: string;
    /** An external analysis: only the pages drawn from gradients alone ({@linkcode EXTERNAL_PAGES}). */
    external?: boolean;
  },
): JSX.Element {
  const pages = props.external
    ? SWEEP_PAGES.filter(([p]) => EXTERNAL_PAGES.includes(p) || p === props.current)
    : SWEEP_PAGES;
  return (
    <nav class="sweep-nav" aria-label="Sweep pages">
      {pages.map(([page, label]) => (
        <a
          href={props.ctx.href(sweepPath(props.sweep, page))}
          aria-current={page === props.current ? "page" : undefined}
        >
          {label}
        </a>
      ))}
    </nav>
  );
}

/**
 * Renders the sections drawn from one analysis file, or, when that file parses and carries the
 * right kind and version but not the fields this page needs (a file written by another toolkit
 * version), a notice naming the file instead of failing the whole page. Cost: one render.
 * @example
 * ```ts
 * import { renderToString } from "preact-render-to-string";
 * import { Guarded } from "./components.tsx";
 * const html = renderToString(Guarded({ file: "claims.json", render: () => { throw new TypeError("x is undefined"); } }));
 * if (!html.includes("analysis/claims.json")) throw new Error(html);
 * ```
 */
export function Guarded(props: { file: string; render: () => JSX.Element }): JSX.Element {
  let html: string;
  try {
    html = renderToString(props.render());
  } catch (err) {
    return (
      <div class="notice error" role="alert">
        <strong>analysis/{props.file}</strong>{" "}
        does not have the fields this page expects ({(err as Error).message}); re-run the analysis
        with this version of the toolkit.
      </div>
    );
  }
  return <div class="guarded" dangerouslySetInnerHTML={{ __html: html }} />;
}

/**
 * The head of a sweep page: `<h1>heading — sweep (family)</h1>` and the sweep navigation, then
 * the page's children.
 * @example
 * ```ts
 * import { renderToString } from "preact-render-to-string";
 * import { SweepPage } from "./components.tsx";
 * const ctx = {
 *   params: { sweep: "s" },
 *   query: new URLSearchParams("family=MLP"),
 *   store: { root: ".", realRoot: "." },
 *   path: "/sweeps/s/claims/",
 *   mode: "server" as const,
 *   href: (to: string) => to,
 * };
 * const html = renderToString(
 *   SweepPage({ heading: "Claims", ctx, sweep: "s", current: "claims", family: "MLP", children: "x" }),
 * );
 * if (!html.startsWith("<h1>Claims — s (MLP)</h1>")) throw new Error(html);
 * ```
 */
export function SweepPage(
  props: {
    heading: string;
    ctx: RouteContext;
    sweep: string;
    /** The page's path segment in {@linkcode SWEEP_PAGES}. */
    current: string;
    family?: string | null;
    /** An external analysis (its navigation shows only the pages it has). */
    external?: boolean;
    children?: ComponentChildren;
  },
): JSX.Element {
  return (
    <>
      <h1>{props.heading} — {props.sweep}{props.family ? ` (${props.family})` : ""}</h1>
      <SweepNav
        ctx={props.ctx}
        sweep={props.sweep}
        current={props.current}
        external={props.external}
      />
      {props.children}
    </>
  );
}

/**
 * The sections drawn from one analysis file: `render(value)` when the file was read (inside
 * {@linkcode Guarded} unless `guard` is false), else the {@linkcode AnalysisNotice} with the reason
 * the last analysis gave for skipping it. Cost: one render.
 * @example
 * ```ts
 * import { renderToString } from "preact-render-to-string";
 * import { AnalysisSection } from "./components.tsx";
 * const base = { name: "s", sweep: { status: "missing", file: "" }, summary: { status: "missing", file: "" } } as const;
 * const html = renderToString(
 *   AnalysisSection({
 *     kind: "claims",
 *     loaded: { status: "missing", file: "" },
 *     base,
 *     render: () => { throw new Error("not rendered for an absent file"); },
 *   }),
 * );
 * if (!html.includes("analysis/claims.json")) throw new Error(html);
 * ```
 */
export function AnalysisSection<T>(
  props: {
    kind: AnalysisKind;
    loaded: Loaded<T>;
    base: SweepBase;
    render: (value: T) => JSX.Element;
    /** Render unguarded (default true: a file missing fields yields a notice). */
    guard?: boolean;
  },
): JSX.Element {
  const { kind, loaded, base } = props;
  const file = analysisFileName(kind);
  if (loaded.status !== "ok") {
    return (
      <AnalysisNotice
        kind={kind}
        loaded={loaded}
        sweep={base.name}
        skipped={skippedReason(base, file)}
        external={isExternal(base)}
        dir={sweepFolder(base)}
      />
    );
  }
  if (props.guard === false) return props.render(loaded.value);
  return <Guarded file={file} render={() => props.render(loaded.value)} />;
}

/**
 * A whole sweep page drawn from one analysis file ({@linkcode loadAnalysisPage}'s data): the
 * {@linkcode SweepPage} head, then the file's {@linkcode AnalysisSection}, then any children.
 * @example
 * ```ts
 * import { renderToString } from "preact-render-to-string";
 * import { AnalysisPage } from "./components.tsx";
 * const ctx = {
 *   params: { sweep: "s" },
 *   query: new URLSearchParams(),
 *   store: { root: ".", realRoot: "." },
 *   path: "/sweeps/s/claims/",
 *   mode: "server" as const,
 *   href: (to: string) => to,
 * };
 * const base = { name: "s", sweep: { status: "missing", file: "" }, summary: { status: "missing", file: "" } } as const;
 * const html = renderToString(
 *   AnalysisPage({
 *     heading: "Claims",
 *     current: "claims",
 *     ctx,
 *     data: { kind: "claims", base, file: { status: "missing", file: "" }, family: null },
 *     render: () => { throw new Error("not rendered for an absent file"); },
 *   }),
 * );
 * if (!html.startsWith("<h1>Claims — s</h1>") || !html.includes("analysis/claims.json")) {
 *   throw new Error(html);
 * }
 * ```
 */
export function AnalysisPage<K extends AnalysisKind>(
  props: {
    heading: string;
    /** The page's path segment in {@linkcode SWEEP_PAGES}. */
    current: string;
    ctx: RouteContext;
    data: AnalysisPageData<K>;
    render: (value: Extract<AnalysisFile, { kind: K }>) => JSX.Element;
    /** Render unguarded (see {@linkcode AnalysisSection}). */
    guard?: boolean;
    children?: ComponentChildren;
  },
): JSX.Element {
  const { data } = props;
  return (
    <SweepPage
      heading={props.heading}
      ctx={props.ctx}
      sweep={data.base.name}
      current={props.current}
      family={data.family}
      external={isExternal(data.base)}
    >
      <AnalysisSection
        kind={data.kind}
        loaded={data.file}
        base={data.base}
        render={props.render}
        guard={props.guard}
      />
      {props.children}
    </SweepPage>
  );
}

/**
 * The props of the sections of an {@linkcode analysisPage}: the found analysis file, the route's
 * context, the sweep's name and the `?family=` chosen (null for all).
 */
export interface SectionsProps<F> {
  file: F;
  ctx: RouteContext;
  sweep: string;
  family: string | null;
}

/**
 * The default export of a page route drawn from one analysis file alone: an
 * {@linkcode AnalysisPage} with `heading`, marked `current` among the sweep's pages, whose found
 * file the component `Sections` draws ({@linkcode SectionsProps}). A route writes
 * `export default analysisPage<"ensembles">({ heading, current }, Sections);`.
 * Cost: that of {@linkcode AnalysisPage}.
 * @example
 * ```ts
 * import { renderToString } from "preact-render-to-string";
 * import { analysisPage } from "./components.tsx";
 * const Page = analysisPage<"ensembles">({ heading: "Deep ensembles", current: "ensembles" }, () => {
 *   throw new Error("not rendered for an absent file");
 * });
 * const ctx = {
 *   params: { sweep: "s" },
 *   query: new URLSearchParams(),
 *   store: { root: ".", realRoot: "." },
 *   path: "/sweeps/s/ensembles/",
 *   mode: "server" as const,
 *   href: (to: string) => to,
 * };
 * const base = { name: "s", sweep: { status: "missing", file: "" }, summary: { status: "missing", file: "" } } as const;
 * const data = { kind: "ensembles", base, file: { status: "missing", file: "" }, family: null } as const;
 * const html = renderToString(Page({ data, ctx }));
 * if (!html.startsWith("<h1>Deep ensembles — s</h1>")) throw new Error(html);
 * ```
 */
export function analysisPage<K extends AnalysisKind>(
  page: { heading: string; current: string },
  Sections: (props: SectionsProps<Extract<AnalysisFile, { kind: K }>>) => JSX.Element,
): (props: { data: AnalysisPageData<K>; ctx: RouteContext }) => JSX.Element {
  return ({ data, ctx }) => (
    <AnalysisPage
      heading={page.heading}
      current={page.current}
      ctx={ctx}
      data={data}
      render={(file) => (
        <Sections file={file} ctx={ctx} sweep={data.base.name} family={data.family} />
      )}
    />
  );
}
