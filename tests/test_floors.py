"""The oldest versions that pyproject.toml allows, installed from outside as a learner or a contributor installs
them: each package an extra asks for at its floor (``name>=version`` pinned to ``version``), the rest as pip resolves
it today, in a fresh virtual environment.

- The ``course`` extra (what a learner who works in JupyterLab installs), from the built wheel: JupyterLab starts,
  lessons 07 and 10 run, and the library's uses of its optional packages work.
- The ``test`` extra (what a contributor's ``pytest`` needs): a sample of the suite runs in this checkout with it,
  pytest's options from pyproject.toml, xdist, nbval and hypothesis included.

The floors once let through TensorBoard that does not import on numpy 2, a `tensorboard` command that needs the
pkg_resources that setuptools 81 removed, matplotlib whose pyplot fails in IPython 9's shell, and a pytest older than
the options the suite passes it. (numpy's, matplotlib's and the hosted extra's floors with the lessons:
test_hosted.py.) They install packages (about a minute each from a local index), so they run only when asked:
``TINYGRAD_LITE_VENV_TESTS=1 .venv/bin/python -m pytest tests/test_floors.py`` (``.ci/run`` does).
"""
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from course_wheel import build_wheel
from processes import free_port, stop
from test_hosted import environment_of, floors, lessons_run, run

pytestmark = pytest.mark.skipif(os.environ.get("TINYGRAD_LITE_VENV_TESTS") != "1",
                                reason="installs packages in new environments: set TINYGRAD_LITE_VENV_TESTS=1")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """The course's wheel, built from this checkout (course_wheel.py)."""
    return build_wheel(tmp_path_factory.mktemp("dist"))


# Runs in the course extra's environment at its floors: the library's uses of its optional packages, one by one.
FLOOR_USES = r"""
import json, sys, tempfile
from pathlib import Path
import numpy as np
import tinygrad_lite as tl
from tinygrad_lite.safetensors import load_file, save_file
from tinygrad_lite.course.grading import roster
from tinygrad_lite.course.pytorch import tensorboard_installed
from tinygrad_lite.utils.tensorboard import SummaryWriter
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
import tensorboard.main  # the `tensorboard` command's module (before 2.21 it needs pkg_resources: setuptools < 81)

place = Path(tempfile.mkdtemp())
save_file({"w": tl.arange(6.0).reshape(2, 3)}, place / "w.safetensors")
weights = load_file(place / "w.safetensors")["w"].numpy().tolist()
with SummaryWriter(place / "run") as writer:
    writer.add_scalar("loss", 0.5, 3)
    writer.add_histogram("w", np.arange(6.0), 3)
events = EventAccumulator(str(place / "run")).Reload()
(place / "meta.yml").write_text("submission_7:\n  :submitters:\n  - :name: Ada\n    :email: ada@uni.edu\n")
print(json.dumps({"safetensors": weights, "tensorboard": tensorboard_installed(),
                  "scalars": [(p.step, p.value) for p in events.Scalars("loss")],
                  "histograms": events.Tags()["histograms"],
                  "gradescope": roster._read_gradescope(place / "meta.yml")["submission_7"][0]}))
"""


def release(version):
    """(major, minor, micro) of a version string: "6.0" and "6.0.0" alike, "2.13.0+cpu" as 2.13.0."""
    numbers = [int(n) for n in re.findall(r"\d+", version.split("+")[0])[:3]]
    return tuple(numbers + [0] * (3 - len(numbers)))


def install_at_floors(tmp_path, requirement, pins):
    """A new venv in ``tmp_path`` with ``requirement`` installed and each package of ``pins`` at its version, the
    newest setuptools (as a venv of Python 3.12 or later gets it: it has none, and TensorBoard asks for one); its
    Python, after checking that the versions are those asked for."""
    env = tmp_path / "venv"
    run(getattr(sys, "_base_executable", sys.executable), "-m", "venv", env)
    python = env / "bin" / "python"
    run(python, "-m", "pip", "install", "-q", requirement, *(f"{n}=={v}" for n, v in pins.items()), timeout=1200)
    run(python, "-m", "pip", "install", "-q", "-U", "setuptools", timeout=1200)
    versions = run(python, "-c", "from importlib.metadata import version; import sys; "
                   "print(*(version(name) for name in sys.argv[1:]))", *pins).stdout.split()
    assert {n: release(v) for n, v in zip(pins, versions)} == {n: release(v) for n, v in pins.items()}
    return python


def test_the_course_extra_works_at_the_oldest_versions_it_allows(wheel, tmp_path):
    """``pip install "tinygrad_lite[course]"`` with each package the wheel and its course extra ask for at the oldest
    release they allow (JupyterLab 4.0.0, ipykernel 6.5.0, nbclient 0.8.0, TensorBoard 2.21.0, PyYAML 6.0 ...) and
    the rest as pip resolves them (no constraints.txt: ipykernel 6.5 caps jupyter_client below 8), setuptools the
    newest: JupyterLab starts and serves its page, lessons 07 and 10 run with PyTorch and TensorBoard (no cell
    skipped), and the library's uses of safetensors, TensorBoard's files and command and a Gradescope export's YAML
    work. (The floor once allowed TensorBoard 2.14 to 2.17.0, which do not import on numpy 2, and 2.17.1 to 2.20,
    whose `tensorboard` command needs pkg_resources, which setuptools 81 removed.)"""
    pins = floors("course")
    assert {"jupyterlab", "ipykernel", "nbclient", "nbformat", "tensorboard", "pyyaml"} <= set(pins), pins
    python = install_at_floors(tmp_path, f"{wheel}[course]", pins)
    clean, empty = environment_of(python.parent.parent), tmp_path / "empty"
    empty.mkdir()
    uses = json.loads(run(python, "-c", FLOOR_USES, cwd=empty, env=clean).stdout.splitlines()[-1])
    assert uses == {"safetensors": [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]], "tensorboard": True, "scalars": [[3, 0.5]],
                    "histograms": ["w"], "gradescope": [["Ada", "ada@uni.edu", ""]]}, uses
    run(python, "-m", "tinygrad_lite.course", "lessons", "course", cwd=empty, env=clean, timeout=120)
    course = empty / "course"
    names = ["07_early_stopping_and_checkpointing.ipynb", "10_inside_training.ipynb"]
    results = lessons_run(python, course, names, tmp_path, cwd=empty, env=clean)
    assert all(r["skipped"] == 0 and r["no_tensorboard"] == 0 for r in results.values()), results
    # JupyterLab 4.0.0 starts in the lessons' folder and serves the lab page and a kernel spec
    port = free_port()
    log = (tmp_path / "lab.log").open("w")
    lab = subprocess.Popen([python, "-m", "jupyter", "lab", "--no-browser", f"--port={port}", "--allow-root",
                            "--ServerApp.token=", "--ServerApp.password="], cwd=course, env=clean,
                           stdout=log, stderr=subprocess.STDOUT)
    try:
        page = None
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab", timeout=5) as answer:
                    page = answer.read().decode()
                break
            except OSError:
                assert lab.poll() is None, (tmp_path / "lab.log").read_text()[-3000:]
                time.sleep(0.5)
        assert page and "JupyterLab" in page, page
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/kernelspecs", timeout=5) as answer:
            assert "python3" in json.loads(answer.read())["kernelspecs"]
    finally:
        stop(lab, timeout=30)
        log.close()


def test_the_test_extra_runs_the_suite_at_the_oldest_versions_it_allows(wheel, tmp_path):
    """The ``test`` extra with each of its packages (and the wheel's) at its floor: pytest 8.4.0, pytest-xdist 3.3.0,
    nbval 0.10.0, hypothesis 6.80.0, ruff 0.15.0 ... A sample of the suite runs in this checkout with them as
    run.py runs it (-n, --dist loadgroup): the library's ops under hypothesis, ruff over the code, lesson 00's
    checks and its notebook, solved and unsolved."""
    pins = floors("test")
    assert {"pytest", "pytest-xdist", "nbval", "hypothesis", "ruff"} <= set(pins), pins
    python = install_at_floors(tmp_path, f"{wheel}[test]", pins)
    done = run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2", "--dist", "loadgroup",
               "tests/test_ops.py", "tests/test_lint.py", "tests/test_lesson00.py",
               "solutions/00_welcome_and_tensors.ipynb", "lessons/00_welcome_and_tensors.ipynb", cwd=ROOT,
               env=environment_of(python.parent.parent), timeout=900)
    summary = done.stdout.strip().splitlines()[-1]
    assert re.search(r"\b\d{3,} passed\b", summary) and "failed" not in summary and "error" not in summary, summary
