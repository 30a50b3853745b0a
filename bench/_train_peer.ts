/**
 * The PyTorch column of `deno task bench train`: runs `bench/train_peer.py` (the same families
 * from `lib/torch/families.py`, the same recipe and batch) on this machine's CPU with the first
 * `python3` that imports torch, or says why there is no column.
 *
 * @module
 */
import { findPython } from "../lib/torch/mod.ts";

/** PyTorch's samples/s of one (family, k). */
export interface PeerRow {
  family: string;
  k: number;
  train: number;
  salience: number;
}

/** What the peer measured, or why it could not. */
export type PeerResult =
  | { ok: true; python: string; torch: string; threads: number; rows: Map<string, PeerRow> }
  | { ok: false; reason: string };

/**
 * Measures PyTorch training and salience samples/s for each `[family, k]` at `batch`,
 * `size`×`size`×1 and 10 classes. OpenMP runs with `OMP_WAIT_POLICY=PASSIVE` so that its threads
 * sleep rather than spin while waiting, which on a machine shared with other work is what keeps
 * PyTorch's figure from collapsing (idle, it costs little).
 * Cost: about `2 + 2·reps` × `minSeconds` per case, plus one Python start.
 *
 * @example
 * ```ts ignore
 * import { torchPeer } from "./_train_peer.ts";
 * const r = await torchPeer([["CNNSmall", 2]], { batch: 16, size: 8, reps: 1, minSeconds: 0.05 });
 * console.log(r.ok ? r.rows.get("CNNSmall/2") : r.reason);
 * ```
 */
export async function torchPeer(
  cases: ReadonlyArray<readonly [string, number]>,
  opts: { batch: number; size: number; reps: number; minSeconds: number },
): Promise<PeerResult> {
  const python = await findPython(["torch"]);
  if (!python) return { ok: false, reason: "not installed (no python3 imports torch)" };
  const script = new URL("./train_peer.py", import.meta.url).pathname;
  const args = JSON.stringify({
    cases,
    batch: opts.batch,
    size: opts.size,
    classes: 10,
    reps: opts.reps,
    min_seconds: opts.minSeconds,
  });
  const out = await new Deno.Command(python, {
    args: [script, args],
    env: { OMP_WAIT_POLICY: "PASSIVE" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  if (!out.success) {
    throw new Error(`bench/train_peer.py failed (exit ${out.code}): ${dec.decode(out.stderr)}`);
  }
  const r = JSON.parse(dec.decode(out.stdout)) as {
    torch: string;
    threads: number;
    rows: PeerRow[];
  };
  return {
    ok: true,
    python,
    torch: r.torch,
    threads: r.threads,
    rows: new Map(r.rows.map((x) => [`${x.family}/${x.k}`, x])),
  };
}
