r"""``StudentT(df, loc, scale)``: loc + scale T, T = Z / sqrt(V / df) with Z normal and V ~ Chi2(df), heavy-tailed
for small df:
    log_prob = lgamma((df + 1) / 2) - lgamma(df / 2) - log(scale) - log(df pi) / 2 - (df + 1) / 2 log(1 + y^2 / df),
    y = (x - loc) / scale. ``rsample`` is differentiable in all three, in df through V's (Gamma's) implicit
    reparameterisation (gamma.py).
"""
import math

from ..autograd.grad_mode import no_grad
from ..creation import randn
from ..special import digamma, lgamma
from . import constraints
from .chi2 import Chi2
from .distribution import Distribution, broadcast_all

__all__ = ["StudentT"]


class StudentT(Distribution):
    """Student's t with ``df`` degrees of freedom, shifted by ``loc`` and scaled by ``scale``."""

    arg_constraints = {"df": constraints.positive, "loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True
    _parameters = ("df", "loc", "scale")

    def __init__(self, df, loc=0.0, scale=1.0, validate_args=None):
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        super().__init__(self.df.shape, validate_args=validate_args)
        for name in self._parameters:
            self._check_parameter(name)

    @property
    def mean(self):
        return self.loc.where(self.df > 1, float("nan"))

    mode = property(lambda self: self.loc)

    @property
    def variance(self):
        finite = self.scale ** 2 * self.df / (self.df - 2)
        return finite.where(self.df > 2, float("inf")).where(self.df > 1, float("nan"))

    def rsample(self, sample_shape=()):
        z = randn(self._extended_shape(sample_shape), dtype=self.df.dtype, device=self.df.device)
        v = Chi2(self.df).rsample(sample_shape)
        return self.loc + self.scale * z * (self.df / v).sqrt()

    def sample(self, sample_shape=()):
        with no_grad():
            return self.rsample(sample_shape)

    def log_prob(self, value):
        self._check_value(value)
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
