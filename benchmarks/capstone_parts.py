"""Where the capstone's training step spends its time on a GPU, part by part, tinygrad_lite against PyTorch.

    python benchmarks/capstone_parts.py                       # on a GPU (gpu_check.sh runs it last)
    python benchmarks/capstone_parts.py --device cpu --quick  # try it on a CPU

The step is benchmarks/bench.py's ``capstone`` at capstone_gpu.py's three sizes. Each part (every module of the
forward pass, the loss, ``backward``, ``clip_grad_norm_``, ``optimizer.step``, ``loss.item``) is timed on its own,
with the device synchronized before and after, and the median over a few steps is printed for both libraries. The
sum of the parts is more than a whole step takes (each synchronization waits for the GPU to drain), but it says which
part to look at. Last, tinygrad_lite's step at the smallest size (where the host's work is what counts) under
cProfile: the functions that take the most time of their own.
"""
import argparse
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path

import numpy as np
import torch

import tinygrad_lite as tl

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench import library_capstone  # noqa: E402
from capstone_gpu import SIZES  # noqa: E402


def synchronizer(lib, device):
    if device == "cpu":
        return lambda: None
    return lib.cuda.synchronize


def part_times(lib, batch, device, amp, steps):
    """Median milliseconds of each part of the step, over ``steps`` steps after two untimed ones."""
    step = library_capstone(lib, batch=batch, sizes=SIZES[batch], device=device, amp=amp)
    model, x, y, optimizer = step.parts
    F, sync = lib.nn.functional, synchronizer(lib, device)
    device_type = lib.device(device).type
    scaler = lib.amp.GradScaler(device_type) if amp else None
    times = {}

    def timed(name, fn):
        sync()
        start = time.perf_counter()
        value = fn()
        sync()
        times.setdefault(name, []).append((time.perf_counter() - start) * 1e3)
        return value

    for i in range(steps + 2):
        timed("zero_grad", optimizer.zero_grad)
        with lib.autocast(device_type, dtype=lib.float16, enabled=amp):
            h = x
            for k, module in enumerate(model):
                h = timed(f"fwd {k} {type(module).__name__}", lambda m=module, h=h: m(h))
            loss = timed("loss", lambda h=h: F.cross_entropy(h, y, label_smoothing=0.1))
        if amp:
            timed("backward", lambda loss=loss: scaler.scale(loss).backward())
            timed("unscale_", lambda: scaler.unscale_(optimizer))
        else:
            timed("backward", loss.backward)
        timed("clip", lambda: lib.nn.utils.clip_grad_norm_(model.parameters(), 1.0))
        if amp:
            timed("step", lambda: (scaler.step(optimizer), scaler.update()))
        else:
            timed("step", optimizer.step)
        timed("item", loss.item)
        if i < 2:
            times = {}
    return {name: float(np.median(t)) for name, t in times.items()}


def profile(device, batch, steps):
    """cProfile of tinygrad_lite's float32 step: the top functions by their own time."""
    step = library_capstone(tl, batch=batch, sizes=SIZES[batch], device=device)
    for _ in range(3):
        step()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(steps):
        step()
    profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(30)
    return text.getvalue()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    parser.add_argument("--quick", action="store_true", help="batch 64 only (to try the script)")
    args = parser.parse_args(argv)
    batches = [64] if args.quick else sorted(SIZES)
    for batch in batches:
        for amp in (False, True):
            ours = part_times(tl, batch, args.device, amp, steps=5)
            theirs = part_times(torch, batch, args.device, amp, steps=5)
            print(f"batch {batch} {'autocast float16' if amp else 'float32'}: part, tinygrad_lite ms, torch ms")
            for name in ours:
                print(f"  {name:24s} {ours[name]:9.3f} {theirs.get(name, float('nan')):9.3f}")
            print(f"  {'sum':24s} {sum(ours.values()):9.3f} {sum(theirs.values()):9.3f}", flush=True)
    print(profile(args.device, batches[0], steps=50))


if __name__ == "__main__":
    main()
