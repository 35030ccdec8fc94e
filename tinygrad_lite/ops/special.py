r"""The error function and its inverse, and the gamma function's family (with the incomplete gamma function),
which numpy lacks: their numbers come from ``special_numbers.py`` and ``gamma_numbers.py``, and their derivatives,
which are elementary or the next member of the family, are here.

erf(x) = (2 / \sqrt{\pi}) \int_0^x e^{-t^2} dt, the probability mass of a normal distribution within x \sqrt{2}
of its mean: the standard normal CDF is \Phi(x) = (1 + erf(x / \sqrt{2})) / 2 (exact GELU, Normal.cdf).
"""
import math

import numpy as np

from ..autograd.function import Function
from ..device import array_module_of
from ..gamma_numbers import gammainc_numbers, lgamma_numbers, polygamma_numbers, standard_gamma_grad_numbers
from ..special_numbers import erf_numbers, erfinv_numbers


class Erf(Function):
    r"""z = erf(x).   dz/dx = (2 / \sqrt{\pi}) e^{-x^2}."""
    def forward(self, x):
        self.save_for_backward(x)
        return erf_numbers(x)

    def backward(self, g):
        x, = self.saved_tensors
        return g * (2 / math.sqrt(math.pi)) * np.exp(-x * x)


class Erfinv(Function):
    r"""z = erf^{-1}(y), for -1 <= y <= 1.   dz/dy = 1 / erf'(z) = (\sqrt{\pi} / 2) e^{z^2}.
    ``complement``: z = erfc^{-1}(y), for 0 <= y <= 2, whose derivative is the same negated."""
    def forward(self, y, complement=False):
        z, self.sign = erfinv_numbers(y, complement), -1 if complement else 1
        self.save_for_backward(z)
        return z

    def backward(self, g):
        z, = self.saved_tensors
        return g * (self.sign * math.sqrt(math.pi) / 2) * np.exp(z * z)


class Lgamma(Function):
    r"""z = log |\Gamma(x)|.   dz/dx = \psi(x), the digamma function (gamma_numbers.py: numpy has neither)."""
    def forward(self, x):
        self.save_for_backward(x)
        return lgamma_numbers(x)

    def backward(self, g):
        x, = self.saved_tensors
        return g * polygamma_numbers(0, x)


class Polygamma(Function):
    r"""z = \psi^{(n)}(x), the n-th derivative of the digamma function \psi = \Gamma' / \Gamma (n = 0: \psi itself,
    ``digamma``).   dz/dx = \psi^{(n+1)}(x)."""
    def forward(self, x, n=0):
        self.n = n
        self.save_for_backward(x)
        return polygamma_numbers(n, x)

    def backward(self, g):
        x, = self.saved_tensors
        return g * polygamma_numbers(self.n + 1, x)


class Digamma(Polygamma):
    r"""z = \psi(x) = d/dx log \Gamma(x) (``Polygamma`` with n = 0).   dz/dx = \psi^{(1)}(x), the trigamma function."""


class Gammainc(Function):
    r"""z = P(a, x), the regularised lower incomplete gamma function (``upper``: Q(a, x) = 1 - P(a, x)).
    dz/dx = x^{a-1} e^{-x} / Gamma(a), the Gamma(a) density (negated for Q); in a there is none, as in PyTorch."""
    def forward(self, a, x, upper=False):
        self.sign = -1 if upper else 1
        self.save_for_backward(a, x)
        return gammainc_numbers(a, x, upper)

    def backward(self, g):
        a, x = self.saved_tensors
        if self.needs_input_grad[0]:
            raise NotImplementedError("the derivative for 'igamma: input' is not implemented.")
        xp = array_module_of(x)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
            density = xp.exp((a - 1) * xp.log(x) - x - lgamma_numbers(a))
        return None, g * self.sign * density


class StandardGamma(Function):
    r"""z = a draw of Gamma(a, 1), made beforehand without a graph (``distributions.gamma.standard_gamma``) and
    passed in, seen as a function of a with its quantile P(a, z) held fixed (PyTorch's implicit
    reparameterisation): dz/da = -(dP(a, z)/da) / (dP(a, z)/dz) (``standard_gamma_grad_numbers``)."""
    def forward(self, a, draw):
        self.save_for_backward(a, draw)
        return draw

    def backward(self, g):
        a, draw = self.saved_tensors
        return g * standard_gamma_grad_numbers(a, draw)
