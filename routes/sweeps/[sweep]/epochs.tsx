/**
 * `/sweeps/:sweep/epochs/`: convergence over training (`salience.epochs`, `--epochs-analysed`):
 * p(k,k) against epoch per width, p(k,k) against test accuracy (does similarity rise with
 * accuracy, or ahead of it?), and the spherical variance against epoch.
 * @module
 */
import type { JSX } from "preact";
import { dashFor, LineChart, type Series, seriesColor } from "../../../lib/site/charts/mod.ts";
import { Figure, FileNotice, SweepPage } from "../../../lib/site/components.tsx";
import type { RouteContext } from "../../../lib/site/router.ts";
import { type Loaded, readEpochs } from "../../../lib/site/store_reader.ts";
import {
  isExternal,
  requireSweep,
  type SweepBase,
  sweepCommand,
} from "../../../lib/site/sweep_data.ts";
import type { EpochRow, EpochsJson } from "../../../lib/sweep/epochs.ts";

interface Data {
  base: SweepBase;
  epochs: Loaded<EpochsJson>;
}

/** Loads analysis/epochs.json. */
export async function load(ctx: RouteContext): Promise<Data> {
  const base = await requireSweep(ctx);
  return { base, epochs: await readEpochs(ctx.store, base.name) };
}

/** Page title. */
export function title(data: Data): string {
  return `${data.base.name} — convergence over training`;
}

/**
 * One series per (family, width): `x(row)` against `y(row)` over the epochs, colour by family and
 * dash by width, with `interval(row)` bars when given.
 */
function perWidth(
  rows: EpochRow[],
  x: (r: EpochRow) => number | null,
  y: (r: EpochRow) => number | null,
  interval?: (r: EpochRow) => [number, number] | null,
): Series[] {
  const families = [...new Set(rows.map((r) => r.family))];
  const out: Series[] = [];
  families.forEach((f, fi) => {
    const ks = [...new Set(rows.filter((r) => r.family === f).map((r) => r.k))].sort((a, b) =>
      a - b
    );
    ks.forEach((k, ki) => {
      const rs = rows.filter((r) => r.family === f && r.k === k).sort((a, b) => a.epoch - b.epoch);
      out.push({
        name: `${f} k=${k} (${Math.min(...rs.map((r) => r.seeds))} seeds)`,
        group: f,
        color: seriesColor(fi),
        dash: dashFor(ki),
        mode: "both",
        points: rs.map((r) => [x(r) ?? NaN, y(r) ?? NaN] as [number, number]),
        intervals: interval ? rs.map(interval) : undefined,
      });
    });
  });
  return out;
}

/** One figure of the page: a line chart of `series`, its data in epochs.json and epochs.csv. */
function EpochsChart(
  props: {
    ctx: RouteContext;
    sweep: string;
    title: string;
    caption: string;
    id: string;
    chartTitle: string;
    xLabel: string;
    yLabel: string;
    xTicks?: number[];
    xLog?: boolean;
    series: Series[];
  },
): JSX.Element {
  return (
    <Figure
      title={props.title}
      ctx={props.ctx}
      sweep={props.sweep}
      file="epochs.json"
      csv="epochs.csv"
      caption={props.caption}
    >
      <LineChart
        id={props.id}
        title={props.chartTitle}
        xLabel={props.xLabel}
        yLabel={props.yLabel}
        xTicks={props.xTicks}
        xLog={props.xLog}
        series={props.series}
      />
    </Figure>
  );
}

/** The epochs page. */
export default function Epochs({ data, ctx }: { data: Data; ctx: RouteContext }): JSX.Element {
  const { base, epochs } = data;
  const sweep = base.name;
  const e = epochs.status === "ok" ? epochs.value : null;
  const epochTicks = e && e.epochs.length <= 12 ? e.epochs : undefined;
  // Epochs spread over decades (the paper presets' 1, 2, 5, …, 100) go on a log axis, where the
  // early epochs, when convergence appears or not, are not squeezed against the origin.
  const epochLog = e !== null && e.epochs.length > 0 &&
    Math.max(...e.epochs) >= 10 * Math.min(...e.epochs);
  const epochLabel = epochLog ? "epoch (log scale)" : "epoch";
  return (
    <SweepPage
      heading="Convergence over training"
      ctx={ctx}
      sweep={sweep}
      current="epochs"
      external={isExternal(base)}
    >
      {!e && (isExternal(base)
        ? (
          <FileNotice
            file="analysis/epochs.json"
            loaded={epochs}
            absent="is absent: an external analysis has no training records, so no salience over epochs. To follow convergence over training, export the gradients at each epoch and analyse each file on its own:"
            command="deno task analyze --grads EPOCH.npy --models M.json --out EPOCH-analysis"
          />
        )
        : (
          <FileNotice
            file="analysis/epochs.json"
            loaded={epochs}
            absent="is absent: this sweep kept no salience during training. Name the epochs to analyse and run the sweep again (complete runs are retrained only for the epochs they lack):"
            command={sweepCommand(base, "--epochs-analysed 1,2,5")}
          />
        ))}
      {e && (
        <>
          <p>
            The salience ({e.scalar}
            {e.pooling === null ? ", unpooled" : `, pooled ${e.pooling}×${e.pooling}`}) of every
            model after epochs {e.epochs.join(", ")}, analysed like the final one.
          </p>
          <EpochsChart
            ctx={ctx}
            sweep={sweep}
            title="p(k,k) against epoch, per width"
            caption="Colour: family; dash: width. Bars: bootstrap intervals of p(k,k)."
            id="pkk-epoch"
            chartTitle="p(k,k) of distinct seeds against training epoch"
            xLabel={epochLabel}
            yLabel="p(k,k)"
            xTicks={epochTicks}
            xLog={epochLog}
            series={perWidth(e.rows, (r) => r.epoch, (r) => r.pKK, (r) => r.pKKInterval)}
          />
          <EpochsChart
            ctx={ctx}
            sweep={sweep}
            title="p(k,k) against test accuracy"
            caption="Each width's path over the analysed epochs: mean test accuracy of its seeds against p(k,k). A path that climbs before it moves right means similarity rises ahead of accuracy."
            id="pkk-accuracy"
            chartTitle="p(k,k) against mean test accuracy, one path per width over the epochs"
            xLabel="mean test accuracy"
            yLabel="p(k,k)"
            series={perWidth(e.rows, (r) => r.testAcc, (r) => r.pKK, (r) => r.pKKInterval)}
          />
          <EpochsChart
            ctx={ctx}
            sweep={sweep}
            title="Spherical variance against epoch"
            caption="Corrected for the number of seeds n (see the similarity page)."
            id="sv-epoch"
            chartTitle="Spherical variance (corrected) against training epoch"
            xLabel={epochLabel}
            yLabel="spherical variance"
            xTicks={epochTicks}
            xLog={epochLog}
            series={perWidth(e.rows, (r) => r.epoch, (r) => r.sphericalVarianceCorrected)}
          />
        </>
      )}
    </SweepPage>
  );
}
