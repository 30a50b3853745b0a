// Runs the sweep CLI as a child process, as a user would (`deno task sweep` runs this file).
import { fileURLToPath as fromFileUrl } from "node:url";

export const ROOT = fromFileUrl(new URL("../../", import.meta.url));
export const SWEEP_CLI = fromFileUrl(new URL("../../lib/cli/sweep.ts", import.meta.url));

/**
 * The settings of a sweep that runs in seconds: tiny MLPs at k = 1, 2 (one seed), 64 synthetic
 * training images, 2 epochs on the CPU, with logits and no attack or ensembles. Tests spread it
 * and override what they vary.
 */
export const TINY_MLP_SETTINGS = {
  preset: "tiny",
  families: ["MLP"],
  widths: [1, 2],
  seeds: 1,
  dataset: { trainImages: 64, testImages: 32, probeImages: 16 },
  training: { epochs: 2 },
  experiments: { logits: true, ensembles: null, attack: null },
  backend: "cpu",
};

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export function sweepCommand(args: string[], env: Record<string, string> = {}): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", SWEEP_CLI, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  });
}

export async function runSweepCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<Result> {
  const out = await sweepCommand(args, env).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Runs and asserts exit code 0, showing the child's output otherwise. */
export async function runOk(args: string[], env: Record<string, string> = {}): Promise<Result> {
  const r = await runSweepCli(args, env);
  if (r.code !== 0) {
    throw new Error(
      `sweep ${args.join(" ")} exited ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`,
    );
  }
  return r;
}
