"""PyTorch peer of `deno task bench train`: training and salience samples/s on this machine's CPU.

The same families (lib/torch/families.py, which mirror lib/models exactly), the same recipe as
the bench's one-model step (plain SGD, softmax cross-entropy on the logits, batch-norm in
training mode) and the same batch of synthetic 1-channel images with labels i mod 10; salience is
the input gradient of the true-class logit with the model in inference mode, as lib/salience.
Each figure is the median over `reps` timed repetitions (each at least `min_seconds` of whole
steps) after one untimed warm-up.

Usage: python3 train_peer.py '<json>' with keys cases ([[family, k], ...]), batch, size,
classes, reps, min_seconds, threads (default: every core this process may use). Prints one JSON object: {"torch", "threads", "rows": [{family, k,
train, salience}]} (samples per second).
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib", "torch"))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from families import build  # noqa: E402


def rate(step, samples, reps, min_seconds):
    """Samples/s of `step` (one batch of `samples`): median of reps, each ≥ min_seconds."""
    step()
    t0 = time.perf_counter()
    step()
    one = max(time.perf_counter() - t0, 1e-6)
    n = max(1, int(min_seconds / one + 0.5))
    rates = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(n):
            step()
        rates.append(n * samples / (time.perf_counter() - t0))
    rates.sort()
    return rates[len(rates) // 2]


def measure(family, k, batch, size, classes, reps, min_seconds):
    torch.manual_seed(k)
    model = build(family, k=k, channels=1, height=size, width=size, classes=classes)
    x = torch.rand(batch, 1, size, size) * 2 - 1
    y = torch.arange(batch) % classes
    opt = torch.optim.SGD(model.parameters(), lr=0.01)

    def train_step():
        model.train()
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    def salience_step():
        model.eval()
        xi = x.clone().requires_grad_(True)
        logits = model(xi)
        (g,) = torch.autograd.grad(logits.gather(1, y[:, None]).sum(), xi)
        return g

    return {
        "family": family,
        "k": k,
        "train": rate(train_step, batch, reps, min_seconds),
        "salience": rate(salience_step, batch, reps, min_seconds),
    }


def main():
    opts = json.loads(sys.argv[1])
    # Every core this process may use, as lavapipe's threads do (OpenMP here defaults to one).
    torch.set_num_threads(opts.get("threads") or len(os.sched_getaffinity(0)))
    rows = [
        measure(f, k, opts["batch"], opts["size"], opts.get("classes", 10), opts["reps"],
                opts.get("min_seconds", 0.2))
        for f, k in opts["cases"]
    ]
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "rows": rows}))


if __name__ == "__main__":
    main()
