"""PyTorch oracle for tests/torch: writes seeded checkpoints and PyTorch's own results.

Run by the tests as: <python with torch> tests/torch/oracle.py <job.json> <out dir>
A job is {"task": "families", "cases": [...]}: for each case (family, k, seed, shape, classes,
count) it builds lib/torch/families.py's module, runs three train-mode forwards on shifted data
(so batch-norm running statistics are far from 0 and 1) with random BN affine parameters, saves
torch.save(model.state_dict()) as <name>.pt, and in eval mode, in float64, writes the inputs
x.npy [N, C, H, W], the logits.npy [N, classes] and grads.npy [N, C, H, W] (the input gradient
of each sample's true-class logit), with labels in manifest.json. A case may give its inputs
instead ("x": an NCHW .npy path, "labels").

Other tasks: "roundtrip" (logits of the toolkit's exported .safetensors), "sgd" (one SGD step
from the toolkit's weights), "pool" (F.interpolate(mode="area")), "archives" (reader fixtures).
The float64 values are PyTorch's, rounded to float32 only when written.
"""

import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "lib", "torch"))
from families import build, load_state_dict_file  # noqa: E402


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
    if "x" in case:  # given inputs (NCHW .npy) and labels, e.g. a sweep's probe set
        x = torch.from_numpy(np.load(case["x"])).double().requires_grad_(True)
        labels = torch.tensor(case["labels"])
    else:
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


def load(case):
    """lib/torch/families.py's module for a case, with the case's weights loaded strictly."""
    c, h, w = case["shape"]
    model = build(case["family"], case["k"], c, h, w, case["classes"])
    model.load_state_dict(load_state_dict_file(case["weights"]), strict=True)
    return model.double()


def roundtrip_case(case, out):
    """Logits, in eval mode, of a model the toolkit exported as .safetensors."""
    model = load(case).eval()
    x = torch.from_numpy(np.load(case["x"])).double()
    with torch.no_grad():
        logits = model(x)
    np.save(os.path.join(out, f"{case['name']}.logits.npy"), logits.numpy().astype(np.float32))
    return {}


def sgd_case(case, out):
    """One plain SGD step (lr, mean cross-entropy, train mode) from the toolkit's weights.

    Writes the weights after the step as <name>.after.pt, and <name>.biased.pt: each batch
    norm's running variance as it would be if updated with the biased batch variance (the
    toolkit's tfjs-layers convention; PyTorch uses the unbiased one)."""
    model = load(case).train()
    x = torch.from_numpy(np.load(case["x"])).double()
    y = torch.tensor(case["labels"])
    biased = {}

    def hook(name):
        def f(module, inputs):  # before the forward: running_var still holds its old value
            var = inputs[0].detach().var(dim=(0, 2, 3), unbiased=False)
            biased[name + ".running_var"] = (0.9 * module.running_var + 0.1 * var).float()

        return f

    for name, m in model.named_modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.register_forward_pre_hook(hook(name))
    torch.nn.functional.cross_entropy(model(x), y).backward()
    with torch.no_grad():
        for p in model.parameters():
            p -= case["lr"] * p.grad
    after = {k: v.float() for k, v in model.state_dict().items()}
    torch.save(after, os.path.join(out, f"{case['name']}.after.pt"))
    torch.save(biased or {"none": torch.zeros(1)}, os.path.join(out, f"{case['name']}.biased.pt"))
    return {}


def pool_task(job, out):
    """F.interpolate(mode="area") to size x size of seeded C x H x W arrays, in float64."""
    result = {}
    for side in job["sides"]:
        torch.manual_seed(side)
        x = torch.randn(job["channels"], side, side, dtype=torch.float64)
        y = torch.nn.functional.interpolate(x[None], size=(job["size"],) * 2, mode="area")[0]
        np.save(os.path.join(out, f"pool-{side}.x.npy"), x.numpy().astype(np.float32))
        result[str(side)] = y.reshape(-1).tolist()
    return result


def main():
    job = json.load(open(sys.argv[1]))
    out = sys.argv[2]
    result = {}
    if job["task"] == "families":
        for case in job["cases"]:
            result[case["name"]] = family_case(case, out)
    elif job["task"] in ("roundtrip", "sgd"):
        run = roundtrip_case if job["task"] == "roundtrip" else sgd_case
        for case in job["cases"]:
            result[case["name"]] = run(case, out)
    elif job["task"] == "pool":
        result = pool_task(job, out)
    elif job["task"] == "archives":
        result = archives_task(out)
    else:
        raise SystemExit(f"unknown task {job['task']!r}")
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
