r"""The error function and its inverse, which numpy lacks: their numbers come from ``special_numbers.py``, and
their derivatives, which are elementary, are here.

erf(x) = (2 / \sqrt{\pi}) \int_0^x e^{-t^2} dt, the probability mass of a normal distribution within x \sqrt{2}
of its mean: the standard normal CDF is \Phi(x) = (1 + erf(x / \sqrt{2})) / 2 (exact GELU, Normal.cdf).
"""
import math

import numpy as np

from ..autograd.function import Function
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
