r"""``Weibull(scale, concentration)``: lifetimes whose failure rate grows (concentration k > 1), stays constant
(k = 1: the exponential) or falls (k < 1) with age; scale lambda stretches them.

If E ~ Exponential(1), then X = lambda E^{1/k} is Weibull: P(X > x) = P(E > (x / lambda)^k) = e^{-(x / lambda)^k}.
With z = x / lambda:
    log_prob(x) = log(k / lambda) + (k - 1) log z - z^k,     cdf(x) = 1 - e^{-z^k},
    icdf(p) = lambda (-log(1 - p))^{1/k},     entropy = gamma (1 - 1/k) + log(lambda / k) + 1,
    mean = lambda Gamma(1 + 1/k),   variance = lambda^2 (Gamma(1 + 2/k) - Gamma(1 + 1/k)^2),
    mode = lambda ((k - 1) / k)^{1/k} for k >= 1,
gamma being the Euler-Mascheroni constant and Gamma the gamma function (computed as e^{lgamma}).
PyTorch builds it as a ``TransformedDistribution`` of Exponential(1) with a ``PowerTransform`` and an
``AffineTransform``; the library has no PowerTransform, so the map is written out, with the Exponential(1) kept
as ``base_dist`` (its cdf checks the value as PyTorch's does). ``rsample`` is lambda E^{1/k}, E = -log(1 - u) with u
uniform: differentiable in both parameters.
Deliberate difference: for k < 1 the density is unbounded at 0, which is outside the support, so there is no mode:
``mode`` is nan there. PyTorch 2.13 evaluates the formula anyway (pytorch/pytorch#198186): nan for most k < 1, but a
wrong finite number where 1/k is an integer (2 at lambda = 2, k = 0.5).
"""
import math

import numpy as np

from ..creation import ones_like
from ..special import lgamma
from ..tensor import where
from . import constraints
from .distribution import Distribution, broadcast_all
from .exponential import Exponential

__all__ = ["Weibull"]


class Weibull(Distribution):
    """Weibull(scale, concentration) per element of the broadcast parameters: scale E^{1/concentration}."""

    arg_constraints = {"scale": constraints.positive, "concentration": constraints.positive}
    support = constraints.positive
    has_rsample = True
    _parameters = ("scale", "concentration")

    def __init__(self, scale, concentration, validate_args=None):
        self.scale, self.concentration = broadcast_all(scale, concentration)
        self.concentration_reciprocal = self.concentration.reciprocal()
        self.base_dist = Exponential(ones_like(self.scale), validate_args=validate_args)
        super().__init__(self.scale.shape, validate_args=validate_args)
        self._check_parameter("scale")
        self._check_parameter("concentration")

    @property
    def mean(self):
        return self.scale * lgamma(1 + self.concentration_reciprocal).exp()

    @property
    def mode(self):
        k = self.concentration
        ratio = ((k - 1) / k).clamp(min=0)  # (below 0 for k < 1, where the answer is nan anyway)
        return where(k >= 1, self.scale * ratio ** k.reciprocal(), math.nan)

    @property
    def variance(self):
        k_inv = self.concentration_reciprocal
        return self.scale ** 2 * (lgamma(1 + 2 * k_inv).exp() - (2 * lgamma(1 + k_inv)).exp())

    def rsample(self, sample_shape=()):
        return self.scale * self.base_dist.rsample(sample_shape) ** self.concentration_reciprocal

    def log_prob(self, value):
        self._check_value(value)
        k, z = self.concentration, value / self.scale
        return (k / self.scale).log() + (k - 1) * z.log() - z ** k

    def cdf(self, value):
        """P(X <= value) = 1 - e^{-(value / scale)^k}: the Exponential(1)'s cdf at (value / scale)^k."""
        return self.base_dist.cdf((value / self.scale) ** self.concentration)

    def icdf(self, value):
        return self.scale * self.base_dist.icdf(value) ** self.concentration_reciprocal

    def entropy(self):
        k_inv = self.concentration_reciprocal
        return np.euler_gamma * (1 - k_inv) + (self.scale * k_inv).log() + 1

    def expand(self, batch_shape):
        return Weibull(self.scale.expand(batch_shape), self.concentration.expand(batch_shape), self._validate_args)
