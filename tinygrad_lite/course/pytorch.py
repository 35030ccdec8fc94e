"""The lessons' comparisons with PyTorch, on a machine without PyTorch (and their TensorBoard cells without
TensorBoard).

Each lesson ends by computing the same thing in PyTorch and printing the difference, number for number. The
course itself needs no PyTorch (the library and the exercises' checks are numpy only; lesson 09's epoch
check adds a case on PyTorch where it is installed), and a hosted
notebook or a plain ``pip install`` may have none. So a code cell of a lesson that needs PyTorch starts with the
line ``# needs PyTorch``. When PyTorch is not installed, such a cell does not fail with ModuleNotFoundError (which
would stop "Run All" there): it runs as one line that says PyTorch is missing and how to install it.

TensorBoard, which lesson 10 reads its logged runs with, is optional in the same way (the ``tensorboard`` extra):
a cell that imports it starts with ``# needs TensorBoard``, and without the package it says how to install it (with
one too old for numpy 2, how to upgrade it).

How: ``from tinygrad_lite.course import ...`` in a lesson's first cell registers ``skip_without_torch`` and
``skip_without_tensorboard`` with IPython as input transformers (``InteractiveShell.input_transformers_cleanup``),
which see each cell's source before it runs. They change nothing in a cell without their marker, nor anything at
all when the package is installed, and they do nothing outside IPython (a script, a grading kernel).
"""
import importlib.util
import sys

from ..utils.tensorboard.writer import tensorboard_too_old
from . import display

MARKER = "# needs PyTorch"
INSTALL = "%pip install torch --index-url https://download.pytorch.org/whl/cpu"
TENSORBOARD_MARKER = "# needs TensorBoard"
TENSORBOARD_INSTALL = "%pip install tensorboard"  # the tensorboard extra's one package (works on any service)


def installed(package):
    """Whether ``import <package>`` would find it (without importing it: PyTorch takes seconds). A ``None`` in
    sys.modules (how a test hides a package) or a broken spec counts as missing."""
    if package in sys.modules:
        return sys.modules[package] is not None
    try:
        return importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):
        return False


def torch_installed():
    return installed("torch")


def tensorboard_installed():
    """Whether a tensorboard that runs here is installed (one older than 2.17.1 does not run on numpy 2)."""
    return installed("tensorboard") and not tensorboard_too_old()


def starts_with(lines, marker):
    """Whether a cell's source (its lines) starts with ``marker`` (or one of a tuple of them), blank lines and
    leading spaces aside."""
    first = next((line.strip() for line in lines if line.strip()), "")
    return first.startswith(marker)


def needs_torch(lines):
    return starts_with(lines, MARKER)


def _instead(package, install, why="is not installed"):
    """The one line a skipped cell runs instead."""
    message = (f"{package} {why}, so this cell is skipped. To run it:\n"
               f"  {install}   (then restart the kernel)")
    return [f"print({message!r})\n"]


def skip_without_torch(lines):
    """IPython input transformer: a marked cell becomes one line that says how to install PyTorch, when it is
    not installed; every other cell is left as it is."""
    if not needs_torch(lines) or torch_installed():
        return lines
    return _instead("PyTorch", INSTALL)


def skip_without_tensorboard(lines):
    """The same for the cells marked ``# needs TensorBoard``."""
    if not starts_with(lines, TENSORBOARD_MARKER) or tensorboard_installed():
        return lines
    if old := installed("tensorboard") and tensorboard_too_old():
        return _instead("TensorBoard", "%pip install -U tensorboard", f"{old} is too old for numpy 2")
    return _instead("TensorBoard", TENSORBOARD_INSTALL)


def register(shell=None):
    """Add ``skip_without_torch`` and ``skip_without_tensorboard`` to the running IPython's input transformers,
    once; a no-op outside IPython."""
    shell = display.shell() if shell is None else shell
    if shell is None:
        return False
    transformers = shell.input_transformers_cleanup
    for transformer in (skip_without_torch, skip_without_tensorboard):
        if not any(getattr(t, "__name__", "") == transformer.__name__ for t in transformers):
            transformers.append(transformer)
    return True
