r"""``RelaxedOneHotCategorical(temperature, probs=None, logits=None)``: a one-hot Categorical made continuous (the
Concrete or Gumbel-softmax distribution, Maddison et al. and Jang et al., 2016): a draw is a point of the simplex,
softmax((l + g) / t) with g Gumbel noise (-log(-log u)), nearly one-hot at a low temperature t. ``rsample`` is
differentiable in the logits and the temperature, which is how a VAE learns a discrete code.

It is the exp of ``ExpRelaxedCategorical``, whose draw is the log of that point, (l + g) / t minus its logsumexp,
and whose density on the log-simplex is
log p(y) = log Gamma(K) + (K - 1) log t + sum_k (l_k - t y_k) - K logsumexp_k (l_k - t y_k),
written as PyTorch writes it (the sum of the scores minus their logsumexp, per class).
"""
from ..creation import rand
from ..special import lgamma
from . import constraints
from .categorical import Categorical
from .distribution import Distribution, broadcast_all, clamp_probs
from .transformed_distribution import TransformedDistribution
from .transforms import ExpTransform

__all__ = ["RelaxedOneHotCategorical", "ExpRelaxedCategorical"]


class ExpRelaxedCategorical(Distribution):
    """The log of a RelaxedOneHotCategorical draw (module docstring): event shape (K,)."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.real_vector  # (the draws lie on a part of it: vectors whose exps add up to 1)
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits, validate_args)
        self._parameters = self._categorical._parameters
        self.temperature = temperature
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    probs = property(lambda self: self._categorical.probs)
    logits = property(lambda self: self._categorical.logits)
    param_shape = property(lambda self: self._categorical.param_shape)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        u = clamp_probs(rand(shape, dtype=self.logits.dtype, device=self.logits.device))
        scores = (self.logits - (-u.log()).log()) / self.temperature
        return scores - scores.logsumexp(-1, keepdim=True)

    def log_prob(self, value):
        self._check_value(value)
        K = self._categorical.param_shape[-1]
        logits, value = broadcast_all(self.logits, value)
        temperature = self.temperature if hasattr(self.temperature, "log") else logits.new_tensor(self.temperature)
        log_scale = lgamma(temperature * 0 + float(K)) + temperature.log() * (K - 1)
        score = logits - value * temperature
        return (score - score.logsumexp(-1, keepdim=True)).sum(-1) + log_scale

    def expand(self, batch_shape):
        given = self._parameters[0]
        shape = tuple(batch_shape) + tuple(self.event_shape)
        return ExpRelaxedCategorical(self.temperature, **{given: getattr(self._categorical, given).expand(shape)},
                                     validate_args=self._validate_args)


class RelaxedOneHotCategorical(TransformedDistribution):
    """exp(ExpRelaxedCategorical(temperature, probs or logits)): draws on the simplex."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.simplex

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        super().__init__(ExpRelaxedCategorical(temperature, probs, logits), ExpTransform(), validate_args)

    temperature = property(lambda self: self.base_dist.temperature)
    probs = property(lambda self: self.base_dist.probs)
    logits = property(lambda self: self.base_dist.logits)

    def expand(self, batch_shape):
        base = self.base_dist.expand(batch_shape)
        return RelaxedOneHotCategorical(base.temperature, **{base._parameters[0]: getattr(base._categorical,
                                                                                         base._parameters[0])},
                                        validate_args=self._validate_args)

    def __repr__(self):
        return f"RelaxedOneHotCategorical(temperature: {self.temperature}, {self.base_dist._parameters[0]}: ...)"
