import {
  assert,
  assertEquals,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "../_shared/assert.ts";
import { formatDuration, PhaseTimes, Progress } from "../../lib/sweep/progress.ts";

function recorder(isTerminal: boolean) {
  const sink = {
    text: "",
    isTerminal,
    write(t: string) {
      sink.text += t;
    },
  };
  return sink;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("Progress() off a terminal writes plain lines: runs done of total, model, epoch, ETA", async () => {
  const sink = recorder(false);
  const p = new Progress(sink, 3, 1, 200);
  p.startRun({ runId: "CNNSmall-k2-s0-0123abcd", flops: 100, epochs: 2 });
  p.update(0, 0.5, "batch 1/2");
  await pause(30);
  p.epochDone(0, "loss 1.0");
  p.epochDone(1, "loss 0.5");
  p.endRun("complete");
  assert(
    !sink.text.includes("\r") && !sink.text.includes("\x1b"),
    "no carriage returns or escape codes off a terminal",
  );
  const lines = sink.text.trimEnd().split("\n");
  assertEquals(lines[0], "[1/3] CNNSmall-k2-s0-0123abcd: start");
  assert(
    /^\[1\/3\] CNNSmall-k2-s0-0123abcd: epoch 1\/2 loss 1\.0, ETA \d+s$/.test(lines[1]!),
    lines[1],
  );
  assertStringIncludes(lines[2]!, "epoch 2/2 loss 0.5, ETA ");
  assertEquals(lines[3], "[2/3] CNNSmall-k2-s0-0123abcd: complete");
  assertEquals(lines.length, 4, "batch updates print nothing off a terminal");
  // Half the FLOPs (100 of 200) are done: the ETA is about the time the first half took.
  const eta = p.eta();
  assert(Number.isFinite(eta) && eta > 0, `ETA ${eta}`);
});

Deno.test("Progress() on a terminal redraws one line in place and keeps log lines above it", () => {
  const sink = recorder(true);
  const p = new Progress(sink, 2, 0, 100);
  assert(Number.isNaN(p.eta()), "no ETA before any work is timed");
  p.startRun({ runId: "ResNetSmall-k4-s1-89abcdef", flops: 100, epochs: 3 });
  p.epochDone(1, "loss 0.7");
  assertStringIncludes(sink.text, "\r\x1b[2K[0/2] ETA ");
  assertStringIncludes(sink.text, "ResNetSmall-k4-s1-89abcdef epoch 2/3 loss 0.7");
  assert(!sink.text.includes("\n"), "nothing but the progress line yet");
  p.endRun("complete");
  p.finish();
  assertStringIncludes(sink.text, "\r\x1b[2K[1/2] ResNetSmall-k4-s1-89abcdef: complete\n");
  assert(sink.text.endsWith("\n"), "finish() leaves no progress line behind");
});

Deno.test("formatDuration() writes seconds, minutes and hours", () => {
  assertEquals(formatDuration(42), "42s");
  assertEquals(formatDuration(185), "3m05s");
  assertEquals(formatDuration(3720), "1h02m");
  assertEquals(formatDuration(NaN), "?");
});

Deno.test("PhaseTimes sums time per phase in first-timed order and the summary names what is left", async () => {
  const t = new PhaseTimes();
  t.add("training CNNSmall", 300);
  t.add("salience", 20);
  t.add("training CNNSmall", 60);
  t.add("precise BN", 0.1); // under half a second: left out of the summary
  await t.time("analysis", () => pause(20));
  await assertRejects(() => t.time("experiments", () => Promise.reject(new Error("boom"))), Error);
  assertEquals(t.seconds("training CNNSmall"), 360);
  assert(
    t.seconds("analysis") >= 0.015 && t.seconds("analysis") < 5,
    String(t.seconds("analysis")),
  );
  assertEquals(t.entries().map(([p]) => p), [
    "training CNNSmall",
    "salience",
    "precise BN",
    "analysis",
    "experiments",
  ]);
  const line = t.summary(400);
  assertStringIncludes(line, "time by phase: training CNNSmall 6m00s (90 %), salience 20s (5 %)");
  assertStringIncludes(line, "other 20s (5 %)");
  assert(!line.includes("precise BN"), line);
  assertThrows(() => t.add("salience", -1), RangeError, "salience");
  assertThrows(() => t.add("salience", NaN), RangeError);
});
