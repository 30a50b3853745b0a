/**
 * `/sweeps/:sweep/epochs/`: convergence over training (`salience.epochs`, `--epochs-analysed`):
 * p(k,k) against epoch per width, p(k,k) against test accuracy (does similarity rise with
 * accuracy, or ahead of it?), and the spherical variance against epoch.
 * @module
 */
import type { JSX } from "preact";
import { dashFor, LineChart, type Series, seriesColor } from "../../../lib/site/charts/mod.ts";
import { Figure, SweepPage } from "../../../lib/site/components.tsx";
import type { RouteContext } from "../../../lib/site/router.ts";
import { type Loaded, readEpochs } from "../../../lib/site/store_reader.ts";
import { isExternal, requireSweep, type SweepBase } from "../../../lib/site/sweep_data.ts";
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

/** The epochs page. */
export default function Epochs({ data, ctx }: { data: Data; ctx: RouteContext }): JSX.Element {
  const { base, epochs } = data;
  const sweep = base.name;
  const e = epochs.status === "ok" ? epochs.value : null;
  return (
    <SweepPage
      heading="Convergence over training"
      ctx={ctx}
      sweep={sweep}
      current="epochs"
      external={isExternal(base)}
    >
      {!e && (
        <div class="notice missing" role="status">
          <p>
            <strong>analysis/epochs.json</strong> {epochs.status === "invalid"
              ? `could not be read: ${epochs.status === "invalid" ? epochs.message : ""}`
              : "is absent: this sweep kept no salience during training. Name the epochs to analyse and run the sweep again (complete runs are retrained only for the epochs they lack):"}
          </p>
          <pre><code>deno task sweep --preset NAME --epochs-analysed 1,2,5</code></pre>
        </div>
      )}
      {e && (
        <>
          <p>
            The salience ({e.scalar}
            {e.pooling === null ? ", unpooled" : `, pooled ${e.pooling}×${e.pooling}`}) of every
            model after epochs {e.epochs.join(", ")}, analysed like the final one.
          </p>
          <Figure
            title="p(k,k) against epoch, per width"
            ctx={ctx}
            sweep={sweep}
            file="epochs.json"
            csv="epochs.csv"
            caption="Colour: family; dash: width. Bars: bootstrap intervals of p(k,k)."
          >
            <LineChart
              id="pkk-epoch"
              title="p(k,k) of distinct seeds against training epoch"
              xLabel="epoch"
              yLabel="p(k,k)"
              xTicks={e.epochs.length <= 12 ? e.epochs : undefined}
              series={perWidth(e.rows, (r) => r.epoch, (r) => r.pKK, (r) => r.pKKInterval)}
            />
          </Figure>
          <Figure
            title="p(k,k) against test accuracy"
            ctx={ctx}
            sweep={sweep}
            file="epochs.json"
            csv="epochs.csv"
            caption="Each width's path over the analysed epochs: mean test accuracy of its seeds against p(k,k). A path that climbs before it moves right means similarity rises ahead of accuracy."
          >
            <LineChart
              id="pkk-accuracy"
              title="p(k,k) against mean test accuracy, one path per width over the epochs"
              xLabel="mean test accuracy"
              yLabel="p(k,k)"
              series={perWidth(e.rows, (r) => r.testAcc, (r) => r.pKK, (r) => r.pKKInterval)}
            />
          </Figure>
          <Figure
            title="Spherical variance against epoch"
            ctx={ctx}
            sweep={sweep}
            file="epochs.json"
            csv="epochs.csv"
            caption="Corrected for the number of seeds n (see the similarity page)."
          >
            <LineChart
              id="sv-epoch"
              title="Spherical variance (corrected) against training epoch"
              xLabel="epoch"
              yLabel="spherical variance"
              xTicks={e.epochs.length <= 12 ? e.epochs : undefined}
              series={perWidth(e.rows, (r) => r.epoch, (r) => r.sphericalVarianceCorrected)}
            />
          </Figure>
        </>
      )}
    </SweepPage>
  );
}
