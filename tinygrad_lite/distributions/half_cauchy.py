r"""``HalfCauchy(scale)``: |X| for X ~ Cauchy(0, scale) (cauchy.py), a heavy-tailed prior for a scale parameter.

Folding at 0 doubles the density on x >= 0:
    log_prob(x) = Cauchy(0, scale).log_prob(x) + log 2 = log(2 / pi) - log(scale) - log(1 + (x / scale)^2),
    cdf(x) = 2 atan(x / scale) / pi,   icdf(p) = scale tan(pi p / 2),   entropy = log(2 pi scale),
and the mode is 0; the mean is inf and the variance inf (the Cauchy's, as PyTorch returns it), the tails being too
heavy for either integral to converge. PyTorch builds it as a ``TransformedDistribution`` with an
``AbsTransform``, which the library lacks: the absolute value is written out (``Folded``, half_normal.py), the
Cauchy kept as ``base_dist``.
``rsample`` is |scale tan(pi (u - 1/2))| with u uniform: differentiable in scale.
"""
import math

from ..creation import full
from .cauchy import Cauchy
from .half_normal import Folded

__all__ = ["HalfCauchy"]


class HalfCauchy(Folded):
    """|X| for X ~ Cauchy(0, scale), per element of ``scale`` (a number or a tensor)."""

    base = Cauchy
    mean = property(lambda self: full(tuple(self._extended_shape()), math.inf, dtype=self.scale.dtype,
                                      device=self.scale.device))
    variance = property(lambda self: self.base_dist.variance)
