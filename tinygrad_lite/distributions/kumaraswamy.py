r"""``Kumaraswamy(concentration1, concentration0)``: a number in [0, 1] shaped like a Beta(a, b) (beta.py), but with
a cdf in closed form, so that it is drawn by reparameterisation (a VAE's latent in [0, 1]).

With a = concentration1 and b = concentration0 the density is a b x^{a-1} (1 - x^a)^{b-1}, so
    log_prob(x) = log a + log b + (a - 1) log x + (b - 1) log(1 - x^a),
    cdf(x) = 1 - (1 - x^a)^b,     icdf(p) = (1 - (1 - p)^{1/b})^{1/a},
    entropy = (1 - 1/b) + (1 - 1/a) H_b - log a - log b,   H_b = digamma(b + 1) + gamma (the b-th harmonic number;
    gamma is the Euler-Mascheroni constant 0.5772...),
    E[X^n] = b B(1 + n/a, b) = b Gamma(1 + n/a) Gamma(b) / Gamma(1 + n/a + b): the mean is E[X], the variance
    E[X^2] - mean^2,
    mode = ((a - 1) / (a b - 1))^{1/a} where a >= 1 and b >= 1, but not a = b = 1 (the uniform).
PyTorch builds it as a ``TransformedDistribution`` of Uniform(0, 1) with ``PowerTransform(1/b)``, 1 - x and
``PowerTransform(1/a)``; the library has no PowerTransform, so the maps are written out, with the uniform kept as
``base_dist`` (its cdf checks the value as PyTorch's does). ``rsample`` is icdf(1 - u) = (1 - u^{1/b})^{1/a} with u
uniform on [0, 1): differentiable in both parameters.
Deliberate difference: PyTorch 2.13's ``mode`` evaluates a wrong formula that is nan for every valid a and b
(pytorch/pytorch#173912); here it is the mode above, nan where there is none (a < 1 or b < 1: the density is
unbounded at an end; a = b = 1: flat).
"""
import math

import numpy as np

from ..creation import ones_like, zeros_like
from ..special import digamma, lgamma
from ..tensor import where
from . import constraints
from .distribution import Distribution, broadcast_all
from .uniform import Uniform

__all__ = ["Kumaraswamy"]


def _moments(a, b, n):
    """E[X^n] = b Gamma(1 + n/a) Gamma(b) / Gamma(1 + n/a + b), through lgamma (the gammas overflow early)."""
    arg1 = 1 + n / a
    return b * (lgamma(arg1) + lgamma(b) - lgamma(arg1 + b)).exp()


class Kumaraswamy(Distribution):
    """Kumaraswamy(concentration1, concentration0) on [0, 1] per element of the broadcast parameters."""

    arg_constraints = {"concentration1": constraints.positive, "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True
    _parameters = ("concentration1", "concentration0")

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        self.base_dist = Uniform(zeros_like(self.concentration0), ones_like(self.concentration0),
                                 validate_args=validate_args)
        super().__init__(self.concentration1.shape, validate_args=validate_args)
        for name in self._parameters:
            self._check_parameter(name)

    mean = property(lambda self: _moments(self.concentration1, self.concentration0, 1))
    variance = property(lambda self: _moments(self.concentration1, self.concentration0, 2) - self.mean ** 2)

    @property
    def mode(self):
        a, b = self.concentration1, self.concentration0
        defined = (a >= 1) & (b >= 1) & ((a > 1) | (b > 1))
        # (where there is no mode, 1 / 2 stands in for the ratio and 1 for a b - 1: no 0 / 0 and no negative number
        # to a fractional power, whose nan would reach the gradient through where's other side as 0 * nan)
        ratio = where(defined, (a - 1) / where(defined, a * b - 1, 1.0), 0.5)
        return where(defined, ratio ** a.reciprocal(), math.nan)

    def rsample(self, sample_shape=()):
        u = self.base_dist.rsample(sample_shape)
        return (1 - u ** self.concentration0.reciprocal()) ** self.concentration1.reciprocal()

    def log_prob(self, value):
        self._check_value(value)
        a, b = self.concentration1, self.concentration0
        return a.log() + b.log() + (a - 1) * value.log() + (b - 1) * (-(value ** a)).log1p()

    def cdf(self, value):
        """P(X <= value) = 1 - (1 - value^a)^b: one minus the uniform's cdf at (1 - value^a)^b."""
        return 1 - self.base_dist.cdf((1 - value ** self.concentration1) ** self.concentration0)

    def icdf(self, value):
        u = self.base_dist.icdf(1 - value)
        return (1 - u ** self.concentration0.reciprocal()) ** self.concentration1.reciprocal()

    def entropy(self):
        a, b = self.concentration1, self.concentration0
        t1, t0 = 1 - a.reciprocal(), 1 - b.reciprocal()
        harmonic = digamma(b + 1) + np.euler_gamma
        return t0 + t1 * harmonic - a.log() - b.log()

    def expand(self, batch_shape):
        return Kumaraswamy(self.concentration1.expand(batch_shape), self.concentration0.expand(batch_shape),
                           self._validate_args)
