"""The layers: ``Module`` (the base class), containers, and one file per kind of layer (losses in loss.py)."""
from .activation import GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax, Softplus, Tanh
from .batchnorm import BatchNorm1d
from .container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .dropout import Dropout
from .flatten import Flatten
from .linear import Identity, Linear
from .loss import *
from .loss import __all__ as _loss_names
from .module import Module
from .normalization import LayerNorm
from .sparse import Embedding

__all__ = ["Module", "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict", "Linear", "Identity",
           "ReLU", "LeakyReLU", "Sigmoid", "SiLU", "Tanh", "Softplus", "GELU", "Softmax", "LogSoftmax", "Flatten",
           "Dropout", "BatchNorm1d", "LayerNorm", "Embedding"] + list(_loss_names)
