r"""``tinygrad_lite.special`` (``torch.special``): special functions, and ``erf``, ``erfc`` and ``erfinv`` for
the top level and tensors (``torch.erf(x)``, ``x.erfinv()``).

``erf`` and ``erfinv`` are ops (``ops/special.py``: numpy has neither); ``erfc`` = 1 - erf(x) is computed from
Python's ``math.erfc`` in the forward, so that its tail keeps its digits (1 - erf(5) would cancel to 1.5e-12 with
4 digits left), with erf's gradient negated. The rest are PyTorch's other names for functions the library has:
``expit`` is the sigmoid, ``sinc``, ``ndtr`` the standard normal CDF (1 + erf(x / sqrt 2)) / 2, ``ndtri`` its inverse
sqrt 2 erfinv(2p - 1), ``logit``, ``xlogy``, ``expm1``, ``log1p``, ``logsumexp``, ``softmax``, ``log_softmax``.

``gammainc`` and ``gammaincc`` (the regularised incomplete gamma functions P(a, x) and Q(a, x), the Gamma
distribution's cdf) are an op too; ``exp2``, ``xlog1py``, ``entr`` and ``round`` are composed.

The gamma function's family, for the log-densities of the Gamma, Beta, Dirichlet, Poisson and Student's t
distributions (``lgamma`` is log |Gamma(x)|, with Gamma(n) = (n - 1)! at the integers), are ops too, their numbers
from ``gamma_numbers.py``: ``lgamma`` (``gammaln``), ``digamma`` (``psi``, the derivative of lgamma),
``polygamma(n, x)`` (the n-th derivative of digamma) and ``mvlgamma(x, p)`` (``multigammaln``, the log of the
multivariate gamma function, a sum of lgammas). Digamma and polygamma are accurate to about 1e-14 in float64; in
places PyTorch's own kernels are less so (its trigamma, polygamma(1, x), to about 1e-9).
"""
import math

import numpy as np

from . import dtypes as dt
from .autograd.grad_mode import no_grad
from .composed_math import logit, xlogy
from .functions import _check_tensor, _no_out, with_out
from .inplace_methods import in_place
from .ops.special import Digamma, Erf, Erfinv, Gammainc, Lgamma, Polygamma
from .special_numbers import erf_numbers
from .tensor import Tensor, where

__all__ = ["erf", "erfc", "erfinv", "expit", "logit", "xlogy", "ndtr", "ndtri", "expm1", "log1p", "logsumexp",
           "softmax", "log_softmax", "sinc", "gammaln", "digamma", "psi", "polygamma", "multigammaln", "gammainc",
           "gammaincc", "exp2", "xlog1py", "entr", "round"]


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


def lgamma(input):
    """log |Gamma(x)| elementwise; +inf at 0, -1, -2... (the poles of Gamma)."""
    _check_tensor("lgamma", input)
    return Lgamma.apply(input._floating("lgamma"))


def digamma(input):
    """psi(x) = d/dx lgamma(x) = Gamma'(x) / Gamma(x); -inf at 0, nan at -1, -2..."""
    _check_tensor("digamma", input)
    return Digamma.apply(input._floating("digamma"))


def polygamma(n, input):
    """psi^(n)(x), the n-th derivative of digamma (n = 0 is digamma itself; n = 1 the trigamma function)."""
    _check_tensor("polygamma", input)
    if isinstance(n, Tensor) and n.ndim == 0 and not n.dtype.is_floating_point:
        n = int(n.item())  # (a 0-d integer tensor is a number, as in PyTorch)
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"polygamma(): argument 'n' must be an int (the order of the derivative), not "
                        f"{type(n).__name__}")
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    if n > 170:
        raise RuntimeError(f"polygamma(): n = {n} is beyond what float64 holds (n! overflows past n = 170; PyTorch "
                           "gives inf or nan there)")
    return Polygamma.apply(input._floating("polygamma"), n=n)


def mvlgamma(input, p):
    """The log of the multivariate gamma function of dimension p: p (p - 1) / 4 log(pi) + sum over j < p of
    lgamma(x - j / 2), defined where every x > (p - 1) / 2 (the Wishart distribution's normaliser)."""
    _check_tensor("mvlgamma", input)
    if isinstance(p, bool) or not isinstance(p, int):
        raise TypeError(f"mvlgamma(): argument 'p' must be int, not {type(p).__name__}")
    if p < 1:
        raise RuntimeError(f"mvlgamma(): p has to be greater than or equal to 1, got {p}")
    if p > 2**16:
        raise RuntimeError(f"mvlgamma(): p = {p} would add up {p} lgammas of every element; the multivariate gamma "
                           "function is used with p the dimension of a matrix (a few to a few thousand)")
    x = input._floating("mvlgamma")  # (below (p - 1) / 2 the sum is still computed, as PyTorch's 2.13 does)
    return sum(lgamma(x - j / 2) for j in range(p)) + p * (p - 1) / 4 * math.log(math.pi)


def polygamma_method(self, n):
    """``x.polygamma(n)``: ``polygamma(n, x)``."""
    return polygamma(n, self)


def gammainc(input, other, *, out=None):
    """P(a, x) with a = ``input``, x = ``other`` (broadcast): the regularised lower incomplete gamma function, the
    Gamma(a) distribution's cdf at x; differentiable in x (gamma_numbers.py, ops/special.py)."""
    return _incomplete("gammainc", input, other, False, out)


def gammaincc(input, other, *, out=None):
    """Q(a, x) = 1 - P(a, x), the upper one, computed as itself (its small values keep their digits)."""
    return _incomplete("gammaincc", input, other, True, out)


def _incomplete(name, a, x, upper, out):
    _check_tensor(name, a)
    _check_tensor(name, x, "other")
    _no_out(name, out)
    if not (a.dtype.is_floating_point and x.dtype.is_floating_point):
        raise NotImplementedError(f"{name}: not implemented for {a.dtype} and {x.dtype}; the incomplete gamma "
                                  "function takes floating-point tensors (convert with .float())")
    common = dt.result_type(a, x)  # (float32 with float64: float64, as PyTorch promotes)
    return Gammainc.apply(a.to(common), x.to(common), upper=upper)


def exp2(input):
    """2^x, elementwise."""
    _check_tensor("exp2", input)
    return 2.0 ** input._floating("exp2")


def xlog1py(input, other):
    """x log(1 + y), 0 where x = 0 (even where log(1 + y) is -inf), nan where y is, as PyTorch's (and ``xlogy``)."""
    _check_tensor("xlog1py", input)
    if not isinstance(other, Tensor) and (isinstance(other, bool) or not isinstance(other, (int, float))):
        raise TypeError(f"xlog1py(): argument 'other' must be a Tensor or a number, not {type(other).__name__}")
    with np.errstate(divide="ignore", invalid="ignore"):  # (log1p(-1) = -inf, put away where x = 0, so that
        log = other.log1p() if isinstance(other, Tensor) else input.new_tensor(math.log1p(other))  # neither the
        return input * where((input == 0) & (log == log), 0.0, log)  # value nor a gradient meets 0 times inf)


def entr(input):
    """-x log x elementwise: 0 at x = 0 and -inf below 0 (the entropy of one probability). Its gradient,
    -(1 + log x), is taken where x > 0; at 0 and below it is 0 here (PyTorch's formula gives inf and nan)."""
    _check_tensor("entr", input)
    x = input._floating("entr")
    return where(x > 0, -x * where(x > 0, x, 1.0).log(), where(x == 0, 0.0, float("-inf")))


def round(input, *, decimals=0):
    """``torch.special.round``: ``torch.round``, half to even."""
    return input.round(decimals=decimals)


gammaln, psi, multigammaln = lgamma, digamma, mvlgamma


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


for _function in (erf, erfc, erfinv, lgamma, digamma, mvlgamma):
    setattr(Tensor, _function.__name__, _function)
    setattr(Tensor, _function.__name__ + "_", in_place(_function.__name__, _function))
Tensor.igamma, Tensor.igammac = gammainc, gammaincc
polygamma_method.__name__ = "polygamma"
Tensor.polygamma, Tensor.polygamma_ = polygamma_method, in_place("polygamma", polygamma_method)
# the functions take out=, as PyTorch's (the methods do not)
erf, erfc, erfinv, expit, ndtr, ndtri, expm1, log1p, logsumexp, lgamma, digamma, polygamma, mvlgamma = (
    with_out(f) for f in (erf, erfc, erfinv, expit, ndtr, ndtri, expm1, log1p, logsumexp, lgamma, digamma, polygamma,
                          mvlgamma))
gammaln, psi, multigammaln = lgamma, digamma, mvlgamma
