"""``tinygrad_lite.nn``: layers, and what they are built from.

- ``Module``: the base class; it registers parameters, buffers and sub-modules (``modules/module.py``).
- ``Parameter``: a tensor the model learns (``parameter.py``).
- the layers (``modules/``): Linear, activations, Flatten, Dropout, BatchNorm1d, containers, losses.
- ``functional``: the same computations as functions; every layer's forward calls one of them.
- ``init``: weight initialisation schemes.
- ``utils``: gradient clipping and gradient statistics.
- ``parallel``: ``DataParallel`` and ``DistributedDataParallel``, for scripts written for several GPUs or processes.
"""
from ..coverage import missing_names as _missing_names
from . import functional, init, utils
from .modules import *
from .modules import __all__ as _module_names
from .parameter import Parameter, UninitializedBuffer, UninitializedParameter
from . import attention, parallel
from .parallel import DataParallel

__all__ = ["Parameter", "UninitializedParameter", "UninitializedBuffer", "functional", "init", "utils", "parallel",
           "DataParallel"] + list(_module_names)


__getattr__ = _missing_names(__name__)  # (a name this module lacks: what the library has instead)
