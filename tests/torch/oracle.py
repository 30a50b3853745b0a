"""PyTorch oracle for tests/torch: writes seeded checkpoints and PyTorch's own results.

Run by the tests as: <python with torch> tests/torch/oracle.py <job.json> <out dir>
A job is {"task": "families", "cases": [...]}: for each case (family, k, seed, shape, classes,
count) it builds lib/torch/families.py's module, runs three train-mode forwards on shifted data
(so batch-norm running statistics are far from 0 and 1) with random BN affine parameters, saves
torch.save(model.state_dict()) as <name>.pt, and in eval mode, in float64, writes the inputs
x.npy [N, C, H, W], the logits.npy [N, classes] and grads.npy [N, C, H, W] (the input gradient
of each sample's true-class logit), with labels in manifest.json.
"""

import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "lib", "torch"))
from families import build  # noqa: E402


def family_case(case, out):
    torch.manual_seed(case["seed"])
    c, h, w = case["shape"]
    model = build(case["family"], case["k"], c, h, w, case["classes"])
    for m in model.modules():
        if isinstance(m, (torch.nn.BatchNorm2d, torch.nn.LayerNorm)):
            torch.nn.init.uniform_(m.weight, 0.5, 1.5)
            torch.nn.init.normal_(m.bias, 0.0, 0.3)
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.randn(6, c, h, w) * 2.0 + 0.5)
    name = case["name"]
    torch.save(model.state_dict(), os.path.join(out, f"{name}.pt"))
    model.eval().double()
    x = torch.randn(case["count"], c, h, w, dtype=torch.float64, requires_grad=True)
    labels = torch.randint(0, case["classes"], (case["count"],))
    logits = model(x)
    logits.gather(1, labels[:, None]).sum().backward()
    np.save(os.path.join(out, f"{name}.x.npy"), x.detach().numpy().astype(np.float32))
    np.save(os.path.join(out, f"{name}.logits.npy"), logits.detach().numpy().astype(np.float32))
    np.save(os.path.join(out, f"{name}.grads.npy"), x.grad.numpy().astype(np.float32))
    return {"labels": labels.tolist()}


def archives_task(out):
    """Archives that exercise the reader: a wrapped training checkpoint with float16, float64,
    bfloat16, int64, a parameter and a transposed (non-contiguous) view; an int32 tensor; and a
    pickle that would run a command if it were executed."""
    import pickle
    import zipfile

    torch.manual_seed(0)
    base = torch.randn(3, 4)
    sd = {
        "half": base.half(),
        "double": base.double(),
        "bfloat": base.bfloat16(),
        "count": torch.tensor(7, dtype=torch.int64),
        "param": torch.nn.Parameter(base.clone()),
        "transposed": base.t(),
        "offset": base.reshape(-1)[5:9],
    }
    torch.save({"state_dict": sd, "epoch": 3, "lr": 0.1, "big": 2**40}, os.path.join(out, "wrapped.pt"))
    expected = {k: v.detach().float().reshape(-1).tolist() for k, v in sd.items() if k != "count"}
    torch.save({"w": torch.ones(2, dtype=torch.int32)}, os.path.join(out, "int32.pt"))
    marker = os.path.join(out, "executed")

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    with zipfile.ZipFile(os.path.join(out, "evil.pt"), "w") as z:
        z.writestr("evil/data.pkl", pickle.dumps({"w": Evil()}, protocol=2))
        z.writestr("evil/version", "3\n")
    return {"expected": expected, "marker": marker}


def main():
    job = json.load(open(sys.argv[1]))
    out = sys.argv[2]
    result = {}
    if job["task"] == "families":
        for case in job["cases"]:
            result[case["name"]] = family_case(case, out)
    elif job["task"] == "archives":
        result = archives_task(out)
    else:
        raise SystemExit(f"unknown task {job['task']!r}")
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
