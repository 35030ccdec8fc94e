r"""``Uniform(low, high)``: every number of [low, high) equally likely, density 1 / (high - low) there.

log_prob(x) = -log(high - low) inside, -inf outside (a value outside raises with ``validate_args``); entropy =
log(high - low); cdf(x) = (x - low) / (high - low), clamped to [0, 1]. ``rsample`` is low + u (high - low)
with u uniform on [0, 1), differentiable in low and high.
"""
from ..creation import rand
from ..tensor import where
from . import constraints
from .distribution import Distribution, broadcast_all

__all__ = ["Uniform"]


class Uniform(Distribution):
    """A uniform distribution per element of the broadcast ``low`` and ``high``."""

    has_rsample = True
    _parameters = ("low", "high")

    def __init__(self, low, high, validate_args=None):
        self.low, self.high = broadcast_all(low, high)
        super().__init__(self.low.shape, validate_args=validate_args)
        self._check_parameter("low")
        self._check_parameter("high")  # (the same condition, low < high, as PyTorch's: it fails on low first)

    @property
    def arg_constraints(self):
        return {"low": constraints.less_than(self.high), "high": constraints.greater_than(self.low)}

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        return constraints.interval(self.low, self.high)  # (closed, as PyTorch's; high itself has density 0)

    mean = property(lambda self: (self.high + self.low) / 2)
    mode = property(lambda self: self.low * float("nan"))
    stddev = property(lambda self: (self.high - self.low) / 12 ** 0.5)
    variance = property(lambda self: (self.high - self.low) ** 2 / 12)

    def rsample(self, sample_shape=()):
        u = rand(self._extended_shape(sample_shape), dtype=self.low.dtype, device=self.low.device)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value):
        self._check_value(value)
        inside = (self.low <= value) & (value < self.high)
        return where(inside, 0.0, float("-inf")) - (self.high - self.low).log()  # (-inf outside; the same gradient)

    def cdf(self, value):
        self._check_value(value)
        return ((value - self.low) / (self.high - self.low)).clamp(min=0, max=1)

    def icdf(self, value):
        return self.low + value * (self.high - self.low)

    def expand(self, batch_shape):
        return Uniform(self.low.expand(batch_shape), self.high.expand(batch_shape), self._validate_args)

    def entropy(self):
        return (self.high - self.low).log()
