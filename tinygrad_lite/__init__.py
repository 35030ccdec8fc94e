"""tinygrad_lite: a small autograd library whose API mirrors PyTorch's.

``import tinygrad_lite as torch`` and a plain PyTorch training script runs, for the features we cover.
Read the engine in this order (the README's "Reading the engine"): ``autograd/function.py`` (what an op is),
a few ``ops/`` (each op's forward and backward side by side), ``autograd/engine.py`` (the backward pass),
``autograd/inplace.py`` (in-place changes and autograd), then ``tensor.py`` (the Tensor API) and ``nn/``.
"""
import importlib
import math

import numpy as _numpy

if int(_numpy.__version__.split(".")[0]) < 2:  # (first: every dtype below follows numpy 2's rules)
    raise ImportError(f"tinygrad_lite needs numpy 2.0 or newer, and this Python has numpy {_numpy.__version__}.\n"
                      "numpy 1 promotes dtypes otherwise (a float32 result can come out float64, unlike PyTorch's).\n"
                      "Upgrade it: pip install --upgrade 'numpy>=2'\n"
                      "(in a notebook: %pip install --upgrade 'numpy>=2', then restart the kernel)")
from . import accelerator, autograd, cuda
from .autograd import (enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad,
                       set_grad_enabled)
from .autograd.gradcheck import gradcheck
from .creation import (arange, as_tensor, bernoulli, empty, eye, from_numpy, full, full_like, linspace, logspace,
                       multinomial, normal, ones, ones_like, rand, rand_like, randint, randn, randn_like, randperm,
                       tensor, zeros, zeros_like)
from .device import device
from .dtypes import (bool, dtype, float16, float32, float64, get_default_dtype, int8, int16, int32,
                    int64, promote_types, result_type, set_default_dtype, uint8)
from .functions import *
from .searching import bucketize, searchsorted, unique
from .composed_math import (
    addbmm,
    addmm,
    addmv,
    baddbmm,
    cdist,
    clamp_max,
    clamp_min,
    corrcoef,
    count_nonzero,
    cov,
    dot,
    frac,
    ger,
    log10,
    log2,
    logical_and,
    logical_or,
    logical_xor,
    logit,
    median,
    mode,
    mv,
    nan_to_num,
    nanmean,
    nansum,
    outer,
    quantile,
    std_mean,
    tan,
    var_mean,
    xlogy,
)
from .composed import (
    broadcast_shapes,
    broadcast_tensors,
    broadcast_to,
    chunk,
    diag,
    diagonal,
    diff,
    flip,
    index_select,
    masked_select,
    meshgrid,
    moveaxis,
    movedim,
    narrow,
    ravel,
    select,
    repeat_interleave,
    roll,
    split,
    swapaxes,
    swapdims,
    take_along_dim,
    tile,
    trace,
    tril,
    triu,
    unbind,
    unflatten,
)
from .special import digamma, erf, erfc, erfinv, lgamma, mvlgamma, polygamma
from .special import gammainc as igamma
from .special import gammaincc as igammac
from .composed_shapes import *  # tensor_split, hstack, rot90, tril_indices, isin ... (composed_shapes.py)
from . import random_fills  # exponential_, geometric_, log_normal_, cauchy_, random_ (random_fills.py)
from .composed_math import (cumulative_trapezoid, dist, float_power, fmax, fmin, logcumsumexp, trapezoid, trapz,
                            true_divide, vander)
from .nn.functional import channel_shuffle, native_channel_shuffle, pdist
from .order_statistics import aminmax, cummax, cummin, histc, histogram, kthvalue
from .aliases import (absolute, greater, greater_equal, is_nonzero, is_same_size, less, less_equal, multiply,
                      negative, not_equal, randint_like, rsub, scalar_tensor, subtract, unique_consecutive,
                      unravel_index)
from .composed_math import nanmedian
from .products import addr, chain_matmul, cross, inner, kron, matrix_exp, matrix_power, tensordot
from .bitwise import (bitwise_and, bitwise_left_shift, bitwise_not, bitwise_or, bitwise_right_shift,
                      bitwise_xor)
from .triangular import cholesky_inverse, cholesky_solve, diag_embed
from .lu import det, inverse, logdet, lu_unpack, slogdet
from .lu import lu_solve_old as lu_solve
from .factorisations import geqrf, orgqr, pinverse, qr_old as qr, svd_old as svd
from .count_draws import binomial, poisson
from . import inplace_methods  # (x.exp_() and the other in-place forms: inplace_methods.py)
from .trigonometry import *  # asin, acos, atan, atan2, sinh ... (trigonometry.py)
from .scatter import index_add, index_copy, index_fill, index_put, masked_scatter, scatter, scatter_add, scatter_reduce
from .random import Generator, default_generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from .tensor import Size, Tensor
from ._tensor_str import set_printoptions
from . import backends, linalg, return_types
from .creation import empty_like
from .device import get_default_device, set_default_device
from . import storage  # (x.data_ptr(), x.stride(), x.storage_offset(), x.get_device())
from .legacy import (BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor, HalfTensor,
                     IntTensor, LongTensor, ShortTensor)
from . import nn
from . import optim
from . import datasets, distributions, func, metrics, special, utils
from . import amp, cpu, jit
from . import profiler
from .autograd import profiler as _older_profiler  # (autograd.profiler, made of profiler/: imported after it)
from .amp import autocast
from .coverage import not_covered as _not_covered
from .nn.functional import (bilinear, celu, celu_, cosine_similarity, hardshrink, pairwise_distance, prelu, relu_,
                            rms_norm, selu, selu_, threshold, threshold_)
from .einsum import einsum
from .foreach import FUNCTIONS as _FOREACH  # torch._foreach_add_ and the rest (EMA helpers and optimizers use them)
# PyTorch's top-level names of the convolutions and pools (torch.conv2d is F.conv2d)
from .nn.functional import (adaptive_avg_pool1d, adaptive_max_pool1d, avg_pool1d, conv1d, conv2d, conv3d,
                            conv_transpose1d, conv_transpose2d, conv_transpose3d, max_pool1d, max_pool1d_with_indices,
                            max_pool2d, max_pool3d)
from .amp.autocast_mode import bfloat16, is_autocast_enabled
from .autograd.anomaly_mode import is_anomaly_enabled
from .memory_formats import channels_last, channels_last_3d, contiguous_format, memory_format, preserve_format
from .serialization import load, save
from . import compiler, distributed
from .compiler import compile
from .settings import (are_deterministic_algorithms_enabled, get_float32_matmul_precision, get_num_threads,
                       is_deterministic_algorithms_warn_only_enabled, set_float32_matmul_precision, set_num_threads,
                       use_deterministic_algorithms)

globals().update(_FOREACH)
half, float, double = float16, float32, float64
e, inf, nan, pi = math.e, math.inf, math.nan, math.pi  # torch.e, torch.inf, torch.nan, torch.pi
short, int, long = int16, int32, int64
__version__ = "0.1.0"


def __getattr__(name):
    """``tl.train``, our training toolkit (not PyTorch's), ``tl.safetensors`` (the weights PyTorch exchanges
    through the safetensors package) and ``tl.testing`` are loaded on first use, as PyTorch loads some of its
    submodules; ``import tinygrad_lite.train`` works too. Another name the library lacks: ``coverage.py``."""
    if name in ("train", "safetensors", "testing"):
        return importlib.import_module(f"{__name__}.{name}")
    raise _not_covered(__name__, name)
