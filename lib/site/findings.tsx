/**
 * The story a sweep or an external analysis opens with: the verdict tally, the headline figure
 * (p(k,k) against k per family, with its bootstrap intervals), the measured effect sizes of the
 * claims, and the caveats a reader must know before trusting them. Every claim links to the
 * figure that backs it ({@linkcode CLAIM_FIGURES}) and every such figure back to its claim.
 * @module
 */
import type { ComponentChildren, JSX } from "preact";
import type {
  ClaimEntry,
  ClaimsFile,
  Interval,
  PaperFile,
  SimilarityFile,
  SummaryFile,
  Verdict,
} from "../analysis/schema.ts";
import { columnFormat, LineChart, type Series, seriesColor } from "./charts/mod.ts";
import { DataTable, Figure, intervalText, num, tableFormats } from "./components.tsx";
import { CLAIM_FIGURES, claimFigureHref, hrefWithAnchor } from "./claim_links.ts";
import { sweepPath } from "./links.ts";
import type { RouteContext } from "./router.ts";
import type { Loaded } from "./store_reader.ts";

/**
 * The tally of verdicts, in the order holds, fails, inconclusive.
 * @example
 * ```ts
 * import { tally } from "./findings.tsx";
 * const t = tally([{ verdict: "holds" }, { verdict: "holds" }, { verdict: "fails" }] as never);
 * if (t.holds !== 2 || t.fails !== 1 || t.inconclusive !== 0) throw new Error();
 * ```
 */
export function tally(claims: Pick<ClaimEntry, "verdict">[]): Record<Verdict, number> {
  const out: Record<Verdict, number> = { holds: 0, fails: 0, inconclusive: 0 };
  for (const c of claims) if (c.verdict in out) out[c.verdict]++;
  return out;
}

/** One family's p(k,k) against k: widths, means and bootstrap intervals (null where absent). */
export interface DiagonalSeries {
  family: string;
  ks: number[];
  mean: (number | null)[];
  interval: ([number, number] | null)[];
  seeds: number[];
}

/**
 * p(k,k) per family from similarity.json: the diagonal cells of `expected` (distinct seeds of one
 * width), widths ascending, with their intervals and the group's seed count. Cost O(groups).
 * @example
 * ```ts
 * import { diagonalSeries } from "./findings.tsx";
 * const cell = (mean: number) => ({ mean, std: 0, pairs: 1, modelPairs: 1, ci: { lo: mean - 0.1, hi: mean + 0.1, level: 0.95, resamples: 10, over: ["seeds"], blocks: null } });
 * const s = {
 *   groups: [{ index: 0, family: "F", k: 2, members: [0, 1] }, { index: 1, family: "F", k: 1, members: [2, 3, 4] }],
 *   expected: [[cell(0.5), cell(0)], [cell(0), cell(0.2)]],
 * };
 * const [f] = diagonalSeries(s as never);
 * if (f?.ks.join() !== "1,2" || f.mean.join() !== "0.2,0.5" || f.seeds.join() !== "3,2") throw new Error();
 * ```
 */
export function diagonalSeries(s: Pick<SimilarityFile, "groups" | "expected">): DiagonalSeries[] {
  const families = [...new Set(s.groups.map((g) => g.family))];
  return families.map((family) => {
    const gs = s.groups.filter((g) => g.family === family).sort((a, b) => a.k - b.k);
    const cells = gs.map((g) => s.expected[g.index]?.[g.index] ?? null);
    return {
      family,
      ks: gs.map((g) => g.k),
      mean: cells.map((c) => c?.mean ?? null),
      interval: cells.map((c) => (c?.ci ? [c.ci.lo, c.ci.hi] as [number, number] : null)),
      seeds: gs.map((g) => g.members.length),
    };
  });
}

/**
 * The headline chart: p(k,k) against k per family, on a log width axis, with interval bars.
 * @example
 * ```ts
 * import { renderToString } from "preact-render-to-string";
 * import { HeadlineChart } from "./findings.tsx";
 * const svg = renderToString(HeadlineChart({
 *   series: [{ family: "F", ks: [1, 2], mean: [0.1, 0.3], interval: [[0, 0.2], null], seeds: [3, 3] }],
 * }));
 * if (!svg.includes('class="interval"')) throw new Error(svg);
 * ```
 */
export function HeadlineChart(props: { series: DiagonalSeries[]; id?: string }): JSX.Element {
  const ks = [...new Set(props.series.flatMap((f) => f.ks))].sort((a, b) => a - b);
  const series: Series[] = props.series.map((f, i) => ({
    name: `${f.family} (${seedRange(f.seeds)} seeds per width)`,
    group: f.family,
    color: seriesColor(i),
    mode: "both",
    points: f.ks.map((k, j) => [k, f.mean[j] ?? NaN] as [number, number]),
    intervals: f.interval,
  }));
  return (
    <LineChart
      id={props.id ?? "headline"}
      title="Expected similarity p(k,k) of distinct seeds against width k, with bootstrap intervals"
      xLabel="width k"
      yLabel="p(k,k)"
      xLog={ks.length > 1 && ks[0]! > 0}
      xTicks={ks}
      series={series}
    />
  );
}

function seedRange(seeds: number[]): string {
  if (seeds.length === 0) return "0";
  const lo = Math.min(...seeds), hi = Math.max(...seeds);
  return lo === hi ? String(lo) : `${lo}–${hi}`;
}

/** The caveats of one analysis, each a sentence. */
export interface Caveat {
  /** Short name, e.g. `accuracy`. */
  topic: string;
  text: string;
}

/**
 * The caveats a reader needs beside the claims: the test-accuracy range and the floor, models the
 * floor left out, seeds per width, whether gradients were pooled, zero gradients left out (when no
 * summary's warnings tell it), and the summary's warnings. Cost O(models).
 * @example
 * ```ts
 * import { caveats } from "./findings.tsx";
 * const s = {
 *   gradients: { samples: 4, dimension: 8, scalar: "x", pooling: null, inputShape: null },
 *   groups: [{ index: 0, family: "F", k: 1, members: [0, 1] }],
 *   models: [{ accuracy: 0.5 }, { accuracy: 0.7 }],
 *   zeroGradients: 0,
 * };
 * const c = caveats(s as never, null);
 * if (!c.some((x) => x.topic === "accuracy" && x.text.includes("0.500 – 0.700"))) throw new Error(JSON.stringify(c));
 * ```
 */
export function caveats(s: SimilarityFile | null, summary: SummaryFile | null): Caveat[] {
  const out: Caveat[] = [];
  if (s) {
    const acc = s.models.map((m) => m.accuracy).filter((a): a is number =>
      typeof a === "number" && Number.isFinite(a)
    );
    const floor = s.accuracyFloor;
    const range = floor?.range ?? (acc.length ? [Math.min(...acc), Math.max(...acc)] : null);
    out.push({
      topic: "accuracy",
      text: range
        ? `Test accuracy of the models ranges ${num(range[0])} – ${num(range[1])}${
          floor
            ? floor.minTestAccuracy === null
              ? "; no accuracy floor was applied to the claims"
              : `; the claims keep only models at or above ${num(floor.minTestAccuracy)}`
            : ""
        }.`
        : "No test accuracy is recorded for these models, so no accuracy floor could judge them.",
    });
    if (floor && floor.excluded.length > 0) {
      const listed = floor.excluded.slice(0, 8).map((m) =>
        `${m.family} k=${m.k} seed ${m.seed} (${num(m.accuracy)})`
      ).join(", ");
      out.push({
        topic: "left out",
        text: `${floor.excluded.length} of ${s.models.length} models are below the floor and ` +
          `left out of the claims: ${listed}${floor.excluded.length > 8 ? ", …" : ""}.`,
      });
    }
    if (floor && floor.unknown > 0) {
      out.push({
        topic: "left out",
        text: `${floor.unknown} models have no recorded accuracy; the floor could not judge them.`,
      });
    }
    const fams = [...new Set(s.groups.map((g) => g.family))];
    out.push({
      topic: "seeds",
      text: `Seeds per width: ${
        fams.map((f) =>
          `${f} ${seedRange(s.groups.filter((g) => g.family === f).map((g) => g.members.length))}`
        ).join("; ")
      }. The claims need at least 3 seeds per width.`,
    });
    const g = s.gradients;
    out.push({
      topic: "gradients",
      text: `${
        g.pooling === null
          ? "Gradients are compared unpooled"
          : `Gradients are pooled ${g.pooling}×${g.pooling} per channel before comparing`
      } (dimension ${g.dimension}, ${g.samples} probe images, scalar ${g.scalar ?? "unknown"}).`,
    });
    if (s.zeroGradients > 0 && !summary) {
      out.push({
        topic: "zero gradients",
        text: `${s.zeroGradients} (model, image) gradients were exactly zero and are left out ` +
          `of every average.`,
      });
    }
    if ((s.nonFiniteGradients ?? 0) > 0 && !summary) {
      out.push({
        topic: "NaN or ±Inf gradients",
        text: `${s.nonFiniteGradients} (model, image) gradients held NaN or ±Inf and are left ` +
          `out of every average (models.csv counts them per model).`,
      });
    }
  }
  for (const w of summary?.warnings ?? []) out.push({ topic: "warning", text: w });
  return out;
}

/** A verdict badge. */
export function VerdictBadge({ verdict }: { verdict: string }): JSX.Element {
  const known = verdict === "holds" || verdict === "fails" || verdict === "inconclusive";
  return <span class={`badge ${known ? verdict : "inconclusive"}`}>{verdict}</span>;
}

/** One column of {@link ClaimsSideBySide}: a setting (sweep, method, pooling) and its claims. */
export interface ClaimColumn {
  /** Column heading. */
  label: string;
  /** The setting's claims, or null when it has none to show (say why in `absent`). */
  claims: readonly Pick<ClaimEntry, "id" | "value" | "interval" | "verdict">[] | null;
  /** Cell text when `claims` is null. */
  absent?: string;
}

/**
 * Each claim's verdict, value and interval, one row per claim id (in order of first appearance)
 * and one column per setting. `missing` fills a cell whose setting did not check that claim;
 * `interval: "full"` spells out each interval's level and resamples (in cells that may wrap; brief
 * ones stay on one line, as numbers do). Rows in `children` follow
 * the claims'. Cost: one render, O(claims × columns).
 * @example
 * ```ts
 * import { renderToString } from "preact-render-to-string";
 * import { ClaimsSideBySide } from "./findings.tsx";
 * const claim = { id: "rises", value: 0.5, interval: null, verdict: "holds" as const };
 * const html = renderToString(ClaimsSideBySide({
 *   columns: [{ label: "a", claims: [claim] }, { label: "b", claims: null, absent: "no file" }],
 * }));
 * if (!html.includes("holds") || !html.includes("no file")) throw new Error(html);
 * ```
 */
export function ClaimsSideBySide(
  props: {
    columns: readonly ClaimColumn[];
    digits?: number;
    interval?: "brief" | "full";
    missing?: string;
    class?: string;
    children?: ComponentChildren;
  },
): JSX.Element {
  const full = props.interval === "full";
  const all = props.columns.flatMap((c) => c.claims ?? []);
  const ids = [...new Set(all.map((c) => c.id))];
  // One notation for the whole table: values and intervals' ends of every column.
  const f = columnFormat(
    all.flatMap((c) => [c.value, c.interval?.lo, c.interval?.hi]),
    props.digits ?? 3,
  );
  const interval = (ci: Interval | null): string =>
    !ci ? "" : full ? ` ${intervalText(ci, f)}` : ` [${f(ci.lo)}, ${f(ci.hi)}]`;
  return (
    <DataTable head={["Claim", ...props.columns.map((c) => c.label)]} class={props.class}>
      {ids.map((id) => (
        <tr>
          <td>
            <code>{id}</code>
          </td>
          {props.columns.map((col) => {
            const c = col.claims?.find((x) => x.id === id);
            return (
              <td class={full ? undefined : "num"}>
                {c
                  ? (
                    <>
                      <VerdictBadge verdict={c.verdict} /> {f(c.value)}
                      {interval(c.interval)}
                    </>
                  )
                  : col.claims === null
                  ? col.absent ?? "–"
                  : props.missing ?? "–"}
              </td>
            );
          })}
        </tr>
      ))}
      {props.children}
    </DataTable>
  );
}

/** The findings' table of claims: effect, interval, threshold, verdict and figure of each. */
function EffectsTable(
  { claims, ctx, sweep, claimsHref }: {
    claims: ClaimEntry[];
    ctx: RouteContext;
    sweep: string;
    claimsHref: (id: string) => string;
  },
): JSX.Element {
  // One notation per column: the effects with their intervals' ends, and the thresholds.
  const f = tableFormats({
    value: claims.flatMap((c) => [c.value, c.interval?.lo, c.interval?.hi]),
    threshold: claims.map((c) => c.threshold),
  });
  return (
    <table class="data effects">
      <thead>
        <tr>
          <th>Claim</th>
          <th>Effect measured</th>
          <th>Interval</th>
          <th>Against</th>
          <th>Verdict</th>
          <th>Figure</th>
        </tr>
      </thead>
      <tbody>
        {claims.map((c) => {
          const fig = claimFigureHref(sweep, c.id);
          return (
            <tr id={`finding-${c.id}`}>
              <td>
                <a href={claimsHref(c.id)}>{c.statement}</a>
              </td>
              <td class="num">{f.value(c.value)}</td>
              <td class="num">
                {c.interval ? `[${f.value(c.interval.lo)}, ${f.value(c.interval.hi)}]` : "–"}
              </td>
              <td class="num">{f.threshold(c.threshold)}</td>
              <td>
                <VerdictBadge verdict={c.verdict} />
              </td>
              <td>
                {fig ? <a href={hrefWithAnchor(ctx, fig)}>{CLAIM_FIGURES[c.id]!.label}</a> : "–"}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/**
 * The findings section of a sweep or an external analysis (see the module's description).
 * Absent files give a line saying which file is missing and the command that writes it.
 */
export function Findings(
  props: {
    ctx: RouteContext;
    sweep: string;
    claims: Loaded<ClaimsFile>;
    similarity: Loaded<SimilarityFile>;
    summary: SummaryFile | null;
    /** paper.json: our figures beside the paper's published ones (absent: no such table). */
    paper?: Loaded<PaperFile>;
    /** The command that writes the analysis for this folder. */
    command: string;
  },
): JSX.Element {
  const { ctx, sweep } = props;
  const claims = props.claims.status === "ok" ? props.claims.value.claims : null;
  const s = props.similarity.status === "ok" ? props.similarity.value : null;
  const t = claims ? tally(claims) : null;
  const claimsHref = (id: string) => `${ctx.href(sweepPath(sweep, "claims"))}#claim-${id}`;
  return (
    <section class="findings" id="findings">
      <h2>Findings</h2>
      {t && claims
        ? (
          <p class="tally">
            Of {claims.length} paper claims checked: <VerdictBadge verdict="holds" /> {t.holds} ·
            {" "}
            <VerdictBadge verdict="fails" /> {t.fails} · <VerdictBadge verdict="inconclusive" />
            {" "}
            {t.inconclusive} (<a href={ctx.href(sweepPath(sweep, "claims"))}>all claims</a>)
          </p>
        )
        : (
          <div class="notice missing" role="status">
            <p>
              <strong>analysis/claims.json</strong> {props.claims.status === "invalid"
                ? `could not be read: ${props.claims.message}`
                : "is absent, so there are no verdicts yet. The analysis writes it:"}
            </p>
            <pre><code>{props.command}</code></pre>
          </div>
        )}
      {s && (
        <Figure
          title="Headline: p(k,k) against width k"
          ctx={ctx}
          sweep={sweep}
          file="similarity.json"
          csv="pkk.csv"
          anchor="fig-headline"
          caption="Mean cosine similarity of the salience of two models of one family and width (distinct seeds), averaged over probe images; bars are the bootstrap intervals over seeds and image blocks. The paper's claim: it rises with width."
        >
          <HeadlineChart series={diagonalSeries(s)} />
        </Figure>
      )}
      {claims && claims.length > 0 && (
        <EffectsTable claims={claims} ctx={ctx} sweep={sweep} claimsHref={claimsHref} />
      )}
      {props.paper?.status === "ok" && props.paper.value.rows.length > 0 && (
        <div class="beside-paper">
          <h3>Beside the paper</h3>
          <table class="data">
            <thead>
              <tr>
                <th>Figure</th>
                <th>Paper</th>
                <th>Ours</th>
                <th>Meets the paper's range</th>
              </tr>
            </thead>
            <tbody>
              {props.paper.value.rows.map((r) => (
                <tr>
                  <td>
                    <a href={`${ctx.href(sweepPath(sweep, "claims"))}#paper-${r.id}`}>
                      {r.figure}
                    </a>
                  </td>
                  <td>{r.paper.text}</td>
                  <td>{r.ours.text}</td>
                  <td>{r.overlaps === null ? "–" : r.overlaps ? "yes" : "no"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {(s || props.summary) && (
        <div class="caveats">
          <h3>Caveats</h3>
          <ul>
            {caveats(s, props.summary).map((c) => (
              <li>
                <strong>{c.topic}:</strong> {c.text}
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}
