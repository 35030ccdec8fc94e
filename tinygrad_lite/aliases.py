"""PyTorch's second names for functions the library has under their first (numpy's spellings: ``subtract``,
``multiply``, ``greater`` ...), the casts to the small integer types (``x.byte()``: ``img.mul(255).byte()``), and
a few small functions on top of others: ``rsub``, ``reshape_as``, ``sum_to_size``, ``fill_diagonal_``, ``tril_``
and ``triu_``, ``xlogy_``, ``randint_like``, ``unravel_index``, ``scalar_tensor``, ``is_nonzero``,
``is_same_size``, ``unique_consecutive``. Each means exactly what the function it stands for means.
"""
import inspect
import numbers

import numpy as np

from . import dtypes as dt
from .composed_math import xlogy
from .creation import randint, tensor
from .functions import _check_tensor
from .inplace_methods import in_place
from .shapes import check_flag, dim_index, size_args
from .tensor import Tensor

__all__ = ["negative", "subtract", "multiply", "greater", "greater_equal", "less", "less_equal", "not_equal",
           "absolute", "rsub", "randint_like", "unravel_index", "scalar_tensor", "is_nonzero", "is_same_size",
           "unique_consecutive"]

# the second name -> the first (a Tensor method of that name, and its in-place twin where it has one)
SECOND_NAMES = {"negative": "neg", "subtract": "sub", "multiply": "mul", "greater": "gt", "greater_equal": "ge",
                "less": "lt", "less_equal": "le", "not_equal": "ne", "absolute": "abs"}


def _alias(second, first):
    def function(input, *args, **kwargs):
        _check_tensor(second, input)
        return getattr(input, first)(*args, **kwargs)
    function.__name__, function.__doc__ = second, f"``{first}`` under PyTorch's second name (numpy's spelling)."
    method = inspect.signature(getattr(Tensor, first))  # (the method's parameters, its self called input)
    function.__signature__ = method.replace(parameters=[p.replace(name="input") if p.name == "self" else p
                                                        for p in method.parameters.values()])
    return function


negative, subtract, multiply, greater, greater_equal, less, less_equal, not_equal, absolute = (
    _alias(second, first) for second, first in SECOND_NAMES.items())
for _second, _first in SECOND_NAMES.items():
    setattr(Tensor, _second, getattr(Tensor, _first))
    if hasattr(Tensor, _first + "_"):
        setattr(Tensor, _second + "_", getattr(Tensor, _first + "_"))


def rsub(input, other, *, alpha=1):
    """other - alpha * input (``sub`` with its operands the other way round)."""
    _check_tensor("rsub", input)
    return other - input * alpha


def randint_like(input, low=0, high=None, *, dtype=None, device=None, requires_grad=False, generator=None):
    """Random integers in [low, high) of ``input``'s shape, dtype and device (``randint_like(x, 10)``: high 10)."""
    _check_tensor("randint_like", input)
    low, high = (0, low) if high is None else (low, high)
    return randint(low, high, tuple(input.shape), dtype=dtype or input.dtype, device=device or input.device,
                   requires_grad=requires_grad, generator=generator)


def unravel_index(indices, shape):
    """The coordinates, in a tensor of ``shape``, of the flat ``indices``: a tuple of int64 tensors, one per dim."""
    flat = indices.array if isinstance(indices, Tensor) else np.asarray(indices)
    if flat.dtype.kind not in "iu":
        raise TypeError(f"unravel_index: expected 'indices' to be an integer tensor, but got {flat.dtype}")
    shape = size_args(shape if isinstance(shape, (tuple, list)) else (shape,), "unravel_index")
    if flat.size and (int(flat.min()) < -int(np.prod(shape)) or int(flat.max()) >= int(np.prod(shape))):
        raise RuntimeError(f"unravel_index: 'indices' must be in range [{-int(np.prod(shape))}, "
                           f"{int(np.prod(shape)) - 1}] for a tensor of shape {list(shape)}")
    coordinates = np.unravel_index(flat % max(int(np.prod(shape)), 1), shape) if shape else ()
    return tuple(tensor(c.astype(np.int64)) for c in coordinates)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    """A 0-d tensor of the number ``s``, in the default float dtype unless told (``torch.scalar_tensor``)."""
    if isinstance(s, bool) or not isinstance(s, (numbers.Number, np.generic)):
        raise TypeError(f"scalar_tensor(): argument 's' must be a number, got {type(s).__name__}")
    return tensor(float(s) if dtype is None else s, dtype=dtype or dt.get_default_dtype(), device=device,
                  requires_grad=requires_grad)


def is_nonzero(input):
    """Whether a tensor of one number is not 0 (more or fewer numbers: PyTorch's RuntimeError)."""
    _check_tensor("is_nonzero", input)
    if input.numel() != 1:
        how_many = "no values" if input.numel() == 0 else "more than one value"
        raise RuntimeError(f"is_nonzero(): Boolean value of Tensor with {how_many} is ambiguous")
    return bool(input.item() != 0)


def is_same_size(input, other):
    """Whether two tensors have the same shape."""
    _check_tensor("is_same_size", input)
    _check_tensor("is_same_size", other, "other")
    return tuple(input.shape) == tuple(other.shape)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """The input with every run of equal consecutive values (slices along ``dim``) kept once, as ``uniq`` does;
    with ``return_inverse``, each item's run; with ``return_counts``, each run's length. No gradient, as ``unique``."""
    _check_tensor("unique_consecutive", input)
    for name, flag in (("return_inverse", return_inverse), ("return_counts", return_counts)):
        check_flag("unique_consecutive", name, flag)
    dim = None if dim is None else dim_index(dim, max(input.ndim, 1), "unique_consecutive")
    x = input.array.reshape(-1) if dim is None or input.ndim == 0 else np.moveaxis(input.array, dim, 0)
    if x.shape[0] == 0:
        starts = np.zeros(0, dtype=bool)
    else:
        changed = (x[1:] != x[:-1]).reshape(x.shape[0] - 1, -1).any(axis=1)
        starts = np.concatenate([[True], changed])
    runs = np.cumsum(starts) - 1
    values = x[starts] if dim is None else np.moveaxis(x[starts], 0, dim)
    out = [Tensor._make(np.ascontiguousarray(values), None)]
    if return_inverse:
        out.append(Tensor._make(runs.reshape(input.shape if dim is None else -1).astype(np.int64), None))
    if return_counts:
        out.append(Tensor._make(np.diff(np.append(np.flatnonzero(starts), x.shape[0])).astype(np.int64), None))
    return out[0] if len(out) == 1 else tuple(out)


def _cast_to(dtype):
    """The method ``x.byte()`` (and the like): ``x.to(dtype)``, as tensor.py's ``x.long()``."""
    def cast(self, memory_format=None):
        return self.to(dtype, memory_format=memory_format)
    return cast


def _reshape_as(self, other):
    """``x.reshape(other.shape)``."""
    _check_tensor("reshape_as", other, "other")
    return self.reshape(other.shape)


def _sum_to_size(self, *size):
    """x summed to ``size``, a shape that x's broadcasts from: over the dims in front, and over those where size
    has 1 (the reduction a gradient of a broadcast operand needs)."""
    size = size_args(size, "sum_to_size")
    if len(size) > self.ndim or any(s not in (1, n) for s, n in zip(size, self.shape[self.ndim - len(size):])):
        raise RuntimeError(f"sum_to_size: size {list(size)} is not expandable to size {list(self.shape)}")
    lead = self.ndim - len(size)
    out = self.sum(tuple(range(lead))) if lead else self
    ones = tuple(i for i, s in enumerate(size) if s == 1 and out.shape[i] != 1)
    return out.sum(ones, keepdim=True) if ones else out


def _fill_diagonal_(self, fill_value, wrap=False):
    """Write ``fill_value`` on the main diagonal (every dim's index equal), in place; ``wrap``: a tall matrix's
    diagonal starts again below each square block, as numpy's ``fill_diagonal``."""
    if self.ndim < 2 or (self.ndim > 2 and len(set(self.shape)) != 1):
        raise RuntimeError(f"fill_diagonal_: dimensions must larger than 1 and all of equal length (a matrix, or a "
                           f"tensor with every dim the same), got shape {list(self.shape)}")
    if isinstance(fill_value, bool) or not isinstance(fill_value, (numbers.Number, np.generic)):
        raise TypeError(f"fill_diagonal_(): argument 'fill_value' must be a number, got {type(fill_value).__name__}")
    check_flag("fill_diagonal_", "wrap", wrap)
    mask = np.zeros(tuple(self.shape), dtype=bool)
    np.fill_diagonal(mask, True, wrap=wrap)
    return self.masked_fill_(Tensor._make(mask, None).to(self.device), fill_value)


Tensor.byte, Tensor.char, Tensor.short = _cast_to(dt.uint8), _cast_to(dt.int8), _cast_to(dt.int16)
Tensor.reshape_as, Tensor.sum_to_size, Tensor.fill_diagonal_ = _reshape_as, _sum_to_size, _fill_diagonal_
Tensor.is_cpu = property(lambda self: self.device.type == "cpu")
Tensor.tril_, Tensor.triu_ = in_place("tril", Tensor.tril), in_place("triu", Tensor.triu)
Tensor.xlogy_, Tensor.clip_ = in_place("xlogy", xlogy), Tensor.clamp_
Tensor.rsub, Tensor.is_nonzero, Tensor.is_same_size = rsub, is_nonzero, is_same_size
Tensor.unique_consecutive = unique_consecutive
