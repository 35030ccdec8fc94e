r"""``TransformedDistribution(base, transforms)``: the distribution of y = f_n(...f_1(x)) for x from ``base``.

Sampling applies the transforms to a base sample (``rsample`` stays differentiable: a tanh-squashed Normal is how
Soft Actor-Critic's policy is written). ``log_prob(y)`` walks back: each transform's inverse gives the x it came
from, and its log|det Jacobian| is subtracted (transforms.py), then the base's log_prob of the first x is added.
"""
from ..autograd.grad_mode import no_grad
from ..tensor import Size
from . import constraints
from .distribution import Distribution
from .transforms import Transform, _sum_rightmost

__all__ = ["TransformedDistribution"]


class TransformedDistribution(Distribution):
    """``base_distribution`` pushed through ``transforms`` (one Transform or a list, applied in order)."""

    arg_constraints = {}

    def __init__(self, base_distribution, transforms, validate_args=None):
        if not isinstance(base_distribution, Distribution):
            raise TypeError("TransformedDistribution: base_distribution must be a Distribution, got "
                            f"{type(base_distribution).__name__}")
        transforms = [transforms] if isinstance(transforms, Transform) else list(transforms)
        if not all(isinstance(t, Transform) for t in transforms):
            raise ValueError(f"transforms must be a Transform or a list of Transforms, but was {transforms}")
        self.base_dist, self.transforms = base_distribution, transforms
        shape = tuple(base_distribution.batch_shape) + tuple(base_distribution.event_shape)
        for transform in transforms:  # (the shape of a draw after the transforms: stick-breaking adds a number)
            shape = tuple(transform.forward_shape(shape))
        event_dim = max([t.event_dim for t in transforms] + [len(base_distribution.event_shape)])
        cut = len(shape) - event_dim
        super().__init__(Size(shape[:cut]), Size(shape[cut:]), validate_args)

    has_rsample = property(lambda self: self.base_dist.has_rsample)

    @constraints.dependent_property(is_discrete=False)
    def support(self):
        """The last transform's codomain (the base's support without transforms), with the event's dims."""
        if not self.transforms:
            return self.base_dist.support
        support = self.transforms[-1].codomain
        extra = len(self.event_shape) - support.event_dim
        return constraints.independent(support, extra) if extra > 0 else support

    def rsample(self, sample_shape=()):
        x = self.base_dist.rsample(sample_shape)
        for transform in self.transforms:
            x = transform(x)
        return x

    def sample(self, sample_shape=()):
        with no_grad():
            x = self.base_dist.sample(sample_shape)
            for transform in self.transforms:
                x = transform(x)
            return x

    def log_prob(self, value):
        self._check_value(value)
        event_dim, total, y = len(self.event_shape), 0, value
        for transform in reversed(self.transforms):
            x = transform.inv(y)
            total = total - _sum_rightmost(transform.log_abs_det_jacobian(x, y), event_dim - transform.event_dim)
            y = x
        return total + _sum_rightmost(self.base_dist.log_prob(y), event_dim - len(self.base_dist.event_shape))

    def _monotonize_cdf(self, value):
        """A cdf read through decreasing transforms runs backwards: with an odd number of them, 1 - value."""
        sign = 1
        for transform in self.transforms:
            sign = sign * transform.sign
        return value if isinstance(sign, int) and sign == 1 else sign * (value - 0.5) + 0.5

    def cdf(self, value):
        """P(Y <= y): the base's cdf at x = f^{-1}(y), for monotone transforms (1 - it where f decreases)."""
        for transform in reversed(self.transforms):
            value = transform.inv(value)
        if self._validate_args:
            self.base_dist._check_value(value)
        return self._monotonize_cdf(self.base_dist.cdf(value))

    def icdf(self, value):
        value = self.base_dist.icdf(self._monotonize_cdf(value))
        for transform in self.transforms:
            value = transform(value)
        return value

    def __repr__(self):
        return "TransformedDistribution()"
