"""Tensor operations composed of others: ``repeat``, ``chunk``, ``split``, ``flip``, ``tril`` and ``triu``; and
(session 42) PyTorch's other shape and selection functions: ``ravel``, ``broadcast_to``, ``tile``, ``unbind``,
``narrow``, ``select``, ``movedim``, ``swapaxes``, ``unflatten``, ``roll``, ``diff``, ``diagonal``, ``diag``, ``trace``,
``index_select``, ``masked_select``, ``take_along_dim`` and ``meshgrid``.

None of them has a forward and backward of its own. Each is a few reshapes, slices or a ``where`` with a constant
mask, ops that already have theirs, so the chain rule gives their gradient for free: the gradient of ``repeat`` is
the sum over the copies (the backward of ``expand``), that of a slice is the slice's share of the gradient, that of
``tril`` the gradient with the same triangle kept. Composing is how a library grows without growing its engine;
a fused op (``ops/batch_norm.py``) is what one writes when the composition is too slow.

Their names, arguments and errors are PyTorch's; they are methods of Tensor too (``x.chunk(2, dim=1)``), and
``chunk``, ``split``, ``flip``, ``tril`` and ``triu`` are also functions (``torch.tril(x)``).
"""
import builtins
import math
import warnings

import numpy as np
from numpy import broadcast_shapes as np_broadcast_shapes

from . import dtypes as dt
from .creation import arange, tensor
from .device import array_module_of, on_device_of
from .functions import _check_tensor, cat, stack, with_out
from .ops.movement import Index
from .shapes import as_int, check_broadcast, dim_index, dim_indices, size_args
from .tensor import Size, Tensor, _numpy_names
from .tensor import where as _where


def repeat(input, *sizes, repeats=None):
    """The tensor tiled ``sizes[d]`` times along each dim d: ``x.repeat(2, 1)`` stacks two copies of x's rows. With
    more sizes than dims, x gets leading dims of size 1 first (``tensor([1, 2]).repeat(2, 2)`` is 2 x 4). Built as
    a reshape that puts a dim of size 1 before each dim, an ``expand`` of those to the sizes, and a reshape that
    merges each pair: copy k of element j lands at k * n + j, as in PyTorch.

    The sizes are required, as PyTorch's: ``x.repeat(2, 1)``, ``x.repeat((2, 1))`` or ``x.repeat(repeats=(2, 1))``;
    ``x.repeat()`` is a TypeError (of a 0-d tensor too, whose ``x.repeat(())`` is a copy)."""
    _check_tensor("repeat", input)
    if repeats is not None:
        if sizes:
            raise TypeError("repeat() got multiple values for argument 'repeats'")
        if not isinstance(repeats, (tuple, list, Size)):
            raise TypeError(f"repeat(): argument 'repeats' must be a tuple of ints, not {type(repeats).__name__}: "
                            f"x.repeat(repeats=({repeats!r},))")
        sizes = (repeats,)
    if not sizes:
        raise TypeError("repeat() missing 1 required positional argument: 'repeats', the number of copies along each "
                        "dim: x.repeat(2, 1) or x.repeat((2, 1)); x.repeat(1, 1) copies a 2-d tensor")
    sizes = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list, Size)) else sizes
    sizes = tuple(as_int(s, "repeat", "sizes") for s in sizes)
    if len(sizes) < input.ndim:
        ones = ", ".join(["1"] * input.ndim)
        raise RuntimeError(f"repeat: {len(sizes)} sizes for a tensor of {input.ndim} dims (shape "
                           f"{tuple(input.shape)}); give one size per dim at least, e.g. x.repeat({ones})")
    if builtins.any(s < 0 for s in sizes):
        raise RuntimeError(f"repeat: the sizes must be 0 or more, got {sizes}")
    shape = (1,) * (len(sizes) - input.ndim) + tuple(input.shape)
    result = size_args([s * r for s, r in zip(shape, sizes)], "repeat")  # (int64 must count its elements)
    paired = [n for s in shape for n in (1, s)]                   # (1, n0, 1, n1, ...)
    tiled = [n for s, r in zip(shape, sizes) for n in (r, s)]     # (r0, n0, r1, n1, ...)
    out = input.reshape(paired).expand(*tiled).reshape(result)
    return out.clone() if out._version_counter is input._version_counter else out  # (a copy always, as PyTorch's)


def _at_least_1d(op, input):
    if input.ndim == 0:
        raise RuntimeError(f"{op}: expects at least a 1-dimensional tensor (a 0-d tensor has no dim to cut), as "
                           "PyTorch's; make it one with x.reshape(1)")


def _pieces(input, dim, lengths):
    """The slices of ``input`` along ``dim`` of the given lengths, one after the other (views, as PyTorch's)."""
    start, pieces = 0, []
    for length in lengths:
        pieces.append(input[(slice(None),) * dim + (slice(start, start + length),)])
        start += length
    return tuple(pieces)


def chunk(input, chunks, dim=0):
    """``chunks`` pieces of ``input`` along ``dim``, each of ceil(n / chunks) items except the last, as PyTorch's:
    fewer pieces when n does not fill them all (``arange(5).chunk(4)`` gives 3 pieces of 2, 2 and 1)."""
    _check_tensor("chunk", input), _at_least_1d("chunk", input)
    chunks, d = as_int(chunks, "chunk", "chunks"), dim_index(dim, input.ndim, "chunk")
    if chunks <= 0:
        raise RuntimeError(f"chunk: chunks must be greater than 0, got {chunks}")
    n = input.shape[d]
    size = math.ceil(n / chunks) if n else 0
    return _pieces(input, d, [min(size, n - start) for start in range(0, n, size)] if size else [0] * chunks)


def split(tensor, split_size_or_sections, dim=0):
    """Pieces of ``tensor`` along ``dim``: of ``split_size`` items each (the last one shorter when they do not fill
    the dim), or, with a list, of those sizes, which must add up to the dim's length."""
    _check_tensor("split", tensor), _at_least_1d("split", tensor)
    d = dim_index(dim, tensor.ndim, "split")
    n = tensor.shape[d]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = [as_int(s, "split", "split_size_or_sections") for s in split_size_or_sections]
        if builtins.any(s < 0 for s in sizes):
            raise RuntimeError(f"split: the sizes {sizes} hold a negative one; each size is 0 or more")
        if builtins.sum(sizes) != n:
            raise RuntimeError(f"split: the sizes {sizes} must add up to {n}, the length of dim {d} of the tensor of "
                               f"shape {tuple(tensor.shape)}")
        return _pieces(tensor, d, sizes)
    size = as_int(split_size_or_sections, "split", "split_size")
    if size <= 0 and n:
        raise RuntimeError(f"split: split_size must be greater than 0 for a dim of length {n}, got {size}")
    return _pieces(tensor, d, [min(size, n - start) for start in range(0, n, size)] if n else [0])


def flip(input, dims):
    """The tensor with the order of its items reversed along each of ``dims``: a slice with step -1 per dim, copied
    (PyTorch's flip makes a copy, not a view). ``dims`` is a tuple or list, as PyTorch's function takes it
    (``torch.flip(x, (0,))``; the method also takes ``x.flip(0)``); ``()`` flips nothing."""
    _check_tensor("flip", input)
    if not isinstance(dims, (tuple, list)):
        raise TypeError(f"flip(): argument 'dims' must be a tuple of ints, not {type(dims).__name__}: "
                        "torch.flip(x, (0,)), or the method x.flip(0)")
    dims = dim_indices(dims, input.ndim, "flip") or ()
    reversed_ = tuple(slice(None, None, -1) if d in dims else slice(None) for d in range(input.ndim))
    return Index.apply(input, index=reversed_).clone()  # (the op itself: x[::-1] is refused, as in PyTorch)


def _triangle(op, input, diagonal, lower):
    _check_tensor(op, input)
    k = as_int(diagonal, op, "diagonal")
    if input.ndim < 2:
        raise RuntimeError(f"{op}: the input must have at least 2 dims (a matrix, or a batch of them), got shape "
                           f"{tuple(input.shape)}")
    rows, columns = input.shape[-2:]
    xp = array_module_of(input.array)  # (the mask is made where the input lives, cuda:1 too: no copy to a GPU)
    with on_device_of(input.array):
        mask = xp.tri(rows, columns, k, dtype=bool) if lower else ~xp.tri(rows, columns, k - 1, dtype=bool)
    mask = Tensor._make(mask, None)
    return _where(mask, input, input.new_zeros(()))


def tril(input, diagonal=0):
    """The lower triangle of the last two dims: items (i, j) with j - i <= ``diagonal`` kept, the others 0 (a causal
    attention mask is ``tril`` of ones). Gradient: the gradient's lower triangle."""
    return _triangle("tril", input, diagonal, lower=True)


def triu(input, diagonal=0):
    """The upper triangle of the last two dims: items (i, j) with j - i >= ``diagonal`` kept, the others 0."""
    return _triangle("triu", input, diagonal, lower=False)


def _flip_method(self, *dims, **kwargs):
    """``x.flip(0)``, ``x.flip(0, 1)``, ``x.flip([0, 1])`` or ``x.flip(dims=[0, 1])``; the dims are required, as
    PyTorch's: ``x.flip()`` is a TypeError."""
    if kwargs:  # x.flip(dims=[0]), as PyTorch's method takes it too (and x.flip(0, dims=1) is an error there)
        return flip(self, *dims, **kwargs)
    if not dims:
        raise TypeError("flip() missing 1 required positional argument: 'dims', the dims to reverse: x.flip(0), "
                        "x.flip(0, 1) or x.flip([0, 1])")
    return flip(self, dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims)


def _split_method(self, split_size, dim=0):
    """``x.split(split_size, dim=0)``: ``split``, under the name the method's argument has in PyTorch."""
    return split(self, split_size, dim)


# -------------------------------------------------------------------- shapes (session 42)
def broadcast_to(input, size):
    """``input`` expanded to ``size`` by broadcasting's rules: PyTorch's name for ``expand`` (a view, no copy)."""
    _check_tensor("broadcast_to", input)
    return input.expand(size)


def broadcast_tensors(*tensors):
    """The tensors expanded to their common broadcast shape (views, no copies), as a tuple."""
    for t in tensors:
        _check_tensor("broadcast_tensors", t)
    shape = broadcast_shapes(*(t.shape for t in tensors))
    return tuple(t.expand(shape) for t in tensors)


def broadcast_shapes(*shapes):
    """The shape that tensors of ``shapes`` broadcast to (an int stands for a 1-D shape), as a Size."""
    shapes = [(s,) if isinstance(s, int) else s for s in shapes]
    if not all(isinstance(s, (tuple, list, Size)) and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0
                                                          for n in s) for s in shapes):
        raise RuntimeError(f"broadcast_shapes(): expected shapes (tuples of sizes, or ints), got {shapes!r:.80}")
    shapes = [tuple(s) for s in shapes]
    check_broadcast("broadcast_shapes", *shapes)
    ndim = max((len(s) for s in shapes), default=0)
    columns = [[s[k - ndim] for s in shapes if len(s) >= ndim - k] for k in range(ndim)]  # (each dim, from the left)
    return Size(next((n for n in column if n != 1), 1) for column in columns)


def ravel(input):
    """``input`` flattened to 1-D (plotting code's ``xx.ravel()``): a view of a contiguous input, else a copy, as
    PyTorch's (``contiguous().view(-1)``: a column ``x[:, 1]`` is copied, although it is 1-D already)."""
    _check_tensor("ravel", input)
    return input.contiguous().reshape(-1)


def tile(input, dims):
    """``input`` repeated ``dims[d]`` times along each dim d, as ``repeat``; with fewer ``dims`` than the input has
    dims, the missing ones count as 1 in front (``x.tile((2,))`` of a matrix doubles its columns), as numpy's."""
    _check_tensor("tile", input)
    if not isinstance(dims, (tuple, list, Size)):
        raise TypeError(f"tile(): argument 'dims' must be a tuple of ints, not {type(dims).__name__}: x.tile((2,))")
    dims = tuple(as_int(n, "tile", "dims") for n in dims)
    if any(n < 0 for n in dims):
        raise RuntimeError(f"tile(): the number of copies must be 0 or more along each dim, got {list(dims)}")
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


def _tile_method(self, *dims):
    """``x.tile(2)``, ``x.tile(1, 2)`` or ``x.tile((1, 2))``, as PyTorch's method takes them."""
    return tile(self, dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list, Size)) else dims)


def unbind(input, dim=0):
    """The slices of ``input`` along ``dim``, as a tuple of views, that dim removed: ``a, b = pairs.unbind(1)``."""
    _check_tensor("unbind", input)
    if input.ndim == 0:  # (an IndexError, as PyTorch's)
        raise IndexError("unbind(): a 0-d tensor has no dim to take slices along; give a tensor of at least 1 dim")
    d = dim_index(dim, input.ndim, "unbind")
    return tuple(input[(slice(None),) * d + (i,)] for i in range(input.shape[d]))


def narrow(input, dim, start, length):
    """``length`` items of ``input`` along ``dim`` from ``start`` (negative counts from the end): a view, the slice
    ``x[..., start:start + length]``."""
    _check_tensor("narrow", input), _at_least_1d("narrow", input)
    d = dim_index(dim, input.ndim, "narrow")
    n, start, length = input.shape[d], as_int(start, "narrow", "start"), as_int(length, "narrow", "length")
    if not -n <= start <= n:
        raise IndexError(f"narrow(): start {start} is out of range for dim {d} of size {n} (it must be in [{-n}, {n}])")
    start = start % n if start < 0 else start
    if length < 0 or start + length > n:
        raise RuntimeError(f"narrow(): start ({start}) + length ({length}) exceeds dim {d} of size {n}; the slice must "
                           "lie inside the tensor")
    return input[(slice(None),) * d + (slice(start, start + length),)]


def select(input, dim, index):
    """The slice of ``input`` at ``index`` along ``dim``, that dim removed: ``x.select(1, 0)`` is ``x[:, 0]``, a
    view (negative ``index`` counts from the end)."""
    _check_tensor("select", input)
    if input.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = dim_index(dim, input.ndim, "select")
    n, index = input.shape[d], as_int(index, "select", "index")
    if not -n <= index < n:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(input.shape)} at dimension "
                         f"{d}")
    return input[(slice(None),) * d + (index,)]


def movedim(input, source, destination):
    """``input`` with its dims ``source`` moved to the places ``destination`` (ints, or sequences of the same
    length), the other dims keeping their order: ``images.movedim(-1, 1)`` makes (N, H, W, C) (N, C, H, W)."""
    _check_tensor("movedim", input)
    many = isinstance(source, (tuple, list))
    if many != isinstance(destination, (tuple, list)):
        raise TypeError(f"movedim(): source {source!r} and destination {destination!r} must be two ints or two "
                        "sequences of ints")
    if many and len(source) != len(destination):
        raise RuntimeError(f"movedim(): source {source!r} and destination {destination!r} must have the same length")
    source = dim_indices(source if many else (source,), input.ndim, "movedim") or ()
    destination = dim_indices(destination if many else (destination,), input.ndim, "movedim") or ()
    order = [d for d in range(input.ndim) if d not in source]
    for d_source, d_destination in sorted(zip(destination, source)):
        order.insert(d_source, d_destination)
    return input.permute(order)


def swapaxes(input, axis0, axis1):
    """numpy's name for ``transpose(input, axis0, axis1)``."""
    _check_tensor("swapaxes", input)
    return input.transpose(as_int(axis0, "swapaxes", "axis0"), as_int(axis1, "swapaxes", "axis1"))


def swapdims(input, dim0, dim1):
    """PyTorch's other name for ``transpose(input, dim0, dim1)``."""
    _check_tensor("swapdims", input)
    return input.transpose(as_int(dim0, "swapdims", "dim0"), as_int(dim1, "swapdims", "dim1"))


def unflatten(input, dim, sizes):
    """``input`` with ``dim`` split into ``sizes`` (one of them may be -1): the inverse of ``flatten``,
    ``x.unflatten(1, (3, 4))`` makes (N, 12) (N, 3, 4)."""
    _check_tensor("unflatten", input), _at_least_1d("unflatten", input)
    d = dim_index(dim, input.ndim, "unflatten")
    if not isinstance(sizes, (tuple, list, Size)) or not sizes:
        raise RuntimeError(f"unflatten(): sizes must be a non-empty tuple of ints, got {sizes!r}")
    sizes = tuple(as_int(n, "unflatten", "sizes") for n in sizes)
    if sizes.count(-1) > 1:
        raise RuntimeError(f"unflatten(): only one of the sizes {list(sizes)} can be -1 (the one worked out)")
    known = math.prod(n for n in sizes if n != -1)
    if (-1 not in sizes and known != input.shape[d]) or \
            (-1 in sizes and (known == 0 or input.shape[d] % known)):
        raise RuntimeError(f"unflatten(): sizes {list(sizes)} do not multiply to {input.shape[d]}, the size of dim {d} "
                           f"of {tuple(input.shape)}")
    return input.reshape(tuple(input.shape[:d]) + sizes + tuple(input.shape[d + 1:]))


def roll(input, shifts, dims=None):
    """``input`` shifted ``shifts`` places along ``dims``, the items that fall off one end coming back at the
    other: ``roll(x, 1)`` of [1, 2, 3] is [3, 1, 2]. Without dims, the flattened tensor is rolled, shape kept.
    Built from two slices and a ``cat`` per dim, so its gradient is the gradient rolled back."""
    _check_tensor("roll", input)
    many = isinstance(shifts, (tuple, list))
    if dims is None:
        if many and len(shifts) != 1:
            raise RuntimeError(f"roll(): {len(shifts)} shifts need as many dims, got none")
        return roll(input.flatten(), shifts, 0).reshape(input.shape)
    shifts, dims = (tuple(shifts) if many else (shifts,)), (tuple(dims) if isinstance(dims, (tuple, list)) else (dims,))
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll(): shifts and dims must have the same length, got {len(shifts)} and {len(dims)}")
    out = input
    for shift, dim in zip(shifts, dims):
        d = dim_index(dim, input.ndim, "roll")
        n = input.shape[d]
        k = as_int(shift, "roll", "shifts") % n if n else 0
        if k:
            before = (slice(None),) * d
            out = cat([out[before + (slice(n - k, None),)], out[before + (slice(0, n - k),)]], d)
    return out if out is not input else input.clone()


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The ``n``-th forward difference along ``dim``: ``x[1:] - x[:-1]``, ``n`` times; ``prepend``/``append`` are
    put at the ends first (``diff(x, prepend=x[:1] * 0)`` keeps the length). Booleans give ``!=``, as PyTorch's."""
    _check_tensor("diff", input), _at_least_1d("diff", input)
    d, n = dim_index(dim, input.ndim, "diff"), as_int(n, "diff", "n")
    if n < 0:
        raise RuntimeError(f"diff(): order n must be non-negative, got {n}")
    pieces = [t for t in (prepend, input, append) if t is not None]
    out = cat(pieces, d) if len(pieces) > 1 else input
    for _ in range(n):
        before = (slice(None),) * d
        later, earlier = out[before + (slice(1, None),)], out[before + (slice(None, -1),)]
        out = later != earlier if out.dtype.name == "bool" else later - earlier
    return out


# -------------------------------------------------------------------- diagonals (session 42)
def diagonal(input, offset=0, dim1=0, dim2=1):
    """The items (i, i + offset) of the matrices in dims ``dim1`` and ``dim2``, as the last dim of the result
    (``offset`` > 0 above the main diagonal, < 0 below). A view, as PyTorch's, when the two dims can be flattened
    into one without a copy (dims next to each other in a contiguous input, in either order): every
    (columns + 1)-th number of the flattened matrices, so that ``x.diagonal().zero_()`` changes x. Otherwise (dims
    0 and 2 of a 3-d tensor, a transposed input, a slice ``b[:, 1:]``, a step) a copy, picked by integer indexing:
    writing into it does not change ``input``, where PyTorch's does."""
    _check_tensor("diagonal", input)
    if input.ndim < 2:  # (IndexError, as PyTorch's: dim2 = 1 is out of range)
        raise IndexError(f"diagonal(): the input must have at least 2 dims, got shape {tuple(input.shape)}")
    d1, d2 = dim_index(dim1, input.ndim, "diagonal"), dim_index(dim2, input.ndim, "diagonal")
    if d1 == d2:
        raise RuntimeError(f"diagonal(): dim1 and dim2 cannot be the same dim ({d1})")
    k = as_int(offset, "diagonal", "offset")
    moved = input.permute([d for d in range(input.ndim) if d not in (d1, d2)] + [d1, d2])
    rows, columns = moved.shape[-2:]
    length = builtins.max(0, builtins.min(rows + builtins.min(k, 0), columns - builtins.max(k, 0)))
    if length == 0:  # (an offset past the matrix: no items, and no index arithmetic with it)
        return moved[..., :0, :0].sum(-1)
    row_stride, column_stride = moved.array.strides[-2:]
    if rows == 1 or row_stride == columns * column_stride:  # the rows one after the other: flattened without a copy
        return _diagonal_view(moved, k, length)
    if columns == 1 or column_stride == rows * row_stride:  # the columns one after the other: the items (i, i + k)
        return _diagonal_view(moved.mT, -k, length)           # are those (j - k, j) of the transpose
    i = arange(length, device=input.device) + builtins.max(-k, 0)
    return moved[..., i, i + k]


def _diagonal_view(matrices, k, length):
    """Diagonal ``k`` of ``matrices`` whose rows lie one after the other in memory, as a view: flattened, it is the
    ``length`` numbers from item (max(-k, 0), max(k, 0)), every (columns + 1)-th one."""
    columns = matrices.shape[-1]
    flat = matrices.reshape(*matrices.shape[:-2], matrices.shape[-2] * columns)
    start, step = builtins.max(-k, 0) * columns + builtins.max(k, 0), columns + 1
    return flat[..., start:start + (length - 1) * step + 1:step]


def diag(input, diagonal=0):
    """Of a vector: the square matrix with it on diagonal ``diagonal`` (0 the main one, > 0 above, < 0 below) and
    zeros elsewhere. Of a matrix: its diagonal ``diagonal``, a vector."""
    _check_tensor("diag", input)
    k = as_int(diagonal, "diag", "diagonal")
    if input.ndim == 2:
        return globals()["diagonal"](input, k)
    if input.ndim != 1:
        raise RuntimeError(f"diag(): the input must be a vector or a matrix, got shape {tuple(input.shape)}")
    m = input.shape[0] + abs(k)
    size_args((m, m), "diag")  # (a matrix too large for any computer: named here, before the arrays)
    padded = cat([input, input.new_zeros(abs(k))]) if k else input
    values = padded.unsqueeze(1).expand(m, m) if k >= 0 else padded.unsqueeze(0).expand(m, m)  # row i holds p[i]
    xp = array_module_of(input.array)
    with on_device_of(input.array):
        mask = Tensor._make(xp.eye(m, m, k, dtype=bool), None)
    return _where(mask, values, input.new_zeros(()))


def trace(input):
    """The sum of a matrix's main diagonal."""
    _check_tensor("trace", input)
    if input.ndim != 2:
        raise RuntimeError(f"trace(): expected a matrix (2 dims), got shape {tuple(input.shape)}")
    return diagonal(input).sum()


# -------------------------------------------------------------------- selecting (session 42)
def index_select(input, dim, index):
    """The slices of ``input`` along ``dim`` at the positions in ``index`` (a 1-D integer tensor), in that order:
    ``x.index_select(0, idx)`` is ``x[idx]``."""
    _check_tensor("index_select", input), _check_tensor("index_select", index, "index")
    if index.ndim > 1:
        raise IndexError(f"index_select(): index must be a vector (1-D) of positions, got shape {tuple(index.shape)}; "
                         "flatten it (index.reshape(-1)), or use x[index] for an index of any shape")
    if index.dtype.is_floating_point or index.dtype.name == "bool":
        raise RuntimeError(f"index_select(): index must hold integers (int64 or int32), got {index.dtype}; "
                           "convert it with .long()")
    d = dim_index(dim, input.ndim, "index_select")
    n, positions = (input.shape[d] if input.ndim else 1), index.reshape(-1)
    if positions.numel() and not (0 <= int(positions.min()) and int(positions.max()) < n):  # (PyTorch's IndexError:
        raise IndexError(f"index_select(): index out of range: the positions must be in [0, {n - 1}] for dim {d} "
                         f"of {tuple(input.shape)}, got {int(positions.min())} to {int(positions.max())}")  # no -1)
    if input.ndim == 0:  # (one item: the 0-d tensor itself, as PyTorch gives it)
        picked = input.reshape(1)[positions]
        return picked.reshape(()) if picked.numel() == 1 else picked
    return input[(slice(None),) * d + (positions,)]


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each slice along ``dim`` repeated in place: ``tensor([1, 2]).repeat_interleave(2)`` is [1, 1, 2, 2] (where
    ``repeat`` gives [1, 2, 1, 2]). ``repeats``: an int, or an integer tensor with one count per slice (0-d: the
    same for all); ``dim=None`` flattens the input first. ``repeat_interleave(counts)`` alone gives the positions
    0, 0, 1, 1, 1 ... that counts [2, 3] make. Built as ``index_select`` of those positions: the gradient of a
    slice is the sum over its copies."""
    if repeats is None:  # torch.repeat_interleave(counts): the positions themselves
        counts = input
        _check_tensor("repeat_interleave", counts, "repeats")
        if counts.ndim != 1:
            raise RuntimeError(f"repeat_interleave(): repeats alone must be a 1-D vector of counts, got shape "
                               f"{tuple(counts.shape)}")
        input = arange(counts.shape[0], dtype=counts.dtype, device=counts.device)
        repeats, dim = counts, 0
    _check_tensor("repeat_interleave", input)
    if dim is None:
        input, dim = input.reshape(-1), 0
    d = dim_index(dim, max(input.ndim, 1), "repeat_interleave")
    n = input.shape[d] if input.ndim else 1
    if isinstance(repeats, Tensor):
        if repeats.dtype.is_floating_point or repeats.dtype.name == "bool":  # (PyTorch's exception type)
            raise NotImplementedError(f"repeat_interleave(): repeats must hold integers (int64 or int32), got "
                                      f"{repeats.dtype.name}; convert them with .long()")
        if repeats.ndim > 1:
            raise RuntimeError(f"repeat_interleave(): repeats must be 0-dim or 1-dim tensor, got shape "
                               f"{tuple(repeats.shape)}")
        if repeats.ndim == 1 and repeats.shape[0] not in (1, n):
            raise RuntimeError(f"repeat_interleave(): repeats must have the same size as input along dim, but got "
                               f"repeats.size(0) = {repeats.shape[0]} and input.size({d}) = {n}")
        counts = repeats.detach().cpu().numpy().reshape(-1).astype(np.int64)
    else:
        counts = np.array([as_int(repeats, "repeat_interleave", "repeats")], dtype=np.int64)
    if counts.size and counts.min() < 0:
        raise RuntimeError(f"repeat_interleave(): repeats can not be negative, got {counts.min()}")
    positions = np.repeat(np.arange(n), np.broadcast_to(counts, (n,)) if counts.size == 1 else counts)
    if output_size is not None and as_int(output_size, "repeat_interleave", "output_size") != len(positions):
        raise RuntimeError(f"repeat_interleave(): invalid output_size, expected {len(positions)} but got "
                           f"{output_size}")
    return index_select(input, d, tensor(positions, dtype=dt.int64, device=input.device))


def masked_select(input, mask):
    """The items of ``input`` where the boolean ``mask`` is True, as a 1-D tensor (the two broadcast first)."""
    _check_tensor("masked_select", input), _check_tensor("masked_select", mask, "mask")
    if mask.dtype.name != "bool":
        raise RuntimeError(f"masked_select(): mask must be a bool tensor, got {mask.dtype}; compare first (x > 0)")
    check_broadcast("masked_select", input.shape, mask.shape)
    shape = Size(np_broadcast_shapes(tuple(input.shape), tuple(mask.shape)))
    return input.expand(shape)[mask.expand(shape)]


def take_along_dim(input, indices, dim=None):
    """``gather`` with broadcasting: the items of ``input`` at ``indices`` along ``dim`` (the other dims of the two
    broadcast); without dim, of the flattened input. ``x.take_along_dim(x.argsort(1), 1)`` sorts each row."""
    _check_tensor("take_along_dim", input), _check_tensor("take_along_dim", indices, "indices")
    if indices.dtype.is_floating_point or indices.dtype.name == "bool":
        raise RuntimeError(f"take_along_dim(): indices must hold integers (int64), got {indices.dtype}; convert "
                           "them with .long()")
    if dim is None:
        return input.reshape(-1).gather(0, indices.reshape(-1))
    d = dim_index(dim, input.ndim, "take_along_dim")
    if input.ndim != indices.ndim:
        raise RuntimeError(f"take_along_dim(): input {tuple(input.shape)} and indices {tuple(indices.shape)} must "
                           "have the same number of dims")
    others = np_broadcast_shapes(*(tuple(t.shape[:d]) + tuple(t.shape[d + 1:]) for t in (input, indices)))
    indices = _where(indices < 0, indices + input.shape[d], indices)  # (-1 is the last, as in PyTorch's, along dim)

    def along(t):
        return t.expand(others[:d] + (t.shape[d],) + others[d:])
    return along(input).gather(d, along(indices))


def meshgrid(*tensors, indexing=None):
    """Coordinate grids of the 1-D ``tensors``: with n tensors of sizes s_1 .. s_n, n tensors of shape (s_1, ..,
    s_n), the k-th varying along dim k (``indexing="ij"``); ``indexing="xy"`` swaps the first two dims, as numpy's
    and matplotlib's grids (x along the columns). Each is an ``expand`` of a reshape: its gradient sums over the
    copies. Without ``indexing``, "ij" with PyTorch's warning that the argument will be required."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
                      UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"meshgrid(): indexing must be one of 'xy' or 'ij', got {indexing!r}")
    for i, t in enumerate(tensors):
        _check_tensor("meshgrid", t, f"tensors[{i}]")
        if t.ndim > 1:
            raise RuntimeError(f"meshgrid(): expects 0-d or 1-d tensors, but tensors[{i}] has shape {tuple(t.shape)}")
    if not tensors:
        raise RuntimeError("meshgrid(): expects a non-empty list of tensors")
    swap = indexing == "xy" and len(tensors) >= 2
    ordered = (tensors[1], tensors[0], *tensors[2:]) if swap else tensors
    shape = tuple(t.numel() for t in ordered)
    grids = []
    for k, t in enumerate(ordered):
        view = [1] * len(ordered)
        view[k] = -1
        grids.append(t.reshape(view).expand(shape))
    return (grids[1], grids[0], *grids[2:]) if swap else tuple(grids)


def _unfold_method(self, dimension, size, step):
    """``x.unfold(dim, size, step)``: every window of ``size`` items along ``dim``, ``step`` apart: dim becomes the
    number of windows, (n - size) // step + 1, and a new last dim holds each window (PyTorch returns a view; this
    is a copy). ``nn.functional.unfold`` is another thing: the windows of images, as columns."""
    _check_tensor("unfold", self)
    d = dim_index(dimension, self.ndim, "unfold")
    size, step = as_int(size, "unfold", "size"), as_int(step, "unfold", "step")
    n = self.shape[d] if self.ndim else 1
    if size < 0 or step <= 0 or size > n:
        raise RuntimeError(f"unfold(): size is {size} and step is {step}, but size must be >= 0 and at most the "
                           f"size of dim {d} ({n}), and step > 0")
    x, d = (self[None], 0) if self.ndim == 0 else (self, d)
    count = (n - size) // step + 1
    parts = [x.narrow(d, k, step * (count - 1) + 1)[(slice(None),) * d + (slice(None, None, step),)]
             for k in range(size)]
    if parts:
        out = stack(parts, -1)
    else:  # windows of no items, still made of x, so that its gradient (zeros) reaches x
        empty = x.narrow(d, 0, 1).unsqueeze(-1)[..., :0]
        out = empty.expand(x.shape[:d] + (count,) + x.shape[d + 1:] + (0,)).clone()
    return out[0] if self.ndim == 0 else out


chunk = _numpy_names(chunk)  # (axis= too, as PyTorch)
Tensor.repeat, Tensor.chunk, Tensor.split, Tensor.tril, Tensor.triu = repeat, chunk, _split_method, tril, triu
Tensor.flip = _flip_method  # (x.flip(0) and x.flip([0, 1]), as PyTorch's method takes both)
for _function in (ravel, broadcast_to, unbind, narrow, select, movedim, swapaxes, swapdims, unflatten, roll, diff,
                  diagonal, diag, trace, index_select, masked_select, take_along_dim, repeat_interleave):
    setattr(Tensor, _function.__name__, _function)
Tensor.tile, Tensor.moveaxis = _tile_method, movedim  # (x.tile(2, 1) too; numpy's name for movedim)
Tensor.unfold = _unfold_method  # (a method only, as in PyTorch)
moveaxis = movedim
# the functions take out=, as PyTorch's (the methods do not): torch.index_select(x, 0, i, out=y)
diag, index_select, masked_select, take_along_dim = (with_out(f) for f in (diag, index_select, masked_select,
                                                                          take_along_dim))
