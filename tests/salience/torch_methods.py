"""Oracle for tests/salience/methods_test.ts: the four attribution methods in PyTorch (float64)
on the same MLP weights, inputs, SmoothGrad noise and Integrated Gradients baseline.

Usage: python3 torch_methods.py DIR   (reads DIR/case.json and DIR/*.npy, writes DIR/out-*.npy)
"""
import json
import sys

import numpy as np
import torch

d = sys.argv[1]
case = json.load(open(f"{d}/case.json"))
torch.set_default_dtype(torch.float64)
layers = []
for i in range(case["layers"]):
    w = torch.tensor(np.load(f"{d}/w{i}.npy"), dtype=torch.float64)  # tfjs kernel [in, out]
    b = torch.tensor(np.load(f"{d}/b{i}.npy"), dtype=torch.float64)
    lin = torch.nn.Linear(w.shape[0], w.shape[1])
    with torch.no_grad():
        lin.weight.copy_(w.T)
        lin.bias.copy_(b)
    layers.append(lin)
    if i < case["layers"] - 1:
        layers.append(torch.nn.ReLU())
net = torch.nn.Sequential(*layers)  # acts on the flattened H×W×C input, like tfjs's flatten
x = torch.tensor(np.load(f"{d}/x.npy"), dtype=torch.float64)  # [N, per]
y = torch.tensor(case["labels"])
noise = torch.tensor(np.load(f"{d}/noise.npy"), dtype=torch.float64)  # [N, n, per]
baseline = torch.tensor(np.load(f"{d}/baseline.npy"), dtype=torch.float64)  # [per]


def scalar(z, labels, kind):
    if kind == "true-class-logit":
        return z.gather(1, labels[:, None])[:, 0]
    logp = torch.log_softmax(z, 1).gather(1, labels[:, None])[:, 0]
    return torch.exp(logp) if kind == "true-class-probability" else -logp


def grad(points, labels, kind):
    p = points.clone().requires_grad_(True)
    scalar(net(p), labels, kind).sum().backward()
    return p.grad


for kind in case["scalars"]:
    g = grad(x, y, kind)
    n, per = x.shape
    s = case["smoothgrad"]
    rng = (x.max(1).values - x.min(1).values)[:, None, None]
    pts = x[:, None, :] + s["sigma"] * rng * noise
    sg = grad(pts.reshape(-1, per), y.repeat_interleave(s["samples"]), kind)
    sg = sg.reshape(n, s["samples"], per).mean(1)
    m = case["ig"]["steps"]
    alpha = (torch.arange(m, dtype=torch.float64) + 0.5) / m
    ipts = baseline + alpha[None, :, None] * (x[:, None, :] - baseline)
    ig = grad(ipts.reshape(-1, per), y.repeat_interleave(m), kind).reshape(n, m, per).mean(1)
    ig = (x - baseline) * ig
    out = {"gradient": g, "gradient-x-input": g * x, "smoothgrad": sg, "integrated-gradients": ig}
    for name, v in out.items():
        np.save(f"{d}/out-{kind}-{name}.npy", v.numpy().astype(np.float32))
