r"""``Beta(concentration1, concentration0)``: a number in [0, 1] (a coin's bias), the first coordinate of
Dirichlet((a, b)) (dirichlet.py): density x^{a-1} (1 - x)^{b-1} / B(a, b), mean a / (a + b). ``rsample`` is
Dirichlet's, differentiable in a and b (its docstring says how its gradient differs from PyTorch's).
"""
from ..functions import stack
from . import constraints
from .dirichlet import Dirichlet
from .distribution import Distribution, broadcast_all

__all__ = ["Beta"]


class Beta(Distribution):
    """Beta(concentration1, concentration0) on [0, 1]: density x^{a-1} (1-x)^{b-1} / B(a, b)."""

    arg_constraints = {"concentration1": constraints.positive, "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True
    _parameters = ("concentration1", "concentration0")

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        super().__init__(self.concentration1.shape, validate_args=validate_args)
        for name in self._parameters:
            self._check_parameter(name)
        self._dirichlet = Dirichlet(stack([self.concentration1, self.concentration0], -1), validate_args=False)

    mean = property(lambda self: self.concentration1 / (self.concentration1 + self.concentration0))
    mode = property(lambda self: self._dirichlet.mode[..., 0])

    @property
    def variance(self):
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total ** 2 * (total + 1))

    def rsample(self, sample_shape=()):
        return self._dirichlet.rsample(sample_shape)[..., 0]

    def sample(self, sample_shape=()):
        return self._dirichlet.sample(sample_shape)[..., 0]

    def log_prob(self, value):
        self._check_value(value)
        return self._dirichlet.log_prob(stack([value, 1.0 - value], -1))

    def entropy(self):
        return self._dirichlet.entropy()

    def expand(self, batch_shape):
        return Beta(self.concentration1.expand(batch_shape), self.concentration0.expand(batch_shape),
                    self._validate_args)
