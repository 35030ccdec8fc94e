"""Functions that make new tensors: ``tensor``, ``zeros``, ``randn``, ``arange`` ...

Each takes PyTorch's keyword arguments ``dtype``, ``device`` and ``requires_grad``. Random ones draw from
the global generator (seed it with ``manual_seed``) or from the ``generator`` you pass; they draw on the
CPU and then move, so a seed gives the same numbers on every device.
"""
import builtins

import numpy as np

from . import dtypes as dt
from .device import array_module, move
from .random import rng
from .shapes import shape_args
from .tensor import Tensor


def _new(array, dtype, device, requires_grad):
    return Tensor(move(array, device) if device is not None else array, dtype=dtype, requires_grad=requires_grad)


def _float(dtype):
    return dt.as_dtype(dtype) if dtype is not None else dt.get_default_dtype()


def tensor(data, *, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of ``data`` (numbers, nested lists, a numpy array or a tensor)."""
    t = Tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)
    if t.array is data or (isinstance(data, Tensor) and t.array is data.array):
        t.array = t.array.copy()  # never share memory with the source
    return t


def from_numpy(ndarray):
    """A tensor that shares memory with ``ndarray`` (changing one changes the other)."""
    return Tensor(ndarray)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    d = _float(dtype)
    return Tensor(array_module(device or "cpu").zeros(shape_args(size), d.np), requires_grad=requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False):
    d = _float(dtype)
    return Tensor(array_module(device or "cpu").ones(shape_args(size), d.np), requires_grad=requires_grad)


empty = zeros  # PyTorch leaves `empty` uninitialised; ours are zeros, which is always safe


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False):
    """A tensor of ``size`` filled with ``fill_value``; the dtype follows the value (True -> bool, 3 -> int64)."""
    d = dt.as_dtype(dtype) if dtype is not None else dt.python_scalar_dtype(fill_value)
    return Tensor(array_module(device or "cpu").full(shape_args((size,)), fill_value, d.np),
                  requires_grad=requires_grad)


def zeros_like(input, *, dtype=None, device=None, requires_grad=False):  # noqa: A002
    return zeros(input.shape, dtype=dtype or input.dtype, device=device or input.device, requires_grad=requires_grad)


def ones_like(input, *, dtype=None, device=None, requires_grad=False):  # noqa: A002
    return ones(input.shape, dtype=dtype or input.dtype, device=device or input.device, requires_grad=requires_grad)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False):  # noqa: A002
    return full(input.shape, fill_value, dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Samples from the standard normal distribution N(0, 1)."""
    return _new(rng(generator).standard_normal(shape_args(size)), _float(dtype), device, requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Samples from the uniform distribution on [0, 1)."""
    return _new(rng(generator).random(shape_args(size)), _float(dtype), device, requires_grad)


def randn_like(input, *, dtype=None, device=None, requires_grad=False):  # noqa: A002
    return randn(input.shape, dtype=dtype or input.dtype, device=device or input.device, requires_grad=requires_grad)


def rand_like(input, *, dtype=None, device=None, requires_grad=False):  # noqa: A002
    return rand(input.shape, dtype=dtype or input.dtype, device=device or input.device, requires_grad=requires_grad)


def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
    """Integers drawn uniformly from [low, high): ``randint(high, size)`` or ``randint(low, high, size)``."""
    if size is None:  # randint(high, size)
        low, high, size = 0, low, high
    if size is None:
        raise TypeError("randint: missing size, e.g. randint(0, 10, (3,))")
    if high <= low:
        raise RuntimeError(f"randint: high ({high}) must be greater than low ({low})")
    d = dt.as_dtype(dtype) if dtype is not None else dt.int64
    return _new(rng(generator).integers(low, high, shape_args((size,))), d, device, requires_grad)


def randperm(n, *, generator=None, dtype=None, device=None):
    """A random permutation of 0 .. n-1 (what a DataLoader uses to shuffle)."""
    return _new(rng(generator).permutation(n), dt.as_dtype(dtype) if dtype else dt.int64, device, False)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """Evenly spaced values in [start, end): int64 when all arguments are ints, else the default float."""
    if end is None:
        start, end = 0, start
    ints = all(isinstance(v, builtins.int) for v in (start, end, step))
    d = dt.as_dtype(dtype) if dtype is not None else (dt.int64 if ints else dt.get_default_dtype())
    return _new(np.arange(start, end, step), d, device, requires_grad)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False):
    """``steps`` evenly spaced values from start to end, both included."""
    return _new(np.linspace(start, end, steps), _float(dtype), device, requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    """The n x m identity matrix (ones on the diagonal)."""
    return _new(np.eye(n, m), _float(dtype), device, requires_grad)
