r"""``Dirichlet(concentration)`` and ``Beta(concentration1, concentration0)``: distributions over probabilities.

Dirichlet(a) is a distribution over vectors x of k positive numbers that add up to 1 (event shape (k,)):
    log_prob(x) = sum_i (a_i - 1) log x_i + lgamma(a_0) - sum_i lgamma(a_i),   a_0 = sum_i a_i,
    entropy = sum_i lgamma(a_i) - lgamma(a_0) + (a_0 - k) digamma(a_0) - sum_i (a_i - 1) digamma(a_i),
    mean a / a_0,   variance a (a_0 - a) / (a_0^2 (a_0 + 1)).
A draw is k Gamma(a_i, 1) draws divided by their sum. Beta(a, b) is the first coordinate of Dirichlet((a, b)): a
number in [0, 1] (a coin's bias), with mean a / (a + b).
Deliberate difference: as for ``Gamma`` (gamma.py), ``rsample`` (whose gradient in the concentrations PyTorch gets by
an implicit reparameterisation) is not offered; ``sample()`` and ``log_prob`` are.
"""
from ..autograd.grad_mode import no_grad
from ..composed_math import xlogy
from ..functions import stack
from ..special import digamma, lgamma
from .distribution import Distribution, broadcast_all
from .gamma import standard_gamma

__all__ = ["Dirichlet", "Beta"]


class Dirichlet(Distribution):
    """Dirichlet(concentration): ``concentration`` (..., k), each a_i > 0; events of shape (k,)."""

    has_rsample = False
    _parameters = ("concentration",)

    def __init__(self, concentration, validate_args=None):
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        super().__init__(concentration.shape[:-1], concentration.shape[-1:], validate_args)
        self._check_parameter("concentration", concentration, concentration > 0,
                              "IndependentConstraint(GreaterThan(lower_bound=0.0), 1)")

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self):
        """(a - 1) / (a_0 - k) where every a_i > 1; where every a_i < 1, the corner of the largest a_i (as
        PyTorch's, with a - 1 clamped at 0 in between)."""
        above = (self.concentration - 1).clamp(min=0.0)
        mode = above / above.sum(-1, keepdim=True)
        corner = (self.concentration == self.concentration.amax(-1, keepdim=True)).to(mode.dtype)
        all_below = (self.concentration < 1).all(-1, keepdim=True)
        return mode.where(~all_below, corner / corner.sum(-1, keepdim=True))

    @property
    def variance(self):
        total = self.concentration.sum(-1, keepdim=True)
        return self.concentration * (total - self.concentration) / (total ** 2 * (total + 1))

    def rsample(self, sample_shape=()):
        raise NotImplementedError(f"{type(self).__name__}.rsample: the draw's gradient in the concentrations "
                                  "(PyTorch's implicit reparameterisation) is not covered here; draw with sample() "
                                  "and differentiate log_prob(sample) instead")

    def sample(self, sample_shape=()):
        with no_grad():
            draws = standard_gamma(self.concentration, self._extended_shape(sample_shape))
            return draws / draws.sum(-1, keepdim=True)

    def log_prob(self, value):
        self._check_value(value, ((value >= 0).all(-1)) & ((value.sum(-1) - 1).abs() < 1e-6), "Simplex()")
        a = self.concentration
        return xlogy(a - 1.0, value).sum(-1) + lgamma(a.sum(-1)) - lgamma(a).sum(-1)

    def entropy(self):
        a = self.concentration
        k, total = a.shape[-1], a.sum(-1)
        return lgamma(a).sum(-1) - lgamma(total) - (k - total) * digamma(total) - ((a - 1.0) * digamma(a)).sum(-1)

    def expand(self, batch_shape):
        return Dirichlet(self.concentration.expand(*batch_shape, self.concentration.shape[-1]), self._validate_args)


class Beta(Distribution):
    """Beta(concentration1, concentration0) on [0, 1]: density x^{a-1} (1-x)^{b-1} / B(a, b)."""

    has_rsample = False
    _parameters = ("concentration1", "concentration0")

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        super().__init__(self.concentration1.shape, validate_args=validate_args)
        for name in self._parameters:
            values = getattr(self, name)
            self._check_parameter(name, values, values > 0, "GreaterThan(lower_bound=0.0)")
        self._dirichlet = Dirichlet(stack([self.concentration1, self.concentration0], -1), validate_args=False)

    mean = property(lambda self: self.concentration1 / (self.concentration1 + self.concentration0))
    mode = property(lambda self: self._dirichlet.mode[..., 0])

    @property
    def variance(self):
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total ** 2 * (total + 1))

    def rsample(self, sample_shape=()):
        return Dirichlet.rsample(self, sample_shape)

    def sample(self, sample_shape=()):
        return self._dirichlet.sample(sample_shape)[..., 0]

    def log_prob(self, value):
        self._check_value(value, (value >= 0) & (value <= 1), "Interval(lower_bound=0.0, upper_bound=1.0)")
        return self._dirichlet.log_prob(stack([value, 1.0 - value], -1))

    def entropy(self):
        return self._dirichlet.entropy()

    def expand(self, batch_shape):
        return Beta(self.concentration1.expand(batch_shape), self.concentration0.expand(batch_shape),
                    self._validate_args)
