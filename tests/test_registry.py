"""Every op of the table in registry.py against PyTorch, and every exported optimizer has its settings there.

The op table is what the cross-cutting tests iterate (devices, autocast); here each entry is checked once against
PyTorch in float64: the same values, and the same gradient for both inputs. An op's own properties (broadcasting,
ties, dims, edge cases) are tested beside it, in test_ops.py and test_idioms.py.
"""
import numpy as np
import pytest
import torch
from helpers import compare
from registry import OPS, OPTIMIZERS, SETTINGS

import tinygrad_lite as tl
import tinygrad_lite.nn.functional as F


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_of_the_table_matches_pytorch_in_value_and_gradient(name):
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((2, 4, 4))
    labels = np.array([0, 1, 2, 3])
    compare(lambda a, b: OPS[name](tl, F, a, b, tl.tensor(labels)),
            lambda a, b: OPS[name](torch, torch.nn.functional, a, b, torch.tensor(labels)), [x, y])


def test_the_optimizers_come_from_optim_all():
    assert OPTIMIZERS == [name for name in tl.optim.__all__
                          if name not in ("Optimizer", "lr_scheduler", "swa_utils", "LBFGS")]
    assert {"SGD", "Adam", "AdamW", "RMSprop", "Adagrad"} <= set(OPTIMIZERS)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_every_exported_optimizer_has_settings_that_pytorch_accepts(name):
    assert name in SETTINGS, (f"optim.{name} is exported but has no entry in tests/registry.py SETTINGS: give it a "
                              "configuration that uses its options (CONTRIBUTING.md, 'Adding an optimizer')")
    getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)], **SETTINGS[name])
    getattr(tl.optim, name)([tl.zeros(1, requires_grad=True)], **SETTINGS[name])
