r"""``tinygrad_lite.nn.functional`` (``import tinygrad_lite.nn.functional as F``): the layers' math as functions.

A layer such as ``nn.Linear`` owns parameters and state; its ``forward`` calls the function here, which owns the
computation. So each computation is written once, and you can call it with tensors of your own:
``F.linear(x, w, b)``. The functions are built from the engine's ops, so autograd differentiates them.
"""
import math
import numbers
import warnings

import numpy as np

from ...coverage import missing_names as _missing_names
from ...amp.autocast_mode import autocast_args
from ...autograd.grad_mode import no_grad
from ...device import array_module_of, check_same_device, is_gpu_array, on_device_of, same_device
from ...functions import write_out
from ...kernels.activation import ReLUCuda
from ...kernels.batch_norm import batch_norm as cuda_batch_norm
from ...kernels.dropout import DropoutCuda
from ...kernels.layer_norm import LayerNormCuda
from ...ops.activation import GELU, LeakyReLU, ReLU
from ...ops.batch_norm import BatchNorm, batch_statistics
from ...ops.layer_norm import LayerNorm
from ...ops.matmul import Linear
from ... import dtypes as dt
from ... import random
from ...return_types import refuse_pair
from ...shapes import check_broadcast, check_number, dim_index
from ...tensor import Tensor, _numpy_names, where
from ._checks import _check_floating, _check_inplace, _check_tensor, _in_place, _softmax_dim
from .activation import *  # the activations the lessons do not use, composed (activation.py)
from .activation import __all__ as _activation_names
from .activation import softplus
from .padding import pad
from .conv import *  # convolutions, unfold and fold (conv.py)
from .conv import __all__ as _conv_names
from .pooling import *  # max, average and adaptive pooling (pooling.py)
from .pooling import __all__ as _pooling_names
from .normalization import group_norm, instance_norm, local_response_norm, rms_norm  # (composed: normalization.py)
from .vision import *  # interpolate, pixel_shuffle, max_unpool (vision.py)
from .vision import __all__ as _vision_names
from .sampling import affine_grid, grid_sample  # (sampling.py)
from .composed_loss import *  # margin, embedding, triplet, Gaussian and Poisson losses (composed_loss.py)
from .composed_loss import __all__ as _composed_loss_names
from .attention import *  # scaled_dot_product_attention, multi_head_attention_forward (attention.py)
from .attention import __all__ as _attention_names
from .ctc import ctc_loss  # Connectionist Temporal Classification's loss (ctc.py)
from .embedding_bag import embedding_bag  # the sum, mean or max of bags of rows (embedding_bag.py)
from .loss import *  # the loss functions (loss.py)
from .loss import __all__ as _loss_names


# -------------------------------------------------------------------- linear
def _check_linear_input(who, input, in_features):
    """The error for a Linear layer fed features of the wrong size; shared by ``linear`` and ``nn.Linear``."""
    _check_tensor(who, input)
    shape = input.array.shape
    if shape and shape[-1] == in_features:
        return
    shape = tuple(input.shape)
    got = shape[-1] if shape else "a 0-d tensor"
    message = (f"{who}: the input's last dim must be {in_features} (in_features), got {got} (input shape {shape}). ")
    if len(shape) > 2 and math.prod(shape[1:]) == in_features:
        message += (f"Each sample is {shape[1:]}, which has {in_features} numbers: flatten it first with "
                    "nn.Flatten() before this layer (or x.flatten(1)).")
    elif len(shape) > 2:
        message += "If these are images, flatten them first with nn.Flatten(), and set in_features to the result."
    else:
        message += "Set in_features to the number of features the previous layer produces."
    raise RuntimeError(message)


def linear(input, weight, bias=None):
    r"""y = x W^T + b, over the last dim of x: (*, in) @ (in, out) -> (*, out). W is (out, in), as in PyTorch."""
    if not (isinstance(input, Tensor) and isinstance(weight, Tensor)) or \
            input.array.shape[-1:] != weight.array.shape[-1:]:
        _check_tensor("linear", weight, "weight")  # these raise the error that says what is wrong
        _check_linear_input("linear", input, weight.array.shape[-1])
    input, weight, bias = autocast_args("linear", input, weight, bias)  # float16 inside autocast (amp/)
    if input.array.dtype != weight.array.dtype:
        to = {"float16": "half()", "float32": "float()", "float64": "double()"}
        fix = f"convert the input, x.{to[weight.dtype.name]}, or the model, model.{to.get(input.dtype.name)}"
        if not input.dtype.is_floating_point:  # (class indices or counts: only the input can change)
            fix = f"the input holds {input.dtype.name} numbers: convert it, x.{to[weight.dtype.name]}"
        numpy = " (numpy arrays are float64 by default)" if dt.float64 in (input.dtype, weight.dtype) else ""
        raise RuntimeError(f"linear(): the input is {input.dtype} but the weight is {weight.dtype}; they must match: "
                           f"{fix}{numpy}")
    if weight.array.ndim != 2:  # a 1-D weight (one output, no out dim): plain matmul
        out = input.matmul(weight)
        return out if bias is None else out + bias
    try:
        return Linear.apply(input, weight, bias)  # one op: see ops/matmul.py for its forward and backward
    except ValueError:  # the shapes were checked above: only adding the bias can fail
        if bias is None:
            raise
        raise RuntimeError(f"linear(): the bias has shape {tuple(bias.shape)}, which does not broadcast to the output "
                           f"(*, {weight.shape[0]}); it must hold one number per output, shape ({weight.shape[0]},)") \
            from None


def bilinear(input1, input2, weight, bias=None):
    r"""y_k = x_1^T W_k x_2 + b_k for each output k: input1 (*, in1), input2 (*, in2), weight (out, in1, in2), bias
    (out) -> (*, out). Each output is a learned bilinear form of the two inputs (their products, weighted)."""
    for what, t in (("input1", input1), ("input2", input2), ("weight", weight)):
        _check_tensor("bilinear", t, what)
    if weight.ndim != 3 or input1.shape[-1:] != weight.shape[1:2] or input2.shape[-1:] != weight.shape[2:] or \
            input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(f"bilinear(): expected input1 (*, in1), input2 (*, in2) with the same leading dims and "
                           f"weight (out, in1, in2), got {tuple(input1.shape)}, {tuple(input2.shape)} and "
                           f"{tuple(weight.shape)}")
    out_features, in1, in2 = weight.shape  # (x1 W_k) . x2 for every k: one matrix product, then a product and a sum
    mixed = input1 @ weight.permute(1, 0, 2).reshape(in1, out_features * in2)  # (*, out * in2)
    out = (mixed.reshape(*input1.shape[:-1], out_features, in2) * input2.unsqueeze(-2)).sum(-1)
    return out if bias is None else out + bias


# -------------------------------------------------------------------- activations


def relu(input, inplace=False):
    r"""max(x, 0), elementwise. ``inplace=True`` writes the result into ``input`` and returns it, as
    ``input.relu_()`` does (recorded in the graph like any in-place op: its gradient flows as PyTorch's)."""
    _check_tensor("relu", input)
    _check_inplace("relu", inplace)
    if inplace:
        return _in_place(input, "relu", relu)
    return (ReLUCuda if is_gpu_array(input.array) else ReLU).apply(input)  # (kernels/activation.py on a GPU)


def relu_(input):
    """``relu(input, inplace=True)``."""
    return relu(input, inplace=True)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    r"""x for x > 0, else negative_slope * x. ``inplace=True`` writes it into ``input``, as in ``relu``."""
    _check_floating("leaky_relu", input, NotImplementedError)
    check_number("leaky_relu", "negative_slope", negative_slope)
    _check_inplace("leaky_relu", inplace)
    if inplace:
        return _in_place(input, "leaky_relu", lambda x: leaky_relu(x, negative_slope))
    return LeakyReLU.apply(input, negative_slope=negative_slope)


def leaky_relu_(input, negative_slope=0.01):
    """``leaky_relu(input, negative_slope, inplace=True)``."""
    return leaky_relu(input, negative_slope, inplace=True)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    r"""Randomized leaky ReLU: x for x >= 0, else a x with a slope a ~ Uniform(lower, upper) drawn for each element
    in training (from the input's device's generator), and the mean slope (lower + upper) / 2 in evaluation.
    dy/dx = 1 or a."""
    _check_floating("rrelu", input, NotImplementedError)
    check_number("rrelu", "lower", lower), check_number("rrelu", "upper", upper)
    if lower > upper:
        raise RuntimeError(f"rrelu(): lower bound should be less than or equal to the upper bound, got {lower} and "
                           f"{upper}")
    _check_inplace("rrelu", inplace)
    if inplace:
        return _in_place(input, "rrelu", lambda x: rrelu(x, lower, upper, training))
    if not training:
        return leaky_relu(input, (lower + upper) / 2)
    slopes = input.new_empty(input.shape).uniform_(lower, upper)
    return where(input >= 0, input, input * slopes)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    """``rrelu(..., inplace=True)``."""
    return rrelu(input, lower, upper, training, inplace=True)


def gelu(input, approximate="none"):
    r"""x \Phi(x), \Phi the standard normal CDF; ``approximate="tanh"`` uses PyTorch's tanh formula for \Phi."""
    _check_floating("gelu", input, NotImplementedError)
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"gelu(): approximate argument must be either none or tanh, got {approximate!r}")
    return GELU.apply(input, approximate=approximate)


def silu(input, inplace=False):
    r"""x \sigma(x), the sigmoid-weighted linear unit (also called swish): smooth, and negative for x < 0 down to
    about -0.28. d/dx = \sigma(x) (1 + x (1 - \sigma(x))). ``inplace=True`` writes it into ``input``."""
    _check_floating("silu", input, NotImplementedError)
    _check_inplace("silu", inplace)
    if inplace:
        return _in_place(input, "silu", silu)
    return input * input.sigmoid()


def sigmoid(input):
    r"""1 / (1 + e^{-x}); integer inputs are computed in the default float type."""
    _check_tensor("sigmoid", input)
    return input.sigmoid()


def tanh(input):
    r"""tanh x; integer inputs are computed in the default float type."""
    _check_tensor("tanh", input)
    return input.tanh()


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    r"""e^{x_i} / \sum_j e^{x_j} along ``dim``: each slice along dim becomes probabilities summing to 1."""
    _check_tensor("softmax", input)
    if dtype is not None:
        input = input.to(dtype=dtype)
    return input.softmax(_softmax_dim("softmax", input.ndim, _stacklevel) if dim is None else dim)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    r"""x_i - \log \sum_j e^{x_j} along ``dim``: log(softmax(x)), computed stably."""
    _check_tensor("log_softmax", input)
    if dtype is not None:
        input = input.to(dtype=dtype)
    return input.log_softmax(_softmax_dim("log_softmax", input.ndim, _stacklevel) if dim is None else dim)


# -------------------------------------------------------------------- dropout
def _check_dropout_p(p, name="dropout"):
    """``p`` a probability; ``name``: the function or layer, named when it is not plain dropout's."""
    check_number(name, "p", p)
    if not 0 <= p <= 1:
        where = "" if name == "dropout" else f"{name}: "
        raise ValueError(f"{where}dropout probability has to be between 0 and 1, but got {p}; p is the fraction of "
                         "values set to zero (0.5 is the usual choice)")


def dropout(input, p=0.5, training=True, inplace=False):
    r"""Inverted dropout: in training, zero each value with probability p and scale the survivors by 1/(1-p).

    With mask m_i ~ Bernoulli(1-p), y_i = x_i m_i / (1-p), so E[y_i] = x_i: the expected value is unchanged and no
    rescaling is needed at evaluation, where (``training=False``) dropout is the identity. dy/dx = m / (1-p).
    The mask is drawn on the input's device, from its global generator (seed it with ``manual_seed``);
    ``inplace=True`` writes the result into ``input`` and returns it.
    """
    _check_floating("dropout", input)
    _check_dropout_p(p)
    _check_inplace("dropout", inplace)
    if not training or p == 0:
        return input
    if inplace:
        return _in_place(input, "dropout", lambda x: dropout(x, p, training))
    if is_gpu_array(input.array):  # (one kernel draws the mask and applies it: kernels/dropout.py)
        return DropoutCuda.apply(input, p)
    mask = random.dropout_mask(input.shape, p, input.dtype.np)  # 1/(1-p) with probability 1 - p, else 0
    return input * Tensor._make(mask, None)


def _feature_dropout(name, input, p, training, inplace, batched):
    """Dropout of whole channels: one draw per (example, channel), its numbers all kept (scaled by 1/(1-p)) or all
    zeroed. The mask is ``dropout`` of ones of shape (N, C, 1, ...), drawn on the input's device."""
    _check_floating(name, input)
    _check_dropout_p(p, name)
    _check_inplace(name, inplace)
    if not training or p == 0:
        return input
    if inplace:
        return _in_place(input, name, lambda x: _feature_dropout(name, x, p, training, False, batched))
    channels = tuple(input.shape[:2]) if batched else tuple(input.shape[:1])
    mask = dropout(input.new_ones(channels + (1,) * (input.ndim - len(channels))), p)
    return input * mask


def _warn_unusual_dims(d, ndim):
    """PyTorch's warning when dropout{d}d gets an input of neither d + 1 nor d + 2 dims (deprecated, still run)."""
    if ndim not in (d + 1, d + 2):
        warnings.warn(f"dropout{d}d: Received a {ndim}-D input to dropout{d}d, which is deprecated and will result "
                      "in an error in a future release. To retain the behavior and silence this warning, please use "
                      f"dropout instead. Note that dropout{d}d exists to provide channel-wise dropout on inputs with "
                      f"{d} spatial dimensions, a channel dimension, and an optional batch dimension (i.e. {d + 1}D or "
                      f"{d + 2}D inputs).", stacklevel=3)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Channel-wise dropout for (N, C, L) or (C, L) input: each channel of each example zeroed with probability p
    (its whole signal), the others scaled by 1/(1-p). Neighbouring numbers of a signal are alike, so dropping them
    one by one (``dropout``) hardly regularizes; dropping a channel does."""
    _check_tensor("dropout1d", input)
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input (shape "
                           f"{tuple(input.shape)}); it zeroes whole channels of (N, C, L) or (C, L) signals")
    return _feature_dropout("dropout1d", input, p, training, inplace, input.ndim == 3)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Channel-wise dropout for images, (N, C, H, W): each channel of each example zeroed with probability p, the
    others scaled by 1/(1-p). As PyTorch's, a 3-D input is read as (N, C, L), with its warning."""
    _check_tensor("dropout2d", input)
    _warn_unusual_dims(2, input.ndim)
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior "
                      "is desired - input is interpreted as shape (N, C, L), where C is the channel dim. This "
                      "behavior will change in a future release to interpret the input as one without a batch "
                      "dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout behavior, please "
                      "switch to using dropout1d instead.", stacklevel=2)
    return _feature_dropout("dropout2d", input, p, training, inplace, True)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Channel-wise dropout for volumes, (N, C, D, H, W) or (C, D, H, W)."""
    _check_tensor("dropout3d", input)
    _warn_unusual_dims(3, input.ndim)
    return _feature_dropout("dropout3d", input, p, training, inplace, input.ndim == 5)


# -------------------------------------------------------------------- alpha dropout
# Alpha dropout, the dropout of self-normalising networks (SELU activations, Klambauer et al. 2017).
#
# Plain dropout sets values to 0 and scales the rest by 1/(1-p): that keeps the mean but not the variance, and a
# SELU network relies on both staying at 0 and 1. Alpha dropout sets a dropped value to SELU's negative saturation
# value alpha' = -lambda alpha = -1.7580993408473766 instead, then an affine map a x + b restores mean 0 and
# variance 1 (for inputs of mean 0 and variance 1):
#
#     y = a (x m + alpha' (1 - m)) + b,   m ~ Bernoulli(1 - p),
#     a = ((1 - p) (1 + p alpha'^2))^{-1/2},   b = -a alpha' p.
#
# dy/dx = a m. ``feature_alpha_dropout`` draws one m per channel (of each example), as ``dropout2d`` does. In
# evaluation (``training=False``) both are the identity. The mask comes from the input's device's generator, so its
# numbers are not PyTorch's for the same seed.
ALPHA = 1.7580993408473766  # -alpha' = lambda alpha, SELU's constants multiplied


def _alpha_dropout(name, input, p, training, inplace, feature):
    _check_floating(name, input)
    _check_dropout_p(p, name)
    _check_inplace(name, inplace)
    if not training or p == 0 or input.numel() == 0:
        return input
    if inplace:
        return _in_place(input, name, lambda x: _alpha_dropout(name, x, p, training, False, feature))
    if p == 1:
        return input * 0.0
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2) if feature else tuple(input.shape)
    keep = input.new_empty(shape).bernoulli_(1 - p)
    a = 1 / math.sqrt((ALPHA * ALPHA * p + 1) * (1 - p))
    return input * (keep * a) + ((keep - 1) * (ALPHA * a) + ALPHA * a * p)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of each value (the module docstring's formula); the identity when not training."""
    return _alpha_dropout("alpha_dropout", input, p, training, inplace, feature=False)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of whole channels (N, C, *): one draw per channel of each example."""
    return _alpha_dropout("feature_alpha_dropout", input, p, training, inplace, feature=True)


# -------------------------------------------------------------------- batch norm
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    r"""Normalise each channel (dim 1) over the batch, then scale and shift it.

    For input (N, C) or (N, C, L, ...), per channel c over all the other dims (n = N * L * ... values):
        y = (x - \mu_c) / \sqrt{\sigma_c^2 + eps} * weight_c + bias_c

    ``training=True``: \mu and \sigma^2 are the batch's mean and *biased* variance (divide by n), and autograd
    differentiates through them. If running statistics are given they are updated in place:
        running_mean = (1 - momentum) running_mean + momentum \mu
        running_var  = (1 - momentum) running_var  + momentum \sigma^2 n / (n - 1)   (the *unbiased* variance)
    ``training=False``: \mu and \sigma^2 are the running statistics, treated as constants.

    It runs as one op, ``BatchNorm`` (``ops/batch_norm.py``), whose backward is the closed form of lesson 10; on
    "cuda" as that op's fused kernels (``kernels/batch_norm.py``: the statistics as matrix products with a vector of
    ones, the running statistics updated on the GPU). The same formula runs as separate ops (autograd
    differentiating each) for float16, for tensors of mixed dtypes or devices, and in evaluation when the running
    statistics themselves require grad.
    """
    _check_floating("batch_norm", input)
    if input.ndim < 2:
        raise ValueError(f"batch_norm(): expected an input of shape (N, C) or (N, C, L, ...), got shape "
                         f"{tuple(input.shape)}; for a single sample use x.unsqueeze(0)")
    channels = input.shape[1]
    if channels == 0:  # (PyTorch: an IndexError from deep inside)
        raise ValueError(f"batch_norm(): the input of shape {tuple(input.shape)} has 0 channels (dim 1), so there is "
                         "nothing to normalise; a BatchNorm layer needs num_features >= 1, the number of features "
                         "the previous layer produces")
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        if t is not None and not isinstance(t, Tensor):
            raise TypeError(f"batch_norm(): {name} must be a Tensor or None, got {type(t).__name__}")
        if t is not None and t.numel() != channels:
            raise RuntimeError(f"batch_norm(): {name} should contain {channels} elements (one per channel, dim 1 of "
                               f"the input of shape {tuple(input.shape)}) not {t.numel()}")
        if t is not None and t.dtype is not input.dtype and (input.dtype, t.dtype) != (dt.float16, dt.float32):
            raise RuntimeError(f"batch_norm(): mixed dtype: the input is {input.dtype.name} but {name} is "
                               f"{t.dtype.name} (PyTorch refuses it too: 'mixed dtype'). Convert one of them: the "
                               "layer with bn.to(x.dtype), or the input; only a float16 input may have float32 "
                               "parameters and statistics (mixed precision)")
    if (running_mean is None) != (running_var is None):
        raise ValueError("batch_norm(): running_mean and running_var must either both be None or neither be None "
                         f"(running_mean is {'None' if running_mean is None else 'given'}, running_var "
                         f"{'None' if running_var is None else 'given'}): the running statistics are updated together")
    if eps < 0 or (training and eps <= 0):  # as PyTorch: 0 would divide a constant channel by 0 in training
        raise ValueError(f"batch_norm(): eps must be {'positive during training' if training else 'non-negative'}, "
                         f"got {eps}; it keeps the division by sqrt(var + eps) finite (the default is 1e-5)")
    if input.dtype is dt.float16:
        # computed in float32 and returned in float16, as PyTorch's kernels compute it (a float16 square overflows past
        # 256: a spread of 300 gave zeros); float32 parameters and statistics (mixed precision) stay as they are, and
        # float16 statistics are updated from their float32 copies
        stats = [None if s is None else s.float() for s in (running_mean, running_var)]
        out = batch_norm(input.float(), *stats, *(None if t is None else t.float() for t in (weight, bias)), training,
                         momentum, eps).half()
        with no_grad():
            for own, copy in zip((running_mean, running_var), stats):
                if training and own is not None and copy is not own:
                    own.copy_(copy)
        return out
    dims = (0,) + tuple(range(2, input.ndim))
    shape = (1, channels) + (1,) * (input.ndim - 2)  # broadcasts a per-channel vector over the input
    if input.numel() == 0:  # (an empty batch: an empty result, still in the graph of weight and bias, as PyTorch's;
        out = input * 1  # the running statistics untouched)
        out = out * weight[0] if weight is not None and weight.numel() else out
        return out + bias[0] if bias is not None and bias.numel() else out
    if training:
        n = input.numel() // channels
        if n <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                             f"{tuple(input.shape)}: one value has no spread to normalise by. Use a batch of 2 or "
                             "more samples, or call model.eval() to normalise with the running statistics")
    elif running_mean is None or running_var is None:
        raise RuntimeError("batch_norm(): running_mean and running_var must be given when training=False (eval "
                           "mode normalises with them); pass training=True to use the batch's statistics")
    in_graph = not training and (running_mean.requires_grad or running_var.requires_grad)  # (differentiated)
    if _fusable(input, weight, bias, running_mean, running_var) and not in_graph:
        return _fused_batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)
    if training:
        mean = input.mean(dims, keepdim=True)
        var = ((input - mean) ** 2).mean(dims, keepdim=True)
        if running_mean is not None and running_var is not None:
            with no_grad():
                running_mean.copy_(running_mean * (1 - momentum) + mean.reshape(channels) * momentum)
                running_var.copy_(running_var * (1 - momentum) + var.reshape(channels) * (momentum * n / (n - 1)))
    else:
        mean, var = running_mean.reshape(shape), running_var.reshape(shape)
    out = (input - mean) / (var + eps).sqrt()
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def _fusable(input, *others):
    """Can the normalisation run as one op (``ops/batch_norm.py``, ``ops/layer_norm.py``)? Yes for a float32 or
    float64 input whose other tensors (each may be None) have its dtype and device. Otherwise (float16, mixed
    dtypes, which promote, or two devices, which the ops' error names) the formula runs as separate ops."""
    if input.array.dtype not in (np.float32, np.float64):
        return False
    return all(t is None or (t.array.dtype == input.array.dtype and same_device(t.array, input.array))
               for t in others)


def _fused_batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps):
    """``batch_norm`` as one op: the statistics as arrays (the running ones updated in place), then ``BatchNorm``;
    on a GPU, ``kernels.batch_norm``'s fused kernels."""
    if is_gpu_array(input.array):
        return cuda_batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)
    channels = input.shape[1]
    if training:
        mean, var = batch_statistics(input.array)
        if running_mean is not None and running_var is not None:
            n = input.numel() // channels
            batch = (mean.reshape(channels) * momentum, var.reshape(channels) * (momentum * n / (n - 1)))
            for running, new in zip((running_mean, running_var), batch):  # (1 - momentum) running + momentum batch
                running.array *= 1 - momentum                            # in place: the numbers of the formula,
                running.array += new                                     # with no new array and no copy
                running._bump_version()
    else:
        shape = (1, channels) + (1,) * (input.ndim - 2)
        mean, var = running_mean.array.reshape(shape), running_var.array.reshape(shape)
    return BatchNorm.apply(input, weight, bias, mean, var, training, eps)


# -------------------------------------------------------------------- layer norm
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    r"""Normalise each sample over its last dims (those of ``normalized_shape``), then scale and shift it.

    For input (*, D_1, ..., D_k) and normalized_shape (D_1, ..., D_k), over those k dims of each sample
    (m = D_1 ... D_k values):
        y = (x - \mu) / \sqrt{\sigma^2 + eps} * weight + bias
    with \mu and \sigma^2 the sample's own mean and *biased* variance (divide by m); weight and bias have shape
    normalized_shape. Unlike ``batch_norm`` nothing is averaged over the batch: every sample is normalised on its
    own, the same way in training and evaluation, so there are no running statistics, and a batch of one works.

    It runs as one op, ``LayerNorm`` (``ops/layer_norm.py``, with its closed-form backward), on "cuda" as that op's
    fused kernels (``kernels/layer_norm.py``); as separate ops for float16 (outside autocast) or a weight or bias on
    another device.
    """
    _check_floating("layer_norm", input)
    if not isinstance(normalized_shape, (tuple, list)) or \
            not all(isinstance(n, numbers.Integral) and not isinstance(n, bool) for n in normalized_shape):
        raise TypeError(f"layer_norm(): argument 'normalized_shape' must be a tuple of ints, not "
                        f"{type(normalized_shape).__name__}: write ({normalized_shape!r},) for the last dim only")
    shape = tuple(int(n) for n in normalized_shape)
    if not shape:
        raise RuntimeError("layer_norm(): expected normalized_shape to be at least 1-dimensional (the dims to "
                           "normalise over, such as (features,)), but got normalized_shape = []")
    if len(shape) > input.ndim or tuple(input.shape[input.ndim - len(shape):]) != shape:
        raise RuntimeError(f"layer_norm(): given normalized_shape={list(shape)}, expected an input of shape "
                           f"[*, {', '.join(map(str, shape))}] (its last dims), but got an input of shape "
                           f"{list(input.shape)}; normalized_shape must be the shape of the dims to normalise over, "
                           "such as the number of features of the previous layer")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (not isinstance(t, Tensor) or tuple(t.shape) != shape):
            got = f"of shape {list(t.shape)}" if isinstance(t, Tensor) else f"type {type(t).__name__}"
            raise RuntimeError(f"layer_norm(): expected {name} to be a Tensor of the same shape as normalized_shape "
                               f"{list(shape)}, but got {got}")
    input, weight, bias = autocast_args("layer_norm", input, weight, bias)  # float32 inside autocast("cuda")
    if input.dtype is dt.float16 and all(t is None or t.dtype in (dt.float16, dt.float32) for t in (weight, bias)):
        # computed in float32 and returned in float16, as PyTorch's CPU kernel computes it (a float16 square overflows
        # past 256); float32 parameters (autocast("cpu"): mixed precision) stay as they are
        return layer_norm(input.float(), normalized_shape, *(None if t is None else t.float() for t in (weight, bias)),
                          eps).half()
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.dtype != input.dtype:
            raise RuntimeError(f"layer_norm(): the input is {input.dtype} but the {name} is {t.dtype}; they must "
                               "match: convert one of them, as x.to(weight.dtype) or layer.to(x.dtype)")
    if _fusable(input, weight, bias):  # one op (ops/layer_norm.py; on a GPU, kernels/layer_norm.py)
        return (LayerNormCuda if is_gpu_array(input.array) else LayerNorm).apply(input, weight, bias, len(shape), eps)
    dims = tuple(range(input.ndim - len(shape), input.ndim))
    mean = input.mean(dims, keepdim=True)
    var = ((input - mean) ** 2).mean(dims, keepdim=True)
    out = (input - mean) / (var + eps).sqrt()
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


# -------------------------------------------------------------------- encoding
def one_hot(tensor, num_classes=-1):
    r"""Class indices (int64, any shape S) -> rows of zeros with a 1 at the index: shape (*S, num_classes), int64.

    ``num_classes=-1`` means max(tensor) + 1. The result has no gradient (indices are not differentiable).
    """
    _check_tensor("one_hot", tensor)
    if tensor.dtype.name != "int64":
        raise RuntimeError(f"one_hot is only applicable to index tensor of type LongTensor (int64), got "
                           f"{tensor.dtype}; convert with .long()")
    index = tensor.array
    if num_classes == -1:
        if index.size == 0:
            raise RuntimeError("one_hot: Can not infer total number of classes from empty tensor; pass num_classes")
        num_classes = int(index.max()) + 1
    if index.size and int(index.min()) < 0:
        raise RuntimeError(f"one_hot: Class values must be non-negative, got {int(index.min())}")
    if index.size and int(index.max()) >= num_classes:
        raise RuntimeError(f"one_hot: Class values must be smaller than num_classes ({num_classes}), got "
                           f"{int(index.max())}")
    with on_device_of(index):  # (the class numbers made on index's GPU, cuda:1 too)
        classes = array_module_of(index).arange(num_classes)
    return Tensor._make((index[..., None] == classes).astype(np.int64), None)


# -------------------------------------------------------------------- embeddings
def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, sparse=False):
    r"""Rows of ``weight`` picked by the indices ``input``: out[..., :] = weight[input[...], :], shape (*input.shape,
    embedding_dim). The gradient of weight's row i is the sum of the gradients of the outputs that picked it.

    ``padding_idx``: the outputs of that index get no gradient, so its row stays as it is (a Embedding layer starts
    it at zeros). ``max_norm``: before picking, each row that ``input`` picks and whose ``norm_type``-norm is above
    max_norm is multiplied in place by max_norm / (norm + 1e-7), as PyTorch renormalises it (no gradient flows
    through that). ``scale_grad_by_freq`` and ``sparse`` (sparse gradients) are not supported here. Indices out of
    range are an IndexError (on a GPU that check reads two numbers back: CuPy's indexing would wrap an index around
    silently).
    """
    _check_tensor("embedding", input)
    _check_tensor("embedding", weight, "weight")
    if not weight.is_floating_point():
        raise RuntimeError(f"embedding(): weight must be floating point, got {weight.dtype}")
    if input.dtype.name not in ("int64", "int32"):
        raise RuntimeError(f"embedding(): the indices must be int64 (or int32), got {input.dtype.name}: convert them "
                           "with .long()")
    if weight.ndim != 2:
        raise RuntimeError(f"embedding(): weight must be 2-D (num_embeddings, embedding_dim), got shape "
                           f"{tuple(weight.shape)}")
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding(): scale_grad_by_freq and sparse are not supported by tinygrad_lite")
    check_same_device("embedding", [input, weight])
    rows = weight.shape[0]
    index = input.array
    if index.size and (int(index.min()) < 0 or int(index.max()) >= rows):  # (no counting from the end: PyTorch's)
        bad = int(index.max()) if int(index.max()) >= rows else int(index.min())
        raise IndexError(f"embedding(): index {bad} is out of range for a weight of {rows} rows (valid: 0 to "
                         f"{rows - 1}); " + ("a negative index does not count from the end here, as in PyTorch: "
                                             "give padding or unknown tokens a row of their own" if bad < 0 else
                                             "is num_embeddings the vocabulary's size?"))
    if max_norm is not None:
        with no_grad():  # (PyTorch's embedding_renorm_: in place, outside the graph)
            picked = array_module_of(index).unique(index % rows)
            norms = weight[Tensor._make(picked, None)].norm(norm_type, dim=1)  # (inf: the largest |w|, as PyTorch)
            scale = where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).reshape(-1, 1)
            weight[Tensor._make(picked, None)] = weight[Tensor._make(picked, None)] * scale
    out = weight[input]
    if padding_idx is not None:
        if not -rows <= padding_idx < rows:  # (PyTorch asserts it; nn.Embedding raises this ValueError too)
            raise ValueError(f"embedding(): padding_idx must be within num_embeddings ({rows}): -{rows} to {rows - 1}, "
                             f"got {padding_idx}")
        padding = padding_idx % rows
        out = where((input == padding).unsqueeze(-1), weight.detach()[padding], out)  # no gradient to that row
    return out


# -------------------------------------------------------------------- normalisation
def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    r"""Scale each slice along ``dim`` to length 1 in the p-norm: x / max(||x||_p, eps).

    ``eps`` keeps an all-zero slice at 0 instead of dividing by 0. Differentiable through the norm: the gradient
    of x / ||x|| removes the part of g along x (a unit vector can only turn, not grow).
    """
    _check_floating("normalize", input)
    check_number("normalize", "p", p)
    if input.ndim == 0:
        raise IndexError(f"normalize: dim {dim} is out of range for a 0-d tensor; normalize a vector or a batch")
    denominator = input.norm(p, dim, keepdim=True).clamp(min=eps).expand_as(input)
    result = input / denominator
    if out is not None:
        return write_out("normalize", result, out)
    return result


def pdist(input, p=2.0):
    """The p-norm distances between the rows of an (N, M) input, each pair i < j once, in the order (0, 1), (0, 2),
    ..., (1, 2), ...: N (N - 1) / 2 numbers. A zero distance passes a zero gradient, as PyTorch's."""
    _check_floating("pdist", input)
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    check_number("pdist", "p", p, low=0)
    n = input.shape[0]
    rows, columns = (input.new_tensor(i, dtype=dt.int64) for i in np.triu_indices(n, 1))
    return (input[rows] - input[columns]).norm(p, dim=1)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    r"""The cosine of the angle between x1 and x2 along ``dim``, as ``F.cosine_similarity``:

        \cos = \sum_i \frac{x_{1,i}}{\max(\|x_1\|_2, \epsilon)} \cdot \frac{x_{2,i}}{\max(\|x_2\|_2, \epsilon)}

    1 for the same direction, 0 at right angles, -1 for opposite ones, whatever the lengths. x1 and x2 broadcast
    together, and ``dim`` counts in the broadcast shape (which loses it). Each norm is clamped at ``eps`` on its
    own, as in PyTorch: a zero vector gives 0, not nan. As PyTorch clamps the norms in place outside the graph, the
    gradient goes through each norm as if unclamped (the clamp's own slope, 0 below eps, is left out).
    """
    for what, x in (("x1", x1), ("x2", x2)):
        _check_tensor("cosine_similarity", x, what)
    if not (x1.is_floating_point() or x2.is_floating_point()):
        raise RuntimeError(f"cosine_similarity(): expected floating point inputs, got {x1.dtype} and {x2.dtype}; "
                           "convert them first with .float()")
    check_number("cosine_similarity", "eps", eps)
    check_broadcast("cosine_similarity", tuple(x1.shape), tuple(x2.shape))
    shape = np.broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
    x1, x2 = x1.expand(*shape), x2.expand(*shape)  # the norms are those of the broadcast vectors
    d = dim_index(dim, len(shape), "cosine_similarity")
    def unit(x):  # x / max(||x||, eps): the clamped norm's value, the plain norm's gradient
        norm = x.norm(dim=d, keepdim=True)
        return x / (norm + (norm.clamp(min=eps) - norm).detach())
    return (unit(x1) * unit(x2)).sum(d)


cosine_similarity = _numpy_names(cosine_similarity)  # (axis= too, as PyTorch)


__all__ = ["linear", "relu", "leaky_relu", "gelu", "silu", "sigmoid", "tanh", "softplus", "softmax", "log_softmax",
           "dropout", "batch_norm", "layer_norm", "one_hot", "embedding", "normalize", "cosine_similarity", "pad",
           "relu_", "leaky_relu_", "dropout1d", "dropout2d", "dropout3d"] + \
    list(_activation_names) + list(_loss_names) + list(_conv_names) + list(_pooling_names) + \
    ["group_norm", "instance_norm", "local_response_norm", "rms_norm", "bilinear", "alpha_dropout",
     "feature_alpha_dropout", "rrelu", "rrelu_", "pdist"] + list(_vision_names) + \
    list(_attention_names) + list(_composed_loss_names) + ["embedding_bag", "ctc_loss", "grid_sample", "affine_grid"]


__getattr__ = _missing_names(__name__)  # (a name this module lacks: what the library has instead)
