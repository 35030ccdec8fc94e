"""``torch.distributions.utils``: the helpers that distributions written for PyTorch import.

``broadcast_all`` (the parameters as tensors of one shape), ``clamp_probs`` (probabilities kept within [eps, 1 - eps]),
``probs_to_logits`` / ``logits_to_probs`` (log-odds for one probability, log-probabilities for a categorical),
``lazy_property`` (an attribute computed on first use and then kept, as PyTorch's).
"""
from .distribution import broadcast_all, clamp_probs, probs_to_logits

__all__ = ["broadcast_all", "clamp_probs", "lazy_property", "logits_to_probs", "probs_to_logits"]


def logits_to_probs(logits, is_binary=False):
    """sigmoid(logits) for one probability (``is_binary``), else softmax over the last dim."""
    return logits.sigmoid() if is_binary else logits.softmax(-1)


class lazy_property:  # (PyTorch's name, lower case)
    """A property computed on first use and then stored on the instance, so later reads are plain attributes."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value
