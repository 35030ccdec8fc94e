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
