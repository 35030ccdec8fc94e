"""Functions that make new tensors: ``tensor``, ``zeros``, ``randn``, ``arange`` ...

Each takes PyTorch's keyword arguments ``dtype``, ``device`` and ``requires_grad``, and makes the tensor where it
lives (a "cuda" tensor on the GPU, with nothing copied from the host). Random ones draw from the device's global
generator (seed them with ``manual_seed``) or from the ``generator`` you pass, which must be of that device, as in
PyTorch; the CPU and a GPU draw different numbers for one seed (``random.py``).
"""
import builtins
import math
import numbers

import numpy as np

from . import dtypes as dt
from . import random
from .device import creating_on, get_default_device
from .functions import FLOATING, with_out
from .memory_formats import check_memory_format, preserve_format
from .shapes import as_int, check_number, size_args
from .tensor import Tensor, as_array


def _new(array, dtype, device, requires_grad):
    # straight to as_array, as tensor() does (Tensor(array, dtype=...) would take the legacy constructor's detour)
    return Tensor._make(as_array(array, dtype, _device(device)), None).requires_grad_(requires_grad)


def _device(device):
    return get_default_device() if device is None else device


def _float(dtype):
    return dt.as_dtype(dtype) if dtype is not None else dt.get_default_dtype()


def tensor(data, *, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of ``data`` (numbers, nested lists, a numpy array or a tensor)."""
    if device is None and not isinstance(data, Tensor):
        device = get_default_device()
    t = Tensor._make(as_array(data, dtype, device), None)
    if t.array is data or (isinstance(data, Tensor) and t.array is data.array):
        t.array = t.array.copy()  # never share memory with the source
    return t.requires_grad_(requires_grad)


def as_tensor(data, dtype=None, device=None):
    """``data`` as a tensor, sharing memory with it where possible (a numpy array of a supported dtype, a tensor);
    numbers and lists follow ``tensor()``'s dtype rules."""
    if isinstance(data, Tensor) and dtype is None and device is None:
        return data
    return Tensor._make(as_array(data, dtype, device, op="as_tensor"), None)


def from_numpy(ndarray):
    """A tensor that shares memory with ``ndarray`` (changing one changes the other)."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"from_numpy(): expected a numpy array (np.ndarray), got {type(ndarray).__name__}; for "
                        "lists and numbers use tinygrad_lite.tensor(data)")
    return Tensor._make(as_array(ndarray), None)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    d = _float(dtype)
    size = size_args(size, "zeros")
    with creating_on(_device(device)) as xp:
        return Tensor(xp.zeros(size, d.np), dtype=d, requires_grad=requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False):
    d = _float(dtype)
    size = size_args(size, "ones")
    with creating_on(_device(device)) as xp:
        return Tensor(xp.ones(size, d.np), dtype=d, requires_grad=requires_grad)


empty = zeros  # PyTorch leaves `empty` uninitialised; ours are zeros, which is always safe


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False):
    """A tensor of ``size`` filled with ``fill_value``; the dtype follows the value (True -> bool, 3 -> int64)."""
    fill_value = fill_value.item() if isinstance(fill_value, Tensor) and fill_value.numel() == 1 else fill_value
    if not isinstance(fill_value, numbers.Number):
        raise TypeError(f"full(): argument 'fill_value' must be a number, got {type(fill_value).__name__}")
    size = size_args((size,), "full")
    d = dt.as_dtype(dtype) if dtype is not None else dt.python_scalar_dtype(fill_value)
    dt.check_fits(fill_value, d, "full")
    with creating_on(_device(device)) as xp:
        return Tensor(xp.full(size, fill_value, d.np), dtype=d, requires_grad=requires_grad)


def _like(op, input, dtype=None, device=None, memory_format=None):
    """The checks of the ``*_like`` functions, and the new tensor's dtype and device: ``input``'s unless given.
    ``memory_format``: preserve_format (the default) and contiguous_format give the same row-major tensor here
    (``memory_formats.py``); channels_last is refused."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be a Tensor, not {type(input).__name__}")
    check_memory_format(op, memory_format)
    return input.dtype if dtype is None else dtype, input.device if device is None else device


def zeros_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=preserve_format):
    dtype, device = _like("zeros_like", input, dtype, device, memory_format)
    return zeros(input.shape, dtype=dtype, device=device, requires_grad=requires_grad)


def ones_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=preserve_format):
    dtype, device = _like("ones_like", input, dtype, device, memory_format)
    return ones(input.shape, dtype=dtype, device=device, requires_grad=requires_grad)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False, memory_format=preserve_format):
    dtype, device = _like("full_like", input, dtype, device, memory_format)
    return full(input.shape, fill_value, dtype=dtype, device=device, requires_grad=requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Samples from the standard normal distribution N(0, 1)."""
    d, device = _float(dtype), _device(device)
    draws = random.normal(size_args(size, "randn"), device=device, dtype=d.np, generator=generator, op="randn")
    return _new(draws, d, device, requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Samples from the uniform distribution on [0, 1)."""
    d, device = _float(dtype), _device(device)
    draws = random.uniform(size_args(size, "rand"), device=device, dtype=d.np, generator=generator, op="rand")
    return _new(draws, d, device, requires_grad)


def randn_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=preserve_format):
    dtype, device = _like("randn_like", input, dtype, device, memory_format)
    return randn(input.shape, dtype=dtype, device=device, requires_grad=requires_grad)


def rand_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=preserve_format):
    dtype, device = _like("rand_like", input, dtype, device, memory_format)
    return rand(input.shape, dtype=dtype, device=device, requires_grad=requires_grad)


def bernoulli(input, p=None, *, generator=None):
    """1 where a uniform draw falls below ``input`` (the probabilities, a floating tensor), else 0: a tensor like
    ``input``, drawn on its device. With ``p`` (a number), every element is 1 with probability ``p``."""
    _like("bernoulli", input)
    if p is not None:
        check_number("bernoulli", "p", p, 0, 1)
    return zeros_like(input).bernoulli_(input if p is None else p, generator=generator)


Tensor.bernoulli = bernoulli  # probs.bernoulli(), as torch.Tensor.bernoulli


def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
    """Integers drawn uniformly from [low, high): ``randint(high, size)`` or ``randint(low, high, size)``."""
    if size is None:  # randint(high, size)
        low, high, size = 0, low, high
    if size is None:
        raise TypeError("randint: missing size, e.g. randint(0, 10, (3,))")
    low, high = as_int(low, "randint", "low"), as_int(high, "randint", "high")
    if high <= low:
        raise RuntimeError(f"randint: high ({high}) must be greater than low ({low})")
    if low < -2**63 or high > 2**63:
        raise ValueError(f"randint: low ({low}) and high ({high}) must lie within int64 (-2**63 to 2**63)")
    size = size_args((size,), "randint")
    d = dt.as_dtype(dtype) if dtype is not None else dt.int64
    device = _device(device)
    return _new(random.integers(low, high, size, device=device, generator=generator), d, device, requires_grad)


def randperm(n, *, generator=None, dtype=None, device=None):
    """A random permutation of 0 .. n-1 (what a DataLoader uses to shuffle)."""
    (n,) = size_args((as_int(n, "randperm", "n"),), "randperm")
    device = _device(device)
    draws = random.permutation(n, device=device, generator=generator)
    return _new(draws, dt.as_dtype(dtype) if dtype else dt.int64, device, False)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """Evenly spaced values in [start, end): int64 when all arguments are ints, else the default float."""
    if end is None:
        start, end = 0, start
    start, end, step = (_number("arange", v, name) for v, name in ((start, "start"), (end, "end"), (step, "step")))
    if step == 0:
        raise RuntimeError("arange(): step must be nonzero")
    if not math.isfinite(start) or not math.isfinite(end):
        raise RuntimeError(f"arange(): unsupported range {start} -> {end}: start and end must be finite")
    if (end - start) * step < 0:
        raise RuntimeError(f"arange(): upper bound and lower bound inconsistent with step sign: from {start} to {end} "
                           f"needs a {'positive' if end > start else 'negative'} step, got {step}")
    ints = all(isinstance(v, builtins.int) for v in (start, end, step))
    d = dt.as_dtype(dtype) if dtype is not None else (dt.int64 if ints else dt.get_default_dtype())
    size_args((math.ceil((end - start) / step),), "arange")
    with creating_on(_device(device)) as xp:  # (made where it lives: no copy from the host)
        return _new(xp.arange(start, end, step), d, device, requires_grad)


def _number(op, value, name):
    value = value.item() if isinstance(value, Tensor) and value.numel() == 1 else value
    if isinstance(value, builtins.bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{op}(): argument '{name}' must be a number, not {type(value).__name__}")
    return value.item() if isinstance(value, np.generic) else value


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False):
    """``steps`` evenly spaced values from start to end, both included."""
    (steps,) = size_args((as_int(steps, "linspace", "steps"),), "linspace")
    start, end = _number("linspace", start, "start"), _number("linspace", end, "end")
    with creating_on(_device(device)) as xp:
        return _new(xp.linspace(start, end, steps), _float(dtype), device, requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    """The n x m identity matrix (ones on the diagonal)."""
    n, m = size_args((n, n if m is None else m), "eye")
    with creating_on(_device(device)) as xp:
        return _new(xp.eye(n, m), _float(dtype), device, requires_grad)


def empty_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=preserve_format):
    """Like ``zeros_like``: PyTorch leaves the values of ``empty_like`` unset; ours are zeros."""
    return zeros_like(input, dtype=dtype, device=device, requires_grad=requires_grad, memory_format=memory_format)


# out=: ``torch.zeros(2, 3, out=t)`` fills t (resized to 2x3) and returns it, in t's dtype; see functions.write_out
zeros, ones, full, arange, linspace, eye, randint = (
    with_out(f, dtype_from_out=True) for f in (zeros, ones, full, arange, linspace, eye, randint))
randn, rand = (with_out(f, dtype_from_out=FLOATING) for f in (randn, rand))
empty = zeros
