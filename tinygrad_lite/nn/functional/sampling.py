r"""Reading an image at arbitrary points: ``grid_sample`` and ``affine_grid``, the two halves of a spatial
transformer network (Jaderberg et al., 2015), composed of the library's ops.

A grid holds, for each output pixel, the point to read in normalised coordinates: -1 and 1 are the input's edges,
(x, y) for a 4-D input (x along the width), (x, y, z) for a 5-D one. A coordinate c of a dim of n pixels becomes
the pixel position p = (c + 1) / 2 (n - 1) with ``align_corners=True`` (-1 and 1 are the corner pixels' centres),
else p = ((c + 1) n - 1) / 2 (they are the corner pixels' outer edges). Then, by ``padding_mode``, a point outside
reads zeros ("zeros"), the nearest edge pixel ("border": p clipped to [0, n - 1]) or its mirror image in the edges
("reflection", then clipped). By ``mode``:
- "bilinear" (trilinear for 5-D): the 2^d pixels around p, each weighted by the product over dims of
  1 - |p - its position|;
- "nearest": the pixel at p rounded half to even;
- "bicubic" (4-D): the 4 x 4 pixels around p, weighted by Keys' cubic convolution (A = -0.75) in each dim; each of
  them padded on its own.
The reads are a ``gather``, so the gradient flows to the pixels read (summed where several points read one) and,
through the weights, to the grid: d/dp of the interpolation (0 for "nearest", and where p was clipped).

``affine_grid(theta, size)``: the grid of a batch of affine maps, output pixel (x, y) reading theta [x, y, 1]^T,
with x and y the normalised coordinates of the output's pixels (their centres: -1 + (2 i + 1) / n, or
-1 + 2 i / (n - 1) with ``align_corners=True``). Its gradient in theta comes from the matrix product.
"""
import itertools
import math
import warnings

from ...autograd.higher_order import reads
from ...creation import linspace, ones, zeros
from ...functions import _flag, stack
from ...shapes import as_int
from ...tensor import where
from ._checks import _check_tensor
from .vision import keys_weights

__all__ = ["grid_sample", "affine_grid"]

MODES = ("bilinear", "nearest", "bicubic")
PADDING_MODES = ("zeros", "border", "reflection")


def _align_corners(align_corners):
    """PyTorch's default (False), with its warning when none is given."""
    if align_corners is None:
        warnings.warn("Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. "
                      "Please specify align_corners=True if the old behavior is desired. See the documentation of "
                      "grid_sample for details.", stacklevel=3)
        return False
    return _flag("grid_sample", "align_corners", align_corners)


def _position(c, n, align_corners):
    """A normalised coordinate as a pixel position in a dim of n pixels (the module's docstring)."""
    return (c + 1) / 2 * (n - 1) if align_corners else ((c + 1) * n - 1) / 2


def _clipped(p, n):
    """p clipped to [0, n - 1], with PyTorch's gradient: 0 at the edges too, not only beyond them; nan goes to the
    first pixel, as PyTorch's CPU kernel sends it."""
    inside = (p > 0) & (p < n - 1)
    return where(inside, p, where(p != p, 0.0, p.detach().clamp(0, n - 1)))


def _reflected(p, n, align_corners):
    """p reflected into [low, high] (the corner pixels' centres, or their outer edges), as often as it takes."""
    low, high = (0.0, n - 1.0) if align_corners else (-0.5, n - 0.5)
    if low == high:
        return p * 0
    span = high - low
    distance = (p - low).abs()
    extra, flips = distance.fmod(span), (distance / span).floor()
    return where(flips.fmod(2) == 0, extra + low, span - extra + low)


def _padded(p, n, padding_mode, align_corners):
    if padding_mode == "border":
        return _clipped(p, n)
    if padding_mode == "reflection":
        return _clipped(_reflected(p, n, align_corners), n)
    return p


def _read(flat, sizes, index):
    """The pixels at integer positions ``index`` (one Tensor per dim, each (N, *out)) of ``flat`` (N, C, prod
    sizes): (N, C, *out), 0 for a position outside."""
    inside, linear = None, 0
    for i, n in zip(index, sizes):
        within = (i >= 0) & (i <= n - 1)  # (False for nan: such a point reads 0, its weight makes the result nan)
        inside = within if inside is None else inside & within
        linear = linear * n + where(within, i, 0.0)
    N, C = flat.shape[:2]
    out = tuple(linear.shape[1:])
    where_ = linear.long().reshape(N, 1, math.prod(out)).expand(N, C, math.prod(out))
    values = flat.gather(2, where_).reshape((N, C) + out)
    return where(inside.unsqueeze(1), values, 0.0)


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """``input`` (N, C, H, W) read at ``grid`` (N, H_out, W_out, 2) (5-D: (N, C, D, H, W) at (N, D_out, H_out,
    W_out, 3)): (N, C, H_out, W_out) (the module's docstring)."""
    _check_tensor("grid_sample", input)
    _check_tensor("grid_sample", grid, "grid")
    if mode not in MODES:
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', but "
                         f"got: '{mode}'")
    if padding_mode not in PADDING_MODES:
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: '{padding_mode}'")
    align_corners = _align_corners(align_corners)
    d = input.ndim - 2
    if input.ndim not in (4, 5) or grid.ndim != input.ndim or grid.shape[-1] != d or grid.shape[0] != input.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected a 4-D input with a grid of (N, H_out, W_out, 2), or a 5-D input "
                           f"with a grid of (N, D_out, H_out, W_out, 3), the same N; got input {tuple(input.shape)} "
                           f"and grid {tuple(grid.shape)}")
    if mode == "bicubic" and d != 2:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    if not input.dtype.is_floating_point or grid.dtype != input.dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid of one floating-point dtype, got "
                           f"{input.dtype} and {grid.dtype}; convert the grid with .to(input.dtype)")
    sizes = tuple(input.shape[2:])  # (D,) H, W: the grid's last coordinate (x) indexes the last of them
    flat = input.reshape(input.shape[0], input.shape[1], math.prod(sizes))
    positions = [_position(grid[..., d - 1 - k], n, align_corners) for k, n in enumerate(sizes)]
    if mode == "bicubic":  # (each of the 16 pixels padded on its own, as PyTorch's)
        (py, px), (ny, nx) = positions, sizes
        y0, x0 = py.floor(), px.floor()
        wy, wx = keys_weights(py - y0), keys_weights(px - x0)
        total = 0.0
        for i, j in itertools.product(range(4), range(4)):
            where_y = _padded(y0 + (i - 1), ny, padding_mode, align_corners).detach()
            where_x = _padded(x0 + (j - 1), nx, padding_mode, align_corners).detach()
            weight = (wy[i] * wx[j]).unsqueeze(1)
            total = total + _read(flat, sizes, [where_y.trunc(), where_x.trunc()]) * weight
        return total
    positions = [_padded(p, n, padding_mode, align_corners) for p, n in zip(positions, sizes)]
    if mode == "nearest":  # (the grid's gradient is 0, not None, as PyTorch's)
        return reads(_read(flat, sizes, [p.detach().round() for p in positions]), grid)
    below = [p.detach().floor() for p in positions]
    total = 0.0
    for corner in itertools.product((0, 1), repeat=d):  # (the 2^d pixels around p)
        weight = None
        for p, b, up in zip(positions, below, corner):
            w = p - b if up else b + 1 - p
            weight = w if weight is None else weight * w
        total = total + _read(flat, sizes, [b + up for b, up in zip(below, corner)]) * weight.unsqueeze(1)
    return total


def _coordinates(n, align_corners, like):
    """The normalised coordinates of n pixels' centres (0 for one pixel, as PyTorch's)."""
    if n <= 1:
        return zeros(1, dtype=like.dtype, device=like.device)
    steps = linspace(-1, 1, n, dtype=like.dtype, device=like.device)
    return steps if align_corners else steps * ((n - 1) / n)


def affine_grid(theta, size, align_corners=None):
    """The grid (N, H, W, 2) of the affine maps ``theta`` (N, 2, 3) for an output of ``size`` (N, C, H, W); 3-D:
    theta (N, 3, 4), size (N, C, D, H, W), a grid (N, D, H, W, 3)."""
    _check_tensor("affine_grid", theta, "theta")
    align_corners = _align_corners(align_corners)
    if isinstance(size, (str, bytes)) or not hasattr(size, "__iter__"):
        raise TypeError(f"affine_grid(): argument 'size' must be a tuple of ints (N, C, H, W) or (N, C, D, H, W), got "
                        f"{type(size).__name__}")
    size = tuple(as_int(s, "affine_grid", "size") for s in size)
    if len(size) not in (4, 5):
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
                                  f"respectively. Got size {size}.")
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    d = len(size) - 2
    if not theta.dtype.is_floating_point:
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    if tuple(theta.shape) != (size[0], d, d + 1):
        raise ValueError(f"Expected a batch of {d}D affine matrices of shape Nx{d}x{d + 1} for size {size}. Got "
                         f"{tuple(theta.shape)}.")
    if align_corners and min(size[2:]) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
                      "align_corners=True. This is not an intended use case of affine_grid. See the documentation of "
                      "affine_grid for details.", stacklevel=2)
    spatial = size[2:][::-1]  # (W, H[, D]): the grid's coordinates x, y[, z] in order
    axes = [_coordinates(n, align_corners, theta) for n in spatial]
    shape = size[2:]
    columns = []
    for k, axis in enumerate(axes):  # (coordinate k varies along spatial dim d - 1 - k)
        view = [1] * d
        view[d - 1 - k] = spatial[k]
        columns.append(axis.reshape(view).expand(shape))
    base = stack(columns + [ones(shape, dtype=theta.dtype, device=theta.device)], -1)  # (*shape, d + 1)
    grid = base.reshape(1, -1, d + 1) @ theta.mT  # (N, prod shape, d)
    return grid.reshape((size[0],) + shape + (d,))

