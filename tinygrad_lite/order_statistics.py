"""Selecting and counting by order, composed of ``sort``, ``gather`` and numpy's running extremes:
``kthvalue``, ``cummax``, ``cummin``, ``aminmax`` and ``histc``.

- ``kthvalue(x, k, dim)``: the k-th smallest along ``dim`` and where it is (a ``sort``, then the k-th column).
- ``cummax(x, dim)`` / ``cummin``: the running largest (smallest) value and the index it came from; among equal
  values the latest, as PyTorch's, and from a nan on, nan (with the latest nan's index). The values are
  ``gather``ed at those indices, so the gradient of each goes to the element it came from.
- ``aminmax(x, dim=None)``: ``amin`` and ``amax`` together.
- ``histc(x, bins, min, max)``: counts in ``bins`` equal bins from min to max (both 0: the data's own range);
  values outside are not counted, the last bin includes max. No gradient (counts have none).
"""
import math

from . import return_types
from .creation import linspace
from .device import array_module_of
from .functions import _check_tensor
from .shapes import as_int, check_flag, dim_index
from .tensor import Tensor

__all__ = ["kthvalue", "cummax", "cummin", "aminmax", "histc"]


def kthvalue(input, k, dim=-1, keepdim=False):
    """The k-th smallest values along ``dim`` (k from 1) and their indices."""
    _check_tensor("kthvalue", input)
    d = dim_index(dim, input.ndim if input.ndim else 1, "kthvalue")
    k = as_int(k, "kthvalue", "k")
    size = input.shape[d] if input.ndim else 1
    if not 1 <= k <= size:
        raise IndexError(f"kthvalue(): selected number k = {k} out of range for dimension {d} of size {size}")
    values, indices = (input if input.ndim else input.reshape(1)).sort(dim=d, stable=True)
    values, indices = (t.narrow(d, k - 1, 1) if keepdim else t.select(d, k - 1) for t in (values, indices))
    if not input.ndim:
        values, indices = values.reshape(()), indices.reshape(())
    return return_types.kthvalue(values, indices)


def _running(name, accumulate, pair):
    def running(input, dim):
        _check_tensor(name, input)
        x = input if input.ndim else input.reshape(1)
        d = dim_index(dim, x.ndim, name)
        xp = array_module_of(x.array)
        best = getattr(xp, accumulate).accumulate(x.array, axis=d)
        positions = xp.arange(x.shape[d]).reshape([-1 if k == d else 1 for k in range(x.ndim)])
        # where the running extreme is this element itself; a nan is carried on from where it (the latest) appeared
        reached = xp.where((x.array == best) | xp.isnan(x.array), positions, -1)
        indices = xp.maximum.accumulate(xp.broadcast_to(reached, x.shape), axis=d).astype(xp.int64)
        index = Tensor._make(indices, None)
        values = x.gather(d, index)
        if not input.ndim:
            values, index = values.reshape(()), index.reshape(())
        return pair(values, index)
    running.__name__ = name
    running.__doc__ = (f"The running {'largest' if accumulate == 'maximum' else 'smallest'} values along ``dim`` "
                       "and the indices they come from (the latest of equal ones).")
    return running


cummax = _running("cummax", "maximum", return_types.cummax)
cummin = _running("cummin", "minimum", return_types.cummin)


def aminmax(input, *, dim=None, keepdim=False):
    """(min, max) over all elements, or along ``dim``."""
    _check_tensor("aminmax", input)
    keepdim = check_flag("aminmax", "keepdim", keepdim)
    return return_types.aminmax(input.amin(dim=() if dim is None else dim, keepdim=keepdim) if dim is not None
                                else input.min(), input.amax(dim=dim, keepdim=keepdim) if dim is not None
                                else input.max())


def histc(input, bins=100, min=0, max=0):
    """A histogram: counts of the elements in ``bins`` equal bins between min and max, in input's dtype."""
    _check_tensor("histc", input)
    bins = as_int(bins, "histc", "bins")
    if bins <= 0:
        raise RuntimeError(f"torch.histc: bins must be > 0, but got {bins} for dimension 0")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"torch.histc: input tensor and hist tensor should have the same dtype, but got "
                           f"input {input.dtype.name} and hist float")
    xp, values = array_module_of(input.array), input.array.reshape(-1)
    low, high = float(min), float(max)
    if low == high and values.size:
        low, high = float(values.min()), float(values.max())
    if low == high:
        low, high = low - 1, high + 1
    if not low < high or not math.isfinite(low) or not math.isfinite(high):
        raise RuntimeError(f"torch.histc: range of [{low}, {high}] is not finite or max is not larger than min")
    inside = values[(values >= low) & (values <= high)]
    # PyTorch's bin of x: floor((x - min) bins / (max - min)), with max itself in the last bin
    which = xp.minimum(((inside - low) * bins / (high - low)).astype(xp.int64), bins - 1)
    counts = xp.bincount(which, minlength=bins)
    return Tensor._make(counts.astype(input.dtype.np), None)


def histogram(input, bins=100, *, range=None, weight=None, density=False):
    """(hist, bin_edges): the elements counted in ``bins`` equal bins over ``range`` (the elements' smallest and
    largest by default), or in the bins between the given edges (``bins`` a 1-D tensor); each element counts
    ``weight`` (a tensor of input's shape) or 1; ``density`` divides each count by the total and the bin's width, so
    that the histogram integrates to 1. numpy's ``histogram`` counts (the last bin holds its right edge), on the edges
    PyTorch's ``linspace`` gives, in the input's dtype."""
    _check_tensor("histogram", input)
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"torch.histogram: input tensor and bins tensors should have the same dtype, but got input "
                           f"{input.dtype.name}; convert it with input.float()")
    if weight is not None and not isinstance(weight, Tensor):
        raise TypeError(f"histogram(): argument 'weight' must be a Tensor, not {type(weight).__name__}")
    if weight is not None and tuple(weight.shape) != tuple(input.shape):
        raise RuntimeError(f"torch.histogram: if weight tensor is provided it should have the same shape as the input "
                           f"tensor, got weight {list(weight.shape)} and input {list(input.shape)}")
    xp, values = array_module_of(input.array), input.array.reshape(-1)
    if isinstance(bins, Tensor):
        edges = bins.array.astype(input.dtype.np)
        if edges.ndim != 1 or edges.size < 2 or bool((edges[1:] < edges[:-1]).any()):
            raise RuntimeError(f"torch.histogram: bins must be a 1-D tensor of at least 2 increasing edges, got "
                               f"{edges.tolist()!r:.80}")
    else:  # equal bins: their edges as PyTorch's linspace rounds them, in the input's dtype
        low, high = range if range is not None else (values.min(), values.max()) if values.size else (0.0, 1.0)
        if low > high:
            raise RuntimeError(f"torch.histogram: min should not exceed max, but got min {low} max {high}")
        low, high = (float(low) - 0.5, float(high) + 0.5) if low == high else (float(low), float(high))
        edges = linspace(low, high, as_int(bins, "histogram", "bins") + 1, dtype=input.dtype).array
    counts = xp.histogram(values, bins=edges, weights=None if weight is None else weight.array.reshape(-1))[0]
    counts = counts.astype(input.dtype.np)
    if density:  # (in the input's dtype, as PyTorch's: count / total / width)
        counts = counts / counts.sum() / xp.diff(edges)
    return return_types.histogram(Tensor._make(counts, None), Tensor._make(edges, None))


for _function in (kthvalue, cummax, cummin, aminmax, histc, histogram):
    setattr(Tensor, _function.__name__, _function)
