r"""``Pareto(scale, alpha)``: Pareto's type I law of incomes and city sizes, x >= scale with a power-law tail
P(X > x) = (scale / x)^alpha (the "80-20 rule" at alpha = log 5 / log 4).

If E ~ Exponential(alpha), then X = scale e^E is Pareto: P(X > x) = P(E > log(x / scale)) = (scale / x)^alpha. So
    log_prob(x) = log(alpha) + alpha log(scale) - (alpha + 1) log(x),    cdf(x) = 1 - (scale / x)^alpha,
    icdf(p) = scale (1 - p)^{-1/alpha},     entropy = log(scale / alpha) + 1 + 1/alpha,     mode = scale,
    mean = alpha scale / (alpha - 1) (inf for alpha <= 1),
    variance = scale^2 alpha / ((alpha - 1)^2 (alpha - 2)) (inf for alpha <= 2).
As PyTorch, it is a ``TransformedDistribution`` of Exponential(alpha) with an ``ExpTransform`` and an
``AffineTransform`` (times scale): ``log_prob`` walks back through them (transformed_distribution.py), ``rsample`` is
scale e^E with E = -log(1 - u) / alpha, u uniform, differentiable in both parameters, and ``cdf`` is the
Exponential's cdf at log(x / scale) (which checks that x >= scale, as PyTorch's does).
"""
from . import constraints
from .distribution import Distribution, broadcast_all
from .exponential import Exponential
from .transformed_distribution import TransformedDistribution
from .transforms import AffineTransform, ExpTransform

__all__ = ["Pareto"]


class Pareto(TransformedDistribution):
    """Pareto(scale, alpha) per element of the broadcast parameters: scale e^E, E ~ Exponential(alpha)."""

    arg_constraints = {"alpha": constraints.positive, "scale": constraints.positive}
    _parameters = ("alpha", "scale")  # (PyTorch's order: the one its messages show)

    def __init__(self, scale, alpha, validate_args=None):
        self.scale, self.alpha = broadcast_all(scale, alpha)
        base = Exponential(self.alpha, validate_args=validate_args)
        super().__init__(base, [ExpTransform(), AffineTransform(loc=0, scale=self.scale)], validate_args)
        self._check_parameter("alpha")
        self._check_parameter("scale")

    __repr__ = Distribution.__repr__

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        return constraints.greater_than_eq(self.scale)

    @property
    def mean(self):
        a = self.alpha.clamp(min=1)  # (a / (a - 1) is inf at a = 1: the mean diverges for alpha <= 1)
        return a * self.scale / (a - 1)

    mode = property(lambda self: self.scale)

    @property
    def variance(self):
        a = self.alpha.clamp(min=2)  # (inf for alpha <= 2)
        return self.scale ** 2 * a / ((a - 1) ** 2 * (a - 2))

    def cdf(self, value):
        """P(X <= value) = 1 - (scale / value)^alpha: the Exponential's cdf at log(value / scale)."""
        return self.base_dist.cdf((value / self.scale).log())

    def icdf(self, value):
        return self.scale * self.base_dist.icdf(value).exp()

    def entropy(self):
        return (self.scale / self.alpha).log() + (1 + self.alpha.reciprocal())

    def expand(self, batch_shape):
        return Pareto(self.scale.expand(batch_shape), self.alpha.expand(batch_shape), self._validate_args)
