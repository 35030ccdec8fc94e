"""The benchmark script runs (a short run: it checks that the implementations agree, then times them)."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.extended  # the benchmarks run: .ci/run runs it after the whole suite (conftest.py)


def test_bench_runs_checks_and_saves_its_results(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    command = [sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--threads", "1", "--steps", "3",
               "--out", str(tmp_path)]
    for name in ("mlp_sgd", "tiny_sgd", "adam_1m", "op_add", "capstone"):
        command += ["--only", name]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for text in ("=== 1 thread", "mlp_sgd: 784-256-10 MLP step, batch 128, cross-entropy, SGD",
                 "adam_1m: Adam step over 1,000,000 float32 parameters", "tinygrad_lite / numpy:",
                 "target: tinygrad_lite <= 1.05x numpy (by hand)", "target: tinygrad_lite <= 0.6x pytorch",
                 "| `tiny_sgd` |", "| `capstone` |", "tinygrad_lite / numpy: n/a"):
        assert text in out, out
    if sys.platform == "linux":  # (peak memory is read from /proc)
        assert "peak memory of one step: tinygrad_lite" in out
    for name in ("tinygrad_lite", "pytorch", "numpy (by hand)"):
        assert name in out
    saved = json.loads((tmp_path / "bench.json").read_text())
    (results,) = saved["results"]
    assert results["threads"] == "1" and results["torch_threads"] == 1
    assert set(results["benchmarks"]) == {"mlp_sgd", "tiny_sgd", "adam_1m", "op_add", "capstone"}
    assert "numpy (by hand)" not in results["benchmarks"]["capstone"]["seconds"]  # (written with the libraries only)
    assert all(t > 0 for b in results["benchmarks"].values() for t in b["seconds"].values())
    assert (tmp_path / "bench.png").stat().st_size > 10_000


def test_floors_measures_the_lower_bounds_it_states():
    """benchmarks/floors.py (the numbers behind issue 35's unmet targets in benchmarks/README.md) runs and prints
    each floor as a time and as a ratio to PyTorch: the 12-pass floor above the 7-pass one, and the 12 passes with
    4 on two arrays not below that."""
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "floors.py"), "--quick"], capture_output=True,
                            text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for text in ("the five products alone", "numpy by hand, the step", "target 0.85x PyTorch",
                 "square root", "floor, PyTorch's 7 passes", "floor, numpy's 12 passes", "floor, 12, 4 on two arrays",
                 "target 0.5x PyTorch"):
        assert text in out, out
    floors = dict(re.findall(r"(floor, [^\n]*?)\s+(\d+) us", out))  # label: microseconds
    assert 0 < int(floors["floor, PyTorch's 7 passes"]) < int(floors["floor, numpy's 12 passes"]) \
        <= int(floors["floor, 12, 4 on two arrays"]), out
    assert all(len(line) <= 100 for line in out.splitlines()), out
