"""How pytest runs this repository's notebooks and tests, whichever paths it is given (``pytest solutions`` too:
this file is loaded for every path below the repository, tests/conftest.py only for tests/).

- One thread per process. The suite runs on pytest-xdist workers, one per core, and each notebook in a kernel of
  its own. Numpy's OpenBLAS and PyTorch's OpenMP threads would then compete for the same cores, and PyTorch's
  threads wait for each other by spinning: on a busy 2-core machine a small training loop took 12 s instead of
  1 s. The variables are set before a worker or a kernel loads numpy or PyTorch (they inherit this process's
  environment); a value set by the caller wins (``.ci/run``'s second pass sets another thread count).
- A notebook's cells run in order in one kernel, so with ``--dist loadgroup`` (run.py's default) they stay on one
  worker: each notebook is an ``xdist_group`` of its own. Other tests are spread one by one.
- nbval compares the output of each cell marked ``# NBVAL_CHECK_OUTPUT`` with the stored one. On a loaded
  machine the kernel itself can write to its stderr (ipykernel's "IOStream.flush timed out"), which ipykernel
  forwards into the cell's output: compare what the cell prints and shows, not stderr.
"""
import os

import pytest

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own hook reads the xdist_group marks
def pytest_collection_modifyitems(items):
    for item in items:
        if item.path.suffix != ".ipynb":
            continue
        item.add_marker(pytest.mark.xdist_group(f"notebook:{item.path.parent.name}/{item.path.name}"))
        notebook = item.parent
        if hasattr(notebook, "skip_compare") and "stderr" not in notebook.skip_compare:
            notebook.skip_compare += ("stderr",)



class _GroupsTookEffect:
    """With ``--dist loadgroup``, a worker's tests of a group must carry the group's name in their ids, or xdist
    spreads a notebook's cells over several workers (a cell then runs without the cells before it: NameErrors).
    pytest 9.2 broke this (pytest-xdist issue 1386; constraints.txt pins 9.1.1). Then every notebook cell fails
    with a message that says why, instead of a NameError far from the cause."""

    @pytest.hookimpl(trylast=True)  # after pytest-xdist has added each group's name to its tests' ids
    def pytest_collection_modifyitems(self, config, items):
        if not getattr(config.option, "loadgroup", False):  # set on xdist's workers for --dist loadgroup
            return
        message = (f"pytest-xdist did not keep this notebook's cells on one worker (pytest {pytest.__version__}, "
                   "--dist loadgroup): install the pytest that constraints.txt pins, or run with --dist loadfile")
        for item in items:
            if any(True for _ in item.iter_markers("xdist_group")) and "@" not in item.nodeid:
                item.runtest = lambda: pytest.fail(message, pytrace=False)


def pytest_configure(config):
    config.pluginmanager.register(_GroupsTookEffect(), "tinygrad_lite_groups_took_effect")
