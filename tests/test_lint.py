"""The code passes ruff, with the rules configured in pyproject.toml ([tool.ruff]).

The README's test command runs pytest, so running ruff here makes the linter part of it: a lint error fails the
suite like any other test, and the report names each file, line and rule.
"""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _ruff():
    beside = Path(sys.executable).with_name("ruff")  # the ruff of this virtual environment
    return str(beside) if beside.exists() else shutil.which("ruff")


def test_ruff_passes():
    ruff = _ruff()
    if ruff is None:
        pytest.skip("ruff is not installed (it is in the [test] extra: pip install -e '.[test]')")
    done = subprocess.run([ruff, "check", "--no-cache", "--output-format", "concise", "."], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    report = done.stdout + done.stderr
    assert done.returncode == 0, f"ruff found problems (fix them, or try `ruff check --fix .`):\n{report}"
