r"""``HalfCauchy(scale)``: |X| for X ~ Cauchy(0, scale) (cauchy.py), a heavy-tailed prior for a scale parameter.

Folding at 0 doubles the density on x >= 0:
    log_prob(x) = Cauchy(0, scale).log_prob(x) + log 2 = log(2 / pi) - log(scale) - log(1 + (x / scale)^2),
    cdf(x) = 2 atan(x / scale) / pi,   icdf(p) = scale tan(pi p / 2),   entropy = log(2 pi scale),
and the mode is 0; the mean is inf and the variance inf (the Cauchy's, as PyTorch returns it), the tails being too
heavy for either integral to converge. PyTorch builds it as a ``TransformedDistribution`` with an
``AbsTransform``, which the library lacks: the absolute value is written out, the Cauchy kept as ``base_dist``.
``rsample`` is |scale tan(pi (u - 1/2))| with u uniform: differentiable in scale.
"""
import math

from ..creation import full, zeros_like
from ..tensor import where
from . import constraints
from .cauchy import Cauchy
from .distribution import Distribution

__all__ = ["HalfCauchy"]


class HalfCauchy(Distribution):
    """|X| for X ~ Cauchy(0, scale), per element of ``scale`` (a number or a tensor)."""

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _parameters = ("scale",)

    def __init__(self, scale, validate_args=None):
        self.base_dist = Cauchy(0, scale, validate_args=False)
        super().__init__(self.base_dist.batch_shape, validate_args=validate_args)
        self._check_parameter("scale")

    scale = property(lambda self: self.base_dist.scale)
    mean = property(lambda self: full(tuple(self._extended_shape()), math.inf, dtype=self.scale.dtype,
                                      device=self.scale.device))
    mode = property(lambda self: zeros_like(self.scale))
    variance = property(lambda self: self.base_dist.variance)

    def rsample(self, sample_shape=()):
        return self.base_dist.rsample(sample_shape).abs()

    def log_prob(self, value):
        self._check_value(value)
        return where(value >= 0, self.base_dist.log_prob(value) + math.log(2), -math.inf)

    def cdf(self, value):
        """P(X <= value) = 2 atan(value / scale) / pi."""
        self._check_value(value)
        return 2 * self.base_dist.cdf(value) - 1

    def icdf(self, value):
        return self.base_dist.icdf((value + 1) / 2)

    def entropy(self):
        return self.base_dist.entropy() - math.log(2)

    def expand(self, batch_shape):
        return HalfCauchy(self.scale.expand(batch_shape), self._validate_args)
