"""The lessons' cells marked ``# needs PyTorch`` say how to install PyTorch when it is missing, instead of failing
(tinygrad_lite/course/pytorch.py), and so do those marked ``# needs TensorBoard``. nbval runs the unsolved
lessons without PyTorch (conftest.py), and an extended test runs them with it; in a real environment without
either: tests/test_hosted.py."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tinygrad_lite.course import pytorch

ROOT = Path(__file__).resolve().parents[1]


def cells(folder, name):
    return [c for c in json.loads((ROOT / folder / name).read_text(encoding="utf-8"))["cells"]
            if c["cell_type"] == "code"]


def source(cell):
    return "".join(cell["source"])


def test_a_marked_cell_becomes_one_line_with_the_install_command(monkeypatch):
    monkeypatch.setattr(pytorch, "torch_installed", lambda: False)
    lines = ["\n", "# needs PyTorch (without it, this cell prints how to install it)\n", "import torch\n"]
    (line,) = pytorch.skip_without_torch(lines)
    printed = eval(line.removeprefix("print(").removesuffix(")\n"))
    assert "PyTorch is not installed" in printed and pytorch.INSTALL in printed
    assert all(len(line) <= 100 for line in printed.splitlines())  # JupyterLab's output width at 1280x800
    other = ["import numpy as np\n", "# needs PyTorch\n"]  # the marker must come first
    assert pytorch.skip_without_torch(other) is other


def test_pytorch_hidden_or_missing_counts_as_not_installed(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # how a test (or a learner's notebook) hides a package
    assert not pytorch.torch_installed()
    monkeypatch.delitem(sys.modules, "torch")
    monkeypatch.setattr(pytorch.importlib.util, "find_spec", lambda name: None)
    assert not pytorch.torch_installed()


def test_with_pytorch_installed_nothing_changes(monkeypatch):
    monkeypatch.setattr(pytorch, "torch_installed", lambda: True)
    lines = ["# needs PyTorch\n", "import torch\n"]
    assert pytorch.skip_without_torch(lines) is lines


def test_registered_once_in_ipython_and_nowhere_else(monkeypatch, ipython_shell):
    shell = ipython_shell
    assert pytorch.register(shell) and pytorch.register(shell)
    assert sum(t is pytorch.skip_without_torch for t in shell.input_transformers_cleanup) == 1
    monkeypatch.setattr(pytorch, "torch_installed", lambda: False)
    assert shell.transform_cell("# needs PyTorch\nimport torch\n").startswith("print('PyTorch is not installed")
    assert shell.transform_cell("x = 1\n") == "x = 1\n"
    assert pytorch.register(None) in (True, False)  # outside IPython: a no-op, no error


@pytest.mark.parametrize("folder", ["solutions", "lessons"])
def test_every_cell_that_uses_pytorch_is_marked(folder):
    """In every lesson, each code cell whose code (comments aside) imports or calls torch starts with the marker.
    That no unmarked cell needs what a marked one made is shown by running the lessons without PyTorch
    (tests/test_hosted.py)."""
    unmarked, marked = [], 0
    for path in sorted((ROOT / folder).glob("[0-9][0-9]_*.ipynb")):
        for n, cell in enumerate(cells(folder, path.name)):
            lines = source(cell).splitlines()
            code = "\n".join(line.split("#")[0] for line in lines)
            if pytorch.needs_torch(lines):
                marked += 1
            elif "import torch" in code or "torch." in code:
                unmarked.append(f"{path.name}, code cell {n}")
    assert unmarked == [] and marked >= 9, unmarked


def test_a_tensorboard_cell_says_how_to_install_it_when_tensorboard_is_missing(monkeypatch):
    lines = ["# needs TensorBoard (without it, this cell prints how to install it)\n", "import tensorboard\n"]
    monkeypatch.setitem(sys.modules, "tensorboard", None)
    (line,) = pytorch.skip_without_tensorboard(lines)
    printed = eval(line.removeprefix("print(").removesuffix(")\n"))
    assert "TensorBoard is not installed" in printed and "%pip install tensorboard" in printed
    assert all(len(line) <= 100 for line in printed.splitlines())
    assert pytorch.skip_without_torch(lines) is lines  # each marker has its own package
    monkeypatch.delitem(sys.modules, "tensorboard")
    monkeypatch.setattr(pytorch, "tensorboard_installed", lambda: True)
    assert pytorch.skip_without_tensorboard(lines) is lines


@pytest.mark.parametrize("folder", ["solutions", "lessons"])
def test_every_cell_that_uses_tensorboard_is_marked(folder):
    """Each code cell that imports the tensorboard package starts with ``# needs TensorBoard``."""
    unmarked, marked = [], 0
    for path in sorted((ROOT / folder).glob("[0-9][0-9]_*.ipynb")):
        for n, cell in enumerate(cells(folder, path.name)):
            lines = source(cell).splitlines()
            code = "\n".join(line.split("#")[0] for line in lines)
            if pytorch.starts_with(lines, pytorch.TENSORBOARD_MARKER):
                marked += 1
            elif re.search(r"^\s*(from|import) tensorboard\b", code, re.M):
                unmarked.append(f"{path.name}, code cell {n}")
    assert unmarked == [] and marked >= 1, unmarked


def test_nbval_starts_the_lessons_kernels_without_pytorch_and_the_solutions_with_it(repository_conftest):
    """nbval starts each notebook's kernel in the notebook's folder, through nbval.kernel.start_new_kernel, which
    the repository's conftest.py wraps: a kernel started in lessons/ has PyTorch hidden, one elsewhere not; each
    keeps its history in memory, not in the user's IPython history."""
    nbval_kernel = pytest.importorskip("nbval.kernel")
    asked = []
    fake = repository_conftest._lessons_without_torch(lambda *args, **kwargs: asked.append(kwargs))
    fake(kernel_name="python3", cwd=str(ROOT / "solutions"))
    fake(kernel_name="python3", cwd=str(ROOT / "lessons"), extra_arguments=["--debug"])
    memory = repository_conftest.IN_MEMORY_HISTORY
    assert asked == [{"kernel_name": "python3", "cwd": str(ROOT / "solutions"), "extra_arguments": [memory]},
                     {"kernel_name": "python3", "cwd": str(ROOT / "lessons"),
                      "extra_arguments": ["--debug", memory, repository_conftest.HIDE_TORCH]}]
    kernel = nbval_kernel.RunningKernel("python3", cwd=str(ROOT / "lessons"))  # as nbval starts a lesson's
    printed = []
    try:
        code = ("print(repr(__import__('sys').modules.get('torch', 'not imported')), 'sys' in dir(), "
                "get_ipython().history_manager.hist_file)")
        kernel.kc.execute_interactive(code, timeout=60,
                                      output_hook=lambda msg: printed.append(msg["content"].get("text")))
    finally:
        kernel.stop()
    assert "".join(filter(None, printed)).strip() == "None False :memory:", printed  # (and no name left behind)


@pytest.mark.extended
def test_the_lessons_run_unsolved_with_pytorch_too():
    """nbval runs the lessons without PyTorch; with it, unsolved (the comparisons then use the library's versions
    standing in for the exercises), the browser tests run their sample, the GPU check's dry run lessons 08-10, and
    this test the others, top to bottom with benchmarks/run_notebooks.py: no error and nothing a learner would see
    wrong (tests/notebook_outputs.py)."""
    import test_browser
    import test_gpu_check
    browser = () if test_browser.browser_unavailable() else test_browser.LESSONS
    elsewhere = {*test_gpu_check.LESSONS, *browser}
    here = [f"lessons/{p.name}" for p in sorted((ROOT / "lessons").glob("*.ipynb")) if p.name not in elsewhere]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run_notebooks.py"), "--jobs", "2", *here],
                          cwd=ROOT, capture_output=True, text=True, timeout=900, env=env)
    assert done.returncode == 0 and done.stdout.count(": ok in ") == len(here), done.stdout + done.stderr[-3000:]
