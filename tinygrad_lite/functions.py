"""The tensor methods again as functions, as PyTorch offers them: ``torch.exp(x)`` is ``x.exp()``."""
import builtins  # this module defines its own sum, max, any ...: the builtins are used by full name

import numpy as np

from . import dtypes as dt
from .ops.movement import Cat
from .shapes import dim_index
from .tensor import Tensor, _operand, matmul, where  # noqa: F401  (re-exported)


def cat(tensors, dim=0):
    """Join tensors along an existing dim: the backward hands each input its slice of the gradient."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")  # ValueError, as PyTorch
    first = tensors[0]
    d = dim_index(dim, first.ndim, "cat")
    for i, t in enumerate(tensors[1:], 1):
        if t.ndim != first.ndim or builtins.any(a != b for k, (a, b) in enumerate(zip(t.shape, first.shape)) if k != d):
            raise RuntimeError(f"cat: tensors must have the same shape except in dim {d}; tensor 0 has shape "
                               f"{tuple(first.shape)} but tensor {i} has {tuple(t.shape)}")
    dtype = dt.result_type(*tensors)
    return Cat.apply(*[_operand(t, dtype, first) for t in tensors], dim=d)


def stack(tensors, dim=0):
    """Join equally shaped tensors along a new dim: unsqueeze each, then cat."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack: expected a non-empty list of tensors")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise RuntimeError(f"stack: expects each tensor to be of equal shape, but got {tuple(tensors[0].shape)} "
                               f"at entry 0 and {tuple(t.shape)} at entry {i}")
    d = dim_index(dim, tensors[0].ndim + 1, "stack")
    return cat([t.unsqueeze(d) for t in tensors], dim=d)


def _method(name):
    def function(input, *args, **kwargs):  # noqa: A002
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' must be a Tensor, not {type(input).__name__}")
        return getattr(input, name)(*args, **kwargs)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"``{name}(x, ...)`` is ``x.{name}(...)``; see ``Tensor.{name}``."
    return function


_NAMES = ("abs neg exp log log1p sqrt sin cos square relu sigmoid tanh softmax log_softmax clamp clip "
          "sum mean max min amax amin argmax argmin var std logsumexp all any reshape flatten squeeze unsqueeze "
          "permute transpose t maximum minimum add sub mul div pow eq ne lt le gt ge isnan isfinite "
          "masked_fill numel clone detach logical_not").split()
globals().update({name: _method(name) for name in _NAMES})
concat = cat
mm = matmul
bmm = matmul


def is_tensor(obj):
    return isinstance(obj, Tensor)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):  # noqa: A002
    return bool(np.allclose(input.numpy(force=True), other.numpy(force=True), rtol, atol, equal_nan))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):  # noqa: A002
    return Tensor(np.isclose(input.numpy(force=True), other.numpy(force=True), rtol, atol, equal_nan))


def equal(input, other):  # noqa: A002
    return input.shape == other.shape and bool((input == other).all())


__all__ = _NAMES + ["cat", "concat", "stack", "where", "matmul", "mm", "bmm", "is_tensor", "allclose", "isclose",
                    "equal"]
