/**
 * `/sweeps/:sweep/distributions/`: the marginal of t per width (KDE curves, toggled by family),
 * deciles beside the uniform-sphere ones, the Saw fit (log(p_k / P_origin) against log ψ) and the
 * random-baseline tail P(Z > p) for the data dimension. Accepts `?family=NAME`.
 * @module
 */
import type { JSX } from "preact";
import type { MarginalsFile, SimilarityFile } from "../../../lib/analysis/schema.ts";
import { diagonalSeries } from "../../../lib/site/findings.tsx";
import type { Loaded } from "../../../lib/site/store_reader.ts";
import {
  columnFormat,
  dashFor,
  LineChart,
  rampColor,
  type Series,
  seriesColor,
} from "../../../lib/site/charts/mod.ts";
import {
  AnalysisPage,
  DataTable,
  Figure,
  num,
  tableFormats,
} from "../../../lib/site/components.tsx";
import { Island } from "../../../lib/site/island.tsx";
import { sawPoints } from "../../../lib/site/tidy.ts";
import { MeanDirectionSection } from "../../../lib/site/comparison_sections.tsx";
import KdeFamilies from "../../../islands/KdeFamilies.tsx";
import type { RouteContext } from "../../../lib/site/router.ts";
import { analysis, type AnalysisPageData, loadAnalysisPage } from "../../../lib/site/sweep_data.ts";

/** Query keys accepted. */
export const queryKeys = ["family"] as const;

type Data = AnalysisPageData<"marginals"> & { similarity: Loaded<SimilarityFile> };

/** Loads marginals.json (and similarity.json, for the measured p on the baseline); validates `?family=`. */
export async function load(ctx: RouteContext): Promise<Data> {
  const page = await loadAnalysisPage(ctx, "marginals", {
    families: (m) => (m.groups ?? []).map((g) => g.family),
  });
  return { ...page, similarity: await analysis(ctx, page.base, "similarity") };
}

/** Linear interpolation of `ys` over ascending `xs` at `x`, clamped to the ends. */
function interpolate(xs: number[], ys: number[], x: number): number {
  if (xs.length === 0) return NaN;
  if (x <= xs[0]!) return ys[0] ?? NaN;
  for (let i = 1; i < xs.length; i++) {
    if (x <= xs[i]!) {
      const f = (x - xs[i - 1]!) / (xs[i]! - xs[i - 1]!);
      return ys[i - 1]! + f * (ys[i]! - ys[i - 1]!);
    }
  }
  return ys[ys.length - 1] ?? NaN;
}

/** Page title. */
export function title(data: Data): string {
  return `${data.base.name} — distributions`;
}

/** At most `max` evenly spaced points of a curve (always keeping the last), for drawing. */
function thin<P>(points: P[], max = 250): P[] {
  if (points.length <= max) return points;
  const stride = Math.ceil(points.length / max);
  return points.filter((_, i) => i % stride === 0 || i === points.length - 1);
}

/**
 * Which seeds a group's pooled marginal is over, for its tooltips ("seeds 0, 1, 2 pooled"), from
 * the similarity file's members; "all seeds pooled" where that file is absent.
 */
function seedsText(similarity: SimilarityFile | null, g: MarginalGroup): string {
  const entry = similarity?.groups.find((x) => x.family === g.family && x.k === g.k);
  const seeds = entry?.members.map((i) => similarity?.models[i]?.seed)
    .filter((s): s is number => s !== undefined) ?? [];
  return seeds.length === 0
    ? "all seeds pooled"
    : `seed${seeds.length === 1 ? "" : "s"} ${seeds.join(", ")} pooled`;
}

type MarginalGroup = MarginalsFile["groups"][number];

/** Deciles of t per group beside the uniform sphere's, in one notation for the whole table. */
function DecileTable(
  { groups, origin }: { groups: MarginalGroup[]; origin: (number | null)[] },
): JSX.Element {
  const f = columnFormat([...groups.flatMap((g) => g.pooled.deciles), ...origin]);
  return (
    <DataTable
      head={["Group", "(model, sample) pairs"]}
      moreHead={[10, 20, 30, 40, 50, 60, 70, 80, 90].map((q) => <th key={q}>{q} %</th>)}
    >
      {groups.map((g) => (
        <tr>
          <th>{g.family} k={g.k}</th>
          <td>{g.pooled.pairs}</td>
          {g.pooled.deciles.map((d, i) => <td key={i} class="num">{f(d)}</td>)}
        </tr>
      ))}
      <tr>
        <th>uniform sphere</th>
        <td>–</td>
        {origin.map((d, i) => <td key={i} class="num">{f(d)}</td>)}
      </tr>
    </DataTable>
  );
}

/** κ, intercept and the two R² of each group's Saw fit, one notation per column. */
function SawTable({ groups }: { groups: MarginalGroup[] }): JSX.Element {
  const f = tableFormats({
    kappa: groups.map((g) => g.saw.kappa),
    intercept: groups.map((g) => g.saw.intercept),
    r2: groups.map((g) => g.saw.r2),
    r2Log: groups.map((g) => g.saw.r2LogDensity),
  });
  return (
    <DataTable head={["Group", "κ", "intercept", "R²", "R² of log density", "points"]}>
      {groups.map((g) => (
        <tr>
          <th>{g.family} k={g.k}</th>
          <td class="num">{f.kappa(g.saw.kappa)}</td>
          <td class="num">{f.intercept(g.saw.intercept)}</td>
          <td class="num">{f.r2(g.saw.r2)}</td>
          <td class="num">{f.r2Log(g.saw.r2LogDensity)}</td>
          <td>{g.saw.points}</td>
        </tr>
      ))}
    </DataTable>
  );
}

function Sections(
  { m, ctx, sweep, family, similarity }: {
    m: MarginalsFile;
    ctx: RouteContext;
    sweep: string;
    family: string | null;
    similarity: SimilarityFile | null;
  },
): JSX.Element {
  const groups = m.groups.filter((g) => family === null || g.family === family)
    .sort((a, b) => a.family.localeCompare(b.family) || a.k - b.k);
  const families = [...new Set(groups.map((g) => g.family))];
  const colorOf = (f: string) => seriesColor(Math.max(0, families.indexOf(f)));
  // Restrict the KDE plot to where any curve has visible mass, so the peaks are readable.
  let lo = 1;
  let hi = -1;
  for (const g of groups) {
    const mx = Math.max(...g.pooled.density);
    g.pooled.density.forEach((v, i) => {
      if (v > mx * 1e-3) {
        lo = Math.min(lo, m.grid[i] ?? lo);
        hi = Math.max(hi, m.grid[i] ?? hi);
      }
    });
  }
  // null marks t = ±1, where log P_origin is −∞: a density of 0.
  const originDensity = m.logPOrigin.map((v) => v === null ? 0 : Math.exp(v));
  const omx = Math.max(...originDensity);
  originDensity.forEach((v, i) => {
    if (v > omx * 1e-3) {
      lo = Math.min(lo, m.grid[i] ?? lo);
      hi = Math.max(hi, m.grid[i] ?? hi);
    }
  });
  if (!(hi > lo)) [lo, hi] = [-1, 1];
  const inRange = (t: number) => t >= lo && t <= hi;
  const kdeSeries: Series[] = groups.map((g) => {
    const ks = groups.filter((x) => x.family === g.family).map((x) => x.k);
    return {
      name: `${g.family} k=${g.k} (mean t ${num(g.pooled.mean, 3)})`,
      group: g.family,
      color: colorOf(g.family),
      dash: dashFor(ks.indexOf(g.k)),
      points: thin(
        m.grid.map((t, i) => [t, g.pooled.density[i] ?? NaN] as [number, number]).filter((
          [t],
        ) => inRange(t)),
      ),
    };
  });
  kdeSeries.push({
    name: `uniform sphere, d = ${m.dimension}`,
    group: "uniform sphere",
    color: "#777777",
    dashed: true,
    points: thin(
      m.grid.map((t, i) => [t, originDensity[i] ?? NaN] as [number, number]).filter(([t]) =>
        inRange(t)
      ),
    ),
  });
  // Saw fit: colour is the family, shade the width (light = small k), so widths read in order.
  const sawColor = (g: MarginalGroup) => {
    const ks = groups.filter((x) => x.family === g.family).map((x) => x.k);
    return rampColor(colorOf(g.family), ks.indexOf(g.k), ks.length);
  };
  const sawSeries: Series[] = [];
  for (const g of groups) {
    const pts = sawPoints(m, g).map((p) => [p.logPsi, p.logRatio, p.t] as const);
    const ks = groups.filter((x) => x.family === g.family).map((x) => x.k);
    const shown = thin(pts, 120);
    const pooled = seedsText(similarity, g);
    sawSeries.push({
      name: `${g.family} k=${g.k}`,
      group: g.family,
      color: sawColor(g),
      mode: "markers",
      points: shown.map(([x, y]) => [x, y]),
      labels: shown.map(([, , t]) => `${g.family} k=${g.k}, ${pooled}, t = ${num(t, 3)}`),
    });
    const { kappa, intercept } = g.saw;
    if (kappa !== null && intercept !== null && pts.length > 1) {
      const xs = pts.map((p) => p[0]);
      const x0 = Math.min(...xs);
      const x1 = Math.max(...xs);
      sawSeries.push({
        name: `fit κ = ${num(kappa, 3)}, ${g.family} k=${g.k}`,
        group: g.family,
        color: sawColor(g),
        dash: dashFor(ks.indexOf(g.k)),
        points: [[x0, kappa * x0 + intercept], [x1, kappa * x1 + intercept]],
      });
    }
  }
  const rb = m.randomBaseline;
  // The one-image marginal (over the group's models only): the first probe image every group has.
  const firstImage = groups[0]?.perImage[0]?.sample;
  const imageSeries: Series[] = firstImage === undefined ? [] : groups.flatMap((g) => {
    const img = g.perImage.find((p) => p.sample === firstImage);
    if (!img) return [];
    const ks = groups.filter((x) => x.family === g.family).map((x) => x.k);
    return [{
      name: `${g.family} k=${g.k} (${img.pairs} models)`,
      group: g.family,
      color: colorOf(g.family),
      dash: dashFor(ks.indexOf(g.k)),
      points: thin(
        m.grid.map((t, i) => [t, img.density[i] ?? NaN] as [number, number]).filter(([t]) =>
          inRange(t)
        ),
      ),
    }];
  });
  /** The marginal density of t drawn by the family-toggling island. */
  const densityOfT = (id: string, title: string, series: Series[]) => (
    <Island
      component={KdeFamilies}
      props={{ id, title, xLabel: "t = cos(u_f(x), μ(x))", yLabel: "density", series }}
    />
  );
  return (
    <>
      <section>
        <h2>Marginal of t per width</h2>
        <p>
          t = ⟨u_f(x), μ(x)⟩ with μ estimated{" "}
          {m.mu === "leave-one-out" ? "without f (leave-one-out)" : m.mu}, pooled over members and
          probe images; Gaussian KDE. The grey dashed curve is the uniform-sphere marginal P_origin
          for d = {m.dimension}.
        </p>
        <Figure title="KDE of t by family and width" ctx={ctx} sweep={sweep} file="marginals.json">
          {densityOfT("kde", "Marginal density of t (KDE) by family and width", kdeSeries)}
        </Figure>
        <Figure
          title="Deciles of t"
          ctx={ctx}
          sweep={sweep}
          file="marginals.json"
          csv="marginal_deciles.csv"
        >
          <DecileTable groups={groups} origin={m.originDeciles} />
        </Figure>
        {imageSeries.length > 0 && (
          <Figure
            title={`Marginal of t for probe image ${firstImage}`}
            ctx={ctx}
            sweep={sweep}
            file="marginals.json"
            csv="marginals_per_image.csv"
            caption="t over the models of each group at one test image (the paper's one-image figure; it needs many seeds per width to be smooth)."
          >
            {densityOfT(
              "kde-image",
              `Marginal density of t at probe image ${firstImage}`,
              imageSeries,
            )}
          </Figure>
        )}
        <MeanDirectionSection groups={groups} note={m.muIncludingModel} ctx={ctx} sweep={sweep} />
      </section>
      <section>
        <h2>Saw fit</h2>
        <p>
          p_k(t) ∝ ψ(t)^κ_k · P_origin(t). log ψ is log(KDE / P_origin) of the{" "}
          {m.saw.reference === "pooled" ? "pooled marginal" : "smallest width"};{" "}
          {m.saw.reference === "chain"
            ? "each width is regressed on the next smaller one over the grid points where both densities exceed "
            : "each width's log(KDE_k / P_origin) is regressed on it over the grid points where both densities exceed "}
          {m.saw.densityFloor}{" "}
          of their maximum, so κ is relative to the smallest width (κ = 1 there by
          construction){m.saw.reference === "chain"
            ? " and is the product of the adjacent slopes"
            : ""}. Points: each width's log(KDE_k / P_origin) against log ψ; lines: κ_k · log ψ +
          intercept.
        </p>
        <Figure
          title="log(p_k / P_origin) against log ψ"
          ctx={ctx}
          sweep={sweep}
          file="marginals.json"
          csv={["saw_points.csv", "saw.csv"]}
        >
          <Island
            component={KdeFamilies}
            props={{
              id: "saw",
              title: "Saw fit: log(p_k / P_origin) against log ψ, with fitted lines",
              xLabel: "log ψ(t)",
              yLabel: "log(p_k(t) / P_origin(t))",
              series: sawSeries,
            }}
          />
          <SawTable groups={groups} />
        </Figure>
      </section>
      <section>
        <h2>Random baseline</h2>
        <Figure
          title={`Random-baseline tail P(Z > p) for d = ${m.dimension}`}
          ctx={ctx}
          sweep={sweep}
          file="marginals.json"
          csv="random_baseline.csv"
          caption="The chance that a direction drawn uniformly on the sphere has cosine above p with a fixed one (log scale). Measured similarities far above the curve's support are not chance. Dots: this sweep's measured p(k,k), one per width."
        >
          <LineChart
            id="random-baseline"
            title={`log10 P(Z > p) for d = ${m.dimension}`}
            xLabel="cosine similarity p"
            yLabel="log10 P(Z > p)"
            series={[
              {
                name: `d = ${m.dimension}`,
                color: "#777777",
                points: rb.p.map((p, i) => [p, rb.log10Tail[i] ?? NaN] as [number, number]),
              },
              // The measured p(k,k) of each width, marked on the curve.
              ...(similarity ? diagonalSeries(similarity) : [])
                .filter((f) => family === null || f.family === family)
                .map((f, fi) => ({
                  name: `measured p(k,k), ${f.family} (k = ${f.ks.join(", ")})`,
                  color: seriesColor(fi),
                  mode: "markers" as const,
                  points: f.ks.map((_, j) => {
                    const p = f.mean[j] ?? NaN;
                    return [p, interpolate(rb.p, rb.log10Tail, p)] as [number, number];
                  }),
                })),
            ]}
          />
        </Figure>
      </section>
    </>
  );
}

/** The distributions page. */
export default function Distributions(
  { data, ctx }: { data: Data; ctx: RouteContext },
): JSX.Element {
  return (
    <AnalysisPage
      heading="Distributions"
      current="distributions"
      ctx={ctx}
      data={data}
      render={(m) => (
        <Sections
          m={m}
          ctx={ctx}
          sweep={data.base.name}
          family={data.family}
          similarity={data.similarity.status === "ok" ? data.similarity.value : null}
        />
      )}
    />
  );
}
