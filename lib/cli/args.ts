/**
 * The argument parser every command shares, and its voice: `--help` answers with the usage, and
 * an unknown or malformed option is one line naming it, with the nearest known option when it
 * looks like a typo, instead of a stack trace or Node's wording.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { didYouMean } from "../names/mod.ts";

/**
 * Whether `args` ask for the usage (`--help` or `-h`): entry points print it and exit 0.
 *
 * @example
 * ```ts
 * import { wantsHelp } from "./args.ts";
 * if (!wantsHelp(["--out", "x", "--help"]) || wantsHelp(["--out", "x"])) throw new Error();
 * ```
 */
export function wantsHelp(args: readonly string[]): boolean {
  return args.includes("--help") || args.includes("-h");
}

/** A command-line mistake: its message is one line, and the command exits 2. */
export class UsageError extends TypeError {
  override name = "UsageError";
}

/**
 * `parseArgs` (strict, no positionals) with the shared voice: `--help` (or `-h`) anywhere gives
 * `{ help: true }`; an unknown option, a missing value or a stray argument throws a
 * {@link UsageError} of one line naming it, the nearest known option, and `--help`.
 *
 * @example
 * ```ts
 * import { parseFlags } from "./args.ts";
 * const r = parseFlags("deno task x", ["--out", "d"], { out: { type: "string" } });
 * if (r.help || r.values.out !== "d") throw new Error();
 * let msg = "";
 * try { parseFlags("deno task x", ["--uot", "d"], { out: { type: "string" } }); }
 * catch (e) { msg = (e as Error).message; }
 * if (!msg.includes("Did you mean '--out'?")) throw new Error(msg);
 * ```
 */
export function parseFlags<O extends NonNullable<ParseArgsConfig["options"]>>(
  command: string,
  args: string[],
  options: O,
):
  | { help: true }
  | { help: false; values: ReturnType<typeof parseArgs<{ options: O; strict: true }>>["values"] } {
  if (args.includes("--help") || args.includes("-h")) return { help: true };
  try {
    const { values } = parseArgs({ args, options, strict: true, allowPositionals: false });
    return { help: false, values };
  } catch (err) {
    const msg = (err as Error).message;
    const flag = /option '(-{1,2}[^' ]+)/.exec(msg)?.[1] ??
      /argument '([^']+)'/.exec(msg)?.[1];
    const known = Object.keys(options).map((k) => `--${k}`);
    let line: string;
    if (/Unknown option/.test(msg) && flag) {
      line = `unknown option '${flag}'.${didYouMean(flag, known)}`;
    } else if (/argument missing/.test(msg)) {
      const opt = /Option '(-{1,2}[\w-]+)/.exec(msg)?.[1] ?? "an option";
      line = `option '${opt}' needs a value.`;
    } else if (/Unexpected argument/.test(msg) && flag) {
      line = `unexpected argument '${flag}'; every value follows its option (e.g. --out DIR).`;
    } else line = msg.replace(/\. To specify a positional argument.*$/s, ".");
    throw new UsageError(`${line} Run ${command} --help for the options.`);
  }
}
