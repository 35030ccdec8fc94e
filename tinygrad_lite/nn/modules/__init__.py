"""The layers: ``Module`` (the base class), containers, and one file per kind of layer."""
from .activation import GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .batchnorm import BatchNorm1d
from .container import ModuleDict, ModuleList, Sequential
from .dropout import Dropout
from .flatten import Flatten
from .linear import Identity, Linear
from .module import Module

# The loss layers live in loss.py; imported last, so that loss.py may use everything above.
from .loss import *  # noqa: E402,F401,F403
from .loss import __all__ as _loss_names  # noqa: E402

__all__ = ["Module", "Sequential", "ModuleList", "ModuleDict", "Linear", "Identity", "ReLU", "LeakyReLU", "Sigmoid",
           "Tanh", "GELU", "Softmax", "LogSoftmax", "Flatten", "Dropout", "BatchNorm1d"] + list(_loss_names)
