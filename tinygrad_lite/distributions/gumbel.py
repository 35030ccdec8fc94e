r"""``Gumbel(loc, scale)``: the distribution of the maximum of many independent draws (extreme values: the largest
flood of a century), and the noise of the Gumbel-max trick (argmax(logits + Gumbel noise) draws a category).

With z = (x - loc) / scale the density is e^{-(z + e^{-z})} / scale, so
    log_prob(x) = -z - e^{-z} - log(scale),     cdf(x) = e^{-e^{-z}},     icdf(p) = loc - scale log(-log p),
    entropy = log(scale) + 1 + gamma,   mean = loc + scale gamma,   variance = (pi scale)^2 / 6,   mode loc,
gamma being the Euler-Mascheroni constant 0.5772...
As PyTorch, it is a ``TransformedDistribution``: u uniform on [tiny, 1 - eps] (the smallest normal number and one
ulp below 1 of the dtype, so that both logs below stay finite), then x = loc - scale log(-log u), written as the
transforms log, times -1, log, then times -scale plus loc. So ``rsample`` is differentiable in loc and scale, and
``cdf`` / ``icdf`` go through that uniform as PyTorch's do: cdf(x) = (e^{-e^{-z}} - tiny) / (1 - eps - tiny),
clamped to [0, 1], and icdf(p) = loc - scale log(-log(tiny + p (1 - eps - tiny))) (finite at p = 0 and 1).
Deliberate difference: PyTorch's ``cdf`` raises a ValueError (``validate_args``) where e^{-e^{-z}} rounds outside
[tiny, 1 - eps], that is for values far out in either tail (in float64, below about loc - 6.6 scale or
above about loc + 36 scale);
here the cdf is 0 or 1 there, and only a nan value raises.
"""
import math

import numpy as np

from ..creation import full_like, ones_like
from . import constraints
from .distribution import Distribution, broadcast_all
from .transformed_distribution import TransformedDistribution
from .transforms import AffineTransform, ExpTransform
from .uniform import Uniform

__all__ = ["Gumbel"]


class Gumbel(TransformedDistribution):
    """Gumbel(loc, scale) per element of the broadcast parameters: loc - scale log(-log u), u uniform."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    _parameters = ("loc", "scale")

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        kind = np.finfo(self.loc.array.dtype)
        self._tiny, self._eps = float(kind.tiny), float(kind.eps)
        base = Uniform(full_like(self.loc, self._tiny), full_like(self.loc, 1 - self._eps),
                       validate_args=validate_args)
        transforms = [ExpTransform().inv, AffineTransform(loc=0, scale=-ones_like(self.scale)), ExpTransform().inv,
                      AffineTransform(loc=self.loc, scale=-self.scale)]
        super().__init__(base, transforms, validate_args=validate_args)
        self._check_parameter("loc")
        self._check_parameter("scale")

    __repr__ = Distribution.__repr__
    mean = property(lambda self: self.loc + self.scale * np.euler_gamma)
    mode = property(lambda self: self.loc)
    stddev = property(lambda self: (math.pi / math.sqrt(6)) * self.scale)
    variance = property(lambda self: self.stddev ** 2)

    def log_prob(self, value):
        """-z - e^{-z} - log(scale), written out (PyTorch does too: through the transforms it loses digits)."""
        self._check_value(value)
        y = (self.loc - value) / self.scale
        return (y - y.exp()) - self.scale.log()

    def cdf(self, value):
        """P(X <= value): e^{-e^{-z}}, as the uniform's cdf (module docstring)."""
        self._check_value(value)
        u = (-(-(value - self.loc) / self.scale).exp()).exp()
        return ((u - self._tiny) / (1 - self._eps - self._tiny)).clamp(min=0, max=1)

    def icdf(self, value):
        u = self._tiny + value * (1 - self._eps - self._tiny)
        return self.loc - self.scale * (-u.log()).log()

    def entropy(self):
        return self.scale.log() + (1 + np.euler_gamma)

    def expand(self, batch_shape):
        return Gumbel(self.loc.expand(batch_shape), self.scale.expand(batch_shape), self._validate_args)
