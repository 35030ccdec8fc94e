"""The tensor methods again as functions, as PyTorch offers them: ``torch.exp(x)`` is ``x.exp()``."""
import numpy as np

from .tensor import Tensor, cat, matmul, stack, where  # noqa: F401  (re-exported)


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
