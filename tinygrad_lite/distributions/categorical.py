r"""``Categorical(probs=None, logits=None)``: one of K classes, class k with probability p_k.

Given ``probs`` (any non-negative weights, normalised to sum to 1 along the last dim) or ``logits`` (normalised as
logits - logsumexp(logits), so that probs = softmax(logits)); the other is derived. log_prob(k) = logits_k (the
normalised ones); entropy = -sum_k p_k log p_k (a class of probability 0 adds 0, not 0 * -inf). A sample is a class
index (int64), drawn by ``multinomial``. The mean and variance are nan (classes are labels, not numbers).
"""
import math

import numpy as np

from ..autograd.grad_mode import no_grad
from ..creation import arange, full, multinomial
from ..tensor import Size
from . import constraints
from .distribution import Distribution, _probs_or_logits, probs_to_logits

__all__ = ["Categorical"]


class Categorical(Distribution):
    """A categorical distribution over the last dim of ``probs`` or ``logits``: batch shape = their shape[:-1]."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    def __init__(self, probs=None, logits=None, validate_args=None):
        given = _probs_or_logits("Categorical", probs, logits)
        if given.ndim < 1:
            raise ValueError("Categorical: `probs` or `logits` must be at least one-dimensional (one number per class)")
        if probs is not None:
            self.probs = probs / probs.sum(-1, keepdim=True)
            self._parameters = ("probs",)
        else:
            self.logits = logits - logits.logsumexp(-1, keepdim=True)
            self._parameters = ("logits",)
        self._num_events = given.shape[-1]
        super().__init__(given.shape[:-1], validate_args=validate_args)
        self._check_parameter(self._parameters[0])  # (the one given, normalised)

    def __getattr__(self, name):  # the parameter not given, derived on first use
        if name == "probs":
            self.probs = self.logits.softmax(-1)
            return self.probs
        if name == "logits":  # (log p, of the clamped p: finite)
            self.logits = probs_to_logits(self.probs)
            return self.logits
        raise AttributeError(f"'{type(self).__name__}' object has no attribute {name!r}")

    param_shape = property(lambda self: Size(tuple(self._batch_shape) + (self._num_events,)))

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    mean = property(lambda self: full(tuple(self._batch_shape), math.nan, dtype=self.probs.dtype))
    variance = mean
    mode = property(lambda self: self.probs.argmax(-1))

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        draws = max(math.prod(sample_shape), 1)
        with no_grad():
            rows = self.probs.reshape(-1, self._num_events)
            picked = multinomial(rows, draws, replacement=True)  # (batch, draws)
            return picked.T.reshape(shape)

    def log_prob(self, value):
        self._check_value(value)
        value = value.long().unsqueeze(-1)
        logits = self.logits
        shape = np.broadcast_shapes(tuple(value.shape[:-1]), tuple(logits.shape[:-1]))
        value = value.expand(shape + (1,))
        return logits.expand(shape + (self._num_events,)).gather(-1, value).squeeze(-1)

    def enumerate_support(self, expand=True):
        """The classes 0 .. K-1 along a new first dim (expanded over the batch)."""
        values = arange(self._num_events, device=self.probs.device).reshape((-1,) + (1,) * len(self._batch_shape))
        return values.expand((self._num_events,) + tuple(self._batch_shape)) if expand else values

    def expand(self, batch_shape):
        given = "probs" if "probs" in self._parameters else "logits"
        shape = tuple(batch_shape) + (self._num_events,)
        return Categorical(**{given: getattr(self, given).expand(shape)}, validate_args=self._validate_args)

    def entropy(self):
        low = float(np.finfo(self.logits.array.dtype).min)  # (log 0 = -inf times p = 0 counts as 0)
        return -(self.logits.clamp(min=low) * self.probs).sum(-1)
