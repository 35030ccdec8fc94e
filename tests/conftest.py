"""Shared test set-up: every test starts from the same seeds, and hypothesis runs the same examples every time."""
import random

import numpy as np
import pytest
from hypothesis import settings

import tinygrad_lite

settings.register_profile("repeatable", derandomize=True, deadline=None, max_examples=40, print_blob=True)
settings.load_profile("repeatable")


@pytest.fixture(autouse=True)
def _seed_everything():
    random.seed(0)
    np.random.seed(0)
    tinygrad_lite.manual_seed(0)
    try:
        import torch
        torch.manual_seed(0)
    except ImportError:
        pass
    yield


def pytest_collection_modifyitems(items):
    """nbval compares the output of each notebook cell marked ``# NBVAL_CHECK_OUTPUT`` with the stored one. On a
    loaded machine the kernel itself can write to its stderr (ipykernel's "IOStream.flush timed out"), which
    ipykernel forwards into the cell's output: compare what the cell prints and shows, not stderr."""
    for item in items:
        notebook = item.parent
        if hasattr(notebook, "skip_compare") and "stderr" not in notebook.skip_compare:
            notebook.skip_compare += ("stderr",)
