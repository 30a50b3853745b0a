/**
 * Loading helpers shared by the sweep pages: the sweep's own files, its analysis files, and the
 * validation of the `family` query parameter.
 * @module
 */
import type { AnalysisFile, AnalysisKind, SummaryFile } from "../analysis/schema.ts";
import type { SweepJson } from "../store/mod.ts";
import { sweepIdentity } from "../sweep/plan.ts";
import { PRESET_NAMES, presetConfig } from "../sweep/presets.ts";
import { HttpError, type RouteContext } from "./router.ts";
import { type Loaded, readAnalysis, readSweepJson, sweepExists } from "./store_reader.ts";

/** The sweep a page is about. */
export interface SweepBase {
  /** Folder name. */
  name: string;
  sweep: Loaded<SweepJson>;
  summary: Loaded<SummaryFile>;
  /**
   * The folder as the results directory was given to the site (e.g. `results/tiny-ebb32b98`), for
   * the commands the pages print; absent: `results/<name>`.
   */
  dir?: string;
}

/**
 * The sweep's folder as the pages print it in commands ({@linkcode SweepBase.dir}).
 * @example
 * ```ts
 * import { sweepFolder } from "./sweep_data.ts";
 * const base = { name: "s", sweep: { status: "missing", file: "" }, summary: { status: "missing", file: "" } } as const;
 * if (sweepFolder(base) !== "results/s" || sweepFolder({ ...base, dir: "/r/s" }) !== "/r/s") throw new Error();
 * ```
 */
export function sweepFolder(base: SweepBase): string {
  return base.dir ?? `results/${base.name}`;
}

/**
 * Loads the sweep named by the `sweep` URL parameter.
 * @throws HttpError 404 when no such sweep folder exists inside the results directory.
 * @example
 * ```ts
 * import { requireSweep } from "./sweep_data.ts";
 * const dir = await Deno.makeTempDir();
 * const ctx = {
 *   params: { sweep: "s" },
 *   query: new URLSearchParams("family=CNNSmall"),
 *   store: { root: dir, realRoot: dir },
 *   path: "/sweeps/s/",
 *   mode: "server" as const,
 *   href: (to: string) => to,
 * };
 * let status = 0;
 * try { await requireSweep(ctx); } catch (e) { status = (e as { status: number }).status; }
 * if (status !== 404) throw new Error("an absent sweep is a 404");
 * await Deno.remove(dir);
 * ```
 */
export async function requireSweep(ctx: RouteContext): Promise<SweepBase> {
  const name = ctx.params.sweep ?? "";
  if (!(await sweepExists(ctx.store, name))) {
    throw new HttpError(404, "No sweep or analysis of this name in the results directory.");
  }
  return {
    name,
    sweep: await readSweepJson(ctx.store, name),
    summary: await readAnalysis(ctx.store, name, "summary"),
    dir: `${ctx.store.root.replace(/[\\/]+$/, "") || "."}/${name}`,
  };
}

/**
 * The preset this sweep is, unchanged (its config hash is the preset's), or undefined.
 * Cost: one config hash per preset.
 */
export function sweepPreset(base: SweepBase): string | undefined {
  const hash = base.sweep.status === "ok" ? base.sweep.value.configHash : null;
  return hash === null
    ? undefined
    : PRESET_NAMES.find((n) => sweepIdentity(presetConfig(n)).configHash === hash);
}

/**
 * The `deno task sweep` command that runs this sweep again, for the pages' hints: `--preset
 * NAME` when the sweep is that preset unchanged (same config hash) and `options.config` is not
 * set, else `--config CONFIG.json`, with `--out ROOT` when the results directory is not the
 * default `results`, then `flags`.
 * Cost: one config hash per preset.
 * @example
 * ```ts
 * import { sweepCommand } from "./sweep_data.ts";
 * const base = { name: "s", sweep: { status: "missing", file: "" }, summary: { status: "missing", file: "" }, dir: "/r/s" } as const;
 * if (sweepCommand(base, "--epochs-analysed 1") !== "deno task sweep --config CONFIG.json --out /r --epochs-analysed 1") {
 *   throw new Error(sweepCommand(base));
 * }
 * ```
 */
export function sweepCommand(
  base: SweepBase,
  flags = "",
  options: { config?: boolean } = {},
): string {
  const preset = options.config ? undefined : sweepPreset(base);
  const folder = sweepFolder(base);
  const root = folder.endsWith(`/${base.name}`)
    ? folder.slice(0, -base.name.length - 1) || "."
    : "results";
  return [
    "deno task sweep",
    preset ? `--preset ${preset}` : "--config CONFIG.json",
    root === "results" ? "" : `--out ${root}`,
    flags,
  ].filter(Boolean).join(" ");
}

/**
 * Whether the page's folder is an external analysis: gradients exported from another framework
 * and analysed without training records, so it has no `sweep.json`, plan or runs. Only
 * meaningful for a base from {@linkcode requireSweep}, which admits a folder without
 * `sweep.json` only when it holds `analysis/summary.json`. Cost: O(1).
 * @example
 * ```ts
 * import { isExternal } from "./sweep_data.ts";
 * const base = { name: "s", sweep: { status: "missing", file: "" }, summary: { status: "missing", file: "" } } as const;
 * if (!isExternal(base)) throw new Error();
 * ```
 */
export function isExternal(base: SweepBase): boolean {
  return base.sweep.status === "missing";
}

/**
 * What an analysis records about its gradients, for display: `source` (the sweep id or the
 * external `.npy` file's name, from the file header) and `scalar`, `pooling`, `inputShape` (from
 * similarity.json's `gradients`), taken from the first of `records` that has each as a string,
 * number or list of numbers; absent and null fields are left out. Cost: O(fields × records).
 * @example
 * ```ts
 * import { gradientDetails } from "./sweep_data.ts";
 * const rows = gradientDetails({ source: "G.npy" }, { scalar: "true-class-logit", pooling: null });
 * if (rows.map((r) => r[0]).join() !== "source,scalar") throw new Error();
 * ```
 */
export function gradientDetails(...records: unknown[]): [string, string][] {
  const out: [string, string][] = [];
  for (const key of ["source", "scalar", "pooling", "inputShape"]) {
    for (const record of records) {
      if (typeof record !== "object" || record === null) continue;
      const v = (record as Record<string, unknown>)[key];
      if (typeof v === "string" || typeof v === "number") out.push([key, String(v)]);
      else if (Array.isArray(v) && v.every((x) => typeof x === "number")) {
        out.push([key, v.join(" × ")]);
      } else continue;
      break;
    }
  }
  return out;
}

/**
 * The reason the last analysis gave for skipping the file of `kind`, if it did.
 * @example
 * ```ts
 * import { skippedReason } from "./sweep_data.ts";
 * const base = { name: "s", sweep: { status: "missing", file: "" }, summary: { status: "missing", file: "" } } as const;
 * if (skippedReason(base, "attacks.json") !== null) throw new Error();
 * ```
 */
export function skippedReason(base: SweepBase, file: string): string | null {
  if (base.summary.status !== "ok") return null;
  return base.summary.value.skipped.find((s) => s.file === file)?.reason ?? null;
}

/**
 * Loads one analysis file of the page's sweep.
 * @example
 * ```ts
 * import { analysis } from "./sweep_data.ts";
 * const dir = await Deno.makeTempDir();
 * const ctx = {
 *   params: { sweep: "s" },
 *   query: new URLSearchParams("family=CNNSmall"),
 *   store: { root: dir, realRoot: dir },
 *   path: "/sweeps/s/",
 *   mode: "server" as const,
 *   href: (to: string) => to,
 * };
 * const base = { name: "s", sweep: { status: "missing", file: "" }, summary: { status: "missing", file: "" } } as const;
 * if ((await analysis(ctx, base, "claims")).status !== "missing") throw new Error();
 * await Deno.remove(dir);
 * ```
 */
export function analysis<K extends AnalysisKind>(ctx: RouteContext, base: SweepBase, kind: K) {
  return readAnalysis(ctx.store, base.name, kind);
}

/**
 * The family the page is restricted to by `?family=`, or null for all.
 * @throws HttpError 400 when the value is not one of `families`.
 * @example
 * ```ts
 * import { familyFilter } from "./sweep_data.ts";
 * const ctx = {
 *   params: { sweep: "s" },
 *   query: new URLSearchParams("family=CNNSmall"),
 *   store: { root: ".", realRoot: "." },
 *   path: "/sweeps/s/",
 *   mode: "server" as const,
 *   href: (to: string) => to,
 * };
 * if (familyFilter(ctx, ["CNNSmall", "MLP"]) !== "CNNSmall") throw new Error();
 * let status = 0;
 * try { familyFilter(ctx, ["MLP"]); } catch (e) { status = (e as { status: number }).status; }
 * if (status !== 400) throw new Error("unknown family must be a 400");
 * ```
 */
export function familyFilter(ctx: RouteContext, families: string[]): string | null {
  const values = ctx.query.getAll("family");
  if (values.length === 0) return null;
  const v = values[0] ?? "";
  if (values.length > 1 || !families.includes(v)) {
    throw new HttpError(
      400,
      `Unknown family in the query; expected one of: ${families.join(", ") || "(none)"}.`,
    );
  }
  return v;
}

/**
 * The family named by `?family=`, checked against every family the page knows of: those of
 * `found` (in order, e.g. the families of the page's analysis files) followed by those of the
 * sweep's config. Cost: O(families).
 * @throws HttpError 400 when the value is not one of them.
 * @example
 * ```ts
 * import { pageFamily } from "./sweep_data.ts";
 * const ctx = {
 *   params: { sweep: "s" },
 *   query: new URLSearchParams("family=MLP"),
 *   store: { root: ".", realRoot: "." },
 *   path: "/sweeps/s/",
 *   mode: "server" as const,
 *   href: (to: string) => to,
 * };
 * const base = { name: "s", sweep: { status: "missing", file: "" }, summary: { status: "missing", file: "" } } as const;
 * if (pageFamily(ctx, base, ["CNNSmall", "MLP"]) !== "MLP") throw new Error();
 * ```
 */
export function pageFamily(
  ctx: RouteContext,
  base: SweepBase,
  ...found: Iterable<string>[]
): string | null {
  const families = new Set<string>();
  for (const list of found) for (const f of list) families.add(f);
  if (base.sweep.status === "ok") base.sweep.value.config.families.forEach((f) => families.add(f));
  return familyFilter(ctx, [...families]);
}

/** The data of a page drawn from one analysis file: the sweep, the file, and `?family=`. */
export interface AnalysisPageData<K extends AnalysisKind> {
  /** Which analysis file the page draws. */
  kind: K;
  base: SweepBase;
  /** The page's analysis file, as read. */
  file: Loaded<Extract<AnalysisFile, { kind: K }>>;
  /** The family of `?family=`, or null for all (always null on pages that take no family). */
  family: string | null;
}

/**
 * Loads the page's sweep and its analysis file of `kind`. With `families`, the page accepts
 * `?family=`, checked by {@linkcode pageFamily} against the families `families` lists from the
 * file (when it was read) and those of the sweep's config. Cost: three small file reads.
 * @throws HttpError 404 when the sweep is absent; 400 for an unknown family.
 * @example
 * ```ts
 * import { loadAnalysisPage } from "./sweep_data.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/s`);
 * await Deno.writeTextFile(`${dir}/s/sweep.json`, "{}"); // present (unreadable) marks a sweep
 * const ctx = {
 *   params: { sweep: "s" },
 *   query: new URLSearchParams(),
 *   store: { root: dir, realRoot: dir },
 *   path: "/sweeps/s/claims/",
 *   mode: "server" as const,
 *   href: (to: string) => to,
 * };
 * const page = await loadAnalysisPage(ctx, "claims");
 * if (page.file.status !== "missing" || page.family !== null) throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function loadAnalysisPage<K extends AnalysisKind>(
  ctx: RouteContext,
  kind: K,
  options: AnalysisPageOptions<K> = {},
): Promise<AnalysisPageData<K>> {
  const base = await requireSweep(ctx);
  const file = await analysis(ctx, base, kind);
  const { families } = options;
  if (!families) return { kind, base, file, family: null };
  const found = file.status === "ok" ? families(file.value) : [];
  return { kind, base, file, family: pageFamily(ctx, base, found) };
}

/** What {@linkcode loadAnalysisPage} takes besides the context and the kind. */
export type AnalysisPageOptions<K extends AnalysisKind> = {
  families?: (file: Extract<AnalysisFile, { kind: K }>) => Iterable<string>;
};

/**
 * The `load` and `title` exports of a page route drawn from one analysis file alone: `load` is
 * {@linkcode loadAnalysisPage} of `kind` (with `options`), and `title` is the sweep's name, a
 * dash, then `what`. A route spreads them into its exports:
 * `export const { load, title } = analysisRoute("ensembles", "ensembles");`. Cost: that of
 * {@linkcode loadAnalysisPage} per load.
 * @example
 * ```ts
 * import { analysisRoute } from "./sweep_data.ts";
 * const { title } = analysisRoute("batchSize", "batch size");
 * const base = { name: "s", sweep: { status: "missing", file: "" }, summary: { status: "missing", file: "" } } as const;
 * const data = { kind: "batchSize", base, file: { status: "missing", file: "" }, family: null } as const;
 * if (title(data) !== "s — batch size") throw new Error(title(data));
 * ```
 */
export function analysisRoute<K extends AnalysisKind>(
  kind: K,
  what: string,
  options: AnalysisPageOptions<K> = {},
): {
  load: (ctx: RouteContext) => Promise<AnalysisPageData<K>>;
  title: (data: AnalysisPageData<K>) => string;
} {
  return {
    load: (ctx) => loadAnalysisPage(ctx, kind, options),
    title: (data) => `${data.base.name} — ${what}`,
  };
}
