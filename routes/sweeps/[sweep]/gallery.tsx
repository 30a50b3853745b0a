/**
 * `/sweeps/:sweep/gallery/`: the salience gallery. Each probe image beside its salience maps for
 * every width: the mean direction of the width's seeds and a few single seeds, on one colour
 * scale per image. The maps are PNGs rendered on the server; the page needs no JavaScript.
 * @module
 */
import type { JSX } from "preact";
import { formatNumber } from "../../../lib/site/charts/mod.ts";
import { SweepPage } from "../../../lib/site/components.tsx";
import { buildGallery, type Gallery } from "../../../lib/site/gallery.ts";
import type { RouteContext } from "../../../lib/site/router.ts";
import { readPlanJson, readRuns } from "../../../lib/site/store_reader.ts";
import {
  isExternal,
  requireSweep,
  type SweepBase,
  sweepFolder,
} from "../../../lib/site/sweep_data.ts";

interface Data {
  base: SweepBase;
  gallery: Gallery | null;
  /** Why there is no gallery, when there is none. */
  reason: string | null;
}

/** Loads the complete runs' salience and the sweep's data set. */
export async function load(ctx: RouteContext): Promise<Data> {
  const base = await requireSweep(ctx);
  if (isExternal(base)) {
    return {
      base,
      gallery: null,
      reason:
        "An external analysis holds only the analysed gradients' statistics, not the salience of each model at each image, so it has no gallery.",
    };
  }
  const plan = await readPlanJson(ctx.store, base.name);
  if (plan.status !== "ok") {
    return {
      base,
      gallery: null,
      reason: `plan.json is ${
        plan.status === "missing" ? "absent" : "unreadable"
      }, so the runs are not known; the sweep writes it first (deno task sweep).`,
    };
  }
  const runs = await readRuns(ctx.store, base.name, plan.value);
  if (!runs.some((r) => r.status === "complete")) {
    return {
      base,
      gallery: null,
      reason:
        `No run of this sweep is complete yet; the gallery shows the salience of complete runs (deno task sweep; ${
          sweepFolder(base)
        }/runs/*/salience.npy).`,
    };
  }
  const config = base.sweep.status === "ok" ? base.sweep.value.config : null;
  return { base, gallery: await buildGallery(ctx.store, base.name, config, runs), reason: null };
}

/** Page title. */
export function title(data: Data): string {
  return `${data.base.name} — salience gallery`;
}

function Legend({ g }: { g: Gallery }): JSX.Element {
  return (
    <p class="caption">
      {g.signed
        ? "Colour: the gradient's value at each pixel, blue negative, white zero, red positive, "
        : "Colour: the norm over channels of the gradient at each pixel, from 0 (dark) "}
      each map a unit vector, on one scale per image (its end, the largest |value| of the row's
      maps, is printed beside the image). Maps are {g.height}×{g.width}
      {g.channels > 1 ? ` over ${g.channels} channels` : ""}.
    </p>
  );
}

/** The gallery page. */
export default function GalleryPage({ data, ctx }: { data: Data; ctx: RouteContext }): JSX.Element {
  const g = data.gallery;
  return (
    <SweepPage
      heading="Salience gallery"
      ctx={ctx}
      sweep={data.base.name}
      current="gallery"
      external={isExternal(data.base)}
    >
      {data.reason && (
        <div class="notice missing" role="status">
          <p>{data.reason}</p>
        </div>
      )}
      {g && (
        <>
          <p>
            Each probe image beside its gradient salience for every width: the mean direction of the
            width's seeds (the normalised mean of their unit gradients), then single seeds.
            Convergence shows as the single seeds looking more alike, and more like the mean
            direction, as the width grows.
          </p>
          <Legend g={g} />
          {g.notes.length > 0 && (
            <ul class="warnings">{g.notes.map((n, i) => <li key={i}>{n}</li>)}</ul>
          )}
          {g.images.length === 0 && (
            <div class="notice missing" role="status">
              <p>No run has a readable salience.npy, so there is nothing to show.</p>
            </div>
          )}
          {g.images.map((im) => (
            <section class="gallery-image" id={`image-${im.sample}`}>
              <h2>
                Probe image {im.sample}
                {im.index !== null ? ` (test index ${im.index})` : ""}
                {im.label ? `: ${im.label}` : ""}
              </h2>
              <div class="gallery-grid">
                <div class="gallery-input">
                  {im.input
                    ? (
                      <img
                        src={im.input}
                        alt={`probe image ${im.sample}`}
                        width={96}
                        height={96}
                      />
                    )
                    : <span class="missing">image not available</span>}
                  <span class="scale">scale ±{formatNumber(im.scale, 3)}</span>
                </div>
                <table class="gallery-maps">
                  <tbody>
                    {im.rows.map((r) => (
                      <tr>
                        <th>
                          {r.family} k={r.k}
                          <br />
                          <span class="muted">{r.seeds} seeds</span>
                        </th>
                        {r.maps.map((m) => (
                          <td>
                            <img
                              src={m.src}
                              alt={`${r.family} k=${r.k} ${m.label}, probe image ${im.sample}`}
                              width={72}
                              height={72}
                            />
                            <span class="map-label">{m.label}</span>
                          </td>
                        ))}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </section>
          ))}
        </>
      )}
    </SweepPage>
  );
}
