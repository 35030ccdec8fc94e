r"""``InverseGamma(concentration, rate)``: 1 / X for X ~ Gamma(concentration, rate) (gamma.py), the conjugate prior
of a normal's variance.

With a = concentration and b = rate, y = 1 / x maps the Gamma's density onto y > 0, times |dx/dy| = 1 / y^2:
    log_prob(y) = Gamma(a, b).log_prob(1 / y) - 2 log y = a log b - lgamma(a) - (a + 1) log y - b / y,
    entropy = a + log b + lgamma(a) - (1 + a) digamma(a),     mode = b / (a + 1),
    mean = b / (a - 1) (inf for a <= 1),     variance = b^2 / ((a - 1)^2 (a - 2)) (inf for a <= 2).
PyTorch builds it as a ``TransformedDistribution`` of the Gamma with ``PowerTransform(-1)``; the library has no
PowerTransform, so 1 / x is written out, with the Gamma kept as ``base_dist`` (it checks the parameters, with its
own name in the message, as PyTorch's does). ``rsample`` is 1 / (a Gamma draw), differentiable in a and b as the
Gamma's is (gamma.py); ``cdf(y)`` = P(X >= 1 / y) = Q(a, b / y), the upper regularised incomplete gamma function.
"""
from ..autograd.grad_mode import no_grad
from ..special import digamma, gammaincc, lgamma
from ..tensor import where
from . import constraints
from .distribution import Distribution
from .gamma import Gamma

__all__ = ["InverseGamma"]


class InverseGamma(Distribution):
    """1 / X for X ~ Gamma(concentration, rate), per element of the broadcast parameters."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.positive
    has_rsample = True
    _parameters = ("concentration", "rate")

    def __init__(self, concentration, rate, validate_args=None):
        self.base_dist = Gamma(concentration, rate, validate_args=validate_args)
        super().__init__(self.base_dist.batch_shape, validate_args=validate_args)

    concentration = property(lambda self: self.base_dist.concentration)
    rate = property(lambda self: self.base_dist.rate)
    mean = property(lambda self: where(self.concentration > 1, self.rate / (self.concentration - 1), float("inf")))
    mode = property(lambda self: self.rate / (self.concentration + 1))

    @property
    def variance(self):
        a = self.concentration
        return where(a > 2, self.rate ** 2 / ((a - 1) ** 2 * (a - 2)), float("inf"))

    def rsample(self, sample_shape=()):
        return self.base_dist.rsample(sample_shape).reciprocal()

    def sample(self, sample_shape=()):
        with no_grad():
            return self.rsample(sample_shape)

    def cdf(self, value):
        self._check_value(value)
        return gammaincc(self.concentration, self.rate / value)

    def log_prob(self, value):
        self._check_value(value)
        return self.base_dist.log_prob(value.reciprocal()) - 2 * value.log()

    def entropy(self):
        a = self.concentration
        return a + self.rate.log() + lgamma(a) - (1 + a) * digamma(a)

    def expand(self, batch_shape):
        return InverseGamma(self.concentration.expand(batch_shape), self.rate.expand(batch_shape),
                            self._validate_args)
