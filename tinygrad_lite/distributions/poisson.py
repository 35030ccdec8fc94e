r"""``Poisson(rate)``: how many events of a process of ``rate`` events per unit fall in one unit: P(k) =
rate^k e^{-rate} / k!, so log_prob(k) = k log rate - rate - log k! (``xlogy`` keeps 0 log 0 = 0 at rate 0; log k! =
lgamma(k + 1)). Mean and variance are the rate, the mode floor(rate). A sample is a count (a float, as PyTorch's),
drawn by ``count_draws.poisson``; there is no rsample (a count is not differentiable in the rate).
"""
from ..autograd.grad_mode import no_grad
from ..count_draws import poisson
from ..special import lgamma
from . import constraints
from .distribution import Distribution, broadcast_all, floating

__all__ = ["Poisson"]


class Poisson(Distribution):
    """Poisson(rate) per element of ``rate`` (a tensor or a number)."""

    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer
    _parameters = ("rate",)

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        super().__init__(self.rate.shape, validate_args=validate_args)
        self._check_parameter("rate")

    mean = property(lambda self: self.rate)
    mode = property(lambda self: self.rate.floor())
    variance = property(lambda self: self.rate)

    def sample(self, sample_shape=()):
        with no_grad():
            return poisson(self.rate.expand(self._extended_shape(sample_shape)))

    def log_prob(self, value):
        self._check_value(value)
        rate, value = broadcast_all(self.rate, floating(value, self.rate))
        return value.xlogy(rate) - rate - lgamma(value + 1)

    def expand(self, batch_shape):
        return Poisson(self.rate.expand(batch_shape), self._validate_args)
