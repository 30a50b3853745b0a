// One CLI voice: every task answers --help, and a mistyped option is one line with a suggestion.
import { fileURLToPath } from "node:url";
import { assert, assertEquals, assertStringIncludes } from "../_shared/assert.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const TASKS: Record<string, [string[], string, string]> = {
  // task: [entry point, a mistyped option, the option it should suggest]
  sweep: [["lib/sweep/cli.ts"], "--presett", "--preset"],
  analyze: [["lib/sweep/analyze_cli.ts"], "--rnu", "--run"],
  report: [["site.ts", "report"], "--otu", "--out"],
  serve: [["site.ts", "serve"], "--prot", "--port"],
  models: [["lib/models/cli.ts"], "--shap", "--shape"],
};

async function run(entry: string[], args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--frozen", ...entry, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

for (const [task, [entry, typo, meant]] of Object.entries(TASKS)) {
  Deno.test(`deno task ${task} answers --help, and a mistyped option with one line`, async () => {
    const help = await run(entry, ["--help"]);
    assertEquals(help.code, 0, help.stderr);
    assertStringIncludes(help.stdout, `deno task ${task}`);
    const bad = await run(entry, [typo, "x"]);
    assertEquals(bad.code, 2, bad.stdout + bad.stderr);
    assertStringIncludes(bad.stderr, `Did you mean '${meant}'?`);
    assert(!/^\s+at /m.test(bad.stderr), `a stack trace:\n${bad.stderr}`);
  });
}

Deno.test("deno task models --k 2,x is one line, and says which input shape it shows", async () => {
  const bad = await run(["lib/models/cli.ts"], ["--k", "2,x"]);
  assertEquals(bad.code, 2);
  assertEquals(bad.stderr.trim().split("\n").length, 1, bad.stderr);
  assertStringIncludes(bad.stderr, "--k 2,x is not a comma-separated list of positive integers");
  const ok = await run(["lib/models/cli.ts"], ["--k", "2"]);
  assertEquals(ok.code, 0, ok.stderr);
  assertStringIncludes(
    ok.stdout,
    "3×32×32 inputs (the default, CIFAR's; the default sweep trains 1×28×28",
  );
});
