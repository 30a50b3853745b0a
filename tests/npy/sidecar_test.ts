import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import {
  type GradientMeta,
  metaDim,
  readSidecar,
  sidecarPath,
  validateGradientMeta,
  writeSidecar,
} from "../../lib/npy/mod.ts";
import { meta, tempDir } from "./_helpers.ts";

/** Asserts `fn` throws `Err` whose message names `"key"`. */
function throwsNaming(fn: () => unknown, Err: ErrorConstructor, key: string): void {
  throws(fn, (e: Error) => {
    ok(e instanceof Err, `${key}: got ${e.name}: ${e.message}`);
    ok(e.message.includes(`"${key}"`), `${key}: message does not name it: ${e.message}`);
    return true;
  });
}

Deno.test("sidecarPath() swaps .npy for .json and rejects other names", () => {
  equal(sidecarPath("runs/cnn_k4_s0/grads.npy"), "runs/cnn_k4_s0/grads.json");
  equal(sidecarPath("a.b.npy"), "a.b.json");
  throws(() => sidecarPath("grads.npz"), TypeError);
});

Deno.test("metaDim() is C·H·W without pooling and C·P·P with it", () => {
  equal(metaDim(meta(1, 3, [28, 28])), 784);
  equal(metaDim({ pooling: 8, input: { channels: 3, height: 32, width: 32 } }), 192);
});

Deno.test("validateGradientMeta() accepts valid sidecars of both layouts", () => {
  validateGradientMeta(meta(1, 5, [2, 3]), { shape: [5, 6] });
  validateGradientMeta(meta(3, 5, [2, 3]), { shape: [3, 5, 6] });
  const indexed = meta(2, 4, [28, 28], {
    pooling: 8,
    scalar: "loss",
    probe: { dataset: "cifar10", split: "test", indices: [9, 3, 0, 7] },
    note: "exported from PyTorch",
  });
  deepEqual(validateGradientMeta(indexed, { shape: [2, 4, 64] }), indexed);
});

Deno.test("validateGradientMeta() names the key of every bad value", () => {
  const good = meta(2, 5, [2, 3]);
  const bad = (edit: (m: Record<string, unknown>) => void): unknown => {
    const m = structuredClone(good) as unknown as Record<string, unknown>;
    edit(m);
    return m;
  };
  const cases: [unknown, ErrorConstructor, string][] = [
    [bad((m) => (m.colour = "red")), TypeError, "colour"],
    [bad((m) => (m.model = {})), TypeError, "model"],
    [bad((m) => delete m.scalar), TypeError, "scalar"],
    [bad((m) => (m.format = "npy")), TypeError, "format"],
    [bad((m) => (m.version = 2)), RangeError, "version"],
    [bad((m) => (m.scalar = "logit")), RangeError, "scalar"],
    [bad((m) => (m.pooling = 0)), RangeError, "pooling"],
    [bad((m) => (m.pooling = 3)), RangeError, "pooling"],
    [bad((m) => (m.pooling = "8")), TypeError, "pooling"],
    [bad((m) => (m.input = [1, 2, 3])), TypeError, "input"],
    [bad((m) => ((m.input as Record<string, unknown>).height = 2.5)), TypeError, "input.height"],
    [bad((m) => ((m.input as Record<string, unknown>).depth = 1)), TypeError, "input.depth"],
    [bad((m) => (m.models = [])), TypeError, "models"],
    [bad((m) => ((m.models as Record<string, unknown>[])[1]!.k = 0)), RangeError, "models[1].k"],
    [
      bad((m) => ((m.models as Record<string, unknown>[])[0]!.seed = -1)),
      RangeError,
      "models[0].seed",
    ],
    [
      bad((m) => ((m.models as Record<string, unknown>[])[1]!.family = "")),
      TypeError,
      "models[1].family",
    ],
    [
      bad((m) => delete (m.models as Record<string, unknown>[])[0]!.family),
      TypeError,
      "models[0].family",
    ],
    [bad((m) => ((m.probe as Record<string, unknown>).indices = [1])), TypeError, "probe"],
    [
      bad((m) => (m.probe = { dataset: "x", split: "test", indices: [0, -2] })),
      RangeError,
      "probe.indices[1]",
    ],
    [bad((m) => (m.probe = { dataset: "x", split: "test", count: 0 })), RangeError, "probe.count"],
    [bad((m) => ((m.probe as Record<string, unknown>).split = 3)), TypeError, "probe.split"],
    [bad((m) => (m.note = 5)), TypeError, "note"],
    [null, TypeError, ""],
  ];
  for (const [value, Err, key] of cases) throwsNaming(() => validateGradientMeta(value), Err, key);
});

Deno.test("validateGradientMeta() rejects a sidecar that disagrees with the shape", () => {
  const m = meta(2, 5, [2, 3]);
  throwsNaming(() => validateGradientMeta(m, { shape: [5, 6] }), TypeError, "models");
  throwsNaming(() => validateGradientMeta(m, { shape: [3, 5, 6] }), TypeError, "models");
  throwsNaming(() => validateGradientMeta(m, { shape: [2, 4, 6] }), TypeError, "probe.count");
  throwsNaming(() => validateGradientMeta(m, { shape: [2, 5, 7] }), TypeError, "input");
  const pooled: GradientMeta = { ...m, pooling: 2, input: { channels: 3, height: 4, width: 4 } };
  throwsNaming(() => validateGradientMeta(pooled, { shape: [2, 5, 48] }), TypeError, "pooling");
  throws(
    () => validateGradientMeta(m, { shape: [2, 5, 6, 1] }),
    /expected \[N, D\] or \[M, N, D\]/,
  );
});

Deno.test("writeSidecar() then readSidecar() round-trips and checks the shape", async () => {
  await using dir = await tempDir();
  const npy = `${dir.path}/grads.npy`;
  const m = meta(1, 4, [3, 3], { probe: { dataset: "d", split: "test", indices: [5, 6, 7, 8] } });
  await writeSidecar(npy, m);
  deepEqual(await readSidecar(npy, [4, 9]), m);
  await rejects(readSidecar(npy, [4, 10]), /= 9 but the array \[4, 10\] has D = 10/);
  await rejects(
    writeSidecar(npy, { ...m, scalar: "margin" as GradientMeta["scalar"] }),
    RangeError,
  );
  deepEqual(await readSidecar(npy), m); // the failed write left the old sidecar alone
});

Deno.test("writeSidecar() leaves no temporary file when the rename fails", async () => {
  await using dir = await tempDir();
  const npy = `${dir.path}/g.npy`;
  // A non-empty folder where the sidecar should go makes the final rename fail.
  await Deno.mkdir(`${sidecarPath(npy)}/taken`, { recursive: true });
  await rejects(writeSidecar(npy, meta(1, 2, [2, 2])));
  deepEqual((await Array.fromAsync(Deno.readDir(dir.path))).map((e) => e.name), ["g.json"]);
});

Deno.test("readSidecar() reports a missing or unparsable sidecar", async () => {
  await using dir = await tempDir();
  const npy = `${dir.path}/g.npy`;
  await rejects(readSidecar(npy), (e: Error) => {
    ok(e instanceof Deno.errors.NotFound && e.message.includes("g.json"), e.message);
    return true;
  });
  await Deno.writeTextFile(sidecarPath(npy), "{ scalar: loss }");
  await rejects(readSidecar(npy), SyntaxError);
});
