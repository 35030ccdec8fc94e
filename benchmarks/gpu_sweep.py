"""The size sweep of lesson 08, measured on a GPU, stored for learners who have none.

    python benchmarks/gpu_sweep.py                 # on a machine with an NVIDIA GPU, CuPy and PyTorch CUDA
    python benchmarks/gpu_sweep.py --device cpu --quick --out /tmp/sweep.json   # try it on a CPU

For each size it times, on the device, (1) a float32 matrix multiply n x n @ n x n and (2) one training step of
an MLP (in -> width -> width -> 10, ReLU, cross-entropy, SGD; batch 256): in tinygrad_lite (on CuPy) and in
PyTorch; and (3) a large matrix multiply in float32 and under float16 autocast, in both. Timing as lesson 08
teaches: warmup calls, ``synchronize`` before each clock reading, the median of the repeats. With ``--device
cuda`` the results go to ``benchmarks/gpu_results.json`` (machine, GPU, date, versions, seconds per call; a
"capstone_step" already there, from benchmarks/capstone_gpu.py, is kept), which lesson 08 shows as a stored GPU
measurement, labelled with the machine it came from (``--machine``: say what it is, e.g. "a lent cloud machine").
"""
import argparse
import datetime
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch

import tinygrad_lite as tl

RESULTS = Path(__file__).with_name("gpu_results.json")
MATMUL_SIZES = [16, 32, 64, 128, 256, 512, 1024, 2048, 4096]
MLP_WIDTHS = [16, 64, 256, 1024, 2048, 4096]
FLOAT16_SIZES = [4096, 8192]
BATCH, N_IN, N_OUT = 256, 64, 10


def median_time(fn, sync, repeats=20, warmup=3):
    """Seconds per call of ``fn``: warmup, then the median of ``repeats`` synchronized timings."""
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def syncs(device):
    if device == "cuda":
        return tl.cuda.synchronize, torch.cuda.synchronize
    return (lambda: None), (lambda: None)


def matmul_times(device, n):
    tl_sync, torch_sync = syncs(device)
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, n, n)).astype(np.float32)
    ta, tb = tl.tensor(a).to(device), tl.tensor(b).to(device)
    pa, pb = torch.from_numpy(a).to(device), torch.from_numpy(b).to(device)
    repeats = 20 if n <= 1024 else 5
    return (median_time(lambda: ta @ tb, tl_sync, repeats), median_time(lambda: pa @ pb, torch_sync, repeats))


def float16_times(device, n):
    """Seconds per n x n matmul: tinygrad_lite and PyTorch, each in float32 and under autocast(float16)."""
    tl_sync, torch_sync = syncs(device)
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    ta, pa = tl.tensor(a).to(device), torch.from_numpy(a).to(device)
    repeats = 5 if n > 1024 else 20

    def under_autocast(lib, x):
        with lib.autocast(device, dtype=lib.float16):
            return x @ x
    return {"tinygrad_lite_float32": median_time(lambda: ta @ ta, tl_sync, repeats),
            "tinygrad_lite_float16": median_time(lambda: under_autocast(tl, ta), tl_sync, repeats),
            "torch_float32": median_time(lambda: pa @ pa, torch_sync, repeats),
            "torch_float16": median_time(lambda: under_autocast(torch, pa), torch_sync, repeats)}


def mlp_step_times(device, width):
    tl_sync, torch_sync = syncs(device)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, N_IN)).astype(np.float32)
    y = rng.integers(0, N_OUT, BATCH)
    torch.manual_seed(0)
    torch_model = torch.nn.Sequential(torch.nn.Linear(N_IN, width), torch.nn.ReLU(), torch.nn.Linear(width, width),
                                      torch.nn.ReLU(), torch.nn.Linear(width, N_OUT))
    tl_model = tl.nn.Sequential(tl.nn.Linear(N_IN, width), tl.nn.ReLU(), tl.nn.Linear(width, width), tl.nn.ReLU(),
                                tl.nn.Linear(width, N_OUT))
    tl_model.load_state_dict({k: tl.tensor(v.detach().numpy()) for k, v in torch_model.state_dict().items()})
    torch_model.to(device), tl_model.to(device)
    results = []
    for lib, model, sync in (("tl", tl_model, tl_sync), ("torch", torch_model, torch_sync)):
        mod = tl if lib == "tl" else torch
        xs = (tl.tensor(x) if lib == "tl" else torch.from_numpy(x)).to(device)
        ys = (tl.tensor(y) if lib == "tl" else torch.from_numpy(y)).to(device)
        optimizer = mod.optim.SGD(model.parameters(), lr=0.01)
        loss_fn = mod.nn.CrossEntropyLoss()

        def step(model=model, xs=xs, ys=ys, optimizer=optimizer, loss_fn=loss_fn):
            optimizer.zero_grad()
            loss_fn(model(xs), ys).backward()
            optimizer.step()
        results.append(median_time(step, sync, 20 if width <= 1024 else 5))
    return tuple(results)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    parser.add_argument("--machine", default=platform.node(), help="a name for the machine, shown in lesson 08")
    parser.add_argument("--out", default=None, help=f"where to write the results (default, on a GPU: {RESULTS})")
    parser.add_argument("--quick", action="store_true", help="a few small sizes only (to try the script)")
    args = parser.parse_args()
    if args.device == "cuda" and not (tl.cuda.is_available() and torch.cuda.is_available()):
        raise SystemExit("no usable GPU: this script needs CuPy (pip install cupy-cuda12x) and PyTorch with CUDA; "
                         "try --device cpu to run it on the CPU")
    quick = args.quick
    sizes, widths = (MATMUL_SIZES[:3], MLP_WIDTHS[:2]) if quick else (MATMUL_SIZES, MLP_WIDTHS)
    versions = tl.cuda.versions() if args.device == "cuda" else {}
    result = {"machine": args.machine, "device": args.device, "date": datetime.date.today().isoformat(),
              "gpu": torch.cuda.get_device_name() if args.device == "cuda" else None,
              "cpu": platform.processor() or platform.machine(), "torch": torch.__version__,
              "cupy": versions.get("cupy"), "numpy": np.__version__,
              "source": "benchmarks/gpu_sweep.py",
              "matmul": {"sizes": sizes, "tinygrad_lite": [], "torch": []},
              "mlp_step": {"widths": widths, "batch": BATCH, "n_in": N_IN, "tinygrad_lite": [],
                           "torch": []},
              "matmul_float16": {"sizes": [64] if quick else FLOAT16_SIZES, "label": "tinygrad_lite",
                                 "note": "tinygrad_lite's and PyTorch's matmul, in float32 and under autocast("
                                         "float16), measured by benchmarks/gpu_sweep.py"}}
    for n in sizes:
        ours, theirs = matmul_times(args.device, n)
        result["matmul"]["tinygrad_lite"].append(ours), result["matmul"]["torch"].append(theirs)
        print(f"matmul {n:5d}: tinygrad_lite {ours * 1e3:9.3f} ms   torch {theirs * 1e3:9.3f} ms")
    for width in widths:
        ours, theirs = mlp_step_times(args.device, width)
        result["mlp_step"]["tinygrad_lite"].append(ours), result["mlp_step"]["torch"].append(theirs)
        print(f"MLP step, width {width:5d}: tinygrad_lite {ours * 1e3:9.3f} ms   torch {theirs * 1e3:9.3f} ms "
              f"({ours / theirs:.2f}x)")
    for n in result["matmul_float16"]["sizes"]:
        for name, seconds in float16_times(args.device, n).items():
            result["matmul_float16"].setdefault(name, []).append(seconds)
        f16 = result["matmul_float16"]
        print(f"matmul {n:5d}, float32 / float16 autocast: tinygrad_lite "
              f"{f16['tinygrad_lite_float32'][-1] / f16['tinygrad_lite_float16'][-1]:.2f}x   torch "
              f"{f16['torch_float32'][-1] / f16['torch_float16'][-1]:.2f}x")
    out = args.out or (RESULTS if args.device == "cuda" else None)
    if out:
        path = Path(out)
        kept = json.loads(path.read_text()) if path.exists() else {}
        if "capstone_step" in kept:  # (benchmarks/capstone_gpu.py's part of the file)
            result["capstone_step"] = kept["capstone_step"]
        path.write_text(json.dumps(result, indent=1) + "\n")
        print("stored in", out)


if __name__ == "__main__":
    main()
