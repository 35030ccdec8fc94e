r"""``Cauchy(loc, scale)``: the ratio of two independent standard normals (shifted and scaled), a bell with tails
so heavy that it has no mean and no variance.

The density is 1 / (pi scale (1 + z^2)) with z = (x - loc) / scale, so
    log_prob(x) = -log(pi) - log(scale) - log(1 + z^2),     entropy = log(4 pi scale),
    cdf(x) = atan(z) / pi + 1/2,      icdf(p) = loc + scale tan(pi (p - 1/2)).
The mean is nan and the variance inf (their integrals do not converge), as PyTorch returns them; the mode and the
median are loc. ``rsample`` is icdf(u) = loc + scale tan(pi (u - 1/2)) with u uniform on [0, 1) (inverse transform
sampling: a uniform pushed through the inverse cdf has the distribution), differentiable in loc and scale.
"""
import math

from ..creation import full, rand
from . import constraints
from .distribution import Distribution, broadcast_all

__all__ = ["Cauchy"]


class Cauchy(Distribution):
    """A Cauchy (Lorentz) distribution per element of the broadcast ``loc`` (the median) and ``scale`` (the half
    width at half maximum)."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True
    _parameters = ("loc", "scale")

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(self.loc.shape, validate_args=validate_args)
        self._check_parameter("loc")
        self._check_parameter("scale")

    mean = property(lambda self: full(tuple(self._extended_shape()), math.nan, dtype=self.loc.dtype,
                                      device=self.loc.device))
    mode = property(lambda self: self.loc)
    variance = property(lambda self: full(tuple(self._extended_shape()), math.inf, dtype=self.loc.dtype,
                                          device=self.loc.device))

    def rsample(self, sample_shape=()):
        u = rand(self._extended_shape(sample_shape), dtype=self.loc.dtype, device=self.loc.device)
        return self.loc + (math.pi * (u - 0.5)).tan() * self.scale

    def log_prob(self, value):
        self._check_value(value)
        return -math.log(math.pi) - self.scale.log() - (((value - self.loc) / self.scale) ** 2).log1p()

    def cdf(self, value):
        """P(X <= value) = atan((value - loc) / scale) / pi + 1/2."""
        self._check_value(value)
        return ((value - self.loc) / self.scale).atan() / math.pi + 0.5

    def icdf(self, value):
        """The value below which a draw falls with probability ``value``: loc + scale tan(pi (value - 1/2))."""
        return (math.pi * (value - 0.5)).tan() * self.scale + self.loc

    def entropy(self):
        return math.log(4 * math.pi) + self.scale.log()

    def expand(self, batch_shape):
        """The same distribution repeated over a larger batch shape (the parameters expanded, not copied)."""
        return Cauchy(self.loc.expand(batch_shape), self.scale.expand(batch_shape), self._validate_args)
