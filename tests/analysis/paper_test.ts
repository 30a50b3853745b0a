// Our figures beside the paper's published ones: the right cells, ranges and differences.
import { analyzeGradients } from "../../lib/analysis/gradients.ts";
import { PAPER_FIGURES, paperComparison } from "../../lib/analysis/paper.ts";
import type { AttacksFile } from "../../lib/analysis/schema.ts";
import { assert, assertEquals, plant, streamOf } from "./_synthetic.ts";

const p = plant({
  families: ["ResNetSmall", "CNNSmall"],
  ks: [2, 4, 8, 16],
  seeds: 3,
  samples: 40,
  dim: 48,
  sigma: (k) => 6 / k,
  seed: 5,
});
const a = await analyzeGradients(streamOf(p), p.models, { resamples: 100 });
const setting = {
  dataset: "fmnist-default (1×28×28)",
  datasetName: "fmnist-default",
  samples: 40,
  pooling: null,
  scalar: "true-class-logit",
  seeds: null,
  epochs: 3,
  accuracy: [0.8, 0.9] as [number, number],
  belowFloor: { models: 2, of: 24, floor: 0.75 },
};
const alpha = (v: number) => ({
  all: { mean: v, std: 0.01, pairs: 10, ci: null },
  correct: { mean: v, std: 0.01, pairs: 10, ci: null },
});
const attacks: AttacksFile = {
  schemaVersion: 1,
  kind: "attacks",
  generatedAt: "",
  source: "s",
  epsilon: 0.05,
  clip: [[-1, 1]],
  scalar: "true-probability",
  samples: 40,
  matrices: [{
    family: "CNNSmall",
    ks: [2, 4, 8, 16],
    cells: [0.95, 0.9, 0.85, 0.6].map((s) => [1, 0.98, 0.96, 0.94].map((t) => alpha(s * t))),
    modelPairs: [[6, 9, 9, 9], [9, 6, 9, 9], [9, 9, 6, 9], [9, 9, 9, 6]],
  }],
  strategies: [],
  claims: [],
};

Deno.test("paperComparison() sets CNNSmall's ρ and α beside the demo's with what differs", () => {
  const f = paperComparison({ similarity: a.similarity, attacks, setting, source: "s" });
  assertEquals(f.family, "CNNSmall");
  assertEquals(f.missing, null);
  assertEquals(f.rows.map((r) => r.id), [
    "rho-smallest-width",
    "rho-largest-widths",
    "alpha-smallest-source",
    "alpha-largest-source",
  ]);
  const cell = (k1: number, k2: number) => {
    const g = (k: number) => a.similarity.groups.find((x) => x.family === "CNNSmall" && x.k === k)!;
    return a.similarity.expected[g(k1).index]![g(k2).index]!.mean;
  };
  // The smallest width against widths up to 5× it (k = 2 against 4 and 8), as the paper's
  // k = 8 against k ≤ 40.
  const small = f.rows[0]!;
  assertEquals(small.ours.values.map((v) => [v.k1, v.k2, v.value]), [
    [2, 4, cell(2, 4)],
    [2, 8, cell(2, 8)],
  ]);
  assertEquals(small.ours.range, [
    Math.min(cell(2, 4)!, cell(2, 8)!),
    Math.max(cell(2, 4)!, cell(2, 8)!),
  ]);
  assertEquals(small.paper, PAPER_FIGURES.rhoSmall);
  for (
    const part of [
      "fmnist-default (1×28×28) instead of CIFAR-10 (3×32×32)",
      "40 probe images instead of 256",
      "unpooled instead of 8×8",
      "k = 2 against 4, 8 instead of k = 8 against k ≤ 40",
      "3 seeds per width",
      "test accuracy 80–90 %",
      "3 training epochs",
      "2 of 24 models below the 75 % accuracy floor are included here",
    ]
  ) assert(small.differs.includes(part), small.differs);
  assert(!small.differs.includes("CNNSmall instead"), small.differs);
  assertEquals(f.rows[1]!.ours.values.map((v) => [v.k1, v.k2, v.value]), [[8, 16, cell(8, 16)]]);
  // α from the smallest source over target widths: 0.95 × (1, 0.98, 0.96, 0.94).
  const s = f.rows[2]!, l = f.rows[3]!;
  assertEquals(s.ours.range!.map((v) => Number(v.toFixed(6))), [0.893, 0.95]);
  assertEquals(s.overlaps, true);
  assertEquals(l.ours.range!.map((v) => Number(v.toFixed(6))), [0.564, 0.6]);
  assertEquals(l.overlaps, true);
  assert(l.differs.includes("source k = 16 instead of source k = 128"), l.differs);
  assert(l.differs.includes("FGSM ε = 0.05"), l.differs);
  assertEquals(l.ours.text, "0.564–0.600 from a k = 16 source (targets k = 2, 4, 8, 16)");
  assert(!l.differs.includes("instead of 8×8"), l.differs);
});

Deno.test("paperComparison() without an attack study or a second width says what is missing", () => {
  const none = paperComparison({ similarity: a.similarity, attacks: null, setting, source: "s" });
  assertEquals(none.rows.length, 2);
  assert(none.missing!.includes("no attack study"), none.missing!);
  const one = plant({
    families: ["CNNSmall"],
    ks: [4],
    seeds: 3,
    samples: 8,
    dim: 8,
    sigma: () => 1,
  });
  return analyzeGradients(streamOf(one), one.models, { resamples: 20 }).then((b) => {
    const f = paperComparison({ similarity: b.similarity, attacks: null, setting, source: "s" });
    assertEquals([f.rows.length, f.family], [0, null]);
    assert(f.missing!.includes("two widths"), f.missing!);
  });
});
