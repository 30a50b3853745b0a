/**
 * `/sweeps/:sweep/attacks/`: the black-box FGSM attack: α(k1, k2) per family (source width rows,
 * target width columns) and the three strategies by target width. Accepts `?family=NAME`.
 * @module
 */
import type { JSX } from "preact";
import type { AttacksFile } from "../../../lib/analysis/schema.ts";
import { LineChart, type Series } from "../../../lib/site/charts/mod.ts";
import {
  analysisPage,
  DataTable,
  estimateNumbers,
  estimateText,
  Figure,
  intervalText,
  num,
  type SectionsProps,
  tableFormats,
} from "../../../lib/site/components.tsx";
import { Island } from "../../../lib/site/island.tsx";
import HeatmapHover from "../../../islands/HeatmapHover.tsx";
import { analysisRoute } from "../../../lib/site/sweep_data.ts";

/** Query keys accepted. */
export const queryKeys = ["family"] as const;

/** `load` reads attacks.json and validates `?family=`; `title` names the page. */
export const { load, title } = analysisRoute("attacks", "attacks", {
  families: (a) => (a.matrices ?? []).map((m) => m.family),
});

/** Colours of the paper's Figure 11: largest red, same width green, mean direction blue. */
const STRATEGY_STYLE: Record<string, { label: string; color: string }> = {
  "largest": { label: "largest model", color: "#D55E00" },
  "same-width": { label: "same width", color: "#009E73" },
  "mean-direction": { label: "mean direction", color: "#0072B2" },
  "mean-direction-all": { label: "mean direction (all families)", color: "#56B4E9" },
};

/** The clip ranges, one `[lo, hi]` per channel (older files hold a single pair). */
function clipText(clip: unknown): string {
  const pairs = Array.isArray(clip) && Array.isArray(clip[0])
    ? clip as number[][]
    : [clip as number[]];
  const text = pairs.map((p) => `[${p.map((v) => num(v, 4)).join(", ")}]`);
  return text.length > 1 ? `per channel ${text.join(", ")}` : (text[0] ?? "");
}

/**
 * One family's strategies by target width: α over all samples and over correctly classified ones,
 * each with its bootstrap interval, one notation per column.
 */
function StrategyTable({ rows }: { rows: AttacksFile["strategies"] }): JSX.Element {
  const f = tableFormats({
    all: rows.flatMap((r) => estimateNumbers(r.alpha.all)),
    correct: rows.flatMap((r) => estimateNumbers(r.alpha.correct)),
  });
  return (
    <DataTable
      head={["k", "Strategy", "Targets", "Sources", "α all", "Interval", "α correct", "Interval"]}
    >
      {rows.map((r) => (
        <tr>
          <td>{r.k}</td>
          <td>{STRATEGY_STYLE[r.strategy]?.label ?? r.strategy}</td>
          <td>{r.targets}</td>
          <td>{r.sourceModels}</td>
          <td class="num">{estimateText(r.alpha.all, f.all)}</td>
          <td class="num">{intervalText(r.alpha.all.ci, f.all)}</td>
          <td class="num">{estimateText(r.alpha.correct, f.correct)}</td>
          <td class="num">{intervalText(r.alpha.correct.ci, f.correct)}</td>
        </tr>
      ))}
    </DataTable>
  );
}

function Sections(
  { file: a, ctx, sweep, family }: SectionsProps<AttacksFile>,
): JSX.Element {
  const matrices = a.matrices.filter((m) => family === null || m.family === family);
  const families = [...new Set(a.strategies.map((s) => s.family))].filter((f) =>
    family === null || f === family
  );
  return (
    <>
      <p>
        FGSM (L∞) with ε = {a.epsilon} in normalised units, clipped to{" "}
        {clipText(a.clip)}, along the sign of the gradient of the {a.scalar}; {a.samples}{" "}
        probe images. α = mean over x of p_target(y|x′) / p_target(y|x): lower is a stronger attack.
      </p>
      <section>
        <h2>α(k1, k2): source width against target width</h2>
        {matrices.map((m) => (
          <Figure
            title={`α(k1, k2), ${m.family}`}
            ctx={ctx}
            sweep={sweep}
            file="attacks.json"
            csv="attacks.csv"
          >
            <div class="panel">
              <h4>All probe images</h4>
              <Island
                component={HeatmapHover}
                props={{
                  id: `alpha-${m.family}`,
                  title: `Prediction decay ratio α over all images, ${m.family}`,
                  xLabel: "target k2",
                  yLabel: "source k1",
                  rowLabels: m.ks.map(String),
                  colLabels: m.ks.map(String),
                  values: m.cells.map((row) => row.map((c) => c?.all.mean ?? null)),
                  details: m.cells.map((row) =>
                    row.map((c) =>
                      c ? `${estimateText(c.all)}, ${c.all.pairs} (target, sample) pairs` : null
                    )
                  ),
                }}
              />
            </div>
            <div class="panel">
              <h4>Correctly classified images only</h4>
              <Island
                component={HeatmapHover}
                props={{
                  id: `alpha-correct-${m.family}`,
                  title: `α over correctly classified images, ${m.family}`,
                  xLabel: "target k2",
                  yLabel: "source k1",
                  rowLabels: m.ks.map(String),
                  colLabels: m.ks.map(String),
                  values: m.cells.map((row) => row.map((c) => c?.correct.mean ?? null)),
                  details: m.cells.map((row) =>
                    row.map((c) =>
                      c
                        ? `${estimateText(c.correct)}, ${c.correct.pairs} (target, sample) pairs`
                        : null
                    )
                  ),
                }}
              />
            </div>
          </Figure>
        ))}
      </section>
      <section>
        <h2>Three strategies</h2>
        {families.map((f, fi) => {
          const rows = a.strategies.filter((s) => s.family === f);
          const ks = [...new Set(rows.map((r) => r.k))].sort((x, y) => x - y);
          const series: Series[] = [...new Set(rows.map((r) => r.strategy))].map((st) => {
            const rs = ks.map((k) => rows.find((r) => r.k === k && r.strategy === st));
            return {
              name: STRATEGY_STYLE[st]?.label ?? st,
              color: STRATEGY_STYLE[st]?.color,
              mode: "both" as const,
              points: rs.map((r, i) => [i, r?.alpha.all.mean ?? NaN] as [number, number]),
              intervals: rs.map((r) =>
                r?.alpha.all.ci ? [r.alpha.all.ci.lo, r.alpha.all.ci.hi] as [number, number] : null
              ),
            };
          });
          return (
            <Figure
              title={`Attack strategies by target width, ${f}`}
              ctx={ctx}
              sweep={sweep}
              file="attacks.json"
              csv="attack_strategies.csv"
              anchor={fi === 0 ? "fig-strategies" : undefined}
            >
              <LineChart
                id={`strategies-${f}`}
                title={`α by target width for three source strategies, ${f}`}
                xLabel="target width k"
                yLabel="α (lower = stronger attack)"
                xCategories={ks.map(String)}
                series={series}
              />
              <StrategyTable rows={rows} />
            </Figure>
          );
        })}
      </section>
    </>
  );
}

/** The attacks page. */
export default analysisPage<"attacks">(
  { heading: "Black-box attacks", current: "attacks" },
  Sections,
);
