/** Running the PyTorch oracle (tests/torch/oracle.py) once per job, and comparing with it. */
import { findPython } from "../../lib/torch/mod.ts";
import { testNeeding } from "../_shared/requires.ts";
import { hasAdapter, NO_ADAPTER_REASON } from "../_shared/gpu.ts";

/** The interpreter that imports torch and numpy, or null. */
export const TORCH_PYTHON: string | null = await findPython(["torch", "numpy"]);

const REASON =
  "torch and numpy cannot be imported by python3 or /usr/bin/python3 (apt-get install python3-torch)";

/** Registers a test that needs PyTorch (skipped without it; under CI=true it fails instead). */
export function torchTest(name: string, fn: () => Promise<void>): void {
  testNeeding(TORCH_PYTHON !== null, REASON, {
    name,
    async fn() {
      if (TORCH_PYTHON === null) throw new Error(`CI=true but ${REASON}.`);
      await fn();
    },
  });
}

/** Registers a test that needs PyTorch and a WebGPU adapter (same skip/fail rule). */
export function torchGpuTest(name: string, fn: () => Promise<void>): void {
  const present = TORCH_PYTHON !== null && hasAdapter;
  testNeeding(present, TORCH_PYTHON === null ? REASON : NO_ADAPTER_REASON, {
    name,
    async fn() {
      if (!present) {
        throw new Error(`CI=true but ${TORCH_PYTHON === null ? REASON : NO_ADAPTER_REASON}.`);
      }
      await fn();
    },
  });
}

const SCRIPT = new URL("./oracle.py", import.meta.url).pathname;

/** Runs oracle.py on `job`; returns its output folder and manifest.json. */
export async function runOracle(
  job: Record<string, unknown>,
): Promise<{ dir: string; manifest: Record<string, unknown> }> {
  const dir = await Deno.makeTempDir({ prefix: "torch-oracle-" });
  const jobPath = `${dir}/job.json`;
  await Deno.writeTextFile(jobPath, JSON.stringify(job));
  const r = await new Deno.Command(TORCH_PYTHON!, {
    args: [SCRIPT, jobPath, dir],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!r.success) {
    throw new Error(`oracle.py failed: ${new TextDecoder().decode(r.stderr)}`);
  }
  return { dir, manifest: JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`)) };
}

/** Memoises a job so the tests of one file share one Python process. */
export function oracleOnce(
  job: Record<string, unknown>,
): () => Promise<{ dir: string; manifest: Record<string, unknown> }> {
  let p: ReturnType<typeof runOracle> | null = null;
  return () => (p ??= runOracle(job));
}

/** max |a − b| / max |b| (NaN anywhere gives Infinity). */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let d = 0, m = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i]! - b[i]!);
    if (!(e <= d)) d = Number.isNaN(e) ? Infinity : e;
    m = Math.max(m, Math.abs(b[i]!));
  }
  return d / m;
}

/** Cosine of two vectors, in f64. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return ab / Math.sqrt(aa * bb);
}

/** NCHW → NHWC of `n` images. */
export function nchwToNhwc(
  x: Float32Array,
  n: number,
  c: number,
  h: number,
  w: number,
): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      for (let y = 0; y < h; y++) {
        for (let z = 0; z < w; z++) {
          out[((i * h + y) * w + z) * c + ch] = x[((i * c + ch) * h + y) * w + z]!;
        }
      }
    }
  }
  return out;
}
