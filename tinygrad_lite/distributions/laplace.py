r"""``Laplace(loc, scale)``, ``LogNormal(loc, scale)`` and ``StudentT(df, loc, scale)``.

- Laplace: density e^{-|x - loc| / scale} / (2 scale), the L1 loss's distribution: log_prob = -log(2 scale) -
  |x - loc| / scale, entropy 1 + log(2 scale), variance 2 scale^2. ``rsample`` is loc - scale sign(u) log(1 - |u|)
  with u uniform on (-1, 1): differentiable in loc and scale.
- LogNormal: e^X for X ~ Normal(loc, scale) (a ``TransformedDistribution`` with ``ExpTransform``): mean
  e^{loc + scale^2 / 2}, mode e^{loc - scale^2}.
- StudentT: loc + scale T, T = Z / sqrt(V / df) with Z normal and V ~ Chi2(df), heavy-tailed for small df:
  log_prob = lgamma((df + 1) / 2) - lgamma(df / 2) - log(scale) - log(df pi) / 2 - (df + 1) / 2 log(1 + y^2 / df),
  y = (x - loc) / scale. As Gamma's, its ``rsample`` is not offered here (gamma.py).
"""
import math

import numpy as np

from ..autograd.grad_mode import no_grad
from ..creation import rand, randn
from ..special import digamma, lgamma
from .distribution import Distribution, broadcast_all
from .gamma import Chi2
from .normal import Normal
from .transformed_distribution import TransformedDistribution
from .transforms import ExpTransform

__all__ = ["Laplace", "LogNormal", "StudentT"]


class Laplace(Distribution):
    """Laplace(loc, scale) per element of the broadcast parameters."""

    has_rsample = True
    _parameters = ("loc", "scale")

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(self.loc.shape, validate_args=validate_args)
        self._check_parameter("scale", self.scale, self.scale > 0, "GreaterThan(lower_bound=0.0)")

    mean = property(lambda self: self.loc)
    mode = property(lambda self: self.loc)
    stddev = property(lambda self: math.sqrt(2) * self.scale)
    variance = property(lambda self: 2 * self.scale ** 2)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        eps = float(np.finfo(self.loc.array.dtype).eps)
        u = rand(shape, dtype=self.loc.dtype, device=self.loc.device) * (2 - eps) - (1 - eps)  # (-1, 1)
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    def log_prob(self, value):
        self._check_value(value, value == value, "Real()")
        return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

    def cdf(self, value):
        return 0.5 - 0.5 * (value - self.loc).sign() * (-(value - self.loc).abs() / self.scale).expm1()

    def icdf(self, value):
        term = value - 0.5
        return self.loc - self.scale * term.sign() * (-2 * term.abs()).log1p()

    def entropy(self):
        return 1 + (2 * self.scale).log()

    def expand(self, batch_shape):
        return Laplace(self.loc.expand(batch_shape), self.scale.expand(batch_shape), self._validate_args)


class LogNormal(TransformedDistribution):
    """e^X for X ~ Normal(loc, scale)."""

    _parameters = ("loc", "scale")

    def __init__(self, loc, scale, validate_args=None):
        super().__init__(Normal(loc, scale, validate_args=validate_args), ExpTransform(), validate_args)

    loc = property(lambda self: self.base_dist.loc)
    scale = property(lambda self: self.base_dist.scale)
    mean = property(lambda self: (self.loc + self.scale ** 2 / 2).exp())
    mode = property(lambda self: (self.loc - self.scale ** 2).exp())
    variance = property(lambda self: (self.scale ** 2).expm1() * (2 * self.loc + self.scale ** 2).exp())

    def entropy(self):
        return self.base_dist.entropy() + self.loc

    def cdf(self, value):
        return self.base_dist.cdf(value.log())

    def icdf(self, value):
        return self.base_dist.icdf(value).exp()

    def expand(self, batch_shape):
        return LogNormal(self.loc.expand(batch_shape), self.scale.expand(batch_shape), self._validate_args)


class StudentT(Distribution):
    """Student's t with ``df`` degrees of freedom, shifted by ``loc`` and scaled by ``scale``."""

    has_rsample = False
    _parameters = ("df", "loc", "scale")

    def __init__(self, df, loc=0.0, scale=1.0, validate_args=None):
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        super().__init__(self.df.shape, validate_args=validate_args)
        self._check_parameter("df", self.df, self.df > 0, "GreaterThan(lower_bound=0.0)")
        self._check_parameter("scale", self.scale, self.scale > 0, "GreaterThan(lower_bound=0.0)")

    @property
    def mean(self):
        return self.loc.where(self.df > 1, float("nan"))

    mode = property(lambda self: self.loc)

    @property
    def variance(self):
        finite = self.scale ** 2 * self.df / (self.df - 2)
        return finite.where(self.df > 2, float("inf")).where(self.df > 1, float("nan"))

    def rsample(self, sample_shape=()):
        raise NotImplementedError("StudentT.rsample: the draw's gradient in df (through Gamma's implicit "
                                  "reparameterisation) is not covered here; draw with sample() instead")

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            z = randn(shape, dtype=self.df.dtype, device=self.df.device)
            v = Chi2(self.df).sample(sample_shape)
            return self.loc + self.scale * z * (self.df / v).sqrt()

    def log_prob(self, value):
        self._check_value(value, value == value, "Real()")
        y = (value - self.loc) / self.scale
        normaliser = self.scale.log() + 0.5 * (self.df * math.pi).log() + lgamma(0.5 * self.df) - \
            lgamma(0.5 * (self.df + 1))
        return -0.5 * (self.df + 1) * (y * y / self.df).log1p() - normaliser

    def entropy(self):
        half, half_next = 0.5 * self.df, 0.5 * (self.df + 1)
        beta = lgamma(half) + math.lgamma(0.5) - lgamma(half_next)
        return self.scale.log() + half_next * (digamma(half_next) - digamma(half)) + 0.5 * self.df.log() + beta

    def expand(self, batch_shape):
        return StudentT(self.df.expand(batch_shape), self.loc.expand(batch_shape), self.scale.expand(batch_shape),
                        self._validate_args)
