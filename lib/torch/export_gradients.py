"""Export input gradients of PyTorch models to the toolkit's .npy + JSON sidecar format.

The output is one float32 C-order [M, N, D] array (M models, N samples, D = C*H*W per-sample
gradients in C, H, W order, or C*P*P with --pool P) and, beside it with the same stem, the JSON
sidecar that lib/npy/sidecar.ts documents. `deno task analyze --grads OUT.npy --models OUT.json`
analyses it (the sidecar doubles as the model list).

Command line, for checkpoints of the toolkit's families (lib/torch/families.py's names):

    python3 lib/torch/export_gradients.py --images x.npy --labels y.npy --out grads.npy \\
        [--checkpoints DIR] [FAMILY:K:SEED=PATH ...] [--scalar true-class-logit] [--pool 8]

--images is a float32 .npy [N, C, H, W] of normalised inputs (--layout nhwc for [N, H, W, C]),
--labels an integer .npy [N]. Checkpoints are torch.save state dicts or .safetensors files;
--checkpoints DIR takes every file named <Family>_k<K>_s<SEED>.pt (or .safetensors) in DIR.

From Python, for any models that map [N, C, H, W] to logits:

    from export_gradients import export_gradients
    export_gradients([model_a, model_b], [{"family": "MyNet", "k": 4, "seed": 0}, ...],
                     images, labels, "grads.npy")
"""

import argparse
import json
import os
import re
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from families import FAMILIES, build, load_state_dict_file  # noqa: E402

SCALARS = ("true-class-logit", "predicted-class-logit", "true-class-probability", "loss")
NAME = re.compile(r"^(\w+?)_k(\d+)_s(\d+)\.(pt|pth|safetensors)$")


def scalar_of(logits, labels, scalar):
    """Sum over the batch of each sample's scalar (so the gradient is per sample)."""
    if scalar == "true-class-logit":
        return logits.gather(1, labels[:, None]).sum()
    if scalar == "predicted-class-logit":
        return logits.gather(1, logits.argmax(1, keepdim=True)).sum()
    if scalar == "true-class-probability":
        return torch.softmax(logits, 1).gather(1, labels[:, None]).sum()
    if scalar == "loss":
        return F.cross_entropy(logits, labels, reduction="sum")
    raise ValueError(f"Unknown scalar {scalar!r}; expected one of {', '.join(SCALARS)}.")


def input_gradients(model, images, labels, scalar="true-class-logit", pool=None, batch=128):
    """[N, D] float32 input gradients of one model in eval mode (D = C*H*W, or C*P*P)."""
    model.eval()
    rows = []
    for s in range(0, len(images), batch):
        x = torch.as_tensor(images[s : s + batch], dtype=torch.float32).clone().requires_grad_(True)
        y = torch.as_tensor(labels[s : s + batch], dtype=torch.int64)
        scalar_of(model(x), y, scalar).backward()
        g = x.grad
        if pool is not None:
            g = F.interpolate(g, size=(pool, pool), mode="area")
        rows.append(g.reshape(len(x), -1).detach().numpy().astype(np.float32))
    return np.concatenate(rows)


def _write_atomic(path, write):
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def export_gradients(models, refs, images, labels, out, scalar="true-class-logit", pool=None,
                     probe=None, batch=128, note=None):
    """Writes the [M, N, D] gradients of `models` to `out` (.npy) and its sidecar (.json).

    models: modules mapping float32 [N, C, H, W] to logits; refs: one {"family", "k", "seed"}
    per model; images: [N, C, H, W] normalised inputs; labels: [N] class indices; probe: the
    sidecar's probe entry (default {"dataset": "external", "split": "test", "count": N})."""
    if not out.endswith(".npy"):
        raise ValueError(f"--out {out!r} must end in .npy (the sidecar goes beside it as .json).")
    if len(models) != len(refs) or not models:
        raise ValueError(f"{len(models)} models but {len(refs)} model entries; give one per model.")
    images = np.asarray(images, dtype=np.float32)
    labels = np.asarray(labels).astype(np.int64)
    if images.ndim != 4 or len(labels) != len(images):
        raise ValueError(
            f"images have shape {list(images.shape)} and labels {list(labels.shape)}; expected "
            "[N, C, H, W] and [N]."
        )
    n, c, h, w = images.shape
    if pool is not None and not 1 <= pool <= min(h, w):
        raise ValueError(f"--pool {pool} must be between 1 and min(H, W) = {min(h, w)}.")
    grads = np.stack([input_gradients(m, images, labels, scalar, pool, batch) for m in models])
    meta = {
        "format": "salience-gradients",
        "version": 1,
        "scalar": scalar,
        "pooling": pool,
        "input": {"channels": c, "height": h, "width": w},
        "models": [{"family": r["family"], "k": int(r["k"]), "seed": int(r["seed"])} for r in refs],
        "probe": probe or {"dataset": "external", "split": "test", "count": n},
        "note": note or "exported by lib/torch/export_gradients.py",
    }
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)

    def save_npy(tmp):
        with open(tmp, "wb") as f:
            np.save(f, np.ascontiguousarray(grads))

    def save_json(tmp):
        with open(tmp, "w") as f:
            json.dump(meta, f, indent=1)

    _write_atomic(out, save_npy)
    _write_atomic(out[:-4] + ".json", save_json)
    return grads.shape


def _checkpoint_specs(args):
    specs = []
    if args.checkpoints:
        for name in sorted(os.listdir(args.checkpoints)):
            m = NAME.match(name)
            if m:
                specs.append((m[1], int(m[2]), int(m[3]), os.path.join(args.checkpoints, name)))
        if not specs:
            raise SystemExit(
                f"{args.checkpoints} holds no file named <Family>_k<K>_s<SEED>.pt or .safetensors."
            )
    for entry in args.models:
        m = re.match(r"^(\w+):(\d+):(\d+)=(.+)$", entry)
        if not m:
            raise SystemExit(f"{entry!r} is not FAMILY:K:SEED=PATH (e.g. CNNSmall:4:0=ckpt.pt).")
        specs.append((m[1], int(m[2]), int(m[3]), m[4]))
    for family, *_ in specs:
        if family not in FAMILIES:
            raise SystemExit(f"Unknown family {family!r}; expected one of {', '.join(FAMILIES)}.")
    if not specs:
        raise SystemExit("No checkpoints given: pass --checkpoints DIR or FAMILY:K:SEED=PATH.")
    return specs


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("models", nargs="*", help="FAMILY:K:SEED=PATH checkpoints")
    p.add_argument("--checkpoints", help="folder of <Family>_k<K>_s<SEED>.pt|.safetensors files")
    p.add_argument("--images", required=True, help="float32 .npy [N, C, H, W], normalised")
    p.add_argument("--labels", required=True, help="integer .npy [N]")
    p.add_argument("--layout", choices=("nchw", "nhwc"), default="nchw")
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--scalar", choices=SCALARS, default="true-class-logit")
    p.add_argument("--pool", type=int, default=None, help="area-pool each channel to P x P")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--dataset", default="external", help="the sidecar's probe dataset name")
    p.add_argument("--split", default="test")
    p.add_argument("--out", required=True, help="output .npy; the sidecar goes beside it")
    args = p.parse_args(argv)
    images = np.load(args.images)
    if args.layout == "nhwc":
        images = images.transpose(0, 3, 1, 2)
    labels = np.load(args.labels)
    _, c, h, w = images.shape
    models, refs = [], []
    for family, k, seed, path in _checkpoint_specs(args):
        model = build(family, k, c, h, w, args.classes)
        try:
            model.load_state_dict(load_state_dict_file(path), strict=True)
        except RuntimeError as e:
            raise SystemExit(f"{path} does not fit {family}({k}) at {c}x{h}x{w}: {e}")
        models.append(model)
        refs.append({"family": family, "k": k, "seed": seed})
    probe = {"dataset": args.dataset, "split": args.split, "count": int(len(images))}
    shape = export_gradients(models, refs, images, labels, args.out, args.scalar, args.pool, probe,
                             args.batch)
    print(f"wrote {args.out} {list(shape)} and its sidecar")


if __name__ == "__main__":
    main()
