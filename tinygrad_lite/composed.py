"""Tensor operations composed of others: ``repeat``, ``chunk``, ``split``, ``flip``, ``tril`` and ``triu``.

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

from .device import array_module_of, on_device_of
from .functions import _check_tensor
from .shapes import as_int, dim_index, dim_indices, size_args
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
    return input[tuple(slice(None, None, -1) if d in dims else slice(None) for d in range(input.ndim))].clone()


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


chunk = _numpy_names(chunk)  # (axis= too, as PyTorch)
Tensor.repeat, Tensor.chunk, Tensor.split, Tensor.tril, Tensor.triu = repeat, chunk, _split_method, tril, triu
Tensor.flip = _flip_method  # (x.flip(0) and x.flip([0, 1]), as PyTorch's method takes both)
