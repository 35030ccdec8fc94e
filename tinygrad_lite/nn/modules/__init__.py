"""The layers: ``Module`` (the base class), containers, and one file per kind of layer (losses in loss.py)."""
from .activation import (
    CELU,
    ELU,
    GELU,
    GLU,
    SELU,
    Hardshrink,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    Mish,
    PReLU,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softmin,
    Softplus,
    Softshrink,
    Softsign,
    Tanh,
    Tanhshrink,
    Threshold,
    RReLU,
    Softmax2d,
)
from .attention import MultiheadAttention
from .adaptive import AdaptiveLogSoftmaxWithLoss
from .batchnorm import BatchNorm1d, BatchNorm2d, BatchNorm3d, SyncBatchNorm
from .conv import *
from .conv import __all__ as _conv_names
from .container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .distance import CosineSimilarity, PairwiseDistance
from .dropout import AlphaDropout, Dropout, Dropout1d, Dropout2d, Dropout3d, FeatureAlphaDropout
from .flatten import Flatten, Unflatten
from .linear import Bilinear, Identity, Linear
from .loss import *
from .loss import __all__ as _loss_names
from .lazy import *
from .lazy import __all__ as _lazy_names
from .module import Module
from .instancenorm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from .normalization import GroupNorm, LayerNorm, LocalResponseNorm, RMSNorm
from .padding import *
from .padding import __all__ as _padding_names
from .pooling import *
from .pooling import __all__ as _pooling_names
from .rnn import *
from .rnn import __all__ as _rnn_names
from .sparse import Embedding, EmbeddingBag
from .transformer import *
from .transformer import __all__ as _transformer_names
from .upsampling import *
from .upsampling import __all__ as _upsampling_names

__all__ = ["Module", "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict", "Linear", "Identity",
           "ReLU", "LeakyReLU", "Sigmoid", "SiLU", "Tanh", "Softplus", "GELU", "Softmax", "LogSoftmax", "Flatten",
           "Dropout", "BatchNorm1d", "LayerNorm", "Embedding", "ELU", "SELU", "CELU", "Hardtanh", "ReLU6",
           "Hardsigmoid", "Hardswish", "LogSigmoid", "Softsign", "Mish", "Tanhshrink", "Softshrink", "Hardshrink",
           "Threshold", "Softmin", "GLU", "PReLU", "Unflatten", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm",
           "Dropout1d", "Dropout2d", "Dropout3d", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d",
           "MultiheadAttention", "RMSNorm", "Bilinear", "PairwiseDistance", "CosineSimilarity", "EmbeddingBag",
           "LocalResponseNorm", "RReLU", "Softmax2d", "AlphaDropout", "FeatureAlphaDropout",
           "AdaptiveLogSoftmaxWithLoss"] + \
    list(_padding_names) + list(_loss_names) + list(_conv_names) + list(_pooling_names) + list(_upsampling_names) + \
    list(_transformer_names) + list(_rnn_names) + list(_lazy_names)
