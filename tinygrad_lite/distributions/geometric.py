r"""``Geometric(probs=None, logits=None)``: the number of failures before the first success in Bernoulli trials
that each succeed with probability p (k = 0, 1, 2, ...).

P(X = k) = (1 - p)^k p: k failures, then a success. So
    log_prob(k) = k log(1 - p) + log p,    mean = 1/p - 1,    variance = (1 - p) / p^2,    mode 0,
    entropy = -sum_k P(k) log P(k) = -((1 - p) log(1 - p) + p log p) / p: one trial's (Bernoulli) entropy divided by
    p (the expected number of trials is 1 / p); it is computed from the logits as BCEWithLogits(logits, p) / p, which
    stays finite where p rounds to 0 or 1.
Given ``probs`` p in (0, 1] or ``logits`` l (p = sigmoid(l)); the other is derived on first use, as in Bernoulli.
At p = 1 a draw is always 0, and log_prob(0) is log 1 = 0 (not 0 * log 0, which is nan).
``sample`` inverts the cdf P(X <= k) = 1 - (1 - p)^{k+1}: with u uniform on (0, 1), floor(log u / log(1 - p)) has
the distribution. A draw is a whole number (a float, as PyTorch's), so there is no ``rsample``.
"""
from ..autograd.grad_mode import no_grad
from ..creation import rand, zeros_like
from ..functions import finfo
from ..nn.functional.loss import binary_cross_entropy_with_logits
from ..tensor import where
from . import constraints
from .distribution import Distribution, broadcast_all, derived_binary_parameter, one_probability

__all__ = ["Geometric"]


class Geometric(Distribution):
    """The number of failures before the first success, per element of ``probs`` or ``logits`` (a tensor or a
    number)."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs=None, logits=None, validate_args=None):
        one_probability(self, probs, logits, validate_args)
        if probs is None:
            return
        positive = self.probs > 0  # (p = 0 is no distribution: the success never comes)
        if self._validate_args and not bool(positive.all()):
            raise ValueError(f"Expected parameter probs ({type(self.probs).__name__} of shape "
                             f"{tuple(self.probs.shape)}) of distribution {self!r} to be positive but found invalid "
                             f"values:\n{self.probs.detach()[~positive]}")

    __getattr__ = derived_binary_parameter  # (the parameter not given, derived on first use)

    mean = property(lambda self: 1.0 / self.probs - 1.0)
    mode = property(lambda self: zeros_like(self.probs))
    variance = property(lambda self: (1.0 / self.probs - 1.0) / self.probs)

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            u = rand(shape, dtype=self.probs.dtype, device=self.probs.device).clamp(min=finfo(self.probs.dtype).tiny)
            return (u.log() / (-self.probs).log1p()).floor()

    def log_prob(self, value):
        self._check_value(value)
        value, probs = broadcast_all(value, self.probs)
        probs = where((probs == 1) & (value == 0), 0.0, probs)  # (so that 0 * log(1 - 1) counts as 0)
        return value * (-probs).log1p() + self.probs.log()

    def entropy(self):
        return binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none") / self.probs

    def expand(self, batch_shape):
        given = "probs" if "probs" in self._parameters else "logits"
        return Geometric(**{given: getattr(self, given).expand(batch_shape)}, validate_args=self._validate_args)
