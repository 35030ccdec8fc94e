"""Speed of tinygrad_lite against PyTorch (CPU) and against hand-written numpy.

    python benchmarks/bench.py               # all benchmarks
    python benchmarks/bench.py --steps 50    # fewer timed steps (quicker, noisier)

mlp_step: one training step of a 784-256-10 MLP (ReLU), batch 128, float32, cross-entropy loss, plain SGD:
forward, loss, zero_grad, backward, update. All three start from the same weights and batch, and the
script first checks that they compute the same loss for a few steps, so we time the same computation.

Timing: implementations run in interleaved rounds (so a background hiccup hits all of them alike) and we
report the median time per step. numpy's BLAS and PyTorch each use all cores (their defaults).
"""
import argparse
import platform
import time

import numpy as np
import torch

import tinygrad_lite

BATCH, N_IN, N_HIDDEN, N_OUT, LR = 128, 784, 256, 10, 0.01


def make_data(seed=0):
    rs = np.random.default_rng(seed)
    x = rs.standard_normal((BATCH, N_IN)).astype(np.float32)
    y = rs.integers(0, N_OUT, BATCH)
    bound1, bound2 = 1 / np.sqrt(N_IN), 1 / np.sqrt(N_HIDDEN)  # nn.Linear's default init
    weights = {
        "0.weight": rs.uniform(-bound1, bound1, (N_HIDDEN, N_IN)).astype(np.float32),
        "0.bias": rs.uniform(-bound1, bound1, N_HIDDEN).astype(np.float32),
        "2.weight": rs.uniform(-bound2, bound2, (N_OUT, N_HIDDEN)).astype(np.float32),
        "2.bias": rs.uniform(-bound2, bound2, N_OUT).astype(np.float32),
    }
    return x, y, weights


def library_step(lib, x, y, weights):
    """The training step written once against the PyTorch API; `lib` is torch or tinygrad_lite."""
    nn = lib.nn
    model = nn.Sequential(nn.Linear(N_IN, N_HIDDEN), nn.ReLU(), nn.Linear(N_HIDDEN, N_OUT))
    model.load_state_dict({k: lib.tensor(v) for k, v in weights.items()})
    loss_fn = nn.CrossEntropyLoss()
    xs, ys = lib.tensor(x), lib.tensor(y)
    params = list(model.parameters())

    def step():
        loss = loss_fn(model(xs), ys)
        model.zero_grad()
        loss.backward()
        with lib.no_grad():
            for p in params:
                p -= LR * p.grad
        return loss.item()
    return step


def numpy_step(x, y, weights):
    """The same step with the backward pass written out by hand in numpy."""
    w1, b1, w2, b2 = (weights[k].copy() for k in ("0.weight", "0.bias", "2.weight", "2.bias"))
    rows = np.arange(BATCH)

    def step():
        nonlocal w1, b1, w2, b2
        h_pre = x @ w1.T + b1
        h = np.maximum(h_pre, 0)
        logits = h @ w2.T + b2
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = -log_probs[rows, y].mean()
        d_logits = np.exp(log_probs)              # softmax - onehot, over the batch size
        d_logits[rows, y] -= 1
        d_logits /= BATCH
        d_w2, d_b2 = d_logits.T @ h, d_logits.sum(axis=0)
        d_h_pre = (d_logits @ w2) * (h_pre > 0)
        d_w1, d_b1 = d_h_pre.T @ x, d_h_pre.sum(axis=0)
        w1 -= LR * d_w1
        b1 -= LR * d_b1
        w2 -= LR * d_w2
        b2 -= LR * d_b2
        return float(loss)
    return step


def check_same_losses(steps, n=5):
    losses = {name: [step() for _ in range(n)] for name, step in steps.items()}
    reference = losses["pytorch"]
    for name, values in losses.items():
        if not np.allclose(values, reference, rtol=1e-4):
            raise SystemExit(f"mlp_step: {name} computes different losses from PyTorch: {values} vs {reference}")


def time_steps(steps, n_steps, rounds=10, warmup=10):
    for step in steps.values():
        for _ in range(warmup):
            step()
    times = {name: [] for name in steps}
    per_round = max(1, n_steps // rounds)
    for _ in range(rounds):
        for name, step in steps.items():
            for _ in range(per_round):
                start = time.perf_counter()
                step()
                times[name].append(time.perf_counter() - start)
    return {name: float(np.median(t)) for name, t in times.items()}


def bench_mlp_step(n_steps):
    x, y, weights = make_data()
    make = {
        "tinygrad_lite": lambda: library_step(tinygrad_lite, x, y, weights),
        "pytorch": lambda: library_step(torch, x, y, weights),
        "numpy (by hand)": lambda: numpy_step(x, y, weights),
    }
    check_same_losses({name: f() for name, f in make.items()})
    return time_steps({name: f() for name, f in make.items()}, n_steps)


def report(title, medians, target=None):
    base = medians["pytorch"]
    print(f"\n{title}")
    print(f"  {'implementation':<18}{'ms/step':>10}{'x PyTorch':>12}")
    for name, t in medians.items():
        print(f"  {name:<18}{t * 1e3:>10.3f}{t / base:>12.2f}")
    if target is not None:
        ratio = medians["tinygrad_lite"] / base
        verdict = "OK" if ratio <= target else "SLOWER THAN TARGET"
        print(f"  target: tinygrad_lite <= {target}x PyTorch -> {ratio:.2f}x {verdict}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=300, help="timed steps per implementation (default 300)")
    args = parser.parse_args(argv)
    print(f"python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__} "
          f"({torch.get_num_threads()} threads), tinygrad_lite {tinygrad_lite.__version__}, {platform.machine()}")
    report(f"mlp_step: {N_IN}-{N_HIDDEN}-{N_OUT} MLP, batch {BATCH}, float32, cross-entropy, SGD",
           bench_mlp_step(args.steps), target=1.3)


if __name__ == "__main__":
    main()
