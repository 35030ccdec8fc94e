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
Other starting points: ``orthogonal_`` (rows or columns orthonormal, so a linear layer keeps every vector's length),
``eye_`` and ``dirac_`` (layers that pass their inputs through unchanged), ``sparse_`` (few non-zero weights).

Every function works in place, under ``no_grad`` (so it may touch parameters), and returns the tensor. Random ones
take an optional ``generator``; by default they draw from the global one (seed with ``manual_seed``). PyTorch's old
names without the underscore (``normal``, ``xavier_uniform`` ...) work too, with PyTorch's FutureWarning.
"""
import math
import warnings

import numpy as np

from .. import random
from ..autograd.grad_mode import no_grad
from ..coverage import missing_names as _missing_names
from ..device import creating_on
from ..shapes import as_int, check_number

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
    def draw(shape):  # on the tensor's device (float64 on the CPU, as before; float32 on a GPU for float32 weights)
        return random.normal(shape, mean, std, device=tensor.device, dtype=tensor.dtype.np, generator=generator,
                             op="trunc_normal_")
    values = draw(tuple(tensor.shape))
    bad = (values < a) | (values > b)
    while bad.any():  # (one read per round on a GPU: initialisation, not a training step)
        values[bad] = draw((int(bad.sum()),))
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


def orthogonal_(tensor, gain=1, generator=None):
    r"""A (semi-)orthogonal matrix times ``gain`` (Saxe et al., 2013), as ``torch.nn.init.orthogonal_``.

    The tensor is taken as a matrix W of shape[0] rows by the other dims flattened. Its rows (or its columns, when
    there are fewer) are orthonormal: W W^T = gain^2 I (or W^T W = gain^2 I), so a linear layer neither stretches
    nor shrinks a vector, and a deep stack of them keeps both the forward and the backward signal's size.
    Made as PyTorch makes it: the Q of the QR factorisation of a matrix of N(0, 1) draws, each column of Q times
    the sign of R's diagonal entry (which makes Q uniformly distributed over the orthogonal matrices, not only
    the ones LAPACK's sign convention gives). Our draws are not PyTorch's numbers (``random.py``).
    """
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_: only tensors with 2 or more dimensions are supported, got shape "
                         f"{tuple(tensor.shape)}; a bias has no orthogonal matrix, use zeros_ or uniform_ for it")
    check_number("orthogonal_", "gain", gain)
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    draws = random.normal((rows, cols), device=tensor.device, generator=generator, op="orthogonal_")  # (float64)
    q, r = np.linalg.qr(draws if rows >= cols else draws.T)  # Q has orthonormal columns, as many as the fewer side
    q = q * np.sign(np.diag(r))  # (numpy's functions run CuPy's on a GPU's arrays)
    q = q if rows >= cols else q.T
    with no_grad():
        return tensor.copy_((gain * q).reshape(tuple(tensor.shape)))


def eye_(tensor):
    """The identity matrix: 1 where row = column, 0 elsewhere (``torch.nn.init.eye_``), for a 2-D tensor of any
    shape. A Linear layer so initialised passes as many of its inputs through unchanged as it has outputs."""
    if tensor.ndim != 2:
        raise ValueError(f"eye_: only tensors with 2 dimensions are supported, got shape {tuple(tensor.shape)}")
    with no_grad(), creating_on(tensor.device) as xp:
        return tensor.copy_(xp.eye(*tensor.shape))


def dirac_(tensor, groups=1):
    """The Dirac delta, a convolution kernel that is the identity (``torch.nn.init.dirac_``), for the 3-, 4- and
    5-D weights (out_channels, in_channels, *kernel) of 1-, 2- and 3-D convolutions: in each of the ``groups``
    groups of output channels, channel d of the group is 1 at the centre of the kernel for input channel d, 0
    elsewhere, for as many channels as there are on both sides. Such a layer copies its inputs through."""
    if tensor.ndim not in (3, 4, 5):
        raise ValueError(f"dirac_: only tensors with 3, 4, or 5 dimensions are supported (a convolution's weight), "
                         f"got shape {tuple(tensor.shape)}; for a 2-D (Linear) weight use eye_")
    groups = as_int(groups, "dirac_", "groups")
    if groups < 1 or tensor.shape[0] % groups != 0:
        raise ValueError(f"dirac_: dim 0 must be divisible by groups: {tensor.shape[0]} output channels cannot be "
                         f"split into {groups} groups of equal size")
    out_per_group = tensor.shape[0] // groups
    centre = tuple(n // 2 for n in tensor.shape[2:])
    with creating_on(tensor.device) as xp:
        values = xp.zeros(tuple(tensor.shape))
    for g in range(groups):
        for d in range(min(out_per_group, tensor.shape[1])):
            values[(g * out_per_group + d, d) + centre] = 1
    with no_grad():
        return tensor.copy_(values)


def sparse_(tensor, sparsity, std=0.01, generator=None):
    r"""A sparse matrix (Martens, 2010), as ``torch.nn.init.sparse_``: N(0, std^2) draws, of which
    \lceil sparsity \cdot rows \rceil in each column, at rows drawn at random, are set to 0. Each output then depends
    on a few inputs only, whatever the layer's width. Difference: the rows of the zeros are drawn from ``generator``
    too (PyTorch draws them from the global generator even when given one)."""
    if tensor.ndim != 2:
        raise ValueError(f"sparse_: only tensors with 2 dimensions are supported, got shape {tuple(tensor.shape)}")
    check_number("sparse_", "sparsity", sparsity, 0, 1)
    check_number("sparse_", "std", std, low=0)
    rows, cols = tensor.shape
    values = random.normal((rows, cols), 0.0, std, device=tensor.device, generator=generator, op="sparse_")
    zeros = math.ceil(sparsity * rows)
    for col in range(cols):
        values[random.permutation(rows, device=tensor.device, generator=generator, op="sparse_")[:zeros], col] = 0
    with no_grad():
        return tensor.copy_(values)


def _deprecated(function):
    """PyTorch's old name of ``function``, without the underscore (``nn.init.normal``): it still works, with
    PyTorch's FutureWarning."""
    old, new = function.__name__[:-1], function.__name__

    def deprecated_init(*args, **kwargs):
        warnings.warn(f"`nn.init.{old}` is now deprecated in favor of `nn.init.{new}`.", FutureWarning, stacklevel=2)
        return function(*args, **kwargs)
    deprecated_init.__name__ = deprecated_init.__qualname__ = old
    deprecated_init.__doc__ = f"``{old}(...)``: deprecated, as in PyTorch; use ``{new}`` (same arguments)."
    return deprecated_init


uniform, normal, constant = _deprecated(uniform_), _deprecated(normal_), _deprecated(constant_)
xavier_uniform, xavier_normal = _deprecated(xavier_uniform_), _deprecated(xavier_normal_)
kaiming_uniform, kaiming_normal = _deprecated(kaiming_uniform_), _deprecated(kaiming_normal_)
eye, dirac, orthogonal, sparse = _deprecated(eye_), _deprecated(dirac_), _deprecated(orthogonal_), _deprecated(sparse_)

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_",
           "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_", "eye_", "dirac_",
           "sparse_", "uniform", "normal", "constant", "eye", "dirac", "xavier_uniform", "xavier_normal",
           "kaiming_uniform", "kaiming_normal", "orthogonal", "sparse"]


__getattr__ = _missing_names(__name__)  # (a name this module lacks: what the library has instead)
