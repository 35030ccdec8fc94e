"""benchmarks/gpu_check.sh, the one GPU check a lent machine runs, in its dry run on a CPU (issue 44): the same four
steps, small, into a scratch folder. Its notebook step runs the learners' lessons 08, 09 and 10 top to bottom with
nbclient and fails on what a learner would see wrong (tests/notebook_outputs.output_problems), as nbval would: so
while this test is selected, nbval leaves those three lessons to it (tests/conftest.py)."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LESSONS = ("08_gpu_training.ipynb", "09_capstone.ipynb", "10_inside_training.ipynb")  # run by the dry run
pytestmark = pytest.mark.extended  # .ci/run runs it after the whole suite, which then runs these lessons with nbval


def test_the_gpu_check_runs_its_steps_on_a_cpu():
    stored = (ROOT / "benchmarks" / "gpu_results.json").read_bytes()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "OUT"))}
    done = subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_check.sh"), "--dry-run"], capture_output=True,
                          text=True, timeout=600, env=dict(env, PYTHON=sys.executable))
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-4000:]
    steps = ("tests/test_cuda.py", "lesson 08's sweep", "lessons 08, 09 and 10", "the capstone step against PyTorch",
             "the capstone step, part by part")
    for step in steps:
        assert f"== {step}: passed" in out, out[-4000:]
    for lesson in LESSONS:
        assert f"lessons/{lesson}: ok" in out, out[-4000:]
    results = Path(re.search(r"== results: (\S+)", out).group(1))
    written = json.loads(results.read_text())
    assert written["device"] == "cpu" and written["matmul"]["sizes"]
    assert written["matmul_float16"]["tinygrad_lite_float16"]
    capstone = written["capstone_step"]
    assert capstone["batch"] == [64] and capstone["ratio"][0] > 0 and capstone["amp_over_fp32"] > 0
    assert re.search(r"  backward +[0-9.]+ +[0-9.]+\n", out)  # the parts' table
    assert re.search(r"\| 64 \(64-128-128-10\) \| [0-9.]+ ms \| [0-9.]+ ms \| [0-9.]+x \| at most 1.8x", out)  # table
    assert (ROOT / "benchmarks" / "gpu_results.json").read_bytes() == stored  # a dry run leaves the stored GPU's alone
