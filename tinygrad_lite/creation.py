"""Functions that make new tensors: ``tensor``, ``zeros``, ``randn``, ``arange`` ...

Each takes PyTorch's keyword arguments ``dtype``, ``device`` and ``requires_grad``, and makes the tensor where it
lives (a "cuda" tensor on the GPU, with nothing copied from the host). Random ones draw from the device's global
generator (seed them with ``manual_seed``) or from the ``generator`` you pass, which must be of that device, as in
PyTorch; the CPU and a GPU draw different numbers for one seed (``random.py``).
"""
import builtins
import math
import numbers
import warnings

import numpy as np

from . import dtypes as dt
from . import random
from .device import array_module_of, check_same_device, creating_on, get_default_device, on_device_of
from .functions import FLOATING, with_out
from .memory_formats import check_memory_format, preserve_format
from .shapes import as_int, check_number, size_args, sizes_or_keyword
from .tensor import Tensor, as_array
from .warning_level import callers_level


def _new(array, dtype, device, requires_grad):
    # straight to as_array, as tensor() does (Tensor(array, dtype=...) would take the legacy constructor's detour)
    return Tensor._make(as_array(array, dtype, _device(device)), None).requires_grad_(requires_grad)


def _device(device):
    return get_default_device() if device is None else device


def _float(dtype):
    return dt.as_dtype(dtype) if dtype is not None else dt.get_default_dtype()


def tensor(data, *, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of ``data`` (numbers, nested lists, a numpy array or a tensor; for a tensor,
    PyTorch's warning that ``x.detach().clone()`` says it better)."""
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() or "
                      "sourceTensor.detach().clone().requires_grad_(True), rather than tensor(sourceTensor).",
                      stacklevel=callers_level())
    elif device is None:
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
    return Tensor._make(as_array(ndarray, op="from_numpy"), None)


def _sizes(sizes, size, op):
    """The size of a new tensor, in any of PyTorch's three spellings: f(2, 3), f((2, 3)) or f(size=(2, 3))."""
    return size_args(sizes_or_keyword(sizes, size, "size", op), op)


def zeros(*sizes, size=None, dtype=None, device=None, requires_grad=False):
    d = _float(dtype)
    size = _sizes(sizes, size, "zeros")
    with creating_on(_device(device)) as xp:
        return Tensor(xp.zeros(size, d.np), dtype=d, requires_grad=requires_grad)


def ones(*sizes, size=None, dtype=None, device=None, requires_grad=False):
    d = _float(dtype)
    size = _sizes(sizes, size, "ones")
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


def randn(*sizes, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Samples from the standard normal distribution N(0, 1)."""
    d, device = _float(dtype), _device(device)
    draws = random.normal(_sizes(sizes, size, "randn"), device=device, dtype=d.np, generator=generator, op="randn")
    return _new(draws, d, device, requires_grad)


def rand(*sizes, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Samples from the uniform distribution on [0, 1)."""
    d, device = _float(dtype), _device(device)
    draws = random.uniform(_sizes(sizes, size, "rand"), device=device, dtype=d.np, generator=generator, op="rand")
    return _new(draws, d, device, requires_grad)


def randn_like(input, *, generator=None, dtype=None, device=None, requires_grad=False,
               memory_format=preserve_format):
    dtype, device = _like("randn_like", input, dtype, device, memory_format)
    return randn(input.shape, generator=generator, dtype=dtype, device=device, requires_grad=requires_grad)


def rand_like(input, *, generator=None, dtype=None, device=None, requires_grad=False,
              memory_format=preserve_format):
    dtype, device = _like("rand_like", input, dtype, device, memory_format)
    return rand(input.shape, generator=generator, dtype=dtype, device=device, requires_grad=requires_grad)


def bernoulli(input, p=None, *, generator=None):
    """1 where a uniform draw falls below ``input`` (the probabilities, a floating tensor), else 0: a tensor like
    ``input``, drawn on its device. With ``p`` (a number), every element is 1 with probability ``p``."""
    _like("bernoulli", input)
    if p is not None:
        check_number("bernoulli", "p", p, 0, 1)
    return zeros_like(input).bernoulli_(input if p is None else p, generator=generator)


Tensor.bernoulli = bernoulli  # probs.bernoulli(), as torch.Tensor.bernoulli


def randint(low=None, high=None, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
    """Integers drawn uniformly from [low, high): ``randint(high, size)`` or ``randint(low, high, size)``, ``size``
    a tuple (or list) of ints, as in PyTorch (``randint(0, 5, 3)`` is refused there, and here)."""
    if size is None and low is not None:  # randint(high, size)
        low, high, size = None, low, high
    if high is None:  # randint(10, size=(3,)), randint(high=10, size=(3,))
        low, high = None, low
    low = 0 if low is None else low
    if size is None:
        raise TypeError("randint: missing size, e.g. randint(0, 10, (3,))")
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"randint(): argument 'size' must be a tuple of ints, not {type(size).__name__}: e.g. "
                        f"randint(0, 10, (3,)) (or randint(10, (3,)) for numbers from 0)")
    low, high = as_int(low, "randint", "low"), as_int(high, "randint", "high")
    if high <= low:
        raise RuntimeError(f"randint: high ({high}) must be greater than low ({low})")
    if low < -2**63 or high > 2**63:
        raise ValueError(f"randint: low ({low}) and high ({high}) must lie within int64 (-2**63 to 2**63)")
    size = size_args((size,), "randint")
    d = dt.as_dtype(dtype) if dtype is not None else dt.int64
    if d.category != dt.FLOAT:  # (as PyTorch: no draw may wrap around in a narrow dtype; 300 as uint8 would be 44)
        least, most = (0, 1) if d is dt.bool else (int(np.iinfo(d.np).min), int(np.iinfo(d.np).max))
        if low < least or high - 1 > most:
            raise RuntimeError(f"randint: numbers from {low} to {high - 1} do not fit in {d.name} ({least} to "
                               f"{most}): pass a wider dtype, such as int64 (the default)")
    else:
        dt.check_fits(float(high - 1), d, "randint")  # (float16: at most 65,504)
    device = _device(device)
    return _new(random.integers(low, high, size, device=device, generator=generator), d, device, requires_grad)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
    """Samples from N(mean, std^2), as ``torch.normal``: with numbers ``mean`` and ``std``, a tensor of ``size``
    (``normal(0, 0.01, size=(2, 1), requires_grad=True)``); with a tensor for either, one draw per element of their
    broadcast shape, each with its own mean and std, of mean's dtype (std's when mean is a number) and on its device.
    Differs on purpose: from tensors that require grad, PyTorch records an op whose gradient is 0; ours is a
    constant, with no gradient."""
    tensors = [a for a in (mean, std) if isinstance(a, Tensor)]
    spread_ok = (std.detach() >= 0).all() if isinstance(std, Tensor) else _number("normal", std, "std") >= 0
    if not spread_ok:  # (nan is not >= 0 either)
        raise RuntimeError(f"normal(): std must be >= 0 (not nan), got {std}: it is the spread of the numbers")
    if not tensors:
        if size is None:
            raise TypeError("normal(): with numbers for mean and std, give the size: normal(0, 1, size=(2, 3))")
        d, device = _float(dtype), _device(device)
        draws = random.normal(_sizes((), size, "normal"), _number("normal", mean, "mean"), float(std), device=device,
                              dtype=d.np, generator=generator, op="normal")
        return _new(draws, d, device, requires_grad)
    if size is not None or device is not None or requires_grad:
        raise TypeError("normal(): with a tensor mean or std, the shape and device are theirs; leave size, device and "
                        "requires_grad out")
    check_same_device("normal", tensors)
    source = tensors[0]
    d = dt.as_dtype(dtype) if dtype is not None else source.dtype  # (dtype: out's, from out=)
    if not d.is_floating_point:
        raise NotImplementedError(f"normal(): it draws floating-point numbers, and its mean and std are {d.name}: "
                                  "pass mean.float() (or std.float())")
    try:
        shape = np.broadcast_shapes(*(tuple(a.shape) for a in tensors))
    except ValueError:
        raise RuntimeError(f"normal(): mean of shape {tuple(getattr(mean, 'shape', ()))} and std of shape "
                           f"{tuple(getattr(std, 'shape', ()))} do not broadcast to one shape") from None
    draws = random.normal(shape, device=source.device, dtype=d.np, generator=generator, op="normal")
    z = _new(draws, d, source.device, False)
    return (z * std + mean).detach().to(dtype=d)


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """``num_samples`` indices drawn from each row of ``input`` (1-D: one row), category j with probability
    w_j / sum(w), w the row's weights (they need not sum to 1): int64, of shape (num_samples,) or (rows,
    num_samples), on input's device. As in PyTorch the weights must be finite and >= 0 with a positive sum; the
    draws differ from PyTorch's (another generator).

    With replacement the draws are independent: u ~ U[0, 1) picks the first j whose share of the running sum
    (w_1 + ... + w_j) / sum(w) exceeds u. Without, a row's draws are distinct: each category gets the key
    log(u_j) / w_j and the largest keys win, in order (Efraimidis and Spirakis, 2006): the same distribution as
    drawing one category at a time and taking it out. A row with fewer categories of positive weight than
    num_samples gets the others after them, as PyTorch's does."""
    if not isinstance(input, Tensor):
        raise TypeError(f"multinomial(): argument 'input' must be a Tensor, not {type(input).__name__}")
    if input.ndim not in (1, 2) or not input.dtype.is_floating_point:
        raise RuntimeError(f"multinomial(): input must be a 1-D or 2-D tensor of floating-point weights, got shape "
                           f"{tuple(input.shape)} of {input.dtype.name}")
    n = as_int(num_samples, "multinomial", "num_samples")
    if not isinstance(replacement, builtins.bool):
        raise TypeError(f"multinomial(): argument 'replacement' must be True or False, not "
                        f"{type(replacement).__name__} {replacement!r}")
    if n <= 0:
        raise RuntimeError(f"multinomial(): num_samples must be 1 or more, got {n}")
    rows, categories = (1 if input.ndim == 1 else input.shape[0]), input.shape[-1]
    w = input.detach().array.reshape(rows, categories).astype(np.float64)
    xp = array_module_of(w)
    if categories == 0 or (not replacement and n > categories):
        raise RuntimeError(f"multinomial(): cannot draw {n} samples {'' if replacement else 'without replacement '}"
                           f"from {categories} categories")
    if builtins.bool((~xp.isfinite(w) | (w < 0)).any()) or builtins.bool((w.sum(1) <= 0).any()):
        raise RuntimeError("multinomial(): probability tensor contains either inf, nan or element < 0, or a row "
                           "whose sum is 0")
    with on_device_of(w):  # (a tensor on cuda:1 draws and searches there: CuPy works on the current GPU)
        u = random.uniform((rows, n if replacement else categories), device=input.device, dtype=np.float64,
                           generator=generator, op="multinomial")
        if replacement:  # each row's shares in [0, 1], moved to [2r, 2r + 1] so that one search serves every row
            offsets = 2.0 * xp.arange(rows)[:, None]
            shares = xp.cumsum(w, axis=1) / w.sum(1, keepdims=True) + offsets
            found = xp.searchsorted(shares.ravel(), (u + offsets).ravel(), side="right").reshape(rows, n)
            picked = xp.minimum(found - categories * xp.arange(rows)[:, None], categories - 1)
        else:
            keys = xp.where(w > 0, xp.log(u) / xp.where(w > 0, w, 1.0), -np.inf)
            picked = xp.argsort(-keys, axis=1)[:, :n]
    return Tensor._make(picked.astype(np.int64).reshape(input.shape[:-1] + (n,)), None)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    """A random permutation of 0 .. n-1 (what a DataLoader uses to shuffle)."""
    (n,) = size_args((as_int(n, "randperm", "n"),), "randperm")
    device = _device(device)
    draws = random.permutation(n, device=device, generator=generator)
    return _new(draws, dt.as_dtype(dtype) if dtype else dt.int64, device, requires_grad)


def arange(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
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
    """``steps`` evenly spaced values from start to end, both included: with step = (end - start) / (steps - 1),
    the first half start + i step and the second end - (steps - 1 - i) step, in the result's floating dtype, as
    PyTorch's CPU kernel computes them one at a time (both ends exact, the rounding PyTorch's; its vectorised
    path, which depends on the CPU, may differ in the last bit for longer ranges)."""
    (steps,) = size_args((as_int(steps, "linspace", "steps"),), "linspace")
    start, end = _number("linspace", start, "start"), _number("linspace", end, "end")
    dtype = _float(dtype)
    with creating_on(_device(device)) as xp:
        kind = np.dtype(dtype.np if dtype.is_floating_point else np.float64).type
        if not dtype.is_floating_point:  # (an integer dtype: the ends as integers first, the step in float64)
            start, end = math.trunc(start), math.trunc(end)
        first, last = kind(start), kind(end)
        step = (last - first) / kind(max(steps - 1, 1))
        i = xp.arange(steps).astype(kind)
        values = xp.where(i < steps // 2, first + step * i, last - step * (kind(steps - 1) - i))
        return _new(values if steps != 1 else xp.full(1, first), dtype, device, requires_grad)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    """``steps`` values from base^start to base^end, evenly spaced in their exponent (``linspace``'s powers); for an
    integer dtype start and end are truncated first and the powers after, as PyTorch's."""
    if dtype is not None and not dt.as_dtype(dtype).is_floating_point:
        start, end = math.trunc(_number("logspace", start, "start")), math.trunc(_number("logspace", end, "end"))
    exponents = linspace(start, end, steps, dtype=dt.float64, device=device)
    values = (float(base) ** exponents).to(_float(dtype))
    return values.requires_grad_(requires_grad) if requires_grad else values


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    """The n x m identity matrix (ones on the diagonal)."""
    n, m = size_args((n, n if m is None else m), "eye")
    with creating_on(_device(device)) as xp:
        return _new(xp.eye(n, m), _float(dtype), device, requires_grad)


def empty_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=preserve_format):
    """Like ``zeros_like``: PyTorch leaves the values of ``empty_like`` unset; ours are zeros."""
    return zeros_like(input, dtype=dtype, device=device, requires_grad=requires_grad, memory_format=memory_format)


# out=: ``torch.zeros(2, 3, out=t)`` fills t (resized to 2x3) and returns it, in t's dtype; see functions.write_out
zeros, ones, full, linspace, eye, randint = (  # (PyTorch resizes their out quietly, and arange's with a warning)
    with_out(f, dtype_from_out=True, resize_warning=False) for f in (zeros, ones, full, linspace, eye, randint))
arange = with_out(arange, dtype_from_out=True)
randn, rand, normal = (with_out(f, dtype_from_out=FLOATING, resize_warning=False) for f in (randn, rand, normal))
multinomial = Tensor.multinomial = with_out(multinomial, resize_warning=False)  # (probs.multinomial(1) too)
empty = zeros
