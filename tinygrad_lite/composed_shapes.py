"""More of PyTorch's shape functions, composed of those in composed.py (slices, cat, flip, reshape), so that their
gradients come from those: joining (``hstack``, ``vstack``, ``dstack``, ``column_stack``, ``block_diag``),
splitting (``tensor_split``, ``hsplit``, ``vsplit``, ``dsplit``), ``atleast_1d/2d/3d``, turning (``rot90``,
``fliplr``, ``flipud``), ``diagflat``, and the index makers ``tril_indices``, ``triu_indices``,
``cartesian_prod``, ``combinations``, ``argwhere``, ``isin``, ``take``, ``msort``.
"""
import builtins
import itertools

import numpy as np

from . import dtypes as dt
from .composed import diag, flip, meshgrid
from .creation import tensor, zeros
from .device import array_module_of
from .functions import _check_tensor, _tensor_list, cat, stack, with_out
from .shapes import as_int, dim_index
from .tensor import Tensor

__all__ = ["tensor_split", "hsplit", "vsplit", "dsplit", "hstack", "vstack", "dstack", "column_stack", "atleast_1d",
           "atleast_2d", "atleast_3d", "block_diag", "rot90", "fliplr", "flipud", "diagflat", "tril_indices",
           "triu_indices", "cartesian_prod", "combinations", "argwhere", "isin", "take", "msort", "row_stack"]


# ---------------------------------------------------------------- splitting
def tensor_split(input, indices_or_sections, dim=0):
    """Views of ``input`` along ``dim``: n nearly equal parts (the first size % n one longer: 7 in 3 is 3, 2, 2),
    or the pieces between the given indices."""
    _check_tensor("tensor_split", input)
    if input.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    d = dim_index(dim, input.ndim, "tensor_split")
    size = input.shape[d]
    if isinstance(indices_or_sections, Tensor):
        indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, (list, tuple)):
        wrapped = (i + size if i < 0 else i for i in (as_int(i, "tensor_split", "indices")
                                                        for i in indices_or_sections))  # (-2: two from the end)
        bounds = [0, *(builtins.min(builtins.max(i, 0), size) for i in wrapped), size]
    else:
        n = as_int(indices_or_sections, "tensor_split", "sections")
        if n <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {n}")
        if n > 2**24:
            raise RuntimeError(f"tensor_split(): {n} sections would make {n} tensors; split into fewer")
        small, extra = divmod(size, n)
        bounds = [0]
        for k in range(n):
            bounds.append(bounds[-1] + small + (1 if k < extra else 0))
    return tuple(input.narrow(d, start, builtins.max(end - start, 0)) for start, end in zip(bounds, bounds[1:]))


def _split_along(name, dim, smallest):
    def split(input, indices_or_sections):
        _check_tensor(name, input)
        if input.ndim < smallest:
            raise RuntimeError(f"torch.{name} requires a tensor with at least {smallest} dimension, but got a tensor "
                               f"with {input.ndim} dimensions!")
        d = 0 if input.ndim == 1 and name == "hsplit" else dim
        if isinstance(indices_or_sections, int) and indices_or_sections <= 0:
            raise RuntimeError(f"torch.{name}: the number of sections must be larger than 0, got "
                               f"{indices_or_sections}")
        if isinstance(indices_or_sections, int) and input.shape[d] % indices_or_sections:
            raise RuntimeError(f"torch.{name} attempted to split along dimension {d}, but the size of the "
                               f"dimension {input.shape[d]} is not divisible by the split_size "
                               f"{indices_or_sections}!")
        return tensor_split(input, indices_or_sections, d)
    split.__name__ = name
    split.__doc__ = f"``tensor_split`` along dim {dim}, into equal parts (or at the given indices)."
    return split


hsplit, vsplit, dsplit = _split_along("hsplit", 1, 1), _split_along("vsplit", 0, 2), _split_along("dsplit", 2, 3)


# ---------------------------------------------------------------- joining
def atleast_1d(*tensors):
    """Each tensor with at least one dim (a 0-d one becomes shape (1,)); one tensor in, one out."""
    return _atleast(tensors, 1, lambda t: t.reshape(1))


def atleast_2d(*tensors):
    """Each tensor with at least two dims: a vector (n,) becomes a row (1, n)."""
    return _atleast(tensors, 2, lambda t: t.reshape(1, -1))


def atleast_3d(*tensors):
    """Each tensor with at least three dims: (n,) becomes (1, n, 1), (m, n) becomes (m, n, 1)."""
    return _atleast(tensors, 3, lambda t: t.reshape(1, -1, 1) if t.ndim < 2 else t.unsqueeze(-1))


def _atleast(tensors, n, grow):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    for t in tensors:
        _check_tensor(f"atleast_{n}d", t, "tensors")
    out = tuple(t if t.ndim >= n else grow(t) for t in tensors)
    return out[0] if len(out) == 1 else out


def hstack(tensors):
    """Joined along dim 1 (dim 0 for vectors): side by side."""
    tensors = atleast_1d(*_tensor_list("hstack", tensors))
    tensors = tensors if isinstance(tensors, tuple) else (tensors,)
    return cat(tensors, dim=0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    """Joined along dim 0, vectors as rows: one above the other."""
    tensors = atleast_2d(*_tensor_list("vstack", tensors))
    return cat(tensors if isinstance(tensors, tuple) else (tensors,), dim=0)


def dstack(tensors):
    """Joined along dim 2 (depth), each made at least 3-D first."""
    tensors = atleast_3d(*_tensor_list("dstack", tensors))
    return cat(tensors if isinstance(tensors, tuple) else (tensors,), dim=2)


def column_stack(tensors):
    """Vectors as columns (and 0-d tensors as 1 x 1), joined side by side."""
    tensors = _tensor_list("column_stack", tensors)
    return hstack([t.reshape(-1, 1) if t.ndim <= 1 else t for t in tensors])


def block_diag(*tensors):
    """The matrices on the diagonal of one matrix, zeros elsewhere (0-d and 1-D inputs count as one row)."""
    for t in tensors:
        _check_tensor("block_diag", t, "tensors")
        if t.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input has {t.ndim} "
                               "dimensions")
    tensors = [t.reshape(1, -1) if t.ndim < 2 else t for t in tensors]
    if not tensors:
        return zeros(1, 0)
    dtype = dt.result_type(*tensors)
    columns = builtins.sum(t.shape[1] for t in tensors)
    rows, start = [], 0
    for t in tensors:
        left = zeros(t.shape[0], start, dtype=dtype, device=t.device)
        right = zeros(t.shape[0], columns - start - t.shape[1], dtype=dtype, device=t.device)
        rows.append(cat([left, t.to(dtype), right], dim=1))
        start += t.shape[1]
    return cat(rows, dim=0)


# ---------------------------------------------------------------- turning
def rot90(input, k=1, dims=(0, 1)):
    """Rotated by 90 degrees k times in the plane of ``dims``, from the first dim towards the second."""
    _check_tensor("rot90", input)
    if not isinstance(dims, (list, tuple)):
        raise TypeError(f"rot90(): argument 'dims' must be a pair of dims, such as (0, 1), not {type(dims).__name__}")
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    a, b = (dim_index(d, input.ndim, "rot90") for d in dims)
    if a == b:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {a} and dim1 = {b}")
    k = as_int(k, "rot90", "k") % 4
    if k == 1:
        return flip(input, (b,)).transpose(a, b)
    if k == 2:
        return flip(input, (a, b))
    if k == 3:
        return flip(input, (a,)).transpose(a, b)
    return input.clone()


def fliplr(input):
    """The columns in reverse order (dim 1)."""
    _check_tensor("fliplr", input)
    if input.ndim < 2:
        raise RuntimeError(f"fliplr(): Input must be >= 2-d (got shape {tuple(input.shape)})")
    return flip(input, (1,))


def flipud(input):
    """The rows in reverse order (dim 0)."""
    _check_tensor("flipud", input)
    if input.ndim < 1:
        raise RuntimeError("flipud(): Input must be >= 1-d (got a 0-d tensor)")
    return flip(input, (0,))


def diagflat(input, offset=0):
    """A matrix with the flattened input on its ``offset``-th diagonal."""
    _check_tensor("diagflat", input)
    offset = as_int(offset, "diagflat", "offset")
    if abs(offset) > 2**31:
        raise RuntimeError(f"diagflat(): offset {offset} would make a matrix of more than 2**31 rows")
    return diag(input.reshape(-1), offset)


# ---------------------------------------------------------------- indices
def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (row, column) indices of the lower triangle of a row x col matrix, row by row: shape (2, N)."""
    return _triangle("tril_indices", np.tril_indices, row, col, offset, dtype, device)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (row, column) indices of the upper triangle of a row x col matrix, row by row: shape (2, N)."""
    return _triangle("triu_indices", np.triu_indices, row, col, offset, dtype, device)


def _triangle(name, indices, row, col, offset, dtype, device):
    row, col, offset = (as_int(v, name, what) for v, what in ((row, "row"), (col, "col"), (offset, "offset")))
    if row < 0 or col < 0:
        raise RuntimeError(f"{name}(): row and col must be non-negative, got {row} and {col}")
    if row * col > 2**31:
        raise RuntimeError(f"{name}(): a {row} x {col} matrix has more elements than this library indexes at once")
    rows, cols = indices(row, offset, col)
    return tensor(np.stack([rows, cols]), dtype=dtype or dt.int64, device=device)


def cartesian_prod(*tensors):
    """Every combination of one element from each vector, in order: shape (N, len(tensors)) (a vector for one)."""
    if len(tensors) == 1:
        return tensors[0]
    return stack([grid.reshape(-1) for grid in meshgrid(*tensors, indexing="ij")], dim=1)


def combinations(input, r=2, with_replacement=False):
    """The r-element combinations of a vector's elements, in order (itertools' order): shape (N, r)."""
    _check_tensor("combinations", input)
    if input.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    r = as_int(r, "combinations", "r")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    chosen = list(pick(range(input.shape[0]), r)) if r else []
    if not chosen:
        return input.new_zeros((0,) if r == 0 else (0, r))
    index = tensor(chosen, dtype=dt.int64, device=input.device)
    return input[index.reshape(-1)].reshape(len(chosen), r)


def argwhere(input):
    """The indices of the nonzero elements, one row each (``nonzero()``)."""
    _check_tensor("argwhere", input)
    return input.nonzero()


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Whether each element of ``elements`` is among ``test_elements`` (a bool tensor of its shape)."""
    device = elements.device if isinstance(elements, Tensor) else getattr(test_elements, "device", None)
    try:
        values, tests = (x if isinstance(x, Tensor) else tensor(x, device=device) for x in (elements, test_elements))
    except (TypeError, ValueError, RuntimeError) as error:
        raise type(error)(f"isin(): elements and test_elements must be tensors or numbers: {error}") from None
    return Tensor._make(array_module_of(values.array).isin(values.array, tests.array, invert=invert), None)


def take(input, index):
    """The elements of the flattened input at ``index`` (of index's shape)."""
    _check_tensor("take", input), _check_tensor("take", index, "index")
    return input.reshape(-1)[index]


def msort(input):
    """Sorted along dim 0 (the values of ``sort(input, dim=0)``)."""
    _check_tensor("msort", input)
    return input.sort(dim=0).values


for _function in (tensor_split, hsplit, vsplit, dsplit, rot90, fliplr, flipud, diagflat, argwhere, isin, take,
                  msort):
    setattr(Tensor, _function.__name__, _function)
hstack, vstack, dstack, column_stack = (with_out(f) for f in (hstack, vstack, dstack, column_stack))
row_stack = vstack  # (PyTorch's other name)
