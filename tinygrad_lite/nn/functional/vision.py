r"""Changing an image's resolution, composed of the library's ops: ``interpolate`` (``upsample``), ``pixel_shuffle``
and ``pixel_unshuffle``, and ``max_unpool2d`` (the inverse of a max pool's selection).

``interpolate`` works one spatial dim at a time. For output position i of a dim of n inputs and m outputs (scale
s = n / m, or 1 / ``scale_factor`` when one is given):
- "nearest": input floor(i s) (PyTorch's rule, which rounds down); "nearest-exact": floor((i + 0.5) s), the
  centre of the output pixel;
- "linear" / "bilinear" / "trilinear": the source position p = (i + 0.5) s - 0.5 (clamped at 0), or
  p = i (n - 1) / (m - 1) with ``align_corners=True``; the output is (1 - t) x[floor p] + t x[floor p + 1],
  t = p - floor p;
- "bicubic": the four inputs around p, weighted by Keys' cubic convolution (A = -0.75), the edges repeated;
- "area": the mean of each window, ``adaptive_avg_pool``.
Each is an ``index_select`` (and a weighted sum) along that dim, so the gradient flows back to the inputs read.
The positions and weights are computed in float32 (float64 for a float64 input), as PyTorch's CPU kernels do.
"""
import builtins
import math
import warnings

import numpy as np

from ... import dtypes as dt
from ...amp.autocast_mode import as_one_op
from ...creation import arange
from ...shapes import as_int
from ._checks import _check_floating, _check_tensor
from .conv import _tuple
from .pooling import adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "pixel_shuffle", "pixel_unshuffle",
           "max_unpool1d", "max_unpool2d", "max_unpool3d", "channel_shuffle", "native_channel_shuffle"]

MODES = {"nearest": (1, 2, 3), "nearest-exact": (1, 2, 3), "linear": (1,), "bilinear": (2,), "trilinear": (3,),
         "bicubic": (2,), "area": (1, 2, 3)}
CUBIC = -0.75  # the cubic convolution's parameter A (Keys), PyTorch's


def _sizes_and_scales(input, size, scale_factor, recompute_scale_factor):
    """(the output's spatial sizes, the scales the kernels use: 1 / scale_factor, or None to use n / m)."""
    d = input.ndim - 2
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate(): " + ("either size or scale_factor should be defined" if size is None else
                                              "only one of size or scale_factor should be defined"))
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("interpolate(): recompute_scale_factor is not meaningful with an explicit size")
        sizes = tuple(size) if isinstance(size, (tuple, list)) else (size,) * d
        if len(sizes) != d:
            raise ValueError(f"interpolate(): input and output must have the same number of spatial dimensions, but "
                             f"got input with spatial dimensions of {list(input.shape[2:])} and output size of "
                             f"{list(sizes)}; give one size per spatial dim of the (N, C, d1, ...) input")
        return tuple(as_int(n, "interpolate", "size") for n in sizes), (None,) * d
    factors = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * d
    if len(factors) != d:
        raise ValueError(f"interpolate(): scale_factor must have one number per spatial dim ({d}), got "
                         f"{list(factors)}")
    if any(not isinstance(f, (int, float)) or isinstance(f, bool) or not math.isfinite(f) for f in factors):
        raise TypeError(f"interpolate(): scale_factor must be a finite number or one per spatial dim, got "
                        f"{scale_factor!r}")
    sizes = tuple(math.floor(float(n) * float(f)) for n, f in zip(input.shape[2:], factors))
    return sizes, (None,) * d if recompute_scale_factor else tuple(float(f) for f in factors)


def _step(n, m, scale, precision):
    """How far the source position moves per output: 1 / scale_factor when given, else n / m (PyTorch's
    ``compute_scales_value``), in ``precision``."""
    return precision(1.0 / scale) if scale else precision(n) / precision(m)


def _source(n, m, scale, align_corners, precision, cubic=False):
    """The source position p of each of m outputs (PyTorch's ``area_pixel_compute_source_index``): i (n - 1) /
    (m - 1) with ``align_corners``, else (i + 0.5) s - 0.5, clamped at 0 but for the cubic mode."""
    i = np.arange(m, dtype=precision)
    if align_corners:
        return i * (precision(n - 1) / precision(m - 1) if m > 1 else precision(0))
    source = _step(n, m, scale, precision) * (i + precision(0.5)) - precision(0.5)
    return source if cubic else np.maximum(source, precision(0))


def _nearest_index(n, m, scale, exact, precision):
    """The input read by each of m outputs (PyTorch's CPU ``compute_indices_weights`` for nearest), in
    ``precision``."""
    s = _step(n, m, scale, precision)
    i = np.arange(m, dtype=precision)
    source = ((i + precision(0.5)) * s if exact else i * s).astype(np.float32)  # (then floorf, in float32)
    return np.minimum(np.floor(source).astype(np.int64), n - 1)


def _linear_weights(n, m, scale, align_corners, precision):
    """(the lower input, the upper input, the upper one's weight) for each of m outputs (PyTorch's
    ``compute_indices_weights_linear``), in ``precision`` (float32, or float64 for float64 inputs)."""
    source = _source(n, m, scale, align_corners, precision)
    low = np.minimum(np.floor(source).astype(np.int64), n - 1)
    high = low + (low < n - 1)
    weight = np.clip(source - low.astype(precision), precision(0), precision(1))
    return low, high, weight


def _long(like, indices):
    """An index array as an int64 tensor on ``like``'s device."""
    return like.new_tensor(indices, dtype=dt.int64)


def keys_weights(t, a=CUBIC):
    """Keys' cubic convolution weights of the four points at distances 1 + t, t, 1 - t and 2 - t (0 <= t < 1), for
    an array or a Tensor t; ``a`` in the array's precision keeps a float32 computation in float32."""
    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _cubic_weights(n, m, scale, align_corners, precision):
    """(the 4 inputs read, their 4 weights) for each of m outputs (PyTorch's ``compute_indices_weights_cubic``):
    the inputs floor(p) - 1 ... floor(p) + 2 (clamped to the edges) of the source position p (not clamped at 0),
    weighted by Keys' cubic convolution of their distance to p."""
    source = _source(n, m, scale, align_corners, precision, cubic=True)
    low = np.minimum(np.floor(source.astype(np.float32)).astype(np.int64), n - 1)
    t = np.clip(source - low.astype(precision), precision(0), precision(1))
    weights = keys_weights(t, precision(CUBIC))
    taps = [np.clip(low - 1 + k, 0, n - 1) for k in range(4)]
    return taps, weights


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None,
                antialias=False):
    """Resize the spatial dims of (N, C, L), (N, C, H, W) or (N, C, D, H, W) to ``size`` or by ``scale_factor``
    with ``mode`` (see the module's docstring). ``align_corners`` (linear modes only): map the corner pixels' centres
    onto each other, instead of the images' edges."""
    _check_tensor("interpolate", input)
    if not isinstance(mode, str):
        raise TypeError(f"interpolate(): argument 'mode' must be a str such as 'bilinear', not {type(mode).__name__}")
    if mode not in MODES:
        raise NotImplementedError(f"interpolate(): mode {mode!r} is not one of {', '.join(MODES)}")
    if align_corners is not None and mode in ("nearest", "nearest-exact", "area"):
        raise ValueError("interpolate(): align_corners option can only be set with the interpolating modes: linear "
                         "| bilinear | bicubic | trilinear")
    if antialias:
        raise NotImplementedError("interpolate(): antialias=True is not covered by tinygrad_lite; leave it out (to "
                                  "shrink an image smoothly, use mode='area')")
    d = input.ndim - 2
    sizes, scales = _sizes_and_scales(input, size, scale_factor, recompute_scale_factor)
    if d not in MODES[mode]:
        wants = " or ".join(f"{k + 2}D" for k in MODES[mode])
        raise NotImplementedError(f"interpolate(): got {input.ndim}D input, but {mode} mode needs {wants} input "
                                  "(N, C, *spatial)")
    _check_floating("interpolate", input, NotImplementedError)
    if builtins.min(sizes) <= 0 or builtins.max(sizes) > 2**31 - 1 or 0 in input.shape[2:]:
        raise RuntimeError(f"interpolate(): input and output sizes should be greater than 0 (and below 2**31), but "
                           f"got input {list(input.shape[2:])} and output {list(sizes)}")
    if mode == "area":
        return (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d)[d - 1](input, sizes)
    name = {"nearest": "upsample_nearest", "nearest-exact": "_upsample_nearest_exact"}.get(mode, "upsample_" + mode)
    (input,), uncast = as_one_op(f"{name}{d}d", input)
    precision = np.float64 if input.dtype is dt.float64 else np.float32
    out = input
    with uncast:
        for axis in reversed(range(2, input.ndim)):  # (the last dim first: PyTorch's order of the sums)
            n, m, scale = input.shape[axis], sizes[axis - 2], scales[axis - 2]
            if mode in ("nearest", "nearest-exact"):
                out = out.index_select(axis, _long(input, _nearest_index(n, m, scale, mode != "nearest", precision)))
                continue
            if mode == "bicubic":
                taps, weights = _cubic_weights(n, m, scale, bool(align_corners), precision)
                shape = (-1,) + (1,) * (input.ndim - 1 - axis)
                parts = [out.index_select(axis, _long(input, i)) * input.new_tensor(w.reshape(shape))
                         for i, w in zip(taps, weights)]
                out = parts[0] + parts[1] + parts[2] + parts[3]
                continue
            low, high, weight = _linear_weights(n, m, scale, bool(align_corners), precision)
            shape = (-1,) + (1,) * (input.ndim - 1 - axis)
            t = input.new_tensor(weight.reshape(shape))
            out = out.index_select(axis, _long(input, low)) * (1 - t) + out.index_select(axis, _long(input, high)) * t
    return out if out is not input else input.clone()


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """The old name of ``interpolate`` (PyTorch warns that it is deprecated; so does this)."""
    warnings.warn("nn.functional.upsample is deprecated. Use nn.functional.interpolate instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """The old ``interpolate(mode="nearest")``."""
    warnings.warn("nn.functional.upsample_nearest is deprecated. Use nn.functional.interpolate instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """The old ``interpolate(mode="bilinear", align_corners=True)``."""
    warnings.warn("nn.functional.upsample_bilinear is deprecated. Use nn.functional.interpolate instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# -------------------------------------------------------------------- pixel shuffle
def pixel_shuffle(input, upscale_factor):
    """(*, C r^2, H, W) -> (*, C, H r, W r): each group of r^2 channels becomes an r x r block of pixels (the
    "sub-pixel convolution" of super-resolution networks)."""
    _check_tensor("pixel_shuffle", input)
    r = as_int(upscale_factor, "pixel_shuffle", "upscale_factor")
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle(): upscale_factor must be greater than 0, but got {r}")
    if input.ndim < 3 or input.shape[-3] % (r * r):
        raise RuntimeError(f"pixel_shuffle(): expects an input of at least 3 dims whose channel dim (-3) is "
                           f"divisible by upscale_factor squared ({r} * {r}), but got input of shape "
                           f"{list(input.shape)}")
    *batch, c, h, w = input.shape
    k = len(batch)
    x = input.reshape(*batch, c // (r * r), r, r, h, w)
    x = x.permute(*range(k), k, k + 3, k + 1, k + 4, k + 2)
    return x.reshape(*batch, c // (r * r), h * r, w * r)


def pixel_unshuffle(input, downscale_factor):
    """The inverse of ``pixel_shuffle``: (*, C, H r, W r) -> (*, C r^2, H, W)."""
    _check_tensor("pixel_unshuffle", input)
    r = as_int(downscale_factor, "pixel_unshuffle", "downscale_factor")
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle(): downscale_factor must be greater than 0, but got {r}")
    if input.ndim < 3 or input.shape[-1] % r or input.shape[-2] % r:
        raise RuntimeError(f"pixel_unshuffle(): expects an input of at least 3 dims whose height and width are "
                           f"divisible by downscale_factor ({r}), but got input of shape {list(input.shape)}")
    *batch, c, h, w = input.shape
    k = len(batch)
    x = input.reshape(*batch, c, h // r, r, w // r, r)
    x = x.permute(*range(k), k, k + 2, k + 4, k + 1, k + 3)
    return x.reshape(*batch, c * r * r, h // r, w // r)


def channel_shuffle(input, groups):
    """ShuffleNet's mix of channels between groups: (N, g k, *) seen as (N, g, k, *), transposed to (N, k, g, *)
    and flattened back, so that channel j of group i moves to position j g + i."""
    _check_tensor("channel_shuffle", input)
    g = as_int(groups, "channel_shuffle", "groups")
    if g <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of groups:{g}")
    if input.ndim < 3 or input.shape[1] % g:
        raise RuntimeError(f"channel_shuffle(): expects an input (N, C, *) of at least 3 dims whose C is divisible by "
                           f"groups ({g}), got shape {list(input.shape)}")
    n, c, *rest = input.shape
    return input.reshape(n, g, c // g, *rest).transpose(1, 2).reshape(n, c, *rest)


native_channel_shuffle = channel_shuffle


# -------------------------------------------------------------------- max unpooling
def _max_unpool(op, d, input, indices, kernel_size, stride, padding, output_size):
    _check_tensor(op, input)
    _check_tensor(op, indices, "indices")
    if tuple(indices.shape) != tuple(input.shape) or indices.dtype.is_floating_point:
        raise RuntimeError(f"{op}(): expected indices of the input's shape {list(input.shape)}, int64 (from "
                           f"max_pool{d}d(..., return_indices=True)), got {indices.dtype} of shape "
                           f"{list(indices.shape)}")
    if input.ndim not in (d + 1, d + 2):
        raise RuntimeError(f"{op}(): expected a {d + 1}D or {d + 2}D input, got shape {list(input.shape)}")
    kernel = _tuple(op, "kernel_size", kernel_size, d, "the pooling dimensions")
    stride = _tuple(op, "stride", kernel if stride is None else stride, d, "the pooling dimensions")
    padding = _tuple(op, "padding", padding, d, "the pooling dimensions")
    sizes = tuple((n - 1) * s - 2 * p + k for n, s, p, k in zip(input.shape[-d:], stride, padding, kernel))
    if output_size is not None:  # (the pooled input's size: between the default - stride and + stride, exclusive)
        if len(output_size) not in (d, d + 2):
            raise ValueError(f"{op}(): output_size should be a sequence containing {d} or {d + 2} elements, but it "
                             f"has a length of {len(output_size)}")
        wanted = tuple(as_int(n, op, "output_size") for n in tuple(output_size)[-d:])
        for i, (want, default, s) in enumerate(zip(wanted, sizes, stride)):
            if not default - s < want < default + s:
                raise ValueError(f"{op}(): invalid output_size {wanted} (dim {i} must be between {default - s + 1} "
                                 f"and {default + s - 1})")
        sizes = wanted
    batched = input.ndim == d + 2
    (input,), uncast = as_one_op(f"max_unpool{builtins.max(d, 2)}d", input)  # (1d is 2d's op in PyTorch)
    x, where = (input, indices) if batched else (input[None], indices[None])
    n, c, total = x.shape[0], x.shape[1], math.prod(sizes)
    flat = where.reshape(n, c, -1) if n else where.reshape(0, c, math.prod(x.shape[2:]))
    if flat.numel() and (int(flat.min()) < 0 or int(flat.max()) >= total):
        raise RuntimeError(f"{op}(): found an invalid max index {int(flat.max())} (output volumes are of size "
                           f"{'x'.join(map(str, sizes))}); pass the output_size of the pooled input")
    with uncast:
        out = x.new_zeros((n, c, total))
        rows, channels = arange(n, device=x.device)[:, None, None], arange(c, device=x.device)[None, :, None]
        out[rows, channels, flat] = x.reshape(n, c, flat.shape[2])
        out = out.reshape((n, c) + sizes)
    return out if batched else out[0]


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Put each max back where ``max_pool1d(..., return_indices=True)`` found it; zeros elsewhere."""
    return _max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Put each max back where ``max_pool2d(..., return_indices=True)`` found it; zeros elsewhere (SegNet's
    decoder). ``output_size``: the pooled input's size, when the pooling dropped a last row or column."""
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """As ``max_unpool2d``, for ``max_pool3d``."""
    return _max_unpool("max_unpool3d", 3, input, indices, kernel_size, stride, padding, output_size)
