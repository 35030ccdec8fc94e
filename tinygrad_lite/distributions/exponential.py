r"""``Exponential(rate)``: the waiting time of a Poisson process of rate b, Gamma(1, b): density b e^{-b x} on
x >= 0, mean 1 / b, entropy 1 - log b, cdf 1 - e^{-b x}. ``rsample`` is -log(1 - u) / b with u uniform, differentiable
in b.
"""
from ..creation import rand
from . import constraints
from .distribution import Distribution, broadcast_all

__all__ = ["Exponential"]


class Exponential(Distribution):
    """Exponential(rate): density b e^{-b x} on x >= 0; ``rsample`` is -log(1 - u) / b, differentiable in b."""

    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _parameters = ("rate",)

    def __init__(self, rate, validate_args=None):
        self.rate, = broadcast_all(rate)
        super().__init__(self.rate.shape, validate_args=validate_args)
        self._check_parameter("rate")

    mean = property(lambda self: self.rate.reciprocal())
    mode = property(lambda self: self.rate * 0)
    stddev = property(lambda self: self.rate.reciprocal())
    variance = property(lambda self: self.rate ** -2)

    def rsample(self, sample_shape=()):
        u = rand(self._extended_shape(sample_shape), dtype=self.rate.dtype, device=self.rate.device)
        return -(-u).log1p() / self.rate

    def log_prob(self, value):
        self._check_value(value)
        return self.rate.log() - self.rate * value

    def cdf(self, value):
        self._check_value(value)
        return 1 - (-self.rate * value).exp()

    def icdf(self, value):
        return -(-value).log1p() / self.rate

    def entropy(self):
        return 1.0 - self.rate.log()

    def expand(self, batch_shape):
        return Exponential(self.rate.expand(batch_shape), self._validate_args)
