/**
 * The paper-claims checklist as one table: each claim with what was measured, its value and
 * bootstrap interval, the threshold, the verdict and why, in one notation per column. The claims
 * page renders it on the server (with a column linking each claim's figure) and the in-browser
 * analysis island in the reader's browser, from this one component. Browser-safe.
 * @module
 */
import type { ComponentChildren, JSX } from "preact";
import type { ClaimEntry } from "../analysis/schema.ts";
import { columnFormat } from "./charts/mod.ts";

const VERDICTS = new Set(["holds", "fails", "inconclusive"]);

/**
 * The claims table. `figure`, when given, adds a "Figure" column with what it returns for each
 * claim (a link to the figure that backs it). Each row is `#claim-<id>` and carries
 * `data-claim` and `data-value`.
 * @example
 * ```ts
 * import { renderToString } from "preact-render-to-string";
 * import { h } from "preact";
 * import { ClaimsTable } from "./claims_table.tsx";
 * const c = { id: "a", statement: "S", measure: "m", value: 0.5, interval: null, threshold: 0.0004, verdict: "holds" as const, reason: "r", pairs: 3 };
 * const html = renderToString(h(ClaimsTable, { claims: [c] }));
 * if (!html.includes(">0.5000</td>") || html.includes("Figure")) throw new Error(html);
 * ```
 */
export function ClaimsTable(
  props: {
    claims: ClaimEntry[];
    /** Extra classes of the table (after `data claims`). */
    class?: string;
    figure?: (claim: ClaimEntry) => ComponentChildren;
  },
): JSX.Element {
  const { claims, figure } = props;
  // One notation per column: the values with their intervals' ends, and the thresholds.
  const value = columnFormat(claims.flatMap((x) => [x.value, x.interval?.lo, x.interval?.hi]), 4);
  const threshold = columnFormat(claims.map((x) => x.threshold), 4);
  const head = ["Claim", "Measured", "Value", "Interval", "Threshold", "Verdict", "Why"];
  if (figure) head.push("Figure");
  return (
    <table class={`data claims${props.class ? ` ${props.class}` : ""}`}>
      <thead>
        <tr>{head.map((h) => <th key={h}>{h}</th>)}</tr>
      </thead>
      <tbody>
        {claims.map((c) => (
          <tr key={c.id} id={`claim-${c.id}`} data-claim={c.id} data-value={c.value ?? ""}>
            <td data-label="Claim">
              {c.statement}
              <br />
              <code>{c.id}</code>
            </td>
            <td data-label="Measured">
              {c.measure}
              <br />({c.pairs} (model, sample) pairs)
            </td>
            <td class="num" data-label="Value">{value(c.value)}</td>
            <td data-label="Interval">
              {c.interval
                ? (
                  <>
                    <span class="nw">[{value(c.interval.lo)}, {value(c.interval.hi)}]</span>{" "}
                    <span class="muted">
                      {Math.round(c.interval.level * 100)} %, {c.interval.resamples} resamples over
                      {" "}
                      {c.interval.over.join(" + ")}
                    </span>
                  </>
                )
                : "–"}
            </td>
            <td class="num" data-label="Threshold">{threshold(c.threshold)}</td>
            <td data-label="Verdict">
              <span class={`badge ${VERDICTS.has(c.verdict) ? c.verdict : "inconclusive"}`}>
                {c.verdict}
              </span>
            </td>
            <td data-label="Why">{c.reason}</td>
            {figure && <td data-label="Figure">{figure(c)}</td>}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
