r"""``nn.init``: fill a weight tensor in place with a good starting distribution.

Why the scale matters. A layer computes y_i = \sum_{j=1}^{fan_in} W_{ij} x_j. With independent zero-mean weights
and inputs, Var(y_i) = fan_in Var(W) Var(x). So each layer multiplies the variance of the signal by
fan_in Var(W): above 1 the activations blow up layer after layer, below 1 they shrink to nothing. The backward
pass is the same story with fan_out (dL/dx_j = \sum_i W_{ij} dL/dy_i sums over fan_out terms).
The inits below pick Var(W) to keep that factor at 1:

- Xavier/Glorot: Var(W) = gain^2 * 2 / (fan_in + fan_out), a compromise between 1/fan_in (forward) and
  1/fan_out (backward). Made for tanh/sigmoid-like (roughly linear near 0) activations.
- Kaiming/He: Var(W) = gain^2 / fan, with fan = fan_in (keeps the forward variance) or fan_out (the backward).
  ReLU zeros half of its inputs, which halves the second moment, so its gain is \sqrt{2}.

A uniform U(-a, a) has variance a^2 / 3, so the uniform versions use the bound a = \sqrt{3} std.
Every function works in place, under ``no_grad`` (so it may touch parameters), and returns the tensor. Random ones
take an optional ``generator``; by default they draw from the global one (seed with ``manual_seed``).
"""
import math
import warnings

from ..autograd.grad_mode import no_grad
from ..random import rng

_LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")


def calculate_gain(nonlinearity, param=None):
    r"""The factor by which to scale the std of the weights feeding into ``nonlinearity`` (PyTorch's table).

    linear, conv*, sigmoid: 1;  tanh: 5/3;  relu: \sqrt{2};  leaky_relu: \sqrt{2 / (1 + slope^2)} with slope
    ``param`` (default 0.01);  selu: 3/4. For ReLU, E[relu(y)^2] = Var(y) / 2, so \sqrt{2} restores the variance.
    """
    if nonlinearity in _LINEAR or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}; use one of {', '.join(_LINEAR)}, sigmoid, tanh, "
                     "relu, leaky_relu, selu")


def _calculate_fan_in_and_fan_out(tensor):
    """fan_in = inputs feeding each output, fan_out = outputs each input feeds.

    For a Linear weight (out, in): fan_in = in, fan_out = out. For a conv weight (out, in, k1, k2, ...) each output
    also sums over the kernel window, so both are multiplied by the receptive field size k1 * k2 * ...
    """
    if tensor.ndim < 2:
        raise ValueError(f"Fan in and fan out can not be computed for tensor with fewer than 2 dimensions (got shape "
                         f"{tuple(tensor.shape)}); a bias has no fan: use uniform_ or zeros_ for it")
    receptive_field = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with samples from U(a, b): mean (a + b) / 2, variance (b - a)^2 / 12."""
    with no_grad():
        return tensor.uniform_(a, b, generator=generator)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with samples from N(mean, std^2)."""
    with no_grad():
        return tensor.normal_(mean, std, generator=generator)


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill with samples from N(mean, std^2) restricted to [a, b] (out-of-range draws are drawn again).

    Deliberate difference: PyTorch inverts the CDF; we reject and redraw, which gives the same distribution.
    The variance is below std^2, since the tails are cut off.
    """
    def cdf(x):
        return 0.5 * (1 + math.erf((x - mean) / (std * math.sqrt(2))))
    if cdf(b) - cdf(a) < 1e-3:
        raise ValueError(f"trunc_normal_: [a, b] = [{a}, {b}] holds almost none of N({mean}, {std}^2); choose a and "
                         "b around the mean (they are absolute values, not multiples of std)")
    draw = rng(generator)
    values = draw.normal(mean, std, tuple(tensor.shape))
    bad = (values < a) | (values > b)
    while bad.any():
        values[bad] = draw.normal(mean, std, int(bad.sum()))
        bad = (values < a) | (values > b)
    with no_grad():
        return tensor.copy_(values)


def constant_(tensor, val):
    """Fill with the value ``val``."""
    with no_grad():
        return tensor.fill_(val)


def ones_(tensor):
    with no_grad():
        return tensor.fill_(1)


def zeros_(tensor):
    with no_grad():
        return tensor.zero_()


def xavier_uniform_(tensor, gain=1.0, generator=None):
    r"""Glorot uniform: U(-a, a), a = gain \sqrt{6 / (fan_in + fan_out)}, so Var(W) = 2 gain^2 / (fan_in + fan_out)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    r"""Glorot normal: N(0, std^2) with std = gain \sqrt{2 / (fan_in + fan_out)}."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def _kaiming_std(tensor, a, mode, nonlinearity):
    return calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    r"""He uniform: U(-bound, bound) with bound = \sqrt{3} gain / \sqrt{fan}, so Var(W) = gain^2 / fan.

    ``a`` is the negative slope of the leaky_relu that follows (0: a plain ReLU, gain \sqrt{2}, Var(W) = 2 / fan).
    ``nn.Linear`` uses a = \sqrt{5}: gain^2 = 2 / 6, so Var(W) = 1 / (3 fan_in) and bound = 1 / \sqrt{fan_in}.
    """
    if 0 in tuple(tensor.shape):
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    r"""He normal: N(0, std^2) with std = gain / \sqrt{fan}, so Var(W) = gain^2 / fan (2 / fan_in for ReLU)."""
    if 0 in tuple(tensor.shape):
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator)


__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_",
           "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_"]
