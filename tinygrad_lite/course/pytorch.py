"""The lessons' comparisons with PyTorch, on a machine without PyTorch.

Each lesson ends by computing the same thing in PyTorch and printing the difference, number for number. The
course itself needs no PyTorch (the library and the exercises' checks are numpy only; lesson 09's epoch
check adds a case on PyTorch where it is installed), and a hosted
notebook or a plain ``pip install`` may have none. So a code cell of a lesson that needs PyTorch starts with the
line ``# needs PyTorch``. When PyTorch is not installed, such a cell does not fail with ModuleNotFoundError (which
would stop "Run All" there): it runs as one line that says PyTorch is missing and how to install it.

How: ``from tinygrad_lite.course import ...`` in a lesson's first cell registers ``skip_without_torch`` with
IPython as an input transformer (``InteractiveShell.input_transformers_cleanup``), which sees each cell's source
before it runs. It changes nothing in a cell without the marker, nor anything at all when PyTorch is installed,
and it does nothing outside IPython (a script, a grading kernel).
"""
import importlib.util
import sys

from . import display

MARKER = "# needs PyTorch"
INSTALL = "%pip install torch --index-url https://download.pytorch.org/whl/cpu"


def torch_installed():
    """Whether ``import torch`` would find PyTorch (without importing it: that takes seconds). A ``None`` in
    sys.modules (how a test hides a package) or a broken spec counts as missing."""
    if "torch" in sys.modules:
        return sys.modules["torch"] is not None
    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):
        return False


def needs_torch(lines):
    """Whether a cell's source (its lines) starts with the marker, blank lines and leading spaces aside."""
    first = next((line.strip() for line in lines if line.strip()), "")
    return first.startswith(MARKER)


def skip_without_torch(lines):
    """IPython input transformer: a marked cell becomes one line that says how to install PyTorch, when it is
    not installed; every other cell is left as it is."""
    if not needs_torch(lines) or torch_installed():
        return lines
    message = f"PyTorch is not installed, so this cell is skipped. To run it:\n  {INSTALL}   (then restart the kernel)"
    return [f"print({message!r})\n"]


def register(shell=None):
    """Add ``skip_without_torch`` to the running IPython's input transformers, once; a no-op outside IPython."""
    shell = display.shell() if shell is None else shell
    if shell is None:
        return False
    transformers = shell.input_transformers_cleanup
    if not any(getattr(t, "__name__", "") == skip_without_torch.__name__ for t in transformers):
        transformers.append(skip_without_torch)
    return True
