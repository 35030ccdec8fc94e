r"""Pooling: the largest or the mean number of each window, composed of the library's ops (conv.py's windows).

- ``max_pool2d``: out[n, c, i, j] = max of the window at (i s - p, j s - p) (``padding`` counts as -inf, so it is
  never the max). Its gradient goes to the window's largest number, the first one where several are equal, as
  PyTorch's does. ``return_indices=True`` also gives where each max sits (its flat position in its channel's
  image, PyTorch's convention).
- ``avg_pool2d``: the window's mean. Windows that hang over the padding divide by the whole kernel's size
  (``count_include_pad=True``, PyTorch's default) or by the numbers really in the input (False); a window that
  ``ceil_mode`` adds past the end divides by what it covers of the padded input, as PyTorch's.
- ``adaptive_avg_pool2d`` / ``adaptive_max_pool2d``: a given output size (1: one number per channel, a "global"
  pool). Output cell i covers the input from floor(i n / out) to ceil((i + 1) n / out), so the windows may differ
  by one in size and may overlap.

Output size (``ceil_mode`` rounds the division up, and drops a last window that would start in the right padding):
    out = \lfloor (n + 2 padding - dilation (k - 1) - 1) / stride \rfloor + 1
Each function takes a batch (N, C, *spatial) or one example (C, *spatial); 1d, 2d and 3d take 1, 2 and 3 spatial
dims. Under autocast each is one op, as PyTorch's (the 3d ones run in float32 in a CPU region, as its do).
"""
import builtins
import math

import numpy as np

from ... import dtypes as dt
from ...amp.autocast_mode import as_one_op
from ...autograd.higher_order import read_for_a_mask
from ...device import array_module_of
from ...functions import stack
from ...shapes import as_int, check_number
from ...tensor import Tensor
from ._checks import _check_floating, _check_tensor
from .conv import _padded, _positive, _tuple, _windows

__all__ = ["max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices", "max_pool2d_with_indices",
           "max_pool3d_with_indices", "avg_pool1d", "avg_pool2d", "avg_pool3d", "adaptive_avg_pool1d",
           "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d", "adaptive_max_pool2d",
           "adaptive_max_pool3d", "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
           "adaptive_max_pool3d_with_indices", "lp_pool1d", "lp_pool2d", "lp_pool3d"]


def _batched(op, input, d):
    """(input as a batch (N, C, *spatial), whether it was one) for an input of d + 1 or d + 2 dims."""
    _check_tensor(op, input)
    if input.ndim not in (d + 1, d + 2) or 0 in input.shape[-d - 1:]:
        raise RuntimeError(f"{op}(): expected a {d + 1}D (unbatched) or {d + 2}D (batched) input, of non-zero "
                           f"sizes but for the batch, but got input of size {list(input.shape)}")
    return (input, True) if input.ndim == d + 2 else (input[None], False)


def _window_sizes(op, shape, kernel, stride, padding, dilation, ceil_mode):
    """The number of windows along each spatial dim, PyTorch's ``pooling_output_shape``."""
    for k, p, dl in zip(kernel, padding, dilation):
        if p < 0 or 2 * p > k:  # (PyTorch compares it with the kernel's size, whatever the dilation)
            raise RuntimeError(f"{op}(): pad should be at most half of kernel size, but got pad={p}, "
                               f"kernel_size={k} and dilation={dl}")
    sizes = []
    for n, k, s, p, dl in zip(shape, kernel, stride, padding, dilation):
        room = n + 2 * p - dl * (k - 1) - 1
        out = (-(-room // s) if ceil_mode else room // s) + 1
        if ceil_mode and (out - 1) * s >= n + p:  # a last window that would start in the right padding
            out -= 1
        sizes.append(out)
    if builtins.min(sizes) < 1:
        raise RuntimeError(f"{op}(): given input size: ({'x'.join(map(str, shape))}). Calculated output size: "
                           f"({'x'.join(map(str, sizes))}). Output size is too small; use a smaller kernel_size "
                           "(or more padding)")
    return tuple(sizes)


def _arguments(op, d, kernel_size, stride, padding, dilation):
    kernel = _positive(op, "kernel_size", _tuple(op, "kernel_size", kernel_size, d, "the pooling dimensions"))
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        stride = kernel
    stride = _tuple(op, "stride", stride, d, "the pooling dimensions")
    if builtins.min(stride) <= 0:
        raise RuntimeError(f"{op}(): stride should not be zero or negative (got stride={stride})")
    padding = _tuple(op, "padding", padding, d, "the pooling dimensions")
    dilation = _positive(op, "dilation", _tuple(op, "dilation", dilation, d, "the pooling dimensions"))
    return kernel, stride, padding, dilation


def _pool_padded(x, padding, sizes, kernel, stride, dilation, value):
    """x with ``padding`` of ``value`` before each spatial dim, and after it as much as its last window needs."""
    return _padded(x, [(p, builtins.max(0, (out - 1) * s + dl * (k - 1) + 1 - n - p))
                       for n, p, out, k, s, dl in zip(x.shape[2:], padding, sizes, kernel, stride, dilation)], value)


def _lowest(dtype):
    """The number that never wins a max: -inf for floats, the smallest integer for integers."""
    return -math.inf if dtype.is_floating_point else int(np.iinfo(dtype.np).min)


# -------------------------------------------------------------------- max pooling
def _max_pool(op, d, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    kernel, stride, padding, dilation = _arguments(op, d, kernel_size, stride, padding, dilation)
    x, batched = _batched(op, input, d)
    sizes = _window_sizes(op, tuple(x.shape[2:]), kernel, stride, padding, dilation, bool(ceil_mode))
    (x,), uncast = as_one_op(op, x)
    with uncast:
        windows = _windows(_pool_padded(x, padding, sizes, kernel, stride, dilation, _lowest(x.dtype)),
                           kernel, stride, dilation, sizes)
        out, offset = windows.max(2)
        if x.is_floating_point():
            out, offset = _pytorchs_choice(windows, out, offset, x.shape[2:], kernel, stride, padding, dilation)
        read_for_a_mask(out)  # (PyTorch's max pooling's backward reads its input: autograd/higher_order.py)
    if not return_indices:
        return out if batched else out[0]
    indices = Tensor._make(_flat_positions(offset.array, x.shape[2:], kernel, stride, padding, dilation), None)
    return (out, indices) if batched else (out[0], indices[0])


def _pytorchs_choice(windows, out, offset, shape, kernel, stride, padding, dilation):
    """Where ``max`` and PyTorch's kernel pick different numbers of a window (the values are the same): PyTorch's
    scan takes a nan whenever it meets one, so the LAST nan; and it never looks at the padding, so a window that
    holds only -inf and padding gives its first -inf, not a padded -inf. (out, offset) re-picked there, with the
    gradient sent to the new pick; unchanged (and no cost but a check) everywhere else."""
    xp = array_module_of(out.array)
    chosen = offset.array
    nans, lows = xp.isnan(out.array), xp.isneginf(out.array)
    if bool(nans.any()):
        last_nan = windows.shape[2] - 1 - xp.argmax(xp.isnan(windows.array)[:, :, ::-1], axis=2)
        chosen = xp.where(nans, last_nan, chosen)
    if any(padding) and bool(lows.any()):
        inside = np.ones((windows.shape[2],) + tuple(out.shape[2:]), dtype=bool)  # (offset, *window position)
        for i, (n, s, p, dl) in enumerate(zip(shape, stride, padding, dilation)):
            along = np.unravel_index(np.arange(windows.shape[2]), kernel)[i].reshape((-1,) + (1,) * len(shape))
            start = (np.arange(out.shape[2 + i]) * s - p).reshape((1,) + (1,) * i + (-1,) + (1,) * (len(shape) - 1 - i))
            inside &= (start + along * dl >= 0) & (start + along * dl < n)
        chosen = xp.where(lows, xp.asarray(np.argmax(inside, axis=0)), chosen)
    if chosen is offset.array:
        return out, offset
    picked = Tensor._make(chosen.astype(np.int64), None)
    return windows.gather(2, picked.unsqueeze(2)).squeeze(2), picked


def _flat_positions(offset, shape, kernel, stride, padding, dilation):
    """Where each window's max sits, from its kernel offset: the flat index into its channel's (unpadded) input."""
    xp = array_module_of(offset)
    along = xp.unravel_index(offset, kernel)  # the offset along each spatial dim
    flat = xp.zeros(offset.shape, dtype=np.int64)
    for i, (n, s, p, dl) in enumerate(zip(shape, stride, padding, dilation)):
        start = (xp.arange(offset.shape[2 + i]) * s - p).reshape((-1,) + (1,) * (len(shape) - 1 - i))
        flat = flat * n + start + along[i] * dl
    return flat


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """The max of each window of ``kernel_size`` along the last dim: input (N, C, L) or (C, L). ``stride``
    defaults to ``kernel_size`` (windows side by side)."""
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """The max of each kH x kW window: input (N, C, H, W) or (C, H, W). With ``return_indices``, (values,
    indices)."""
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """The max of each kD x kH x kW window: input (N, C, D, H, W) or (C, D, H, W)."""
    return _max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


# -------------------------------------------------------------------- average pooling
def _divisors(shape, sizes, kernel, stride, padding, count_include_pad):
    """How many numbers each window's sum is divided by (PyTorch's rule: see the module's docstring), an array of
    the windows' shape."""
    total = np.ones(sizes)
    for i, (n, out, k, s, p) in enumerate(zip(shape, sizes, kernel, stride, padding)):
        start = np.arange(out) * s - p
        end = np.minimum(start + k, n + p)
        count = end - start if count_include_pad else np.minimum(end, n) - np.maximum(start, 0)
        total = total * count.reshape((-1,) + (1,) * (len(shape) - 1 - i))
    return total


def _avg_pool(op, d, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    kernel, stride, padding, dilation = _arguments(op, d, kernel_size, stride, padding, 1)
    x, batched = _batched(op, input, d)
    sizes = _window_sizes(op, tuple(x.shape[2:]), kernel, stride, padding, dilation, bool(ceil_mode))
    if divisor_override is not None:
        divisor_override = as_int(divisor_override, op, "divisor_override")
        if divisor_override == 0:
            raise RuntimeError(f"{op}(): divisor must be not zero (divisor_override=0)")
    (x,), uncast = as_one_op(op, x)
    with uncast:
        sums = _windows(_pool_padded(x, padding, sizes, kernel, stride, dilation, 0), kernel, stride, dilation,
                        sizes).sum(2)
        divisors = divisor_override if divisor_override is not None else x.new_tensor(
            _divisors(tuple(x.shape[2:]), sizes, kernel, stride, padding, bool(count_include_pad)),
            dtype=x.dtype if x.is_floating_point() else dt.int64)
        out = sums / divisors if x.is_floating_point() else sums.div(divisors, rounding_mode="trunc")
    return out if batched else out[0]


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """The mean of each window of ``kernel_size`` along the last dim: input (N, C, L) or (C, L)."""
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """The mean of each kH x kW window: input (N, C, H, W) or (C, H, W); ``divisor_override``: divide every sum by
    this number instead."""
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """The mean of each kD x kH x kW window: input (N, C, D, H, W) or (C, D, H, W)."""
    return _avg_pool("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


# -------------------------------------------------------------------- power-average pooling
def _lp_pool(pool, d, input, norm_type, kernel_size, stride, ceil_mode):
    r"""(\sum_{window} x^p)^{1/p}, from the mean of x^p over each window times its size. As PyTorch's, a window
    whose sum of x^p is negative (odd p) gives 0, not the root of a negative number: sign(s) relu(|s|) = relu(s);
    p = inf is the limit, the largest |x| of each window (max pooling of |x|), and p = -inf the smallest."""
    op = pool.__name__.replace("avg", "lp")
    _check_tensor(op, input)
    check_number(op, "norm_type", norm_type)
    if norm_type in (math.inf, -math.inf):
        largest = {1: max_pool1d, 2: max_pool2d, 3: max_pool3d}[d]
        sign = 1 if norm_type > 0 else -1
        return sign * largest(sign * input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    kernel = _tuple(op, "kernel_size", kernel_size, d, "a spatial dim")
    means = pool(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return (means.sign() * means.abs().relu()).mul(math.prod(kernel)).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """The p-norm of each window along the last dim (p = ``norm_type``): p = 1 sums, large p nears max pooling."""
    return _lp_pool(avg_pool1d, 1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """The p-norm of each kH x kW window (p = ``norm_type``); ``stride`` defaults to ``kernel_size``."""
    return _lp_pool(avg_pool2d, 2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """The p-norm of each kD x kH x kW window (p = ``norm_type``)."""
    return _lp_pool(avg_pool3d, 3, input, norm_type, kernel_size, stride, ceil_mode)


# -------------------------------------------------------------------- adaptive pooling
def _output_size(op, output_size, shape):
    """``output_size`` (a number, or one per spatial dim; None keeps that dim's size) as a tuple of ints."""
    d = len(shape)
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * d
    if len(sizes) != d:
        raise ValueError(f"{op}(): output_size must have {d} elements, one per spatial dim, got {output_size!r}")
    sizes = tuple(n if s is None else as_int(s, op, "output_size") for s, n in zip(sizes, shape))
    if builtins.min(sizes) < 0 or builtins.max(sizes) > 2**31 - 1:
        raise RuntimeError(f"{op}(): elements of output_size must be between 0 and 2**31 - 1, but received {sizes}")
    return sizes


def _bounds(n, out):
    """The [start, end) of each of ``out`` adaptive windows over ``n`` numbers."""
    return [(i * n // out, -(-(i + 1) * n // out)) for i in range(out)]


def _adaptive_avg(op, d, input, output_size):
    x, batched = _batched(op, input, d)
    _check_floating(op, x, NotImplementedError)
    sizes = _output_size(op, output_size, tuple(x.shape[2:]))
    (x,), uncast = as_one_op(op, x)
    with uncast:
        out = x  # the mean over a box is the mean, dim by dim, of the means over its sides
        for i, (n, m) in enumerate(zip(x.shape[2:], sizes)):
            dim = 2 + i
            if m == n:
                continue
            out = stack([out.narrow(dim, a, b - a).mean(dim) for a, b in _bounds(n, m)], dim) if m else \
                out.narrow(dim, 0, 0)
        out = out if out is not x else x.clone()  # (a new tensor, even where every size is kept)
    return out if batched else out[0]


def _adaptive_max(op, d, input, output_size, return_indices):
    x, batched = _batched(op, input, d)
    _check_floating(op, x, NotImplementedError)
    shape = tuple(x.shape[2:])
    sizes = _output_size(op, output_size, shape)
    if builtins.min(sizes) == 0:  # no windows: an empty result, as PyTorch's
        out = x.flatten(2)[:, :, :0].reshape(tuple(x.shape[:2]) + sizes)
        empty = Tensor._make(array_module_of(x.array).zeros(out.shape, dtype=np.int64), None)
        out, empty = (out, empty) if batched else (out[0], empty[0])
        return (out, empty) if return_indices else out
    # each dim's windows as positions (m, k): window j's positions, the last one repeated to fill a shorter window
    # (a repeat never changes the max, and the first of equal numbers wins, so never the repeat)
    rows = []
    for n, m in zip(shape, sizes):
        bounds = np.array(_bounds(n, m))
        k = int((bounds[:, 1] - bounds[:, 0]).max())
        rows.append(np.minimum(bounds[:, :1] + np.arange(k), bounds[:, 1:] - 1))
    (x,), uncast = as_one_op(op, x)
    with uncast:  # x[:, :, rows_1, rows_2, ...] with each dim's (m, k) rows on dims of their own
        index = tuple(x.new_tensor(r.reshape((1,) * (2 * i) + r.shape + (1,) * (2 * (d - 1 - i))), dtype=dt.int64)
                      for i, r in enumerate(rows))
        boxes = x[(slice(None), slice(None)) + index]  # (N, C, m1, k1, m2, k2, ...)
        order = [0, 1] + [2 + 2 * i for i in range(d)] + [3 + 2 * i for i in range(d)]
        window = math.prod(r.shape[1] for r in rows)
        out, where = boxes.permute(order).reshape(tuple(x.shape[:2]) + sizes + (window,)).max(-1)
    if not return_indices:
        return out if batched else out[0]
    xp = array_module_of(where.array)
    along = xp.unravel_index(where.array, tuple(r.shape[1] for r in rows))  # the offset in each dim's window
    flat = xp.zeros(where.shape, dtype=np.int64)
    for i, (n, r) in enumerate(zip(shape, rows)):
        j = xp.arange(sizes[i]).reshape((-1,) + (1,) * (d - 1 - i))
        flat = flat * n + xp.asarray(r)[j, along[i]]
    indices = Tensor._make(flat, None)
    return (out, indices) if batched else (out[0], indices[0])


def adaptive_avg_pool1d(input, output_size):
    """The mean over ``output_size`` nearly equal windows along the last dim: (N, C, L) -> (N, C, output_size)."""
    return _adaptive_avg("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_avg_pool2d(input, output_size):
    """The mean over an output_size grid of windows: (N, C, H, W) -> (N, C, *output_size); output_size 1 is a
    global average pool (one number per channel)."""
    return _adaptive_avg("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_avg_pool3d(input, output_size):
    """As ``adaptive_avg_pool2d``, over (D, H, W)."""
    return _adaptive_avg("adaptive_avg_pool3d", 3, input, output_size)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """The max over ``output_size`` nearly equal windows along the last dim."""
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """The max over an output_size grid of windows: (N, C, H, W) -> (N, C, *output_size)."""
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """As ``adaptive_max_pool2d``, over (D, H, W)."""
    return _adaptive_max("adaptive_max_pool3d", 3, input, output_size, return_indices)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=True):
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=True):
    return adaptive_max_pool2d(input, output_size, True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=True):
    return adaptive_max_pool3d(input, output_size, True)
