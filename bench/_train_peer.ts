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
 * `size`×`size`×1 and 10 classes, keeping per case and figure PyTorch's best of two runs: one with
 * OpenMP's default wait policy (threads spin between parallel regions) and one with
 * `OMP_WAIT_POLICY=PASSIVE` (they sleep). On a machine shared with other work, spinning collapses
 * PyTorch's figure; idle, sleeping costs it up to 1.8× (ResNetSmall(8): 3,600–4,060 samples/s
 * passive against 5,830–5,860 by default, back to back). Its best of both is the peer a user
 * tuning PyTorch here would get.
 * Cost: about `2·(2 + 2·reps)` × `minSeconds` per case, plus two Python starts.
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
  const dec = new TextDecoder();
  const once = async (passive: boolean) => {
    const env = { ...Deno.env.toObject() };
    if (passive) env.OMP_WAIT_POLICY = "PASSIVE";
    else delete env.OMP_WAIT_POLICY;
    const out = await new Deno.Command(python, {
      args: [script, args],
      env,
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(`bench/train_peer.py failed (exit ${out.code}): ${dec.decode(out.stderr)}`);
    }
    return JSON.parse(dec.decode(out.stdout)) as {
      torch: string;
      threads: number;
      rows: PeerRow[];
    };
  };
  const spin = await once(false), sleep = await once(true);
  const rows = new Map(spin.rows.map((x) => [`${x.family}/${x.k}`, { ...x }]));
  for (const x of sleep.rows) {
    const r = rows.get(`${x.family}/${x.k}`);
    if (!r) continue;
    r.train = Math.max(r.train, x.train);
    r.salience = Math.max(r.salience, x.salience);
  }
  return { ok: true, python, torch: spin.torch, threads: spin.threads, rows };
}
