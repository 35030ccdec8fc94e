"""Speed of tinygrad_lite against PyTorch (CPU, eager) and against hand-written numpy, on the course's workloads.

    python benchmarks/bench.py                     # every benchmark, with 1 BLAS thread and with the default
    python benchmarks/bench.py --threads 1         # only single-threaded (or only --threads default)
    python benchmarks/bench.py --only mlp_sgd --only tiny_sgd --steps 50   # some of them, fewer timed steps

The benchmarks (``BENCHMARKS`` below; each checks first that the three implementations compute the same numbers,
so that we time the same computation):

    mlp_sgd     one training step of a 784-256-10 MLP (ReLU), batch 128, float32, cross-entropy, optimizer SGD:
                forward, loss, zero_grad, backward, step; matrix-bound
    mlp_adam    the same step with Adam
    tiny_sgd    one step of a 2-8-1 MLP (tanh), batch 32, MSE, SGD: overhead-bound (the small models the lessons
                train by the hundred)
    adam_1m     one ``optimizer.step()`` of Adam over one million float32 parameters in four tensors
    capstone    the kind of step lesson 09's pipeline trains with: Linear-BatchNorm-ReLU-Dropout twice, then a Linear
                (64-128-128-10), batch 64, cross-entropy with label smoothing 0.1, ``clip_grad_norm_``, AdamW with
                two weight-decay groups (matrices decayed; biases and batch norm's weights not); overhead-bound.
                Its numpy-by-hand column is "n/a": batch norm's and label smoothing's backward, dropout, clipping
                and AdamW's groups written out by hand would be a program of its own, out of proportion with what
                it would tell (the mlp_* rows already measure our overhead against numpy). Dropout draws other
                masks in each library, so the check that both compute the same numbers runs a twin of the model
                with dropout off (same weights, same data); the timed step has it on.
    mlp3_fwd_bwd  forward and backward of a 784-256-256-10 MLP (ReLU), batch 1024, cross-entropy (no update)
    op_add, op_matmul, op_relu   one small op (16x16 float32 tensors) forward and backward: the per-op overhead

The libraries run the same code written once against PyTorch's API (``lib`` is torch or tinygrad_lite); numpy runs
the step written out by hand, backward pass included (for Adam: from the formulas, as a learner would write them).

Timing: the implementations run in interleaved rounds (a background hiccup hits all of them alike) and we report
the median time per step. Threads: each thread setting runs in a subprocess of its own, with OMP_NUM_THREADS,
OPENBLAS_NUM_THREADS and MKL_NUM_THREADS set to 1 (and torch.set_num_threads(1)), or left unset (the default: numpy's
BLAS and PyTorch use every core). numpy's elementwise functions always use one thread.

Memory: the peak memory of one mlp_sgd step, as the growth of the process's peak resident memory (VmHWM) during
one step, starting from a trimmed heap (malloc_trim) and a reset peak; the same measure for the three (Linux only).

Results: a table per thread setting, the ratios tinygrad_lite/PyTorch and tinygrad_lite/numpy, a summary table in
Markdown (for benchmarks/README.md), and ``bench.png`` and ``bench.json`` in ``--out`` (default benchmarks/results).
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
NAMES = ("tinygrad_lite", "pytorch", "numpy (by hand)")


# ==================================================================== the workloads
def mlp_weights(sizes, seed=0):
    """Weights of an MLP with layer sizes ``sizes``, keyed as nn.Sequential(Linear, act, Linear, ...) names them,
    drawn like nn.Linear's default initialisation (U(-1/sqrt(in), 1/sqrt(in)))."""
    rs = np.random.default_rng(seed)
    weights = {}
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        bound = 1 / np.sqrt(n_in)
        weights[f"{2 * i}.weight"] = rs.uniform(-bound, bound, (n_out, n_in)).astype(np.float32)
        weights[f"{2 * i}.bias"] = rs.uniform(-bound, bound, n_out).astype(np.float32)
    return weights


def mlp_data(sizes, batch, loss, seed=1):
    rs = np.random.default_rng(seed)
    x = rs.standard_normal((batch, sizes[0])).astype(np.float32)
    if loss == "cross_entropy":
        y = rs.integers(0, sizes[-1], batch)
    else:
        y = rs.standard_normal((batch, sizes[-1])).astype(np.float32)
    return x, y


def library_mlp(lib, sizes, batch, act, loss, optimizer, lr):
    """One training step (or forward+backward, with optimizer None) written once against the PyTorch API."""
    nn = lib.nn
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(n_in, n_out), nn.ReLU() if act == "relu" else nn.Tanh()]
    model = nn.Sequential(*layers[:-1])
    model.load_state_dict({k: lib.tensor(v) for k, v in mlp_weights(sizes).items()})
    x, y = mlp_data(sizes, batch, loss)
    xs, ys = lib.tensor(x), lib.tensor(y)
    loss_fn = nn.CrossEntropyLoss() if loss == "cross_entropy" else nn.MSELoss()
    params = list(model.parameters())
    opt = None if optimizer is None else {"sgd": lib.optim.SGD, "adam": lib.optim.Adam}[optimizer](params, lr=lr)

    def step():
        out = loss_fn(model(xs), ys)
        if opt is None:
            model.zero_grad()
            out.backward()
        else:
            opt.zero_grad()
            out.backward()
            opt.step()
        return out.item()
    step.result = lambda: params[0].grad.numpy() if opt is None else params[0].detach().numpy()
    return step


CAPSTONE_SIZES = (64, 128, 128, 10)


def library_capstone(lib, dropout=0.1, batch=64, seed=0, sizes=CAPSTONE_SIZES, device="cpu", amp=False):
    """One training step of the capstone's kind of model, written once against the PyTorch API. ``device`` and
    ``amp`` (float16 autocast and a GradScaler) for the GPU benchmark, benchmarks/capstone_gpu.py."""
    nn, F = lib.nn, lib.nn.functional
    (n_in, h1, h2, n_out) = sizes
    model = nn.Sequential(nn.Linear(n_in, h1), nn.BatchNorm1d(h1), nn.ReLU(), nn.Dropout(dropout),
                          nn.Linear(h1, h2), nn.BatchNorm1d(h2), nn.ReLU(), nn.Dropout(dropout),
                          nn.Linear(h2, n_out))
    rs = np.random.default_rng(seed)
    weights = {name: rs.uniform(-0.1, 0.1, tuple(p.shape)).astype(np.float32) + (name.endswith("1.weight")
                                                                                 or name.endswith("5.weight"))
               for name, p in model.named_parameters()}  # (batch norm's weights near 1, the rest near 0)
    model.load_state_dict({**model.state_dict(), **{k: lib.tensor(v) for k, v in weights.items()}})
    model.to(device)
    x = lib.tensor(rs.standard_normal((batch, n_in)).astype(np.float32)).to(device)
    y = lib.tensor(rs.integers(0, n_out, batch)).to(device)
    decay = [p for p in model.parameters() if p.ndim == 2]
    no_decay = [p for p in model.parameters() if p.ndim != 2]
    optimizer = lib.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}],
                                lr=1e-3)
    model.train()
    if amp:
        device_type = lib.device(device).type
        scaler = lib.amp.GradScaler(device_type)

        def step():
            optimizer.zero_grad()
            with lib.autocast(device_type, dtype=lib.float16):
                loss = F.cross_entropy(model(x), y, label_smoothing=0.1)
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            scaler.step(optimizer)
            scaler.update()
            return loss.item()
    else:
        def step():
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y, label_smoothing=0.1)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            return loss.item()
    step.result = lambda: decay[0].detach().cpu().numpy()
    step.parts = (model, x, y, optimizer)  # (benchmarks/capstone_parts.py times them one by one)
    return step


def capstone(libs):
    """tinygrad_lite and PyTorch only (numpy by hand: "n/a", see the module's docstring); ``.check``: the twin
    without dropout on which the two must compute the same numbers."""
    steps = {"tinygrad_lite": library_capstone(libs["tinygrad_lite"]), "pytorch": library_capstone(libs["torch"])}
    for impl, lib in (("tinygrad_lite", libs["tinygrad_lite"]), ("pytorch", libs["torch"])):
        steps[impl].check = library_capstone(lib, dropout=0.0)
    return steps


def numpy_adam_update(p, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    """One Adam update of the array ``p`` in place, from the formulas (``m``, ``v``: its running averages; ``t``: the
    step count, from 1), as a learner writes it in numpy: with temporary arrays."""
    m *= beta1
    m += (1 - beta1) * g
    v *= beta2
    v += (1 - beta2) * (g * g)
    p -= (lr / (1 - beta1 ** t)) * m / (np.sqrt(v) / np.sqrt(1 - beta2 ** t) + eps)


def numpy_mlp(sizes, batch, act, loss, optimizer, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    """The same step written out by hand: forward, loss, the backward pass layer by layer, the update."""
    params = [p.copy() for p in mlp_weights(sizes).values()]  # W0, b0, W1, b1, ...
    x, y = mlp_data(sizes, batch, loss)
    rows = np.arange(batch)
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    t = 0
    grads = []

    def step():
        nonlocal t, grads
        hs, h = [x], x                                     # forward, keeping each layer's input
        for i in range(0, len(params), 2):
            h = h @ params[i].T + params[i + 1]
            if i + 2 < len(params):
                h = np.maximum(h, 0) if act == "relu" else np.tanh(h)
                hs.append(h)
        if loss == "cross_entropy":                        # loss and d(loss)/d(output)
            shifted = h - h.max(axis=1, keepdims=True)
            log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
            value = -log_probs[rows, y].mean()
            d = np.exp(log_probs)                          # (softmax - onehot) / batch
            d[rows, y] -= 1
            d /= batch
        else:
            diff = h - y
            value = (diff * diff).mean()
            d = diff * (2 / diff.size)
        grads = [None] * len(params)                       # backward, last layer first
        for i in range(len(params) - 2, -1, -2):
            h_in = hs[i // 2]
            grads[i], grads[i + 1] = d.T @ h_in, d.sum(axis=0)
            if i > 0:
                d = d @ params[i]
                d = d * (h_in > 0) if act == "relu" else d * (1 - h_in * h_in)
        if optimizer == "sgd":
            for p, g in zip(params, grads):
                p -= lr * g
        elif optimizer == "adam":
            t += 1
            for p, g, m_, v_ in zip(params, grads, m, v):
                numpy_adam_update(p, g, m_, v_, t, lr, beta1, beta2, eps)
        return float(value)
    step.result = lambda: grads[0] if optimizer is None else params[0]
    return step


def mlp_benchmark(sizes, batch, act, loss, optimizer, lr):
    def make(libs):
        kwargs = dict(sizes=sizes, batch=batch, act=act, loss=loss, optimizer=optimizer, lr=lr)
        return {"tinygrad_lite": library_mlp(libs["tinygrad_lite"], **kwargs),
                "pytorch": library_mlp(libs["torch"], **kwargs),
                "numpy (by hand)": numpy_mlp(**kwargs)}
    return make


ADAM_SIZES = (784_000, 200_000, 15_000, 1_000)  # 1,000,000 parameters in all


def adam_1m(libs):
    rs = np.random.default_rng(0)
    params = [rs.standard_normal(n).astype(np.float32) for n in ADAM_SIZES]
    grads = [rs.standard_normal(n).astype(np.float32) for n in ADAM_SIZES]

    def library(lib):
        """Parameters with their .grad set once; the step is ``optimizer.step()``."""
        ps = [lib.tensor(p.copy(), requires_grad=True) for p in params]
        for p, g in zip(ps, grads):
            p.grad = lib.tensor(g.copy())
        optimizer = lib.optim.Adam(ps)
        step = optimizer.step
        return _with_result(step, lambda: np.concatenate([p.detach().numpy() for p in ps]))

    def numpy_adam(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        """Adam written from the formulas in numpy."""
        ps = [p.copy() for p in params]
        ms, vs = [np.zeros_like(p) for p in ps], [np.zeros_like(p) for p in ps]
        t = 0

        def step():
            nonlocal t
            t += 1
            for p, g, m, v in zip(ps, grads, ms, vs):
                numpy_adam_update(p, g, m, v, t, lr, beta1, beta2, eps)
        return _with_result(step, lambda: np.concatenate(ps))

    return {"tinygrad_lite": library(libs["tinygrad_lite"]), "pytorch": library(libs["torch"]),
            "numpy (by hand)": numpy_adam()}


def _with_result(step, result):
    def run():
        step()
        return 0.0
    run.result = result
    return run


def op_benchmark(op, n=16):
    """One small op, forward and backward: ``z = op(a, b)``, ``z.backward(g)``, with fresh gradients each time."""
    def make(libs):
        rs = np.random.default_rng(0)
        a, b, g = (rs.standard_normal((n, n)).astype(np.float32) for _ in range(3))

        def library(lib):
            ta, tb = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
            tg = lib.tensor(g)
            forward = {"add": lambda: ta + tb, "matmul": lambda: ta @ tb, "relu": lambda: ta.relu()}[op]

            def step():
                ta.grad = tb.grad = None
                forward().backward(tg)
                return 0.0
            step.result = lambda: ta.grad.numpy()
            return step

        def by_hand():
            result = {}

            def step():
                if op == "add":
                    z = a + b
                    result["ga"], result["gb"] = g, g
                elif op == "matmul":
                    z = a @ b
                    result["ga"], result["gb"] = g @ b.T, a.T @ g
                else:
                    z = np.maximum(a, 0)
                    result["ga"] = g * (z > 0)
                return 0.0
            step.result = lambda: result["ga"]
            return step
        return {"tinygrad_lite": library(libs["tinygrad_lite"]), "pytorch": library(libs["torch"]),
                "numpy (by hand)": by_hand()}
    return make


BENCHMARKS = {  # name: (make the three step functions, default timed steps, target ratios (issue 35's), title)
    "mlp_sgd": (mlp_benchmark((784, 256, 10), 128, "relu", "cross_entropy", "sgd", 0.01), 300,
                {"pytorch": 0.85, "numpy (by hand)": 1.05}, "784-256-10 MLP step, batch 128, cross-entropy, SGD"),
    "mlp_adam": (mlp_benchmark((784, 256, 10), 128, "relu", "cross_entropy", "adam", 1e-3), 300, {},
                 "784-256-10 MLP step, batch 128, cross-entropy, Adam"),
    "tiny_sgd": (mlp_benchmark((2, 8, 1), 32, "tanh", "mse", "sgd", 0.01), 3000, {"pytorch": 0.6},
                 "2-8-1 MLP step (tanh), batch 32, MSE, SGD"),
    "adam_1m": (adam_1m, 200, {"pytorch": 0.5}, "Adam step over 1,000,000 float32 parameters"),
    "capstone": (capstone, 300, {"pytorch": 0.8}, "(Linear-BatchNorm-ReLU-Dropout) x2 + Linear, batch 64, AdamW, "
                 "clip_grad_norm_, label smoothing"),
    "mlp3_fwd_bwd": (mlp_benchmark((784, 256, 256, 10), 1024, "relu", "cross_entropy", None, 0.0), 100, {},
                     "784-256-256-10 MLP forward+backward, batch 1024"),
    "op_add": (op_benchmark("add"), 3000, {}, "add 16x16, forward+backward"),
    "op_matmul": (op_benchmark("matmul"), 3000, {}, "matmul 16x16, forward+backward"),
    "op_relu": (op_benchmark("relu"), 3000, {}, "relu 16x16, forward+backward"),
}


# ==================================================================== timing, checking, memory
def check_same_numbers(name, steps, n=3):
    """Run each implementation a few steps; they must give the same losses and the same final numbers (on its
    ``.check`` twin where it has one: a step with randomness, such as dropout, that the libraries draw differently)."""
    steps = {impl: getattr(step, "check", step) for impl, step in steps.items()}
    losses = {impl: [step() for _ in range(n)] for impl, step in steps.items()}
    results = {impl: np.asarray(step.result(), dtype=np.float64) for impl, step in steps.items()}
    for impl in steps:
        if not np.allclose(losses[impl], losses["pytorch"], rtol=1e-4, atol=1e-6):
            raise SystemExit(f"{name}: {impl} computes other losses than PyTorch: {losses[impl]} vs "
                             f"{losses['pytorch']}")
        if not np.allclose(results[impl], results["pytorch"], rtol=1e-3, atol=1e-5):
            raise SystemExit(f"{name}: {impl} computes other numbers than PyTorch (largest difference "
                             f"{np.abs(results[impl] - results['pytorch']).max():.3g})")


def time_steps(steps, n_steps, rounds=10, warmup=10):
    """Median seconds per step of each implementation, timed in ``rounds`` interleaved rounds (after ``warmup``
    untimed steps each)."""
    rounds, warmup = min(rounds, n_steps), min(warmup, n_steps)
    for step in steps.values():
        for _ in range(warmup):
            step()
    times = {impl: [] for impl in steps}
    per_round = max(1, n_steps // rounds)
    for _ in range(rounds):
        for impl, step in steps.items():
            for _ in range(per_round):
                start = time.perf_counter()
                step()
                times[impl].append(time.perf_counter() - start)
    return {impl: float(np.median(t)) for impl, t in times.items()}


def _memory_status():
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024


def peak_step_memory(steps, repeats=5):
    """Bytes the peak resident memory grows by during one step (median of ``repeats``), or None off Linux."""
    import ctypes
    import gc
    try:
        libc = ctypes.CDLL("libc.so.6")
        _memory_status()
    except (OSError, KeyError):
        return None
    peaks = {}
    for impl, step in steps.items():
        step()
        measured = []
        for _ in range(repeats):
            gc.collect()
            libc.malloc_trim(0)  # give freed memory back, so that the step's allocations show up as growth
            Path("/proc/self/clear_refs").write_text("5")  # reset the peak (VmHWM) to the current size
            before, _ = _memory_status()
            step()
            measured.append(_memory_status()[1] - before)
        peaks[impl] = int(np.median(measured))
    return peaks


# ==================================================================== running (one worker per thread setting)
def worker(args):
    import torch

    import tinygrad_lite
    if args.threads == "1":
        torch.set_num_threads(1)  # (OMP_NUM_THREADS=1 does it too; this makes sure)
    libs = {"torch": torch, "tinygrad_lite": tinygrad_lite}
    results = {"threads": args.threads, "torch_threads": torch.get_num_threads(), "machine": machine(),
               "benchmarks": {}}
    for name in args.only or list(BENCHMARKS):
        make, default_steps, targets, title = BENCHMARKS[name]
        steps = make(libs)
        check_same_numbers(name, steps)
        medians = time_steps(steps, args.steps or default_steps)
        results["benchmarks"][name] = {"title": title, "targets": targets, "seconds": medians}
        if name == "mlp_sgd" and args.memory:
            results["benchmarks"][name]["peak_bytes"] = peak_step_memory(steps)
        print(f"  {name} done", file=sys.stderr, flush=True)
    Path(args.worker).write_text(json.dumps(results))


def run_worker(threads, args):
    env = dict(os.environ)
    for variable in THREAD_VARIABLES:
        env.pop(variable, None)
        if threads == "1":
            env[variable] = "1"
    path = Path(tempfile.mkdtemp()) / "results.json"
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", str(path), "--threads", threads]
    for name in args.only or []:
        command += ["--only", name]
    if args.steps:
        command += ["--steps", str(args.steps)]
    if not args.memory:
        command.append("--no-memory")
    print(f"running with {'1 thread' if threads == '1' else 'the default threads'} ...", file=sys.stderr, flush=True)
    subprocess.run(command, env=env, check=True)
    results = json.loads(path.read_text())
    path.unlink()
    path.parent.rmdir()
    return results


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = f"{blas['name']} {blas['version']}"
    except Exception:  # noqa: BLE001  (older numpy: no dict mode; the BLAS is only informative)
        blas = "unknown BLAS"
    import torch

    import tinygrad_lite
    return (f"{cpu}, {os.cpu_count()} cores; python {platform.python_version()}, numpy {np.__version__} ({blas}), "
            f"torch {torch.__version__}, tinygrad_lite {tinygrad_lite.__version__}")


def report(results):
    threads = "1 thread" if results["threads"] == "1" else f"default threads (torch: {results['torch_threads']})"
    print(f"\n=== {threads}")
    for name, r in results["benchmarks"].items():
        s = r["seconds"]
        unit, scale = ("us", 1e6) if s["pytorch"] < 1e-3 else ("ms", 1e3)
        print(f"\n{name}: {r['title']}")
        print(f"  {'implementation':<18}{unit + '/step':>10}{'x PyTorch':>12}")
        for impl in NAMES:
            if impl in s:
                print(f"  {impl:<18}{s[impl] * scale:>10.3f}{s[impl] / s['pytorch']:>12.2f}")
            else:
                print(f"  {impl:<18}{'n/a':>10}")
        print(f"  tinygrad_lite / numpy: {_ratio(s, 'numpy (by hand)')}")
        for against, target in r["targets"].items():
            ratio = s["tinygrad_lite"] / s[against]
            verdict = "OK" if ratio <= target else "SLOWER THAN TARGET"
            print(f"  target: tinygrad_lite <= {target}x {against} -> {ratio:.2f}x {verdict}")
        if r.get("peak_bytes"):
            peaks = ", ".join(f"{impl} {b / 2**20:.2f} MiB" for impl, b in r["peak_bytes"].items())
            print(f"  peak memory of one step: {peaks}")


def _ratio(seconds, against):
    """tinygrad_lite's time over ``against``'s, as text ("n/a" where that implementation was not written)."""
    return f"{seconds['tinygrad_lite'] / seconds[against]:.2f}" if against in seconds else "n/a"


def markdown(all_results):
    """The summary table of benchmarks/README.md: ratios per benchmark, one column pair per thread setting."""
    settings = [r for r in all_results]
    head = "| benchmark | tinygrad_lite | " + " | ".join(
        f"x PyTorch ({'1 thread' if r['threads'] == '1' else 'default'}) | x numpy "
        f"({'1 thread' if r['threads'] == '1' else 'default'})" for r in settings) + " | target |"
    lines = [head, "|" + "---|" * (3 + 2 * len(settings))]
    for name in settings[0]["benchmarks"]:
        first = settings[0]["benchmarks"][name]
        seconds = first["seconds"]["tinygrad_lite"]
        time_text = f"{seconds * 1e6:.0f} us" if seconds < 1e-3 else f"{seconds * 1e3:.2f} ms"
        cells = []
        for r in settings:
            s = r["benchmarks"][name]["seconds"]
            cells += [_ratio(s, "pytorch"), _ratio(s, "numpy (by hand)")]
        target = ", ".join(f"<= {t} x {'numpy' if a.startswith('numpy') else 'PyTorch'}"
                           for a, t in first["targets"].items()) or "-"
        lines.append(f"| `{name}` | {time_text} | " + " | ".join(cells) + f" | {target} |")
    return "\n".join(lines)


def plot(all_results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(all_results), figsize=(6 * len(all_results), 5), sharey=True, squeeze=False)
    for ax, results in zip(axes[0], all_results):
        names = list(results["benchmarks"])
        rows = np.arange(len(names))
        for k, (against, color) in enumerate((("pytorch", "tab:orange"), ("numpy (by hand)", "tab:green"))):
            ratios = [results["benchmarks"][n]["seconds"]["tinygrad_lite"] / results["benchmarks"][n]["seconds"]
                      .get(against, np.nan) for n in names]  # (nan: no bar where the column is "n/a")
            ax.barh(rows + (k - 0.5) * 0.4, ratios, height=0.4, color=color,
                    label=f"tinygrad_lite / {'PyTorch' if against == 'pytorch' else 'numpy by hand'}")
            for r, n in zip(rows, names):
                target = results["benchmarks"][n]["targets"].get(against)
                if target:
                    ax.plot([target, target], [r + (k - 1) * 0.4, r + k * 0.4], color="black", lw=2)
        ax.axvline(1.0, color="gray", ls="--", lw=1)
        ax.set_xscale("log")
        ax.set_yticks(rows, names)
        ax.set_xlabel("time ratio (below 1: tinygrad_lite is faster; black ticks: targets)")
        ax.set_title("1 thread" if results["threads"] == "1" else f"default threads ({results['torch_threads']})")
    axes[0][0].invert_yaxis()  # (once: the axes share it) the first benchmark on top
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=2)
    fig.suptitle("tinygrad_lite's median step time relative to PyTorch (CPU) and to hand-written numpy")
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", choices=["1", "default", "both"], default="both",
                        help="BLAS/PyTorch threads: 1, the default, or both (default)")
    parser.add_argument("--steps", type=int, help="timed steps per implementation (default: each benchmark's own)")
    parser.add_argument("--only", choices=list(BENCHMARKS), action="append",
                        help="run only this benchmark (may be repeated; default: all)")
    parser.add_argument("--out", type=Path, default=HERE / "results", help="folder for bench.png and bench.json")
    parser.add_argument("--no-memory", dest="memory", action="store_false", help="skip the peak-memory measure")
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # (internal: run in this process, write JSON here)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)
    args.out.mkdir(parents=True, exist_ok=True)
    settings = ["1", "default"] if args.threads == "both" else [args.threads]
    all_results = [run_worker(threads, args) for threads in settings]
    print(all_results[0]["machine"])
    for results in all_results:
        report(results)
    print("\n" + markdown(all_results))
    (args.out / "bench.json").write_text(json.dumps({"machine": all_results[0]["machine"], "results": all_results},
                                                    indent=1))
    plot(all_results, args.out / "bench.png")
    print(f"\nsaved {args.out / 'bench.png'} and {args.out / 'bench.json'}")


if __name__ == "__main__":
    main()
