r"""``HalfNormal(scale)``: |X| for X ~ Normal(0, scale), the size of a Gaussian error without its sign (a prior for
a standard deviation).

Folding the normal at 0 puts the mass of both halves on x >= 0, so the density doubles there:
    log_prob(x) = Normal(0, scale).log_prob(x) + log 2 for x >= 0 (-inf below 0),
    cdf(x) = 2 Phi(x / scale) - 1 (Phi the standard normal cdf),   icdf(p) = scale Phi^{-1}((p + 1) / 2),
    entropy = Normal(0, scale).entropy() - log 2,
    mean = scale sqrt(2 / pi),   variance = scale^2 (1 - 2 / pi),   mode 0.
PyTorch builds it as a ``TransformedDistribution`` of Normal(0, scale) with an ``AbsTransform``; the library has no
AbsTransform, so the absolute value is written out here, with the Normal kept as ``base_dist``. ``rsample`` is
|0 + scale eps| = scale |eps| with eps ~ N(0, 1): differentiable in scale.
"""
import math

from ..creation import zeros_like
from ..tensor import where
from . import constraints
from .distribution import Distribution
from .normal import Normal

__all__ = ["HalfNormal"]


class Folded(Distribution):
    """|X| for X from ``base_dist``, a distribution of (0, scale) symmetric about 0: the density doubled on x >= 0,
    cdf(x) = 2 F(x) - 1 and icdf(p) = F^{-1}((p + 1) / 2) with F the base's, the entropy the base's - log 2, the
    mode 0. HalfNormal and HalfCauchy are its two cases (PyTorch writes them with an ``AbsTransform``)."""

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _parameters = ("scale",)
    base = None  # (the symmetric family: Normal or Cauchy)

    def __init__(self, scale, validate_args=None):
        self.base_dist = self.base(0, scale, validate_args=False)
        super().__init__(self.base_dist.batch_shape, validate_args=validate_args)
        self._check_parameter("scale")

    scale = property(lambda self: self.base_dist.scale)
    mode = property(lambda self: zeros_like(self.scale))

    def rsample(self, sample_shape=()):
        return self.base_dist.rsample(sample_shape).abs()

    def log_prob(self, value):
        self._check_value(value)
        return where(value >= 0, self.base_dist.log_prob(value) + math.log(2), -math.inf)

    def cdf(self, value):
        self._check_value(value)
        return 2 * self.base_dist.cdf(value) - 1

    def icdf(self, value):
        return self.base_dist.icdf((value + 1) / 2)

    def entropy(self):
        return self.base_dist.entropy() - math.log(2)

    def expand(self, batch_shape):
        return type(self)(self.scale.expand(batch_shape), self._validate_args)


class HalfNormal(Folded):
    """|X| for X ~ Normal(0, scale), per element of ``scale`` (a number or a tensor)."""

    base = Normal
    mean = property(lambda self: self.scale * math.sqrt(2 / math.pi))
    variance = property(lambda self: self.scale ** 2 * (1 - 2 / math.pi))
