r"""Scatter: writing numbers into given positions of a tensor, the mirror of ``gather``.

``gather`` reads: out[i][j] = x[index[i][j]][j] (along dim 0). ``scatter`` writes: out[index[i][j]][j] = src[i][j],
every other number of out being the input's. Its relatives:

- ``scatter_add`` adds src into those positions instead (a position named twice gets both numbers);
- ``scatter_reduce`` combines them by "sum", "mean", "amax" or "amin" (with or without the input's own number);
- ``index_add``, ``index_copy`` and ``index_fill`` do the same with whole slices: slice i of ``source`` along
  ``dim`` goes to slice ``index[i]`` of the input (added, copied, or filled with one value);
- ``index_put`` writes ``values`` at ``x[indices]`` (``accumulate=True`` adds them), as ``x[indices] = values``;
- ``masked_scatter`` writes the numbers of ``source``, in order, where a mask is True.

The common one is a one-hot encoding: ``zeros(n, classes).scatter_(1, labels.unsqueeze(1), 1.0)``.

All are composed, with no backward of their own: each element of src gets a flat position p in the output, and the
sum of the numbers sent to each position is ``Bincount`` (ops/gather.py), the scatter-add that is gather's
backward; its own backward gathers, so dL/dsrc_i = g_{p_i}. Replacing is a ``where`` on the positions written, so
the input's gradient there is 0. A position that is written twice by ``scatter`` keeps the last number written,
as PyTorch's CPU kernel does (PyTorch leaves it unspecified), and each number written gets the position's gradient,
as from PyTorch's backward (the overwritten ones through a term sum - sum.detach(), worth 0). Comparisons pick
the numbers (``where``, never a product with a 0/1 mask: inf * 0 would be nan). The in-place forms
(``x.scatter_(...)``) are recorded in the graph as any in-place op.
"""
import functools

import numpy as np

from . import dtypes as dt
from .device import array_module_of, check_same_device, on_device_of
from .functions import _check_tensor, with_out
from .inplace_methods import in_place
from .ops.gather import Bincount, coordinates
from .shapes import dim_index
from .tensor import Tensor, _as_tensor, where

__all__ = ["scatter", "scatter_add", "scatter_reduce", "index_add", "index_copy", "index_fill", "index_put",
           "masked_scatter"]

_REDUCTIONS = ("sum", "mean", "amax", "amin")


def _send(values, positions, size):
    """The flat tensor of ``size`` numbers whose number p is the sum of the ``values`` sent to position p (both
    flat; ``values`` a tensor, ``positions`` an array): a scatter-add, differentiable in ``values``."""
    return Bincount.apply(values.reshape(-1), bins=positions.reshape(-1), length=size)


def _written(positions, size):
    """A boolean tensor of ``size``: True at the positions written."""
    xp = array_module_of(positions)
    with on_device_of(positions):
        mask = xp.zeros(size, dtype=bool)
    mask[positions.reshape(-1)] = True
    return Tensor._make(mask, None)


def _last_of_each(positions):
    """Which entries of the flat ``positions`` are the last to name their position (the ones a replace keeps)."""
    xp = array_module_of(positions)
    flat = positions.reshape(-1)
    _, first_from_end = np.unique(xp.asnumpy(flat[::-1]) if xp is not np else flat[::-1], return_index=True)
    with on_device_of(positions):
        return xp.asarray(flat.size - 1 - first_from_end)


def _check_index(op, input, dim, index, src=None):
    """PyTorch's rules for a scatter's ``index``: integers, as many dims as the input, no larger than the input
    apart from ``dim`` (nor than src), and each number a position along ``dim``."""
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}(): index must be a tensor of positions (int64), got {type(index).__name__}")
    if index.dtype not in (dt.int64, dt.int32):
        raise RuntimeError(f"{op}(): Expected dtype int32/int64 for index, got {index.dtype.name}: convert it with "
                           ".long()")
    if index.ndim != input.ndim and not (index.ndim <= 1 and input.ndim <= 1):
        raise RuntimeError(f"{op}(): Index tensor must have the same number of dimensions as self tensor: index "
                           f"{tuple(index.shape)}, self {tuple(input.shape)} (unsqueeze it: index.unsqueeze(1))")
    sizes, limit = tuple(index.shape), tuple(input.shape)
    larger = any(n > m for k, (n, m) in enumerate(zip(sizes, limit)) if k != dim)
    if larger or (src is not None and any(n > m for n, m in zip(sizes, src.shape))):
        raise RuntimeError(f"{op}(): Expected index {list(sizes)} to be no larger than self {list(limit)} apart from "
                           f"dimension {dim}" + (f" and to be no larger size than src {list(src.shape)}"
                                                 if src is not None else ""))
    length = input.shape[dim] if input.ndim else 1
    if index.numel() and (int(index.array.min()) < 0 or int(index.array.max()) >= length):
        bad = int(index.array.min()) if int(index.array.min()) < 0 else int(index.array.max())
        raise RuntimeError(f"{op}(): index {bad} is out of bounds for dimension {dim} with size {length}")


def _flat_positions(input, dim, index):
    """The flat position in ``input`` that each element of ``index`` names: its own coordinates, with its value
    along ``dim`` (an array of index's shape)."""
    xp = array_module_of(index.array)
    with on_device_of(index.array):
        where_read = xp.broadcast_arrays(*coordinates(index.array.astype(xp.int64), dim))
        return xp.ravel_multi_index(tuple(where_read), tuple(input.shape))


def _source(op, input, src, index):
    """src as a tensor of the input's dtype, cut to the index's shape (src may be larger; a number fills it)."""
    if not isinstance(src, Tensor):
        return None, src
    check_same_device(op, [input, src, index])
    if src.dtype != input.dtype:
        raise RuntimeError(f"{op}(): Expected self.dtype to be equal to src.dtype: {input.dtype.name} and "
                           f"{src.dtype.name} (convert src with .to(x.dtype))")
    if src.ndim != index.ndim:
        raise RuntimeError(f"{op}(): src must have as many dims as index, got {tuple(src.shape)} and "
                           f"{tuple(index.shape)}")
    return src[tuple(slice(0, n) for n in index.shape)] if src.ndim else src, None


def _replace(input, positions, values, value):
    """input with ``values`` (a tensor, one per position) or the number ``value`` written at the flat positions."""
    size = input.numel()
    flat = input.reshape(-1)
    if values is None:
        return where(_written(positions, size), value, flat).to(input.dtype).reshape(input.shape)
    keep = _last_of_each(positions)  # the number each position keeps: the last written there
    if not input.is_floating_point():  # (integers and bools have no gradient: a plain write)
        out = flat.array.copy()
        out[positions.reshape(-1)[keep]] = values.array.reshape(-1)[keep]
        return Tensor._make(out, None).reshape(input.shape)
    values = values.reshape(-1)
    xp = array_module_of(positions)
    with on_device_of(positions):
        kept = xp.zeros(values.shape[0], dtype=bool)
    kept[keep] = True
    written = _send(where(Tensor._make(kept, None), values, 0.0), positions, size)
    dropped = ~kept & xp.isfinite(values.array)  # numbers overwritten by a later one at their position
    if dropped.any():  # they get their position's gradient too, as from PyTorch's backward: a term worth 0
        extra = _send(where(Tensor._make(dropped, None), values, 0.0), positions, size)
        written = written + (extra - extra.detach())
    return where(_written(positions, size), written, flat).reshape(input.shape)


def _zero_d_as_one(function):
    """A 0-d input (and its 0-d index and src) treated as 1-long vectors, the result made 0-d again: PyTorch's
    scatters accept them (dim 0 or -1)."""
    @functools.wraps(function)
    def on_vectors(input, dim, index, *args, **kwargs):
        if not (isinstance(input, Tensor) and input.ndim == 0):
            return function(input, dim, index, *args, **kwargs)
        one = [a.reshape(1) if isinstance(a, Tensor) and a.ndim == 0 else a for a in (index, *args)]
        dim_index(dim, 1, function.__name__)
        return function(input.reshape(1), 0, *one, **kwargs).reshape(())
    return on_vectors


@_zero_d_as_one
def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """out = input, then out[index[i][j]][j] = src[i][j] along ``dim`` (0 here): src's numbers written at the
    positions ``index`` names (a number ``value`` fills them). ``reduce="add"`` or ``"multiply"`` is PyTorch's
    older form; "add" is ``scatter_add``."""
    _check_tensor("scatter", input)
    d = dim_index(dim, max(input.ndim, 1), "scatter")
    if src is None and value is None:
        raise TypeError("scatter(): give src (a tensor) or value (a number) to write")
    src = value if src is None else src
    src = _as_tensor(src, input.device) if isinstance(src, (list, np.ndarray)) else src
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise RuntimeError(f"scatter(): reduce argument must be either add or multiply, got {reduce!r}")
        if reduce == "multiply":
            raise NotImplementedError("scatter(reduce='multiply') is not covered by tinygrad_lite; use "
                                      "scatter_reduce(..., 'prod') in PyTorch, or write the product out")
        values = src if isinstance(src, Tensor) else input.new_full(tuple(index.shape), src)
        return scatter_add(input, d, index, values)
    _check_index("scatter", input, d, index, src if isinstance(src, Tensor) else None)
    values, number = _source("scatter", input, src, index)
    return _replace(input, _flat_positions(input, d, index), values, number)


@_zero_d_as_one
def scatter_add(input, dim, index, src):
    """out = input, then out[index[i][j]][j] += src[i][j] along ``dim`` (0 here): each number of src added at the
    position ``index`` names; a position named twice gets both."""
    _check_tensor("scatter_add", input)
    d = dim_index(dim, max(input.ndim, 1), "scatter_add")
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add(): src must be a tensor, got {type(src).__name__}")
    _check_index("scatter_add", input, d, index, src)
    values, _ = _source("scatter_add", input, src, index)
    return input + _send(values, _flat_positions(input, d, index), input.numel()).reshape(input.shape)


@_zero_d_as_one
def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """Each position's numbers from src combined by ``reduce``: "sum", "mean", "amax" or "amin", with the input's
    own number among them when ``include_self`` (positions nobody names keep the input's). The gradient of a
    maximum or minimum is shared evenly by the numbers equal to it, as PyTorch's. ("prod" is not covered.)"""
    _check_tensor("scatter_reduce", input)
    d = dim_index(dim, max(input.ndim, 1), "scatter_reduce")
    if reduce not in _REDUCTIONS:
        kind = NotImplementedError if reduce == "prod" else RuntimeError
        named = {"max": " (the maximum is 'amax': PyTorch's forward also takes 'max', its backward does not)",
                 "min": " (the minimum is 'amin': PyTorch's forward also takes 'min', its backward does not)",
                 "prod": " ('prod' is not covered by tinygrad_lite)"}.get(reduce, "")
        raise kind(f"scatter_reduce(): reduce must be one of {', '.join(_REDUCTIONS)} here, got {reduce!r}{named}")
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_reduce(): src must be a tensor, got {type(src).__name__}")
    _check_index("scatter_reduce", input, d, index, src)
    if input.dtype == dt.bool:  # (as 0/1 integers; any 1 makes True)
        return scatter_reduce(input.long(), d, index, src.long(), reduce, include_self=include_self) != 0
    values, _ = _source("scatter_reduce", input, src, index)
    size, positions = input.numel(), _flat_positions(input, d, index).reshape(-1)
    flat, values = input.reshape(-1), values.reshape(-1)
    xp = array_module_of(positions)
    with on_device_of(positions):
        counts = xp.bincount(positions, minlength=size).astype(xp.int64)
    named = Tensor._make(counts > 0, None)
    if reduce in ("sum", "mean"):
        total = _send(values, positions, size) + (flat if include_self else 0)
        if reduce == "mean":  # (integers: rounded down, as PyTorch's)
            divisor = Tensor._make((counts + int(include_self)).clip(1, None), None)
            total = total / divisor.to(flat.dtype) if input.is_floating_point() else total // divisor
        return where(named, total.to(input.dtype), flat).reshape(input.shape)
    if positions.size == 0:
        return input.clone()
    with on_device_of(positions):  # the extreme of each position, then which numbers equal it (no gradient yet)
        best = _extremes(values.array, positions, size, reduce)
        if include_self:
            best = (xp.maximum if reduce == "amax" else xp.minimum)(best, flat.array)
        sharing = xp.bincount(positions, weights=(values.array == best[positions]).astype(np.float64), minlength=size)
        sharing = sharing + (include_self * (flat.array == best))
    share = Tensor._make((1 / xp.maximum(sharing, 1)).astype(flat.array.dtype), None)
    ties = Tensor._make(values.array == best[positions], None)  # (where, not a product: inf * 0 would be nan)
    from_src = _send(where(ties, values * share[Tensor._make(positions, None)], 0.0), positions, size)
    from_self = where(Tensor._make(flat.array == best, None), flat * share, 0.0) if include_self else 0
    return where(named, from_src + from_self, flat).to(input.dtype).reshape(input.shape)


def _extremes(values, positions, size, reduce):
    """The largest (``reduce="amax"``) or smallest of the ``values`` sent to each of ``size`` positions (the
    dtype's extreme where none is sent): the values sorted by position, then by value, and the last of each
    position's run taken."""
    xp = array_module_of(values)
    order = xp.lexsort(xp.stack([values if reduce == "amax" else -values, positions]))
    by_position = positions[order]
    last = xp.concatenate([by_position[1:] != by_position[:-1], xp.ones(1, dtype=bool)])
    kind = np.finfo if values.dtype.kind == "f" else np.iinfo
    best = xp.full(size, kind(values.dtype).min if reduce == "amax" else kind(values.dtype).max, dtype=values.dtype)
    best[by_position[last]] = values[order][last]
    return best


def _slice_positions(input, dim, index, source_shape):
    """For ``index_*``: the flat position in input of each element of a source of ``source_shape`` whose slice i
    along ``dim`` goes to slice ``index[i]``."""
    if not isinstance(index, Tensor) or index.dtype not in (dt.int64, dt.int32) or index.ndim > 1:
        raise RuntimeError(f"index_add/index_copy/index_fill: index must be a 1-D tensor of int64 positions, got "
                           f"{getattr(index, 'shape', type(index).__name__)}")
    length = input.shape[dim] if input.ndim else 1
    if index.numel() and (int(index.array.min()) < 0 or int(index.array.max()) >= length):
        raise IndexError(f"index out of range in self: positions along dim {dim} are 0 to {length - 1}, got "
                         f"{index.array.tolist()[:10]}")
    full = index.array.reshape(-1)
    xp = array_module_of(full)
    shape = list(source_shape) if source_shape else [1]
    spread = [1] * len(shape)
    spread[dim] = -1
    return _flat_positions(input, dim, Tensor._make(xp.broadcast_to(full.reshape(spread), shape).copy(), None))


def _check_source(op, input, dim, index, source):
    if not isinstance(source, Tensor):
        raise TypeError(f"{op}(): source must be a tensor, got {type(source).__name__}")
    check_same_device(op, [input, index, source])
    expected = list(input.shape)
    if expected:
        expected[dim] = index.numel()
    if list(source.shape) != expected and not (source.ndim == 0 and input.ndim <= 1 and index.numel() == 1):
        raise RuntimeError(f"{op}(): source must have the input's shape with {index.numel()} (the index's length) "
                           f"along dim {dim}: expected {expected}, got {list(source.shape)}")
    if source.dtype != input.dtype:
        raise RuntimeError(f"{op}(): self ({input.dtype.name}) and source ({source.dtype.name}) must have the same "
                           "dtype")


def index_add(input, dim, index, source, *, alpha=1):
    """out = input, then out[..., index[i], ...] += alpha * source[..., i, ...] along ``dim``."""
    _check_tensor("index_add", input)
    d = dim_index(dim, max(input.ndim, 1), "index_add")
    _check_source("index_add", input, d, index, source)
    positions = _slice_positions(input, d, index, tuple(source.shape))
    alpha = alpha if input.is_floating_point() else int(alpha)  # (an integer tensor: alpha truncated, as PyTorch's)
    sent = _send(source if alpha == 1 else source * alpha, positions, input.numel())
    return input + sent.reshape(input.shape)


def index_copy(input, dim, index, source):
    """out = input, then out[..., index[i], ...] = source[..., i, ...] along ``dim``."""
    _check_tensor("index_copy", input)
    d = dim_index(dim, max(input.ndim, 1), "index_copy")
    _check_source("index_copy", input, d, index, source)
    return _replace(input, _slice_positions(input, d, index, tuple(source.shape)), source, None)


def index_fill(input, dim, index, value):
    """out = input with the slices ``index`` along ``dim`` filled with ``value`` (a number or a 0-d tensor)."""
    _check_tensor("index_fill", input)
    d = dim_index(dim, max(input.ndim, 1), "index_fill")
    shape = list(input.shape)
    if shape:
        shape[d] = index.numel() if isinstance(index, Tensor) else 0
    positions = _slice_positions(input, d, index, tuple(shape))
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError(f"index_fill(): only supports a 0-dimensional value tensor, but got tensor with "
                           f"{value.ndim} dimension(s)")
    mask = _written(positions, input.numel()).reshape(input.shape)
    return where(mask, value, input).to(input.dtype)


def index_put(input, indices, values, accumulate=False):
    """``x[indices] = values`` out of place (``accumulate=True``: ``x[indices] += values``, where a position named
    twice gets both)."""
    _check_tensor("index_put", input)
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"index_put(): indices must be a tuple of tensors, got {type(indices).__name__}")
    given = values
    values = _as_tensor(values, input.device)
    if isinstance(given, Tensor) and values.dtype != input.dtype:
        raise RuntimeError(f"index_put(): Index put requires the source and destination dtypes match, got "
                           f"{input.dtype.name} for the destination and {values.dtype.name} for the source "
                           "(convert with .to(x.dtype))")
    if not accumulate:
        out = input.clone()
        out[tuple(indices)] = values
        return out
    with on_device_of(input.array):
        places = Tensor._make(array_module_of(input.array).arange(input.numel()).reshape(input.shape), None)
    positions = places[tuple(indices)].array  # the flat position of each number x[indices] reads
    values = values.to(input.dtype)  # (a Python number given as values)
    spread = values.expand(positions.shape)
    return input + _send(spread, positions, input.numel()).reshape(input.shape)


def masked_scatter(input, mask, source):
    """out = input, then the places where ``mask`` is True (a bool tensor, broadcast with input) take the numbers of
    ``source`` one after the other, in row-major order: the first ``mask.sum()`` of them. Written as
    ``out[mask] = source.flatten()[:n]``, so input's gradient is 0 at those places and each number taken gets its
    place's gradient."""
    _check_tensor("masked_scatter", input)
    if not isinstance(mask, Tensor) or mask.dtype is not dt.bool:
        kind = mask.dtype.name if isinstance(mask, Tensor) else type(mask).__name__
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with dtype {kind}; "
                           "compare first: x.masked_scatter(m > 0, source)")
    _check_tensor("masked_scatter", source)
    if source.dtype != input.dtype:
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but got {input.dtype.name} "
                           f"and {source.dtype.name} (convert with source.to(x.dtype))")
    shape = np.broadcast_shapes(tuple(input.shape), tuple(mask.shape))
    mask, out = mask.expand(shape), input.expand(shape).clone()
    n = int(mask.sum())
    if n > source.numel():
        raise RuntimeError(f"masked_scatter: Number of elements of source < number of ones in mask (the mask picks {n} "
                           f"places, source has {source.numel()} numbers)")
    out[mask] = source.reshape(-1)[:n]
    return out


for _function in (scatter, scatter_add, scatter_reduce, index_add, index_copy, index_fill, index_put, masked_scatter):
    setattr(Tensor, _function.__name__, _function)
    setattr(Tensor, _function.__name__ + "_", in_place(_function.__name__, _function))
# the functions take out=, as PyTorch's (the methods do not): torch.index_add(x, 0, i, v, out=y)
scatter, scatter_add, scatter_reduce, index_add, index_copy = (with_out(f) for f in (
    scatter, scatter_add, scatter_reduce, index_add, index_copy))
