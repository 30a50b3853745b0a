// A pooled sweep keeps the unpooled gradients of the same salience pass and analyses both.
import { join } from "node:path";
import { assert, assertEquals } from "../_shared/assert.ts";
import { readNpy } from "../../lib/npy/mod.ts";
import { reference } from "../../kernels/mod.ts";
import { listRuns, type SweepConfig, verifyRun } from "../../lib/store/mod.ts";
import { presetConfig } from "../../lib/sweep/presets.ts";
import { runSweep } from "../../lib/sweep/runner.ts";
import { assertAnalysisFile } from "../../lib/analysis/mod.ts";

Deno.test({
  name:
    "runSweep() with salience.pool writes salience-unpooled.npy from the same pass and analyses it beside the pooled one",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const out = await Deno.makeTempDir({ prefix: "sweep-pooling-" });
    const base = presetConfig("tiny");
    const config: SweepConfig = {
      ...base,
      name: "pooling",
      families: ["CNNSmall"],
      seeds: 2,
      salience: { ...base.salience, pool: 4 },
      experiments: { logits: false, ensembles: null, attack: null },
    };
    const sink = { write: () => {}, isTerminal: false };
    try {
      const r = await runSweep(config, { out, sink });
      const runs = (await listRuns(r.sweepDir)).filter((x) => x.status === "complete");
      assertEquals(runs.length, 4);
      for (const run of runs) {
        const pooled = await readNpy(join(run.dir, "salience.npy"));
        const raw = await readNpy(join(run.dir, "salience-unpooled.npy"));
        const [N, D0] = raw.shape as [number, number];
        // The pooled file is the unpooled one area-pooled to 4×4 per channel (square images).
        const C = pooled.shape[1]! / 16;
        const H = Math.round(Math.sqrt(D0 / C));
        assertEquals(C * H * H, D0, `shape ${raw.shape}`);
        for (let x = 0; x < N; x++) {
          const expect = reference.areaPool(raw.data.subarray(x * D0, (x + 1) * D0), {
            channels: C,
            height: H,
            width: H,
            size: 4,
          });
          for (let q = 0; q < expect.length; q++) {
            assert(Math.abs(pooled.data[x * C * 16 + q]! - expect[q]!) < 1e-6, `x ${x} q ${q}`);
          }
        }
        assertEquals((await verifyRun(run.dir)).status, "complete");
      }
      const f = assertAnalysisFile(
        JSON.parse(await Deno.readTextFile(join(r.sweepDir, "analysis", "pooling.json"))),
        "pooling",
      );
      assertEquals(f.variants.map((v) => [v.pooling, v.folder]), [
        [4, ""],
        [null, "pooling/unpooled"],
      ]);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});
