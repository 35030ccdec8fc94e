r"""``tinygrad_lite.special`` (``torch.special``): special functions, and ``erf``, ``erfc`` and ``erfinv`` for
the top level and tensors (``torch.erf(x)``, ``x.erfinv()``).

``erf`` and ``erfinv`` are ops (``ops/special.py``: numpy has neither); ``erfc`` = 1 - erf(x) is computed from
Python's ``math.erfc`` in the forward, so that its tail keeps its digits (1 - erf(5) would cancel to 1.5e-12 with
4 digits left), with erf's gradient negated. The rest are PyTorch's other names for functions the library has:
``expit`` is the sigmoid, ``sinc``, ``ndtr`` the standard normal CDF (1 + erf(x / sqrt 2)) / 2, ``ndtri`` its inverse
sqrt 2 erfinv(2p - 1), ``logit``, ``xlogy``, ``expm1``, ``log1p``, ``logsumexp``, ``softmax``, ``log_softmax``.
"""
import math

from .autograd.grad_mode import no_grad
from .composed_math import logit, xlogy
from .functions import _check_tensor, with_out
from .inplace_methods import in_place
from .ops.special import Erf, Erfinv
from .special_numbers import erf_numbers
from .tensor import Tensor, where

__all__ = ["erf", "erfc", "erfinv", "expit", "logit", "xlogy", "ndtr", "ndtri", "expm1", "log1p", "logsumexp",
           "softmax", "log_softmax", "sinc"]


def erf(input):
    """erf(x) = (2 / sqrt(pi)) * integral from 0 to x of exp(-t^2) dt, elementwise."""
    _check_tensor("erf", input)
    return Erf.apply(input._floating("erf"))


def erfinv(input):
    """The inverse of erf on [-1, 1]: erfinv(erf(x)) = x; +-inf at +-1, nan beyond."""
    _check_tensor("erfinv", input)
    return Erfinv.apply(input._floating("erfinv"))


def erfc(input):
    """1 - erf(x), accurate in the tail: the numbers from ``math.erfc``, the gradient -(2 / sqrt(pi)) e^{-x^2}
    (erf's, negated, through a term worth 0)."""
    _check_tensor("erfc", input)
    x = input._floating("erfc")
    with no_grad():
        value = Tensor._make(erf_numbers(x.array, "erfc"), None)
    through = Erf.apply(where(x.isinf(), 0.0, x))  # (inf - inf would be nan; erf's slope there is 0 anyway)
    return value - (through - through.detach())


def expit(input):
    """The logistic sigmoid 1 / (1 + e^{-x}) (torch.special's name for it)."""
    _check_tensor("expit", input)
    return input.sigmoid()


def ndtr(input):
    """The standard normal CDF: (1 + erf(x / sqrt(2))) / 2."""
    return (1 + erf(input * (1 / math.sqrt(2)))) / 2


def ndtri(input):
    """The inverse of the standard normal CDF: -sqrt(2) erfcinv(2p), which keeps the tails' digits where
    sqrt(2) erfinv(2p - 1) would not (2p - 1 rounds to -1 for p below 1e-17)."""
    _check_tensor("ndtri", input)
    return Erfinv.apply(2 * input._floating("ndtri"), complement=True) * -math.sqrt(2)


def expm1(input):
    return input.expm1()


def log1p(input):
    return input.log1p()


def logsumexp(input, dim, keepdim=False):
    return input.logsumexp(dim, keepdim)


def softmax(input, dim, *, dtype=None):
    return (input if dtype is None else input.to(dtype)).softmax(dim)


def log_softmax(input, dim, *, dtype=None):
    return (input if dtype is None else input.to(dtype)).log_softmax(dim)


def sinc(input):
    """sin(pi x) / (pi x) (trigonometry.py's)."""
    from .trigonometry import sinc as _sinc  # (trigonometry.py imports this module first)
    return _sinc(input)


for _function in (erf, erfc, erfinv):
    setattr(Tensor, _function.__name__, _function)
    setattr(Tensor, _function.__name__ + "_", in_place(_function.__name__, _function))
# the functions take out=, as PyTorch's (the methods do not)
erf, erfc, erfinv, expit, ndtr, ndtri, expm1, log1p, logsumexp = (with_out(f) for f in (
    erf, erfc, erfinv, expit, ndtr, ndtri, expm1, log1p, logsumexp))
