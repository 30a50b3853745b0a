/**
 * Sections that set our figures beside other settings: the same salience pooled to 8×8 and
 * unpooled (`pooling.json`), our figures beside the paper's published ones (`paper.json`), and
 * t against μ including the model beside the leave-one-out μ (`marginals.json`).
 * @module
 */
import type { JSX } from "preact";
import type {
  GroupMarginal,
  MarginalsFile,
  PaperFile,
  PoolingFile,
  PoolingVariant,
} from "../analysis/schema.ts";
import { columnFormat } from "./charts/mod.ts";
import { DataTable, Figure, intervalText } from "./components.tsx";
import { ClaimsSideBySide } from "./findings.tsx";
import type { RouteContext } from "./router.ts";

/** "pooled 8×8 (D = 192)" / "unpooled (D = 3,072)", with "main" for the config's. */
export function variantLabel(v: PoolingVariant): string {
  const what = v.pooling === null ? "unpooled" : `pooled ${v.pooling}×${v.pooling}`;
  return `${what} (D = ${v.dimension.toLocaleString("en-US")})${v.main ? ", main" : ""}`;
}

/**
 * The pooled and unpooled analyses side by side: each gradient claim's verdict and value, and
 * p(k, k) per group, one column per variant. Cost: one render.
 * @example
 * ```ts
 * import { renderToString } from "preact-render-to-string";
 * import { PoolingSection } from "./comparison_sections.tsx";
 * const ctx = {
 *   params: { sweep: "s" }, query: new URLSearchParams(), store: { root: ".", realRoot: "." },
 *   path: "/sweeps/s/claims/", mode: "server" as const, href: (to: string) => to,
 * };
 * const file = {
 *   schemaVersion: 1 as const, kind: "pooling" as const, generatedAt: "", source: "s",
 *   variants: [], skipped: "the inputs are 2×2, smaller than the 8×8 pooling",
 * };
 * const html = renderToString(PoolingSection({ file, ctx, sweep: "s" }));
 * if (!html.includes("smaller than the 8×8")) throw new Error(html);
 * ```
 */
export function PoolingSection(
  props: { file: PoolingFile; ctx: RouteContext; sweep: string },
): JSX.Element {
  const { file } = props;
  const vs = file.variants;
  const groups = vs[0]?.groups ?? [];
  // The p(k, k) rows in one notation (the claims' rows have theirs).
  const pFormat = columnFormat(
    vs.flatMap((v) =>
      v.groups.flatMap((g) => [g.pWithin?.mean, g.pWithin?.ci?.lo, g.pWithin?.ci?.hi])
    ),
    4,
  );
  return (
    <Figure
      title="Pooled 8×8 and unpooled, side by side"
      ctx={props.ctx}
      sweep={props.sweep}
      file="pooling.json"
      caption="The same models' salience from one pass, compared area-pooled to 8×8 per channel (as the authors' demo does) and at full resolution. Each variant's files are in its folder under analysis/."
    >
      {file.skipped && <p class="notice">Only one pooling was analysed: {file.skipped}.</p>}
      <ClaimsSideBySide
        class="data pooling"
        digits={4}
        interval="full"
        columns={vs.map((v) => ({ label: variantLabel(v), claims: v.claims }))}
      >
        {groups.map((g, gi) => (
          <tr>
            <td>
              p(k, k) {g.family} k={g.k}
            </td>
            {vs.map((v) => {
              const p = v.groups[gi]?.pWithin;
              // deno-lint-ignore jsx-key -- rendered once on the server, never diffed
              return <td>{p ? `${pFormat(p.mean)} ${intervalText(p.ci, pFormat)}` : "–"}</td>;
            })}
          </tr>
        ))}
      </ClaimsSideBySide>
    </Figure>
  );
}

/**
 * "Compared with the paper": each published figure of the authors' demo beside ours, with what
 * differs in the setting on the same row. Cost: one render.
 * @example
 * ```ts
 * import { renderToString } from "preact-render-to-string";
 * import { PaperSection } from "./comparison_sections.tsx";
 * const ctx = {
 *   params: { sweep: "s" }, query: new URLSearchParams(), store: { root: ".", realRoot: "." },
 *   path: "/sweeps/s/claims/", mode: "server" as const, href: (to: string) => to,
 * };
 * const file = {
 *   schemaVersion: 1 as const, kind: "paper" as const, generatedAt: "", source: "s",
 *   reference: "the demo", family: null, pooling: null, rows: [], missing: "no family has two widths",
 * };
 * const html = renderToString(PaperSection({ file, ctx, sweep: "s" }));
 * if (!html.includes("no family has two widths")) throw new Error(html);
 * ```
 */
export function PaperSection(
  props: { file: PaperFile; ctx: RouteContext; sweep: string },
): JSX.Element {
  const { file } = props;
  return (
    <Figure
      title="Compared with the paper"
      ctx={props.ctx}
      sweep={props.sweep}
      file="paper.json"
      caption={`Our figures beside those of ${file.reference}. Each row states what differs in our setting; the widths compared are the nearest analogue of the paper's.`}
    >
      {file.missing && <p class="notice">Not every figure could be compared: {file.missing}.</p>}
      <DataTable head={["Figure", "Paper", "Ours", "Meets the paper's range", "What differs"]}>
        {file.rows.map((r) => (
          <tr id={`paper-${r.id}`}>
            <td>{r.figure}</td>
            <td>{r.paper.text}</td>
            <td>
              {r.ours.text}
              {r.ours.values.length === 1 && r.ours.values[0]!.ci
                ? ` ${intervalText(r.ours.values[0]!.ci, 3)}`
                : ""}
            </td>
            <td>{r.overlaps === null ? "–" : r.overlaps ? "yes" : "no"}</td>
            <td>{r.differs}</td>
          </tr>
        ))}
      </DataTable>
    </Figure>
  );
}

/**
 * t against μ including the model beside the leave-one-out t, each with what independent draws
 * with the group's p(k, k) predict, so the bias of each estimate of μ is visible. Renders nothing
 * when the analysis did not compute it. Cost: one render.
 * @example
 * ```ts
 * import { MeanDirectionSection } from "./comparison_sections.tsx";
 * const ctx = {
 *   params: { sweep: "s" }, query: new URLSearchParams(), store: { root: ".", realRoot: "." },
 *   path: "/sweeps/s/distributions/", mode: "server" as const, href: (to: string) => to,
 * };
 * const section = MeanDirectionSection({ groups: [], note: undefined, ctx, sweep: "s" });
 * if (section !== null) throw new Error("nothing to show without the analysis's note");
 * ```
 */
export function MeanDirectionSection(
  props: {
    groups: readonly GroupMarginal[];
    note: MarginalsFile["muIncludingModel"];
    ctx: RouteContext;
    sweep: string;
  },
): JSX.Element | null {
  const rows = props.groups.filter((g) => g.includingModel);
  if (!props.note || rows.length === 0) return null;
  // Every column is a cosine or a mean of t: one notation for the table.
  const f = columnFormat(
    rows.flatMap((g) => {
      const inc = g.includingModel!, e = inc.expected;
      return [
        e?.pWithin,
        g.pooled.mean,
        e?.leaveOneOut,
        inc.pooled.mean,
        e?.includingModel,
        e?.population,
      ];
    }),
    4,
  );
  return (
    <Figure
      title="μ including the model beside leave-one-out"
      ctx={props.ctx}
      sweep={props.sweep}
      file="marginals.json"
      caption={props.note}
    >
      <DataTable
        head={[
          "Group",
          "Seeds",
          "p(k, k)",
          "E[t] leave-one-out",
          "expected",
          "E[t] including the model",
          "expected",
          "√p (population)",
        ]}
      >
        {rows.map((g) => {
          const inc = g.includingModel!, e = inc.expected;
          return (
            <tr>
              <th>{g.family} k={g.k}</th>
              <td>{e ? e.seeds : "–"}</td>
              <td class="num">{f(e?.pWithin)}</td>
              <td class="num">{f(g.pooled.mean)}</td>
              <td class="num">{f(e?.leaveOneOut)}</td>
              <td class="num">{f(inc.pooled.mean)}</td>
              <td class="num">{f(e?.includingModel)}</td>
              <td class="num">{f(e?.population)}</td>
            </tr>
          );
        })}
      </DataTable>
    </Figure>
  );
}
