// Shared by the npy tests: temp folders, sidecar metadata, and whether NumPy is installed.
import type { GradientMeta } from "../../lib/npy/mod.ts";

export const FIXTURES = new URL("./fixtures/", import.meta.url).pathname;

/** A fresh temp folder, removed when the returned object is disposed. */
export async function tempDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: "npy_test_" });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true });
    },
  };
}

/** A valid sidecar for M models on `n` samples of D = 1·h·w (pooling null). */
export function meta(
  models: number,
  n: number,
  hw: [number, number],
  overrides: Partial<GradientMeta> = {},
): GradientMeta {
  return {
    format: "salience-gradients",
    version: 1,
    scalar: "true-class-logit",
    pooling: null,
    input: { channels: 1, height: hw[0], width: hw[1] },
    models: Array.from({ length: models }, (_, seed) => ({ family: "CNNSmall", k: 4, seed })),
    probe: { dataset: "fashion-mnist", split: "test", count: n },
    ...overrides,
  };
}

/** Runs python3 with `code`; returns stdout, or null when python3 or NumPy is missing. */
export async function python(code: string, ...args: string[]): Promise<string | null> {
  try {
    const out = await new Deno.Command("python3", { args: ["-c", code, ...args] }).output();
    if (!out.success) {
      const err = new TextDecoder().decode(out.stderr);
      if (err.includes("No module named 'numpy'")) return null;
      throw new Error(`python3 failed: ${err}`);
    }
    return new TextDecoder().decode(out.stdout);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** True when `python3 -c "import numpy"` works here. */
export const HAVE_NUMPY: boolean = (await python("import numpy")) !== null;
