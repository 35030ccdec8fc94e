r"""``Laplace(loc, scale)``: density e^{-|x - loc| / scale} / (2 scale), the L1 loss's distribution:
log_prob = -log(2 scale) - |x - loc| / scale, entropy 1 + log(2 scale), variance 2 scale^2. ``rsample`` is
loc - scale sign(u) log(1 - |u|) with u uniform on (-1, 1): differentiable in loc and scale.
"""
import math

import numpy as np

from ..creation import rand
from . import constraints
from .distribution import Distribution, broadcast_all

__all__ = ["Laplace"]


class Laplace(Distribution):
    """Laplace(loc, scale) per element of the broadcast parameters."""

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
    stddev = property(lambda self: math.sqrt(2) * self.scale)
    variance = property(lambda self: 2 * self.scale ** 2)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        eps = float(np.finfo(self.loc.array.dtype).eps)
        u = rand(shape, dtype=self.loc.dtype, device=self.loc.device) * (2 - eps) - (1 - eps)  # (-1, 1)
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    def log_prob(self, value):
        self._check_value(value)
        return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

    def cdf(self, value):
        self._check_value(value)
        return 0.5 - 0.5 * (value - self.loc).sign() * (-(value - self.loc).abs() / self.scale).expm1()

    def icdf(self, value):
        term = value - 0.5
        return self.loc - self.scale * term.sign() * (-2 * term.abs()).log1p()

    def entropy(self):
        return 1 + (2 * self.scale).log()

    def expand(self, batch_shape):
        return Laplace(self.loc.expand(batch_shape), self.scale.expand(batch_shape), self._validate_args)
