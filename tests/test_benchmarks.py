"""The benchmark script runs (a short run: it checks that the implementations agree, then times them)."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_adam_step_runs():
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--steps", "5", "--only",
                             "adam_step"], capture_output=True, text=True, env=env, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "adam_step: one Adam step over 1,000,000 float32 parameters" in result.stdout
    for name in ("tinygrad_lite", "pytorch", "numpy (by hand)", "target: tinygrad_lite <= 1.5x PyTorch"):
        assert name in result.stdout, result.stdout
