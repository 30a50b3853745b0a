// One CLI voice: every task answers --help, and a mistyped option is one line with a suggestion.
import { fileURLToPath, pathToFileURL } from "node:url";
import { assert, assertEquals, assertStringIncludes } from "../_shared/assert.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DENO_JSON = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)) as {
  tasks: Record<string, string>;
};

/** What `deno task NAME` runs after `deno run --allow-all --frozen`, read from deno.json. */
function entryOf(task: string): string[] {
  const words = DENO_JSON.tasks[task]?.split(" ") ?? [];
  const at = words.indexOf("--frozen");
  assert(words[0] === "deno" && words[1] === "run" && at > 1, `deno task ${task}: ${words}`);
  return words.slice(at + 1);
}

const TASKS: Record<string, [string, string]> = {
  // task: [a mistyped option, the option it should suggest]
  sweep: ["--presett", "--preset"],
  analyze: ["--rnu", "--run"],
  report: ["--otu", "--out"],
  serve: ["--prot", "--port"],
  models: ["--shap", "--shape"],
};

Deno.test("every command's task starts in lib/cli/ or at the site's root", () => {
  const entries = Object.keys(TASKS).map((t) => entryOf(t)[0]);
  assertEquals(entries, [
    "lib/cli/sweep.ts",
    "lib/cli/analyze.ts",
    "site.ts",
    "site.ts",
    "lib/cli/models.ts",
  ]);
});

async function run(entry: string[], args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--frozen", ...entry, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

for (const [task, [typo, meant]] of Object.entries(TASKS)) {
  Deno.test(`deno task ${task} answers --help, and a mistyped option with one line`, async () => {
    const entry = entryOf(task);
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
  const bad = await run(entryOf("models"), ["--k", "2,x"]);
  assertEquals(bad.code, 2);
  assertEquals(bad.stderr.trim().split("\n").length, 1, bad.stderr);
  assertStringIncludes(bad.stderr, "--k 2,x is not a comma-separated list of positive integers");
  const ok = await run(entryOf("models"), ["--k", "2"]);
  assertEquals(ok.code, 0, ok.stderr);
  assertStringIncludes(
    ok.stdout,
    "3×32×32 inputs (the default, CIFAR's; the default sweep trains 1×28×28",
  );
});

Deno.test("the library modules import nothing of lib/cli/", async () => {
  const cli = `${ROOT}lib/cli/`;
  const offenders: string[] = [];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      const path = `${dir}${e.name}`;
      if (e.isDirectory && `${path}/` !== cli) await walk(`${path}/`);
      else if (e.isFile && /\.tsx?$/.test(e.name)) {
        const text = await Deno.readTextFile(path);
        for (const m of text.matchAll(/(?:from\s+|import\()\s*"(\.[^"]+)"/g)) {
          const target = fileURLToPath(new URL(m[1]!, pathToFileURL(path)));
          if (target.startsWith(cli)) offenders.push(`${path.slice(ROOT.length)} → ${m[1]}`);
        }
      }
    }
  };
  await walk(`${ROOT}lib/`);
  assertEquals(offenders, []);
});
