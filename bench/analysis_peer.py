"""NumPy float32 peer of bench/analysis_bench.ts: the same reductions on the same file.

Usage: python3 analysis_peer.py PATH SAMPLES BATCH GROUPS SPLITS
PATH holds an [M, B, D] float32 .npy file; the script processes SAMPLES samples as batches of
BATCH, re-reading the file's B samples for each batch (as the TypeScript side does): read,
normalise with scaled norms (zero rows flagged), per-sample Grams (np.matmul, float32), then
the group statistics from each Gram (group sums, leave-one-out t, split halves, cosines between
group means and of every model to every other group's mean). Prints one JSON line:
{"seconds": ..., "cpuSeconds": ..., "samples": ..., "checksum": ...} (cpuSeconds: the
process's CPU time, all BLAS threads included).
"""
import json
import sys
import time

import numpy as np


def reduce_batch(g, groups, halves):
    m, b, d = g.shape
    x = np.ascontiguousarray(g.transpose(1, 0, 2))  # [B, M, D]
    big = np.abs(x).max(axis=2, keepdims=True)
    live = (big[..., 0] > 0) & np.isfinite(big[..., 0])
    u = np.where(big > 0, x / np.where(big > 0, big, 1), 0).astype(np.float32)
    n2 = np.einsum("bmd,bmd->bm", u, u)
    u *= np.where(n2 > 0, 1 / np.sqrt(np.where(n2 > 0, n2, 1)), 0)[..., None].astype(np.float32)
    gram = np.matmul(u, u.transpose(0, 2, 1))  # [B, M, M]
    out = 0.0
    sums = []
    for a in groups:
        block = gram[:, a][:, :, a]
        s2 = block.sum(axis=(1, 2))
        row = block.sum(axis=2)
        rest = s2[:, None] - 2 * row + 1
        t = (row - 1) / np.sqrt(np.maximum(rest, 1e-12))
        sums.append(s2)
        out += float(t.sum())
    for i, a in enumerate(groups):
        for j, c in enumerate(groups):
            if i == j:
                continue
            cross = gram[:, a][:, :, c].sum(axis=(1, 2))
            out += float((cross / np.sqrt(np.maximum(sums[i] * sums[j], 1e-30))).sum())
        to_mean = gram[:, :, a].sum(axis=2) / np.sqrt(np.maximum(sums[i], 1e-30))[:, None]
        out += float(to_mean.sum())
        for ha, hb in halves[i]:
            sab = gram[:, ha][:, :, hb].sum(axis=(1, 2))
            sa = gram[:, ha][:, :, ha].sum(axis=(1, 2))
            sb = gram[:, hb][:, :, hb].sum(axis=(1, 2))
            out += float((sab / np.sqrt(np.maximum(sa * sb, 1e-30))).sum())
    return out + float(live.sum())


def main():
    path, samples, batch, ngroups, splits = sys.argv[1:6]
    samples, batch, ngroups, splits = int(samples), int(batch), int(ngroups), int(splits)
    data = np.load(path, mmap_mode="r")
    m = data.shape[0]
    size = m // ngroups
    groups = [list(range(k * size, (k + 1) * size)) for k in range(ngroups)]
    rng = np.random.default_rng(1)
    halves = []
    for a in groups:
        hs = []
        for _ in range(splits):
            p = list(rng.permutation(a))
            h = len(p) // 2
            hs.append((p[:h], p[h:2 * h]))
        halves.append(hs)
    t0 = time.perf_counter()
    c0 = time.process_time()
    done = 0
    check = 0.0
    while done < samples:
        n = min(batch, samples - done)
        g = np.array(data[:, :n, :], dtype=np.float32)  # read
        check += reduce_batch(g, groups, halves)
        done += n
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - c0
    print(json.dumps({"seconds": seconds, "cpuSeconds": cpu, "samples": done, "checksum": check}))


if __name__ == "__main__":
    main()
