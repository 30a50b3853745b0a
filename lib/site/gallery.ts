/**
 * The salience gallery of a sweep: for the first probe images, the image itself beside its
 * salience maps for every width of every family: the mean direction of the width's seeds (the
 * normalised mean of their unit gradients) and a few single seeds, all on one colour scale per
 * image, so convergence shows as it does in the paper's figures. Every map is a PNG rendered on
 * the server (a `data:` URL), so the page needs no JavaScript.
 * @module
 */
import type { Dataset } from "../data/mod.ts";
import { loadDataset } from "../data/mod.ts";
import { openNpy } from "../npy/mod.ts";
import type { SweepConfig } from "../store/mod.ts";
import { datasetOptions } from "../sweep/config.ts";
import { viridis } from "./charts/mod.ts";
import { encodePng, pngDataUrl } from "./png.ts";
import { resolveInside } from "./safety.ts";
import type { RunEntry, SiteStore } from "./store_reader.ts";

/** One salience map of the gallery. */
export interface GalleryMap {
  /** `mean direction` or `seed N`. */
  label: string;
  /** PNG `data:` URL. */
  src: string;
}

/** The maps of one width of one family at one image. */
export interface GalleryRow {
  family: string;
  k: number;
  /** Seeds whose gradient at this image was non-zero (the mean direction's support). */
  seeds: number;
  maps: GalleryMap[];
}

/** One probe image and its maps. */
export interface GalleryImage {
  /** Position in the probe set (the row of every `salience.npy`). */
  sample: number;
  /** Index in the data set's split, when the sidecar records it. */
  index: number | null;
  /** Class name of the image, when the data set could be loaded. */
  label: string | null;
  /** The image as a PNG `data:` URL, or null when the data set could not be loaded. */
  input: string | null;
  /** The colour scale's end: the largest |value| over this image's maps. */
  scale: number;
  rows: GalleryRow[];
}

/** The gallery of a sweep. */
export interface Gallery {
  images: GalleryImage[];
  /** Map size in pixels (after pooling) and channels of the gradients. */
  height: number;
  width: number;
  channels: number;
  /** True: maps show signed values (one channel); false: the per-pixel norm over channels. */
  signed: boolean;
  /** Things the reader should know (data set unavailable, runs left out), each a sentence. */
  notes: string[];
}

/** Options of {@linkcode buildGallery}. */
export interface GalleryOptions {
  /** Probe images shown (default 6). */
  images?: number;
  /** Single seeds shown per width beside the mean direction (default 2). */
  seeds?: number;
}

interface Sidecar {
  pooling?: number | null;
  input?: { channels: number; height: number; width: number };
  probe?: { indices?: number[] };
}

/** The first rows of one run's gradient file. */
interface Grad {
  family: string;
  k: number;
  seed: number;
  rows: Float32Array;
}

const datasets = new Map<string, Promise<Dataset>>();

/** The sweep's data set as its runs loaded it, cached per process by config. */
function sweepDataset(config: SweepConfig): Promise<Dataset> {
  const key = JSON.stringify(config.dataset);
  let d = datasets.get(key);
  if (!d) {
    d = loadDataset(config.dataset.name, datasetOptions(config));
    datasets.set(key, d);
    d.catch(() => datasets.delete(key));
  }
  return d;
}

/** Diverging blue–white–red for a signed value in [−1, 1]. */
function diverging(t: number): [number, number, number] {
  const x = Math.max(-1, Math.min(1, Number.isFinite(t) ? t : 0));
  const lo: [number, number, number] = [33, 102, 172], hi: [number, number, number] = [178, 24, 43];
  const end = x < 0 ? lo : hi, f = Math.abs(x);
  return [0, 1, 2].map((c) => Math.round(255 + f * (end[c]! - 255))) as [number, number, number];
}

function hexRgb(hex: string): [number, number, number] {
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
}

/**
 * The pixels of a map: C×h×w values to h×w, the value itself for one channel, else the norm over
 * channels. Cost O(C·h·w).
 * @example
 * ```ts
 * import { mapPixels } from "./gallery.ts";
 * const p = mapPixels(new Float32Array([3, 0, 4, 1]), 2, 1, 2);
 * if (p[0] !== 5 || p[1] !== 1) throw new Error(String(p));
 * ```
 */
export function mapPixels(v: Float32Array, channels: number, h: number, w: number): Float32Array {
  if (channels === 1) return v.slice(0, h * w);
  const out = new Float32Array(h * w);
  for (let c = 0; c < channels; c++) {
    for (let i = 0; i < h * w; i++) out[i]! += v[c * h * w + i]! ** 2;
  }
  return out.map(Math.sqrt);
}

/**
 * Renders a map as PNG, `scale` mapping to the ends of the colour scale: diverging when `signed`,
 * viridis from 0 otherwise. Cost O(h·w).
 */
export async function mapPng(
  pixels: Float32Array,
  h: number,
  w: number,
  scale: number,
  signed: boolean,
): Promise<string> {
  const rgb = new Uint8Array(h * w * 3);
  const s = scale > 0 ? scale : 1;
  for (let i = 0; i < h * w; i++) {
    const c = signed ? diverging(pixels[i]! / s) : hexRgb(viridis(pixels[i]! / s).color);
    rgb.set(c, i * 3);
  }
  return pngDataUrl(await encodePng(w, h, rgb));
}

/** A probe image (NHWC, normalised) stretched to 0–255 per channel, as PNG. */
async function inputPng(d: Dataset, sample: number): Promise<string> {
  const { height: h, width: w, channels: c } = d.shape;
  const px = d.probe.images.subarray(sample * h * w * c, (sample + 1) * h * w * c);
  const rgb = new Uint8Array(h * w * 3);
  for (let ch = 0; ch < Math.min(c, 3); ch++) {
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < h * w; i++) {
      const v = px[i * c + ch]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    for (let i = 0; i < h * w; i++) {
      const v = hi > lo ? Math.round(255 * (px[i * c + ch]! - lo) / (hi - lo)) : 128;
      if (c === 1) rgb.set([v, v, v], i * 3);
      else rgb[i * 3 + ch] = v;
    }
  }
  return pngDataUrl(await encodePng(w, h, rgb));
}

function unit(v: Float32Array): Float32Array | null {
  let n = 0;
  for (const x of v) n += x * x;
  if (!(n > 0) || !Number.isFinite(n)) return null;
  const s = 1 / Math.sqrt(n);
  return v.map((x) => x * s);
}

/**
 * Builds the gallery from the complete runs' `salience.npy` (the gradient), reading only the
 * first `images` rows of each file, and the sweep's data set for the images themselves (when it
 * loads; else the maps alone, with a note). Runs of other batch sizes than the first are left
 * out. Cost: one partial read per run, one PNG per map, plus the data set's load on first use.
 * @throws never for absent or unreadable files: those runs are left out and named in `notes`.
 */
export async function buildGallery(
  store: SiteStore,
  sweep: string,
  config: SweepConfig | null,
  runs: RunEntry[],
  options: GalleryOptions = {},
): Promise<Gallery> {
  const nImages = options.images ?? 6;
  const nSeeds = options.seeds ?? 2;
  const notes: string[] = [];
  const complete = runs.filter((r) => r.status === "complete");
  const batch = complete[0]?.batchSize;
  const used = complete.filter((r) => r.batchSize === batch);
  if (used.length < complete.length) {
    notes.push(
      `Only runs of batch size ${batch} are shown; ${
        complete.length - used.length
      } others are left out.`,
    );
  }
  let shape: { channels: number; height: number; width: number } | null = null;
  let inputShape: { channels: number; height: number; width: number } | null = null;
  let indices: number[] | null = null;
  const grads = new Map<string, Grad>();
  let rowLength = 0, available = nImages;
  for (const r of used) {
    const dir = [sweep, "runs", r.runId];
    const npy = await resolveInside(store.realRoot, [...dir, "salience.npy"]);
    const side = await resolveInside(store.realRoot, [...dir, "salience.json"]);
    if (npy === null || side === null) {
      notes.push(`${r.runId} has no salience.npy with its sidecar; left out.`);
      continue;
    }
    try {
      const meta = JSON.parse(await Deno.readTextFile(side)) as Sidecar;
      using f = await openNpy(npy);
      const input = meta.input;
      if (!input) throw new TypeError("the sidecar records no input shape");
      const p = meta.pooling ?? 1;
      const s = {
        channels: input.channels,
        height: Math.ceil(input.height / p),
        width: Math.ceil(input.width / p),
      };
      if (s.channels * s.height * s.width !== f.rowLength) {
        throw new TypeError(
          `rows of ${f.rowLength} values are not ${s.channels}×${s.height}×${s.width}`,
        );
      }
      shape ??= s;
      inputShape ??= input;
      indices ??= meta.probe?.indices ?? null;
      rowLength = f.rowLength;
      const n = Math.min(nImages, f.shape[0] ?? 0);
      available = Math.min(available, n);
      grads.set(r.runId, { family: r.family, k: r.k, seed: r.seed, rows: await f.readRows(0, n) });
    } catch (err) {
      notes.push(`${r.runId}: salience.npy unreadable (${(err as Error).message}); left out.`);
    }
  }
  if (!shape || grads.size === 0) {
    return { images: [], height: 0, width: 0, channels: 0, signed: true, notes };
  }
  const { channels, height: h, width: w } = shape;
  const signed = channels === 1;
  let data: Dataset | null = null;
  if (config) {
    try {
      data = await sweepDataset(config);
      const ds = data.shape, is = inputShape!;
      if (ds.channels !== is.channels || ds.height !== is.height || ds.width !== is.width) {
        notes.push(
          `The data set's images (${ds.channels}×${ds.height}×${ds.width}) are not the shape the ` +
            `gradients were taken on (${is.channels}×${is.height}×${is.width}), so they are not shown.`,
        );
        data = null;
      } else if (h !== is.height || w !== is.width) {
        notes.push("The maps are pooled, so they are coarser than the images beside them.");
      }
    } catch (err) {
      notes.push(
        `The data set ${config.dataset.name} could not be loaded here (${
          (err as Error).message
        }), so the gallery shows the maps without their images.`,
      );
    }
  } else notes.push("No sweep.json: the images themselves cannot be shown, only their maps.");
  const groups = new Map<string, { family: string; k: number; members: Grad[] }>();
  for (const g of grads.values()) {
    const key = `${g.family}\u0000${g.k}`;
    const e = groups.get(key) ?? { family: g.family, k: g.k, members: [] };
    e.members.push(g);
    groups.set(key, e);
  }
  const ordered = [...groups.values()].sort((a, b) =>
    a.family.localeCompare(b.family) || a.k - b.k
  );
  for (const g of ordered) g.members.sort((a, b) => a.seed - b.seed);
  const images: GalleryImage[] = [];
  for (let i = 0; i < available; i++) {
    const rows: { family: string; k: number; seeds: number; pix: [string, Float32Array][] }[] = [];
    for (const g of ordered) {
      const units = g.members.map((m) => ({
        seed: m.seed,
        u: unit(m.rows.subarray(i * rowLength, (i + 1) * rowLength)),
      }));
      const live = units.filter((x): x is { seed: number; u: Float32Array } => x.u !== null);
      const sum = new Float32Array(rowLength);
      for (const x of live) for (let j = 0; j < rowLength; j++) sum[j]! += x.u[j]!;
      const mean = unit(sum);
      const pix: [string, Float32Array][] = [];
      if (mean) pix.push(["mean direction", mapPixels(mean, channels, h, w)]);
      for (const x of live.slice(0, nSeeds)) {
        pix.push([`seed ${x.seed}`, mapPixels(x.u, channels, h, w)]);
      }
      rows.push({ family: g.family, k: g.k, seeds: live.length, pix });
    }
    let scale = 0;
    for (const r of rows) {
      for (const [, p] of r.pix) for (const v of p) scale = Math.max(scale, Math.abs(v));
    }
    const outRows: GalleryRow[] = [];
    for (const r of rows) {
      const maps: GalleryMap[] = [];
      for (const [label, p] of r.pix) {
        maps.push({ label, src: await mapPng(p, h, w, scale, signed) });
      }
      outRows.push({ family: r.family, k: r.k, seeds: r.seeds, maps });
    }
    const probeOk = data !== null && i < data.probe.count;
    images.push({
      sample: i,
      index: indices?.[i] ?? null,
      label: probeOk ? data!.classes[data!.probe.labels[i]!] ?? null : null,
      input: probeOk ? await inputPng(data!, i) : null,
      scale,
      rows: outRows,
    });
  }
  return { images, height: h, width: w, channels, signed, notes };
}
