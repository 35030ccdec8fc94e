r"""``NegativeBinomial(total_count, probs=None, logits=None)``: the number of successes before the r-th failure
(r = ``total_count``, which need not be a whole number), each trial a success with probability p:
P(k) = Gamma(r + k) / (Gamma(r) k!) p^k (1 - p)^r, an overdispersed count (variance above the mean).

log_prob(k) = r log sigmoid(-l) + k log sigmoid(l) + log Gamma(r + k) - log k! - log Gamma(r) (l the logits),
the three gamma terms left out where r + k = 0, as PyTorch's. Mean r e^l = r p / (1 - p), variance
mean / (1 - p), mode floor((r - 1) e^l) (at least 0). A sample is a Poisson count whose rate is drawn from
Gamma(r, rate=e^{-l}) (the gamma-Poisson mixture that defines it).
"""
from ..autograd.grad_mode import no_grad
from ..count_draws import poisson
from ..nn.functional import logsigmoid
from ..special import lgamma
from ..tensor import where
from . import constraints
from .binomial import trials_and_probability
from .distribution import Distribution, derived_binary_parameter, floating
from .gamma import standard_gamma

__all__ = ["NegativeBinomial"]


class NegativeBinomial(Distribution):
    """NegativeBinomial(total_count, probs or logits) per element of the broadcast parameters."""

    arg_constraints = {"total_count": constraints.greater_than_eq(0), "probs": constraints.half_open_interval(0.0, 1.0),
                       "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, total_count, probs=None, logits=None, validate_args=None):
        trials_and_probability(self, total_count, probs, logits, validate_args)

    __getattr__ = derived_binary_parameter  # (the parameter not given, derived on first use)

    mean = property(lambda self: self.total_count * self.logits.exp())
    mode = property(lambda self: ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0))
    variance = property(lambda self: self.mean / (-self.logits).sigmoid())
    param_shape = property(lambda self: self._batch_shape)

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            rates = standard_gamma(self.total_count, shape) * self.logits.exp().expand(shape)
            return poisson(rates)

    def log_prob(self, value):
        value = floating(value, self.total_count)
        self._check_value(value)
        r = self.total_count
        unnormalised = r * logsigmoid(-self.logits) + value * logsigmoid(self.logits)
        normaliser = -lgamma(r + value) + lgamma(1 + value) + lgamma(r)
        return unnormalised - where(r + value == 0, 0.0, normaliser)

    def expand(self, batch_shape):
        given = "probs" if "probs" in self._parameters else "logits"
        return NegativeBinomial(self.total_count.expand(batch_shape),
                                **{given: getattr(self, given).expand(batch_shape)}, validate_args=self._validate_args)
