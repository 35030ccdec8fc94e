"""tinygrad_lite: a small autograd library whose API mirrors PyTorch's.

``import tinygrad_lite as torch`` and a plain PyTorch training script runs, for the features we cover.
Start reading at ``tensor.py`` (the Tensor and the backward pass), then ``ops/`` (each op's forward and
backward side by side), then ``nn/``.
"""
from . import accelerator, autograd, cuda  # noqa: F401
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401
from .autograd.gradcheck import gradcheck  # noqa: F401
from .creation import (arange, empty, eye, from_numpy, full, full_like, linspace, ones, ones_like, rand,  # noqa: F401
                       rand_like, randint, randn, randn_like, randperm, tensor, zeros, zeros_like)
from .device import device  # noqa: F401
from .dtypes import (bool, dtype, float16, float32, float64, get_default_dtype, int8, int16, int32,  # noqa: F401,A004
                    int64, promote_types, result_type, set_default_dtype, uint8)
from .functions import *  # noqa: F401,F403
from .random import Generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state  # noqa: F401
from .tensor import Size, Tensor  # noqa: F401
from . import nn  # noqa: E402,F401  (after Tensor: nn builds on it)
from . import optim  # noqa: E402,F401
from . import datasets, metrics, utils  # noqa: E402,F401  (utils.data is torch.utils.data)
from .serialization import load, save  # noqa: E402,F401  (after nn: a Parameter loads as one)

half, float, double = float16, float32, float64  # noqa: A001
short, int, long = int16, int32, int64  # noqa: A001
__version__ = "0.1.0"
