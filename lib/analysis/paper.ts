/**
 * Our figures beside the paper's published ones (`paper.json`): the authors' demo reports, for
 * CNNSmall on CIFAR-10 with true-class-logit salience area-pooled to 8×8 per channel on 256 test
 * images, ρ = p(k1, k2) of 0.03–0.07 for k = 8 against k ≤ 40 rising to about 0.42 for k = 112
 * against 128, and a black-box decay ratio α of 0.9–1.0 from a k = 8 source falling to 0.55–0.65
 * from a k = 128 source. Each row pairs the paper's figure with ours at the nearest analogue of
 * its widths (the smallest width against widths up to 5× it; the two largest widths; the
 * smallest and the largest source width), and states on the same line what differs in the
 * setting.
 *
 * @module
 */

import {
  ANALYSIS_SCHEMA_VERSION,
  type AttacksFile,
  type PaperComparisonRow,
  type PaperFile,
  type SimilarityFile,
} from "./schema.ts";

/** The setting of the authors' demo, as published. */
export const PAPER_DEMO = {
  family: "CNNSmall",
  dataset: "CIFAR-10 (3×32×32)",
  datasetNames: ["cifar10"],
  pooling: 8,
  scalar: "true-class-logit",
  samples: 256,
  description:
    "the authors' demo: CNNSmall on CIFAR-10, true-class-logit salience area-pooled to 8×8 per channel, 256 test images",
} as const;

/** The paper's published figures, with the widths they were measured at. */
export const PAPER_FIGURES = {
  rhoSmall: { lo: 0.03, hi: 0.07, text: "0.03–0.07 for k = 8 against k ≤ 40" },
  rhoLarge: { lo: 0.42, hi: 0.42, text: "about 0.42 for k = 112 against k = 128" },
  alphaSmall: { lo: 0.9, hi: 1.0, text: "0.9–1.0 from a k = 8 source" },
  alphaLarge: { lo: 0.55, hi: 0.65, text: "0.55–0.65 from a k = 128 source" },
} as const;

/** What our analysis was run on, for the "what differs" text. */
export interface OurSetting {
  /** Data set name and input shape, e.g. "fmnist-default (1×28×28)". */
  dataset: string;
  datasetName: string;
  samples: number;
  /** Pooling of the similarity figures used (null: unpooled). */
  pooling: number | null;
  scalar: string | null;
  /** Seeds per width (min–max over the family's widths). */
  seeds: [number, number] | null;
  /** Training epochs, when known. */
  epochs: number | null;
  /** Test accuracy range of the models, when known. */
  accuracy: [number, number] | null;
  /** Models below the claims' accuracy floor (included in these figures), when any. */
  belowFloor?: { models: number; of: number; floor: number } | null;
}

function range(vs: number[]): [number, number] | null {
  const f = vs.filter((v) => Number.isFinite(v));
  return f.length ? [Math.min(...f), Math.max(...f)] : null;
}

function rangeText(r: [number, number] | null, digits = 3): string {
  if (r === null) return "–";
  const [a, b] = [r[0].toFixed(digits), r[1].toFixed(digits)];
  return a === b ? a : `${a}–${b}`;
}

/** The differences of our setting from the demo's, for one row. */
function differences(
  s: OurSetting,
  family: string,
  widths: string,
  paperWidths: string,
  extra: string[] = [],
): string {
  const d: string[] = [];
  if (family !== PAPER_DEMO.family) d.push(`${family} instead of ${PAPER_DEMO.family}`);
  if (!(PAPER_DEMO.datasetNames as readonly string[]).includes(s.datasetName)) {
    d.push(`${s.dataset} instead of ${PAPER_DEMO.dataset}`);
  }
  if (s.samples !== PAPER_DEMO.samples) {
    d.push(`${s.samples} probe images instead of ${PAPER_DEMO.samples}`);
  }
  if (s.pooling !== PAPER_DEMO.pooling) {
    d.push(
      `${s.pooling === null ? "unpooled" : `pooled ${s.pooling}×${s.pooling}`} instead of 8×8`,
    );
  }
  if (s.scalar !== null && s.scalar !== PAPER_DEMO.scalar) {
    d.push(`${s.scalar} salience instead of ${PAPER_DEMO.scalar}`);
  }
  d.push(`${widths} instead of ${paperWidths}`);
  if (s.seeds) d.push(`${rangeText(s.seeds, 0)} seeds per width`);
  if (s.epochs !== null) d.push(`${s.epochs} training epoch${s.epochs === 1 ? "" : "s"}`);
  if (s.accuracy) {
    d.push(
      `test accuracy ${(s.accuracy[0] * 100).toFixed(0)}–${(s.accuracy[1] * 100).toFixed(0)} %`,
    );
  }
  if (s.belowFloor) {
    d.push(
      `${s.belowFloor.models} of ${s.belowFloor.of} models below the ${
        (s.belowFloor.floor * 100).toFixed(0)
      } % accuracy floor are included here (the claims leave them out)`,
    );
  }
  return [...d, ...extra].join("; ");
}

/** The family compared: CNNSmall when present, else the first family with two widths. */
function familyOf(families: string[], hasTwo: (f: string) => boolean): string | null {
  if (families.includes(PAPER_DEMO.family) && hasTwo(PAPER_DEMO.family)) return PAPER_DEMO.family;
  return families.find(hasTwo) ?? null;
}

/**
 * `paper.json` from the similarity file whose pooling is closest to the demo's (8×8 when the
 * sweep analysed it) and the attack file when there is one. Cost: O(widths²).
 *
 * @example
 * ```ts ignore
 * import { paperComparison } from "./paper.ts";
 * const f = paperComparison({ similarity, attacks, setting, source: "s" });
 * for (const r of f.rows) console.log(r.figure, r.paper.text, r.ours.text, r.differs);
 * ```
 */
export function paperComparison(input: {
  similarity: SimilarityFile;
  attacks: AttacksFile | null;
  setting: OurSetting;
  source: string;
}): PaperFile {
  const { similarity: sim, attacks, setting } = input;
  const byFamily = new Map(sim.byFamily.map((m) => [m.family, m]));
  const family = familyOf(
    sim.byFamily.map((m) => m.family),
    (f) => (byFamily.get(f)?.ks.length ?? 0) >= 2,
  );
  const rows: PaperComparisonRow[] = [];
  const cell = (f: string, k1: number, k2: number) => {
    const g1 = sim.groups.find((g) => g.family === f && g.k === k1);
    const g2 = sim.groups.find((g) => g.family === f && g.k === k2);
    return g1 && g2 ? sim.expected[g1.index]![g2.index]! : null;
  };
  const seedsOf = (f: string) =>
    range(sim.groups.filter((g) => g.family === f).map((g) => g.members.length));
  const overlap = (r: [number, number] | null, p: { lo: number; hi: number }) =>
    r === null ? null : r[0] <= p.hi + 1e-12 && r[1] >= p.lo - 1e-12;
  if (family !== null) {
    const ks = byFamily.get(family)!.ks;
    const kMin = ks[0]!;
    const s: OurSetting = { ...setting, seeds: seedsOf(family) };
    const near = ks.filter((k) => k !== kMin && k <= 5 * kMin);
    const against = near.length ? near : [ks[1]!];
    const small = against.map((k) => ({ k1: kMin, k2: k, cell: cell(family, kMin, k) }));
    const smallRange = range(small.map((v) => v.cell?.mean ?? NaN));
    rows.push({
      id: "rho-smallest-width",
      figure: "ρ = p(k1, k2) between the smallest width and widths up to 5× it",
      paper: PAPER_FIGURES.rhoSmall,
      ours: {
        range: smallRange,
        text: `${rangeText(smallRange)} for k = ${kMin} against k = ${against.join(", ")}`,
        values: small.map((v) => ({
          k1: v.k1,
          k2: v.k2,
          value: v.cell?.mean ?? null,
          ci: v.cell?.ci ?? null,
        })),
      },
      overlaps: overlap(smallRange, PAPER_FIGURES.rhoSmall),
      differs: differences(
        s,
        family,
        `k = ${kMin} against ${against.join(", ")}`,
        "k = 8 against k ≤ 40",
      ),
    });
    const [k1, k2] = [ks.at(-2)!, ks.at(-1)!];
    const c = cell(family, k1, k2);
    const largeRange = c?.mean === null || c?.mean === undefined
      ? null
      : [c.mean, c.mean] as [number, number];
    rows.push({
      id: "rho-largest-widths",
      figure: "ρ = p(k1, k2) between the two largest widths",
      paper: PAPER_FIGURES.rhoLarge,
      ours: {
        range: largeRange,
        text: `${rangeText(largeRange)} for k = ${k1} against k = ${k2}`,
        values: [{ k1, k2, value: c?.mean ?? null, ci: c?.ci ?? null }],
      },
      overlaps: c?.ci
        ? c.ci.lo <= 0.42 && 0.42 <= c.ci.hi
        : overlap(largeRange, PAPER_FIGURES.rhoLarge),
      differs: differences(s, family, `k = ${k1} against ${k2}`, "k = 112 against 128"),
    });
  }
  const matrix = attacks?.matrices.find((m) => m.family === family) ??
    attacks?.matrices.find((m) => m.ks.length >= 2) ?? null;
  if (attacks && matrix && matrix.ks.length >= 2) {
    // The attack steps along unpooled gradients in both settings; the extra text says so.
    const s: OurSetting = {
      ...setting,
      seeds: seedsOf(matrix.family),
      pooling: PAPER_DEMO.pooling,
    };
    const extra = [`FGSM ε = ${attacks.epsilon} (normalised units) along ∇x p_y, unpooled`];
    for (
      const [id, i, paper] of [
        ["alpha-smallest-source", 0, PAPER_FIGURES.alphaSmall],
        ["alpha-largest-source", matrix.ks.length - 1, PAPER_FIGURES.alphaLarge],
      ] as const
    ) {
      const k = matrix.ks[i]!;
      const values = matrix.ks.map((t, j) => ({
        k1: k,
        k2: t,
        value: matrix.cells[i]![j]?.all.mean ?? null,
        ci: matrix.cells[i]![j]?.all.ci ?? null,
      }));
      const r = range(values.map((v) => v.value ?? NaN));
      rows.push({
        id,
        figure: `black-box α from the ${
          i === 0 ? "smallest" : "largest"
        } source width, over target widths`,
        paper,
        ours: {
          range: r,
          text: `${rangeText(r)} from a k = ${k} source (targets k = ${matrix.ks.join(", ")})`,
          values,
        },
        overlaps: overlap(r, paper),
        differs: differences(
          { ...s, samples: attacks.samples },
          matrix.family,
          `source k = ${k}`,
          `source k = ${i === 0 ? 8 : 128}`,
          extra,
        ),
      });
    }
  }
  return {
    schemaVersion: ANALYSIS_SCHEMA_VERSION,
    kind: "paper",
    generatedAt: new Date().toISOString(),
    source: input.source,
    reference: PAPER_DEMO.description,
    family,
    pooling: setting.pooling,
    rows,
    missing: family === null
      ? "no family has two widths, so no ρ can be set beside the paper's"
      : attacks === null
      ? "no attack study in this analysis, so no α can be set beside the paper's"
      : null,
  };
}
