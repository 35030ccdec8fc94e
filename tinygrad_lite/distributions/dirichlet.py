r"""``Dirichlet(concentration)``: a distribution over probability vectors (``Beta``, beta.py, is its 2-D case).

Dirichlet(a) is a distribution over vectors x of k positive numbers that add up to 1 (event shape (k,)):
    log_prob(x) = sum_i (a_i - 1) log x_i + lgamma(a_0) - sum_i lgamma(a_i),   a_0 = sum_i a_i,
    entropy = sum_i lgamma(a_i) - lgamma(a_0) + (a_0 - k) digamma(a_0) - sum_i (a_i - 1) digamma(a_i),
    mean a / a_0,   variance a (a_0 - a) / (a_0^2 (a_0 + 1)).
A draw is k Gamma(a_i, 1) draws divided by their sum; ``rsample`` differentiates it in the concentrations through
the Gamma draws' implicit reparameterisation (gamma.py).
Deliberate difference: PyTorch differentiates a Dirichlet draw by another route, an implicit reparameterisation of
each coordinate's Beta marginal (Jankowiak and Obermeyer, 2018), whose slope depends on the draw x alone. Both are
exact pathwise gradients, so their averages over draws agree (the gradient of the expectation); draw by draw they
differ, as the draws themselves do between the two libraries, and PyTorch's varies less from draw to draw (for
Beta(2, 3), the standard deviation of dx/da over draws is about 0.024 there and 0.037 here: round r60), so a
training run that learns concentrations through rsample is noisier here.
"""
from .. import dtypes as dt
from ..autograd.grad_mode import no_grad
from ..composed_math import xlogy
from ..functions import finfo
from ..special import digamma, lgamma
from . import constraints
from .distribution import Distribution
from .gamma import differentiable_standard_gamma

__all__ = ["Dirichlet"]


class Dirichlet(Distribution):
    """Dirichlet(concentration): ``concentration`` (..., k), each a_i > 0; events of shape (k,)."""

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True
    _parameters = ("concentration",)

    def __init__(self, concentration, validate_args=None):
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        super().__init__(concentration.shape[:-1], concentration.shape[-1:], validate_args)
        self._check_parameter("concentration")

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self):
        """(a - 1) / (a_0 - k), with a - 1 clamped at 0; where every a_i < 1 (the density is largest in the
        corners) PyTorch's choice, the first corner (1, 0, ..., 0)."""
        above = (self.concentration - 1).clamp(min=0.0)
        total = above.sum(-1, keepdim=True)
        mode = above / total.where(total > 0, 1.0)  # (all below 1: no 0 / 0, the corner below instead)
        first = (self.concentration * 0).index_fill(-1, self.concentration.new_tensor([0], dtype=dt.int64), 1.0)
        return mode.where(~(self.concentration < 1).all(-1, keepdim=True), first)

    @property
    def variance(self):
        total = self.concentration.sum(-1, keepdim=True)
        return self.concentration * (total - self.concentration) / (total ** 2 * (total + 1))

    def rsample(self, sample_shape=()):
        """k Gamma draws over their sum, kept within [tiny, 1 - eps] of the dtype as PyTorch's sampler keeps them
        (with small concentrations a share rounds to 0 or 1, whose log_prob is infinite); the gradient is the
        unclamped draw's."""
        draws = differentiable_standard_gamma(self.concentration, self._extended_shape(sample_shape))
        scaled = draws / draws.detach().amax(-1, keepdim=True)  # (the largest 1: the sum's square in the gradient of
        x = scaled / scaled.sum(-1, keepdim=True)                # the quotient cannot underflow to 0)
        kind = finfo(x.dtype)
        return x + (x.detach().clamp(min=kind.tiny, max=1 - kind.eps) - x.detach())

    def sample(self, sample_shape=()):
        with no_grad():
            return self.rsample(sample_shape)

    def log_prob(self, value):
        self._check_value(value)
        a = self.concentration
        return xlogy(a - 1.0, value).sum(-1) + lgamma(a.sum(-1)) - lgamma(a).sum(-1)

    def entropy(self):
        a = self.concentration
        k, total = a.shape[-1], a.sum(-1)
        return lgamma(a).sum(-1) - lgamma(total) - (k - total) * digamma(total) - ((a - 1.0) * digamma(a)).sum(-1)

    def expand(self, batch_shape):
        return Dirichlet(self.concentration.expand(*batch_shape, self.concentration.shape[-1]), self._validate_args)
