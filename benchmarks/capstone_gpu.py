"""The capstone's training step on a GPU, tinygrad_lite against PyTorch, in float32 and with float16 autocast.

    python benchmarks/capstone_gpu.py                          # on a GPU: into benchmarks/gpu_results.json
    python benchmarks/capstone_gpu.py --device cpu --quick --out /tmp/capstone.json   # try it on a CPU

The step is benchmarks/bench.py's ``capstone`` (Linear-BatchNorm1d-ReLU-Dropout twice, then a Linear; AdamW with two
weight-decay groups, ``clip_grad_norm_``, cross-entropy with label smoothing; each step ends in ``loss.item()``,
which waits for the GPU), at three sizes: batch 64 with 64-128-128-10 (the capstone's own, overhead-bound), batch
1024 with 256-1024-1024-10, and batch 8192 with 1024-4096-4096-10 (compute-bound). Each size runs four ways, timed
in interleaved rounds (``bench.time_steps``): each library in float32, and with ``autocast(float16)`` and a
``GradScaler``. Written into the results file as ``"capstone_step"``:

    {"gpu": its name, "date": ..., "torch_version": ..., "batch": [...], "sizes": [...],
     "tinygrad_lite": [s, ...], "torch": [...], "ratio": [tinygrad_lite / torch], "tinygrad_lite_amp": [...],
     "torch_amp": [...], "amp_ratio": [...],
     "amp_over_fp32": tinygrad_lite's autocast step / its float32 step at the largest batch (and torch's)}

issue 47's targets: ratio at most 1.8, 1.4 and 1.1, and amp_over_fp32 at most 0.5 (benchmarks/README.md).

    python benchmarks/capstone_gpu.py --table     # the stored "capstone_step" as benchmarks/README.md's table

prints the results file's measurement against those targets as the markdown table of benchmarks/README.md (no GPU
needed); a measurement prints its own table at its end.
"""
import argparse
import datetime
import json
import sys
from pathlib import Path

import numpy as np
import torch

import tinygrad_lite as tl

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench import library_capstone, time_steps  # noqa: E402

RESULTS = HERE / "gpu_results.json"
SIZES = {64: (64, 128, 128, 10), 1024: (256, 1024, 1024, 10), 8192: (1024, 4096, 4096, 10)}


def measure(batch, device, steps):
    """Seconds per step, the four ways, at one size: the median of ``steps`` timed steps each, in 20 interleaved
    rounds, after a warmup of a tenth as many (at least 3), so that the GPU's clocks and caches have settled before
    the first timed step (the small batches, the first measured, moved most between runs when 30 steps after 3 of
    warmup were timed)."""
    sizes, timed = SIZES[batch], {}
    for amp in (False, True):
        for name, lib in (("tinygrad_lite", tl), ("torch", torch)):
            timed[name + ("_amp" if amp else "")] = library_capstone(lib, batch=batch, sizes=sizes, device=device,
                                                                     amp=amp)
    return time_steps(timed, steps, rounds=min(steps, 20), warmup=max(3, steps // 10))


TARGETS = {64: 1.8, 1024: 1.4, 8192: 1.1}  # issue 47: tinygrad_lite / PyTorch at most, per batch
STEPS = {64: 200, 1024: 200, 8192: 40}      # timed steps per way: a few seconds of each size on an H100
AMP_TARGET = 0.5                           # and our autocast step / our float32 step, at batch 8192


def table(result):
    """``result`` (a results file's "capstone_step") as benchmarks/README.md's markdown table, with the targets."""
    def verdict(value, limit, unit=""):
        return f"at most {limit}{unit}" + ("" if value <= limit else ": **missed**")
    rows = ["| batch (sizes) | tinygrad_lite | PyTorch | ratio | target |", "| --- | --- | --- | --- | --- |"]
    for batch, sizes, ours, theirs in zip(result["batch"], result["sizes"], result["tinygrad_lite"],
                                          result["torch"]):
        ratio = ours / theirs
        rows.append(f"| {batch} ({'-'.join(map(str, sizes))}) | {ours * 1e3:.3g} ms | {theirs * 1e3:.3g} ms | "
                    f"{ratio:.2f}x | {verdict(round(ratio, 2), TARGETS.get(batch, float('inf')), 'x')} |")
    amp, torch_amp = result["amp_over_fp32"], result["torch_amp_over_fp32"]
    amp_target = verdict(round(amp, 2), AMP_TARGET) if result["batch"][-1] == 8192 else "at batch 8192"
    rows.append(f"| autocast float16 / float32, batch {result['batch'][-1]} | "
                f"{result['tinygrad_lite_amp'][-1] * 1e3:.3g} / {result['tinygrad_lite'][-1] * 1e3:.3g} ms | "
                f"{result['torch_amp'][-1] * 1e3:.3g} / {result['torch'][-1] * 1e3:.3g} ms | {amp:.2f} (PyTorch "
                f"{torch_amp:.2f}) | {amp_target} |")
    return "\n".join(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    parser.add_argument("--quick", action="store_true", help="batch 64 only, few steps (to try the script)")
    parser.add_argument("--out", default=None, help=f"the results file to add to (default, on a GPU: {RESULTS})")
    parser.add_argument("--table", nargs="?", const=str(RESULTS), metavar="RESULTS",
                        help="print a results file's measurement as benchmarks/README.md's table; measure nothing")
    args = parser.parse_args(argv)
    if args.table:
        path = Path(args.table)
        if not path.is_file():
            raise SystemExit(f"--table: no file {path}")
        stored = json.loads(path.read_text()).get("capstone_step")
        if stored is None:
            raise SystemExit(f"--table: {path} holds no \"capstone_step\" measurement (is it a gpu_results.json "
                             "that this script wrote?)")
        print(f"{stored['gpu']}, {stored['date']}, PyTorch {stored['torch_version']}:\n{table(stored)}")
        return
    if args.device == "cuda" and not (tl.cuda.is_available() and torch.cuda.is_available()):
        raise SystemExit("no usable GPU: this script needs CuPy and PyTorch with CUDA; try --device cpu --quick")
    batches = [64] if args.quick else sorted(SIZES)
    steps = [4 if args.quick else STEPS[batch] for batch in batches]
    gpu = tl.cuda.get_device_name() if args.device == "cuda" else "none (cpu)"
    result = {"gpu": gpu, "date": datetime.date.today().isoformat(), "torch_version": torch.__version__,
              "batch": batches, "sizes": [list(SIZES[b]) for b in batches], "steps_timed": steps}
    for batch, n in zip(batches, steps):
        seconds = measure(batch, args.device, n)
        for name, value in seconds.items():
            result.setdefault(name, []).append(value)
        print(f"capstone step, batch {batch:5d}: tinygrad_lite {seconds['tinygrad_lite'] * 1e3:8.3f} ms  torch "
              f"{seconds['torch'] * 1e3:8.3f} ms ({seconds['tinygrad_lite'] / seconds['torch']:.2f}x) | autocast: "
              f"{seconds['tinygrad_lite_amp'] * 1e3:8.3f} ms  torch {seconds['torch_amp'] * 1e3:8.3f} ms", flush=True)
    result["ratio"] = list(np.divide(result["tinygrad_lite"], result["torch"]))
    result["amp_ratio"] = list(np.divide(result["tinygrad_lite_amp"], result["torch_amp"]))
    result["amp_over_fp32"] = result["tinygrad_lite_amp"][-1] / result["tinygrad_lite"][-1]
    result["torch_amp_over_fp32"] = result["torch_amp"][-1] / result["torch"][-1]
    print(f"tinygrad_lite / torch: {', '.join(f'{r:.2f}' for r in result['ratio'])} (batch {batches}); "
          f"autocast / float32 at batch {batches[-1]}: {result['amp_over_fp32']:.2f} (torch "
          f"{result['torch_amp_over_fp32']:.2f})")
    print(f"as benchmarks/README.md's table:\n{table(result)}")
    out = args.out or (RESULTS if args.device == "cuda" else None)
    if out:
        path = Path(out)
        stored = json.loads(path.read_text()) if path.exists() else {}
        stored["capstone_step"] = result  # (numpy's float64 is a float: json writes it as one)
        path.write_text(json.dumps(stored, indent=1) + "\n")
        print("stored in", path)


if __name__ == "__main__":
    main()
