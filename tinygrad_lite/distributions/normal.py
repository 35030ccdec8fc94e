r"""``Normal(loc, scale)``: the Gaussian, density exp(-(x - loc)^2 / (2 scale^2)) / (scale sqrt(2 pi)).

log_prob(x) = -(x - loc)^2 / (2 scale^2) - log(scale) - log(sqrt(2 pi)); entropy = 1/2 + log(sqrt(2 pi)) +
log(scale); cdf(x) = (1 + erf((x - loc) / (scale sqrt 2))) / 2. ``rsample`` is loc + scale * eps, eps ~ N(0, 1):
the reparameterisation a VAE learns through.
"""
import math

from ..creation import randn
from ..special import erf, erfinv
from . import constraints
from .distribution import Distribution, broadcast_all

__all__ = ["Normal"]


class Normal(Distribution):
    """A normal distribution per element of the broadcast ``loc`` and ``scale`` (numbers or tensors)."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True
    _parameters = ("loc", "scale")

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(self.loc.shape, validate_args=validate_args)
        self._check_parameter("loc")
        self._check_parameter("scale")

    mean = property(lambda self: self.loc)
    mode = property(lambda self: self.loc)
    stddev = property(lambda self: self.scale)
    variance = property(lambda self: self.scale ** 2)

    def rsample(self, sample_shape=()):
        noise = randn(self._extended_shape(sample_shape), dtype=self.loc.dtype, device=self.loc.device)
        return self.loc + noise * self.scale

    def log_prob(self, value):
        self._check_value(value)
        return -((value - self.loc) ** 2) / (2 * self.variance) - self.scale.log() - math.log(math.sqrt(2 * math.pi))

    def entropy(self):
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()

    def cdf(self, value):
        """P(X <= value) = (1 + erf((value - loc) / (scale sqrt 2))) / 2."""
        self._check_value(value)
        return 0.5 * (1 + erf((value - self.loc) * self.scale.reciprocal() / math.sqrt(2)))

    def icdf(self, value):
        """The value below which a draw falls with probability ``value``: loc + scale sqrt(2) erfinv(2 value - 1)."""
        return self.loc + self.scale * erfinv(2 * value - 1) * math.sqrt(2)

    def expand(self, batch_shape):
        """The same distribution repeated over a larger batch shape (the parameters expanded, not copied)."""
        return Normal(self.loc.expand(batch_shape), self.scale.expand(batch_shape), self._validate_args)
