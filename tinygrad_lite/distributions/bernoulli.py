r"""``Bernoulli(probs=None, logits=None)``: 1 with probability p, else 0 (a coin; a binary label).

Given ``probs`` p or ``logits`` l (p = sigmoid(l)). log_prob(x) = x log p + (1 - x) log(1 - p), computed from the
logits as -BCEWithLogits(l, x), which stays finite where p rounds to 0 or 1; entropy is the same expression at
x = p. The mean is p, the variance p (1 - p); a sample is 0. or 1. (floats, as PyTorch's).
"""

from ..autograd.grad_mode import no_grad
from ..creation import bernoulli, tensor
from ..nn.functional.loss import binary_cross_entropy_with_logits
from ..tensor import where
from . import constraints
from .distribution import Distribution, broadcast_all, derived_binary_parameter, floating, one_probability

__all__ = ["Bernoulli"]


class Bernoulli(Distribution):
    """A Bernoulli distribution per element of ``probs`` or ``logits`` (a tensor or a number)."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean

    def __init__(self, probs=None, logits=None, validate_args=None):
        one_probability(self, probs, logits, validate_args)

    __getattr__ = derived_binary_parameter  # (the parameter not given, derived on first use)

    mean = property(lambda self: self.probs)
    mode = property(lambda self: where(self.probs == 0.5, float("nan"), (self.probs > 0.5).to(self.probs.dtype)))
    param_shape = property(lambda self: self._batch_shape)
    variance = property(lambda self: self.probs * (1 - self.probs))

    def sample(self, sample_shape=()):
        with no_grad():
            return bernoulli(self.probs.expand(self._extended_shape(sample_shape)))

    def log_prob(self, value):
        self._check_value(value)
        logits, value = broadcast_all(self.logits, floating(value, self.logits))
        return -binary_cross_entropy_with_logits(logits, value, reduction="none")

    def entropy(self):
        return binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")

    def enumerate_support(self, expand=True):
        """The values a draw can take, 0. and 1., along a new first dim (expanded over the batch)."""
        values = tensor([0.0, 1.0], dtype=self.probs.dtype, device=self.probs.device).reshape(
            (2,) + (1,) * len(self._batch_shape))
        return values.expand((2,) + tuple(self._batch_shape)) if expand else values

    def expand(self, batch_shape):
        given = "probs" if "probs" in self._parameters else "logits"
        return Bernoulli(**{given: getattr(self, given).expand(batch_shape)}, validate_args=self._validate_args)
