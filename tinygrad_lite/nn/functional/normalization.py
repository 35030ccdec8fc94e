r"""``group_norm``, ``instance_norm`` and ``rms_norm``: normalisations composed of the library's ops.

Both normalise with a mean and a (biased) variance taken over part of each sample, then scale and shift each
channel c (``weight``, ``bias``):
    y = (x - \mu) / \sqrt{\sigma^2 + eps} * weight_c + bias_c
- ``group_norm``: the C channels of a sample are split into ``num_groups`` groups of C / G channels, and \mu,
  \sigma^2 are taken over each group's channels and positions. Nothing is averaged over the batch, so it works the
  same for a batch of one and in evaluation (diffusion U-Nets use it where batches are small). G = 1 normalises
  each sample over everything, as ``layer_norm`` over (C, H, W) does; G = C is instance norm without its running
  statistics.
- ``local_response_norm`` (AlexNet's): each channel divided by a power of the mean square of its neighbouring
  channels at the same position, y_c = x_c / (k + alpha/n \sum_{|c' - c| <= n/2} x_{c'}^2)^beta (the n channels
  around c; outside the channels count as 0).
- ``instance_norm``: each channel of each sample over its positions (one image's own contrast removed, as style
  transfer wants). With ``running_mean``/``running_var`` it updates them with the batch's mean of the per-sample
  statistics (the variance unbiased), as PyTorch's, and ``use_input_stats=False`` normalises with them instead.
"""
import math

import numpy as np

from ... import dtypes as dt
from ...amp.autocast_mode import as_one_op
from ...autograd.grad_mode import no_grad
from ...shapes import as_int, check_number
from ._checks import _check_floating, _check_tensor
from .padding import pad

__all__ = ["group_norm", "instance_norm", "rms_norm", "local_response_norm"]


def _normalized(x, dims, eps):
    """x normalised over ``dims`` with its own mean and biased variance."""
    mean = x.mean(dims, keepdim=True)
    var = x.var(dims, unbiased=False, keepdim=True)
    return (x - mean) / (var + eps).sqrt()


def _affine(y, weight, bias):
    """y (N, C, *) scaled and shifted per channel."""
    shape = (-1,) + (1,) * (y.ndim - 2)
    if weight is not None:
        y = y * weight.reshape(shape)
    return y + bias.reshape(shape) if bias is not None else y


def _check_channels(op, input, name, t):
    if t is not None:
        _check_tensor(op, t, name)
    if t is not None and tuple(t.shape) != (input.shape[1],):
        raise RuntimeError(f"{op}(): expected {name} to be a vector of size {input.shape[1]} (one number per channel "
                           f"of dim 1), but got {name} of shape {list(t.shape)}")


def _check_dtypes(op, input, **named):
    """PyTorch's rule for a normalisation's parameters: each has the input's dtype, or float32 beside a float16 input
    (mixed precision); anything else is refused ("mixed dtype")."""
    for name, t in named.items():
        if t is not None and t.dtype is not input.dtype and (input.dtype, t.dtype) != (dt.float16, dt.float32):
            raise RuntimeError(f"{op}(): mixed dtype: the input is {input.dtype.name} but {name} is {t.dtype.name}. "
                               "Convert one of them: the layer with layer.to(x.dtype), or the input; only a float16 "
                               "input may have float32 parameters (mixed precision)")


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise each of ``num_groups`` groups of channels of each sample: input (N, C, *), C divisible by
    num_groups; ``weight`` and ``bias`` have one number per channel."""
    _check_floating("group_norm", input)
    groups = as_int(num_groups, "group_norm", "num_groups")
    eps = check_number("group_norm", "eps", eps, low=0)
    if input.ndim < 2:
        raise RuntimeError(f"group_norm(): expected at least 2 dims (N, C, ...), but got input of shape "
                           f"{list(input.shape)}")
    if groups <= 0 or input.shape[1] % groups:
        raise RuntimeError(f"group_norm(): expected number of channels in input to be divisible by num_groups, but "
                           f"got input of shape {list(input.shape)} and num_groups={groups}")
    if input.shape[0] * input.shape[1] // groups * math.prod(input.shape[2:]) == 1:
        raise ValueError(f"group_norm(): expected more than 1 value per channel when training, got input of shape "
                         f"{list(input.shape)} and num_groups={groups}: each group holds one number")
    for name, t in (("weight", weight), ("bias", bias)):
        _check_channels("group_norm", input, name, t)
    (input, weight, bias), uncast = as_one_op("group_norm", input, weight, bias)
    _check_dtypes("group_norm", input, weight=weight, bias=bias)
    if input.dtype is dt.float16:  # computed in float32 and returned in float16, as PyTorch's kernel (and layer_norm)
        with uncast:
            return group_norm(input.float(), groups, *(None if t is None else t.float() for t in (weight, bias)),
                              eps).half()
    with uncast:
        n, c = input.shape[0], input.shape[1]
        x = input.reshape(n, groups, c // groups * math.prod(input.shape[2:]))
        y = _normalized(x, 2, eps).reshape(input.shape)
        return _affine(y, weight, bias)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Normalise each channel of each sample (N, C, *) over its positions; see the module's docstring for the
    running statistics."""
    _check_floating("instance_norm", input)
    eps = check_number("instance_norm", "eps", eps, low=0)
    if input.ndim < 2:
        raise ValueError(f"instance_norm(): expected an input (N, C, ...), got shape {list(input.shape)}")
    for name, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean), ("running_var", running_var)):
        _check_channels("instance_norm", input, name, t)
    dims = tuple(range(2, input.ndim))
    positions = math.prod(input.shape[2:])
    if use_input_stats and positions <= 1:
        raise ValueError(f"instance_norm(): expected more than 1 spatial element when training, got input size "
                         f"{list(input.shape)}")
    (input, weight, bias), uncast = as_one_op("instance_norm", input, weight, bias)
    _check_dtypes("instance_norm", input, weight=weight, bias=bias, running_mean=running_mean, running_var=running_var)
    if input.dtype is dt.float16:  # (as group_norm; the running statistics updated in float32, then stored back)
        stats = [None if t is None else t.float() for t in (running_mean, running_var)]
        with uncast:
            out = instance_norm(input.float(), *stats, *(None if t is None else t.float() for t in (weight, bias)),
                                use_input_stats, momentum, eps).half()
        with no_grad():
            for t, kept in zip((running_mean, running_var), stats):
                if t is not None and use_input_stats:
                    t.copy_(kept)
        return out
    with uncast:
        if not use_input_stats:
            if running_mean is None or running_var is None:
                raise RuntimeError("instance_norm(): use_input_stats=False needs running_mean and running_var")
            shape = (1, -1) + (1,) * len(dims)
            y = (input - running_mean.reshape(shape)) / (running_var.reshape(shape) + eps).sqrt()
            return _affine(y, weight, bias)
        if running_mean is not None or running_var is not None:
            with no_grad():  # the batch's mean of each sample's statistics, the variance unbiased
                if running_mean is not None:
                    running_mean.mul_(1 - momentum).add_(momentum * input.mean(dims).mean(0))
                if running_var is not None:
                    running_var.mul_(1 - momentum).add_(momentum * input.var(dims, unbiased=True).mean(0))
        return _affine(_normalized(input, dims, eps), weight, bias)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    r"""Root-mean-square normalisation over the last dims (those of ``normalized_shape``):
        y = x / \sqrt{mean(x^2) + eps} * weight
    Layer norm without the mean subtracted and without a bias (LLaMA's and many recent models' choice: cheaper,
    and as good in practice). ``eps=None``: the dtype's machine epsilon (``torch.finfo(dtype).eps``; float32's
    for float16, which is computed in float32), as PyTorch's. The result has the input's dtype, whatever the
    weight's."""
    _check_floating("rms_norm", input)
    listed = normalized_shape if isinstance(normalized_shape, (tuple, list)) else (normalized_shape,)
    shape = tuple(as_int(n, "rms_norm", "normalized_shape") for n in listed)
    if weight is not None:
        _check_tensor("rms_norm", weight, "weight")
    if tuple(input.shape[input.ndim - len(shape):]) != shape or input.ndim < len(shape):
        raise RuntimeError(f"rms_norm(): expected an input whose last dims are normalized_shape {list(shape)}, got "
                           f"input of shape {list(input.shape)}")
    (input,), region = as_one_op("rms_norm", input)
    with region:
        x = input.float() if input.dtype == dt.float16 else input  # (float16 is computed in float32, as PyTorch's)
        eps = float(np.finfo(x.array.dtype).eps) if eps is None else check_number("rms_norm", "eps", eps, low=0)
        dims = tuple(range(x.ndim - len(shape), x.ndim))
        y = x * ((x * x).mean(dims, keepdim=True) + eps).rsqrt() if dims else x
        y = y * weight if weight is not None else y
        return y if y.dtype == input.dtype else y.to(input.dtype)  # (the input's dtype, whatever the weight's)


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    r"""x_c / (k + alpha * mean_{c'} x_{c'}^2)^beta, the mean over the ``size`` channels c' from c - size // 2 to
    c + (size - 1) // 2 (zeros past the first and last channel count, as PyTorch's average pooling counts them).
    Input (N, C, *), at least 3 dims."""
    op = "local_response_norm"
    _check_tensor(op, input)
    if input.ndim < 3:
        raise ValueError(f"{op}(): expected 3D or higher dimensionality input (got {input.ndim} dimensions): "
                         "(N, C, L), (N, C, H, W)...")
    size = as_int(size, op, "size")
    if size <= 0:
        raise RuntimeError(f"{op}(): size must be a positive number of channels, got {size} (PyTorch: kernel size "
                           "should be greater than zero)")
    if input.numel() == 0:
        return input
    channels = input.shape[1]
    padded = pad(input.square(), (0, 0) * (input.ndim - 2) + (size // 2, (size - 1) // 2))  # (dim 1's ends)
    window_sums = sum(padded[:, j:j + channels] for j in range(size))
    return input / (window_sums * (alpha / size) + k).pow(beta)
