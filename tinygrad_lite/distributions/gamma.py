r"""``Gamma(concentration, rate)``: positive waiting times and scales (``Exponential`` and ``Chi2`` are special
cases, in exponential.py and chi2.py).

Gamma(a, b) has density b^a x^{a-1} e^{-b x} / Gamma(a) on x >= 0:
    log_prob(x) = a log b + (a - 1) log x - b x - lgamma(a),
    entropy = a - log b + lgamma(a) + (1 - a) digamma(a),   mean a / b,   variance a / b^2,   mode (a - 1) / b.

Sampling (``standard_gamma``, which Dirichlet, Beta, Chi2 and StudentT use too): Marsaglia and Tsang's method (2000),
d = a - 1/3, c = 1 / sqrt(9 d): draw z normal and u uniform, v = (1 + c z)^3, accept d v when v > 0 and
log u < z^2 / 2 + d - d v + d log v (most draws are accepted at once; the rest are drawn again); for a < 1 draw
with a + 1 and multiply by u^{1/a}. Then x = that / b.
``rsample`` differentiates the draw in both parameters, as PyTorch's does: in b through x = z / b, and in a by the
implicit reparameterisation (ops/special.py's ``StandardGamma``): the draw z of Gamma(a, 1) moves with a so that its
quantile P(a, z) stays put, dz/da = -(dP/da) / (dP/dz). ``cdf`` is the regularised incomplete gamma function
P(a, b x) (``special.gammainc``).
"""
from ..autograd.grad_mode import no_grad
from ..composed_math import xlogy
from ..creation import rand, randn
from ..functions import finfo
from ..ops.special import StandardGamma
from ..special import digamma, gammainc, lgamma
from ..tensor import where
from . import constraints
from .distribution import Distribution, broadcast_all

__all__ = ["Gamma", "standard_gamma", "differentiable_standard_gamma"]


def standard_gamma(concentration, shape):
    """Draws from Gamma(concentration, 1) of ``shape`` (concentration broadcasts to it), without a graph."""
    with no_grad():
        a = concentration.expand(shape)
        small = a < 1
        boosted = where(small, a + 1, a)
        d = boosted - 1 / 3
        c = (9 * d).rsqrt()
        result, pending = a * 0, a == a
        while bool(pending.any()):
            z = randn(shape, dtype=a.dtype, device=a.device)
            u = rand(shape, dtype=a.dtype, device=a.device)
            v = (1 + c * z) ** 3
            accept = (v > 0) & (u.log() < 0.5 * z * z + d - d * v + d * where(v > 0, v, 1.0).log())
            result = where(pending & accept, d * v, result)
            pending = pending & ~accept
        shrink = rand(shape, dtype=a.dtype, device=a.device) ** (1 / a)
        return where(small, result * shrink, result).clamp(min=finfo(a.dtype).tiny)  # (never 0, whose log is -inf)


def differentiable_standard_gamma(concentration, shape):
    """Draws from Gamma(concentration, 1) of ``shape``, in the graph as functions of the concentration (their
    quantiles held fixed: the implicit reparameterisation, module docstring)."""
    a = concentration.expand(shape)
    return StandardGamma.apply(a, standard_gamma(a, shape).array)


class Gamma(Distribution):
    """Gamma(concentration, rate) per element of the broadcast parameters (module docstring)."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _parameters = ("concentration", "rate")

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        super().__init__(self.concentration.shape, validate_args=validate_args)
        for name in ("concentration", "rate"):  # (Gamma's: a Chi2's arg_constraints name df, checked before)
            self._check_parameter(name, constraint=Gamma.arg_constraints[name])

    mean = property(lambda self: self.concentration / self.rate)
    mode = property(lambda self: ((self.concentration - 1) / self.rate).clamp(min=0))
    variance = property(lambda self: self.concentration / self.rate ** 2)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        return differentiable_standard_gamma(self.concentration, shape) / self.rate.expand(shape)

    def sample(self, sample_shape=()):
        with no_grad():
            return self.rsample(sample_shape)

    def log_prob(self, value):
        self._check_value(value)
        a, b = self.concentration, self.rate
        return xlogy(a, b) + xlogy(a - 1, value) - b * value - lgamma(a)

    def cdf(self, value):
        """P(X <= value) = P(a, b value), the regularised incomplete gamma function."""
        self._check_value(value)
        return gammainc(self.concentration, self.rate * value)

    def entropy(self):
        a, b = self.concentration, self.rate
        return a - b.log() + lgamma(a) + (1.0 - a) * digamma(a)

    def expand(self, batch_shape):
        return type(self)(self.concentration.expand(batch_shape), self.rate.expand(batch_shape), self._validate_args)
