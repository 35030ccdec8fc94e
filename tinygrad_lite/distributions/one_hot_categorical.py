r"""``OneHotCategorical(probs=None, logits=None)``: a ``Categorical`` whose draws are one-hot vectors of K numbers
(event shape (K,)) rather than class indices: the form a policy's action or a VAE's discrete code takes when it is
multiplied into a network. log_prob of a one-hot vector is the Categorical's log_prob of its class; the mean is p,
the variance p (1 - p), the mode the one-hot vector of the most likely class.

``OneHotCategoricalStraightThrough``: the same, with ``rsample`` = a draw + (p - p.detach()): the forward value is
the one-hot draw, and the gradient passes to p as if the draw were p (the straight-through estimator, Bengio et
al. 2013): biased, but it lets a network train through a discrete choice.
"""
from ..creation import eye
from ..nn.functional import one_hot
from ..tensor import Size
from . import constraints
from .categorical import Categorical
from .distribution import Distribution

__all__ = ["OneHotCategorical", "OneHotCategoricalStraightThrough"]


class OneHotCategorical(Distribution):
    """One-hot draws from the categorical distribution over the last dim of ``probs`` or ``logits``."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits, validate_args)
        self._parameters = self._categorical._parameters
        batch, events = self._categorical.batch_shape, self._categorical.param_shape[-1:]
        super().__init__(batch, events, validate_args=validate_args)

    probs = property(lambda self: self._categorical.probs)
    logits = property(lambda self: self._categorical.logits)
    param_shape = property(lambda self: self._categorical.param_shape)
    mean = property(lambda self: self._categorical.probs)
    variance = property(lambda self: self._categorical.probs * (1 - self._categorical.probs))

    @property
    def mode(self):
        probs = self._categorical.probs
        return one_hot(probs.argmax(-1), probs.shape[-1]).to(probs.dtype)

    def sample(self, sample_shape=()):
        probs = self._categorical.probs
        return one_hot(self._categorical.sample(sample_shape), probs.shape[-1]).to(probs.dtype)

    def log_prob(self, value):
        if value.ndim < 1 or value.shape[-1] != self.event_shape[0]:
            raise ValueError(f"The right-most size of value must match event_shape: {value.shape} vs "
                             f"{self.event_shape}.")
        self._check_value(value)
        return self._categorical.log_prob(value.argmax(-1))

    def entropy(self):
        return self._categorical.entropy()

    def enumerate_support(self, expand=True):
        """The K one-hot vectors along a new first dim (expanded over the batch)."""
        n = self.event_shape[0]
        values = eye(n, dtype=self._categorical.probs.dtype, device=self._categorical.probs.device)
        values = values.reshape((n,) + (1,) * len(self.batch_shape) + (n,))
        return values.expand(Size((n,) + tuple(self.batch_shape) + (n,))) if expand else values

    def expand(self, batch_shape):
        given = self._parameters[0]
        shape = tuple(batch_shape) + tuple(self.event_shape)
        return type(self)(**{given: getattr(self._categorical, given).expand(shape)}, validate_args=self._validate_args)

    def __repr__(self):
        return self._categorical.__repr__().replace("Categorical", type(self).__name__, 1)


class OneHotCategoricalStraightThrough(OneHotCategorical):
    """OneHotCategorical with the straight-through ``rsample`` (module docstring)."""

    has_rsample = True

    def rsample(self, sample_shape=()):
        draws = self.sample(sample_shape)
        probs = self._categorical.probs  # (its gradient: p's, as if the draw were p)
        return draws + (probs - probs.detach())
