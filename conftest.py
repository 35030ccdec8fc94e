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
- A kernel that dies while it starts is started again (twice at most). jupyter_client picks free TCP ports for a
  kernel, then the kernel binds them; with several workers starting kernels at once, another process can take a
  port in between, and the kernel exits before it answers ("Kernel died before replying to kernel_info": seen
  once in .ci/run's second pass, every cell of that notebook an error). A second start picks other ports.
"""
import functools
import logging
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


def _retrying(start, attempts=3):
    """``start`` (nbval's start_new_kernel) tried again when the kernel dies while it starts (see above)."""
    @functools.wraps(start)
    def start_again_if_it_died(*args, **kwargs):
        for attempt in range(1, attempts + 1):
            try:
                return start(*args, **kwargs)
            except RuntimeError as error:
                if "died" not in str(error) or attempt == attempts:
                    raise
                logging.getLogger(__name__).warning("kernel died while starting (%s); starting it again", error)
    start_again_if_it_died.retrying = True
    return start_again_if_it_died


def pytest_configure(config):
    config.pluginmanager.register(_GroupsTookEffect(), "tinygrad_lite_groups_took_effect")
    try:
        import nbval.kernel as nbval_kernel  # RunningKernel calls this module's start_new_kernel
    except ImportError:  # nbval is optional here (a run without notebooks)
        return
    if not getattr(nbval_kernel.start_new_kernel, "retrying", False):
        nbval_kernel.start_new_kernel = _retrying(nbval_kernel.start_new_kernel)
