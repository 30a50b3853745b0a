/**
 * Prints trainable parameter counts by family and width k for an input shape.
 *
 * ```sh
 * deno task models                                  # 3×32×32, 10 classes, k = 10, 20, 40, 80, 160
 * deno task models --shape 1x28x28 --classes 10 --k 2,4,8
 * ```
 *
 * @module
 */
import { parseFlags } from "./args.ts";
import { initTf } from "../tf/mod.ts";
import { countParams, createModel, FAMILIES, type InputShape } from "../models/mod.ts";

/**
 * Parses a `CxHxW` shape string.
 *
 * @throws {RangeError} when it is not three positive integers joined by "x".
 * @example
 * ```ts
 * import { parseShape } from "./models.ts";
 * const s = parseShape("1x28x28");
 * if (s.height !== 28) throw new Error();
 * ```
 */
export function parseShape(text: string): InputShape {
  const p = text.split("x").map(Number);
  if (p.length !== 3 || p.some((v) => !Number.isInteger(v) || v < 1)) {
    throw new RangeError(
      `--shape "${text}" is not CxHxW with positive integers; write e.g. 3x32x32.`,
    );
  }
  return { channels: p[0]!, height: p[1]!, width: p[2]! };
}

/**
 * The table of trainable parameter counts, one row per family, one column per k, as text.
 * A family that cannot be built at a k (ViT needs an even k) shows "–".
 */
export function parameterTable(shape: InputShape, classes: number, ks: number[]): string {
  const head = ["family", ...ks.map((k) => `k=${k}`)];
  const rows = FAMILIES.map((family) => [
    family,
    ...ks.map((k) => {
      try {
        const m = createModel({ family, k, seed: 0, shape, classes });
        const n = countParams(m);
        m.dispose();
        return n.toLocaleString("en-US");
      } catch {
        return "–";
      }
    }),
  ]);
  const all = [head, ...rows];
  const width = head.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  return all.map((r) =>
    r.map((c, i) => i === 0 ? c.padEnd(width[i]!) : c.padStart(width[i]!)).join("  ")
  ).join("\n");
}

/** The usage `deno task models --help` prints. */
export const MODELS_USAGE = `usage: deno task models [--shape CxHxW] [--classes N] [--k K1,K2,...]

Prints the trainable parameters of every family at each width k.
  --shape CxHxW   input shape (default 3x32x32, CIFAR's; the default sweep trains 1x28x28)
  --classes N     output classes (default 10)
  --k LIST        widths (default 10,20,40,80,160)
  --help          this text`;

/**
 * Runs `deno task models` on `args`: prints the table (or the usage) and returns the exit code
 * (0, or 2 with one line on standard error for a bad option).
 *
 * @example
 * ```ts
 * import { modelsMain } from "./models.ts";
 * if ((await modelsMain(["--k", "2,x"])) !== 2) throw new Error("a bad --k passed");
 * ```
 */
export async function modelsMain(args: string[]): Promise<number> {
  try {
    const parsed = parseFlags("deno task models", args, {
      shape: { type: "string", default: "3x32x32" },
      classes: { type: "string", default: "10" },
      k: { type: "string", default: "10,20,40,80,160" },
    });
    if (parsed.help) {
      console.log(MODELS_USAGE);
      return 0;
    }
    const { values } = parsed;
    const shape = parseShape(values.shape!);
    const classes = Number(values.classes);
    const ks = values.k!.split(",").map((t) => Number(t.trim()));
    if (!Number.isInteger(classes) || classes < 1) {
      throw new RangeError(`--classes ${values.classes} is not a positive integer; pass e.g. 10.`);
    }
    if (ks.some((k) => !Number.isInteger(k) || k < 1)) {
      throw new RangeError(
        `--k ${values.k} is not a comma-separated list of positive integers; pass e.g. 2,4,8.`,
      );
    }
    await initTf({ backend: "cpu" });
    const which = values.shape === "3x32x32" && !args.some((a) => a.startsWith("--shape"))
      ? " (the default, CIFAR's; the default sweep trains 1×28×28: pass --shape 1x28x28)"
      : "";
    console.log(
      `Trainable parameters for ${shape.channels}×${shape.height}×${shape.width} inputs${which}, ${classes} classes:`,
    );
    console.log(parameterTable(shape, classes, ks));
    return 0;
  } catch (err) {
    console.error(`error: ${(err as Error).message}`);
    return 2;
  }
}

if (import.meta.main) Deno.exit(await modelsMain(Deno.args));
