r"""``Uniform(low, high)``: every number of [low, high) equally likely, density 1 / (high - low) there.

log_prob(x) = -log(high - low) inside, -inf outside (a value outside raises with ``validate_args``); entropy =
log(high - low). ``rsample`` is low + u (high - low) with u uniform on [0, 1), differentiable in low and high.
"""
from ..creation import rand
from .distribution import Distribution, broadcast_all

__all__ = ["Uniform"]


class Uniform(Distribution):
    """A uniform distribution per element of the broadcast ``low`` and ``high``."""

    has_rsample = True
    _parameters = ("low", "high")

    def __init__(self, low, high, validate_args=None):
        self.low, self.high = broadcast_all(low, high)
        super().__init__(self.low.shape, validate_args=validate_args)
        self._check_parameter("low", self.low, self.low < self.high, "LessThan(upper_bound=high)")

    mean = property(lambda self: (self.high + self.low) / 2)
    mode = property(lambda self: self.low * float("nan"))
    stddev = property(lambda self: (self.high - self.low) / 12 ** 0.5)
    variance = property(lambda self: (self.high - self.low) ** 2 / 12)

    def rsample(self, sample_shape=()):
        u = rand(self._extended_shape(sample_shape), dtype=self.low.dtype, device=self.low.device)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value):
        inside = (self.low <= value) & (value < self.high)
        self._check_value(value, inside, "Interval(lower_bound=low, upper_bound=high)")
        return inside.to(self.low.dtype).log() - (self.high - self.low).log()  # (log 0 = -inf outside, as PyTorch's)

    def entropy(self):
        return (self.high - self.low).log()
