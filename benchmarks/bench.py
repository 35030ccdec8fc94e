"""Speed of tinygrad_lite against PyTorch (CPU) and against hand-written numpy.

    python benchmarks/bench.py               # all benchmarks
    python benchmarks/bench.py --steps 50    # fewer timed steps (quicker, noisier)
    python benchmarks/bench.py --only adam_step

mlp_step: one training step of a 784-256-10 MLP (ReLU), batch 128, float32, cross-entropy loss, plain SGD:
forward, loss, zero_grad, backward, update. All three start from the same weights and batch, and the
script first checks that they compute the same loss for a few steps, so we time the same computation.

adam_step: one ``optimizer.step()`` of Adam (default hyperparameters) over one million float32 parameters in
four tensors (784,000, 200,000, 15,000 and 1,000 elements), gradients set once: tinygrad_lite.optim.Adam,
torch.optim.Adam (its default implementation) and Adam written by hand in numpy. The script first checks that
the three give the same parameters after a few steps.

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


ADAM_SIZES = (784_000, 200_000, 15_000, 1_000)  # 1,000,000 parameters in all


def make_adam_data(seed=0):
    rs = np.random.default_rng(seed)
    params = [rs.standard_normal(n).astype(np.float32) for n in ADAM_SIZES]
    grads = [rs.standard_normal(n).astype(np.float32) for n in ADAM_SIZES]
    return params, grads


def library_adam(lib, params, grads):
    """Parameters with their .grad set once; the step is `optimizer.step()`. `lib` is torch or tinygrad_lite."""
    ps = [lib.tensor(p.copy(), requires_grad=True) for p in params]
    for p, g in zip(ps, grads):
        p.grad = lib.tensor(g.copy())
    optimizer = lib.optim.Adam(ps)

    def step():
        optimizer.step()
    step.params = ps  # (for check_same_params)
    return step


def numpy_adam(params, grads, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """Adam written directly from the formulas in numpy."""
    ps = [p.copy() for p in params]
    ms, vs = [np.zeros_like(p) for p in ps], [np.zeros_like(p) for p in ps]
    t = 0

    def step():
        nonlocal t
        t += 1
        for p, g, m, v in zip(ps, grads, ms, vs):
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * (g * g)
            p -= (lr / (1 - beta1 ** t)) * m / (np.sqrt(v) / np.sqrt(1 - beta2 ** t) + eps)
    step.params = ps
    return step


def check_same_params(steps, n=3):
    finals = {}
    for name, step in steps.items():
        for _ in range(n):
            step()
        finals[name] = np.concatenate([np.asarray(p.detach() if hasattr(p, "detach") else p) for p in step.params])
    for name, values in finals.items():
        if not np.allclose(values, finals["pytorch"], rtol=1e-5, atol=1e-6):
            raise SystemExit(f"adam_step: {name} gives different parameters from PyTorch after {n} steps")


def bench_adam_step(n_steps):
    params, grads = make_adam_data()
    make = {
        "tinygrad_lite": lambda: library_adam(tinygrad_lite, params, grads),
        "pytorch": lambda: library_adam(torch, params, grads),
        "numpy (by hand)": lambda: numpy_adam(params, grads),
    }
    check_same_params({name: f() for name, f in make.items()})
    return time_steps({name: f() for name, f in make.items()}, n_steps)


SECTIONS = {  # name: (benchmark, target ratio to PyTorch, title)
    "mlp_step": (bench_mlp_step, 1.3,
                 f"mlp_step: {N_IN}-{N_HIDDEN}-{N_OUT} MLP, batch {BATCH}, float32, cross-entropy, SGD"),
    "adam_step": (bench_adam_step, 1.5, f"adam_step: one Adam step over {sum(ADAM_SIZES):,} float32 parameters"),
}


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
    parser.add_argument("--only", choices=list(SECTIONS), action="append",
                        help="run only this benchmark (may be repeated; default: all)")
    args = parser.parse_args(argv)
    print(f"python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__} "
          f"({torch.get_num_threads()} threads), tinygrad_lite {tinygrad_lite.__version__}, {platform.machine()}")
    for name in args.only or list(SECTIONS):
        bench, target, title = SECTIONS[name]
        report(title, bench(args.steps), target=target)


if __name__ == "__main__":
    main()
