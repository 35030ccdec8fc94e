"""``tinygrad_lite.nn``: layers, and what they are built from.

- ``Module``: the base class; it registers parameters, buffers and sub-modules (``modules/module.py``).
- ``Parameter``: a tensor the model learns (``parameter.py``).
- the layers (``modules/``): Linear, activations, Flatten, Dropout, BatchNorm1d, containers, losses.
- ``functional``: the same computations as functions; every layer's forward calls one of them.
- ``init``: weight initialisation schemes.
- ``utils``: gradient clipping and gradient statistics.
"""
from ..coverage import not_covered as _not_covered
from . import functional, init, utils
from .modules import *
from .modules import __all__ as _module_names
from .parameter import Parameter

__all__ = ["Parameter", "functional", "init", "utils"] + list(_module_names)


def __getattr__(name):  # (a name this module lacks: the error says what the library has instead, coverage.py)
    raise _not_covered(__name__, name)
