r"""``Binomial(total_count=1, probs=None, logits=None)``: the number of successes in n = ``total_count``
independent trials, each a success with probability p: P(k) = C(n, k) p^k (1 - p)^{n - k}.

log_prob(k) = log C(n, k) + k log p + (n - k) log(1 - p), computed from the logits l as PyTorch does, so that it
stays finite where p rounds to 0 or 1: k l - n max(l, 0) - n log(1 + e^{-|l|}) + log C(n, k) (the two cases of the
sign of l merged; log C(n, k) by ``lgamma``). Mean n p, variance n p (1 - p), mode floor((n + 1) p) (at most n).
The entropy sums -P(k) log P(k) over k = 0 .. n (the same n for the whole batch, as PyTorch asks). A sample is a
count drawn by ``count_draws.binomial``.
"""
from ..autograd.grad_mode import no_grad
from ..count_draws import binomial
from ..creation import arange
from ..special import lgamma
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution, _probs_or_logits, broadcast_all, derived_binary_parameter, floating

__all__ = ["Binomial"]


def trials_and_probability(distribution, total_count, probs, logits, validate_args):
    """What Binomial and NegativeBinomial take: ``total_count`` and one of ``probs`` or ``logits``, broadcast to
    one shape (total_count in their dtype), then checked against ``arg_constraints``."""
    name = type(distribution).__name__
    _probs_or_logits(name, probs, logits) if (probs is None) == (logits is None) else None
    given = "probs" if probs is not None else "logits"
    count, value = broadcast_all(total_count, probs if probs is not None else logits)
    distribution.total_count, distribution._parameters = count.type_as(value), ("total_count", given)
    setattr(distribution, given, value)
    Distribution.__init__(distribution, count.shape, validate_args=validate_args)
    for parameter in distribution._parameters:  # (total_count, and probs or logits: the one given)
        distribution._check_parameter(parameter)


def _half_clamp(x):
    """max(x, 0), with the derivative 1/2 at 0 (PyTorch's ``_clamp_by_zero``)."""
    return (x.clamp(min=0) + x - x.clamp(max=0)) / 2


class Binomial(Distribution):
    """Binomial(total_count, probs or logits) per element of the broadcast parameters."""

    arg_constraints = {"total_count": constraints.nonnegative_integer, "probs": constraints.unit_interval,
                       "logits": constraints.real}

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        trials_and_probability(self, total_count, probs, logits, validate_args)

    __getattr__ = derived_binary_parameter  # (the parameter not given, derived on first use)

    mean = property(lambda self: self.total_count * self.probs)
    mode = property(lambda self: ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count))
    variance = property(lambda self: self.total_count * self.probs * (1 - self.probs))
    param_shape = property(lambda self: self._batch_shape)

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self.total_count)

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            return binomial(self.total_count.expand(shape), self.probs.expand(shape))

    def log_prob(self, value):
        value = floating(value, self.total_count) if isinstance(value, Tensor) else value
        self._check_value(value)
        n, logits = self.total_count, self.logits
        normaliser = n * _half_clamp(logits) + n * (-logits.abs()).exp().log1p() - lgamma(n + 1)
        return value * logits - lgamma(value + 1) - lgamma(n - value + 1) - normaliser

    def entropy(self):
        n = int(self.total_count.max().item()) if self.total_count.numel() else 0
        if not bool((self.total_count == n).all().item()):
            raise NotImplementedError("Inhomogeneous total count not supported by `enumerate_support`.")
        values = self.enumerate_support(expand=False)
        log_probs = self.log_prob(values)
        return -(log_probs.exp() * log_probs).sum(0)

    def enumerate_support(self, expand=True):
        """The counts 0 .. n along a new first dim (every total_count must be the same n)."""
        n = int(self.total_count.max().item()) if self.total_count.numel() else 0
        if not bool((self.total_count == n).all().item()):
            raise NotImplementedError("Inhomogeneous total count not supported by `enumerate_support`.")
        values = arange(1 + n, dtype=self.total_count.dtype, device=self.total_count.device)
        values = values.reshape((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + tuple(self._batch_shape)) if expand else values

    def expand(self, batch_shape):
        given = "probs" if "probs" in self._parameters else "logits"
        return Binomial(self.total_count.expand(batch_shape), **{given: getattr(self, given).expand(batch_shape)},
                        validate_args=self._validate_args)
