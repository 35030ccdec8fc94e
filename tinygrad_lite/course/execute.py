"""Execute solution notebooks in place, so that their stored outputs are what the code prints today.

This is the instructor's step between editing ``solutions/NN_name.ipynb`` and ``tinygrad-lite release``: nbval
compares the cells marked ``# NBVAL_CHECK_OUTPUT`` with these stored outputs, so they must come from a run of
the current code. The kernel starts in the notebook's folder, as JupyterLab's does. No timing metadata is
written (and the timing metadata an earlier run left is removed), so an unchanged notebook re-executed gives the
same file (for outputs that are themselves deterministic).
A cell that raises stops the run and nothing is written.
"""
import re
import subprocess
from pathlib import Path

from .notebooks import NotebookError, read_notebook
from .runner import run_label


class CellFailed(NotebookError):
    """A cell of the notebook raised: the notebook was read and run, and is left as it was."""


def execute_notebook(path, timeout=600):
    """Run every cell of the notebook at ``path`` in a fresh kernel and write it back with its outputs.
    Returns the seconds the run took. What is not a readable notebook file (missing, a named pipe, not JSON) is
    a NotebookError in one line, as in ``check``."""
    import time

    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    path = Path(path)
    nb = read_notebook(path)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(path.parent.resolve())}})
    start = time.monotonic()
    try:  # (the kernel's own stderr holds only its start-up notices: a cell's errors come as its outputs)
        client.execute(stderr=subprocess.DEVNULL)
    except CellExecutionError as e:
        raise CellFailed(f"{path}: {_where(nb)} raised {e.ename}: {_plain(e.evalue)[:300]}; nothing was "
                         "written") from None
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nbformat.write(nb, path)
    return time.monotonic() - start


def _where(nb):
    """The cell that raised (the first with an error output), as ``check``'s messages name a cell."""
    for index, cell in enumerate(nb.cells):
        if any(output.get("output_type") == "error" for output in cell.get("outputs", ())):
            return run_label(nb, index)
    return "a cell"


def _plain(text):
    """``text`` without the terminal's colour codes that IPython puts in an error's message."""
    return re.sub(r"\x1b\[[0-9;]*m", "", str(text))
