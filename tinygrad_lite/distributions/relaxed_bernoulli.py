r"""``RelaxedBernoulli(temperature, probs=None, logits=None)``: a Bernoulli made continuous (the binary Concrete
or Gumbel-sigmoid distribution, Maddison et al. and Jang et al., 2016), whose draws lie in (0, 1) and tend to 0 or
1 as the temperature falls, so that a network can train through a nearly binary choice with ``rsample``.

It is the sigmoid of ``LogitRelaxedBernoulli(temperature, probs, logits)``, whose draw is
(l + log u - log(1 - u)) / t for u uniform (the logistic noise added to the logits l, scaled by 1 / t), and
whose density is log p(y) = log t + (l - t y) - 2 log(1 + e^{l - t y}). The sigmoid's log-Jacobian is added by
``TransformedDistribution``.
"""
from ..creation import rand
from . import constraints
from .bernoulli import Bernoulli
from .distribution import Distribution, broadcast_all, clamp_probs
from .transformed_distribution import TransformedDistribution
from .transforms import SigmoidTransform

__all__ = ["RelaxedBernoulli", "LogitRelaxedBernoulli"]


class LogitRelaxedBernoulli(Distribution):
    """The logit of a RelaxedBernoulli draw (module docstring)."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.real
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        self._bernoulli = Bernoulli(probs, logits, validate_args)
        self._parameters = self._bernoulli._parameters
        given = self._bernoulli.probs if probs is not None else self._bernoulli.logits
        self.temperature, _ = broadcast_all(temperature, given)
        super().__init__(self._bernoulli.batch_shape, validate_args=validate_args)

    probs = property(lambda self: self._bernoulli.probs)
    logits = property(lambda self: self._bernoulli.logits)
    param_shape = property(lambda self: self._batch_shape)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        u = clamp_probs(rand(shape, dtype=self.logits.dtype, device=self.logits.device))
        return (u.log() - (-u).log1p() + self.logits) / self.temperature

    def log_prob(self, value):
        self._check_value(value)
        logits, value = broadcast_all(self.logits, value)
        difference = logits - value * self.temperature
        return self.temperature.log() + difference - 2 * difference.exp().log1p()

    def expand(self, batch_shape):
        given = self._parameters[0]
        return LogitRelaxedBernoulli(self.temperature.expand(batch_shape),
                                     **{given: getattr(self._bernoulli, given).expand(batch_shape)},
                                     validate_args=self._validate_args)


class RelaxedBernoulli(TransformedDistribution):
    """sigmoid(LogitRelaxedBernoulli(temperature, probs or logits)): draws in (0, 1)."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        super().__init__(LogitRelaxedBernoulli(temperature, probs, logits), SigmoidTransform(), validate_args)

    temperature = property(lambda self: self.base_dist.temperature)
    probs = property(lambda self: self.base_dist.probs)
    logits = property(lambda self: self.base_dist.logits)

    def expand(self, batch_shape):
        base = self.base_dist.expand(batch_shape)
        given = base._parameters[0]
        return RelaxedBernoulli(base.temperature, **{given: getattr(base._bernoulli, given)},
                                validate_args=self._validate_args)

    def __repr__(self):
        return f"RelaxedBernoulli(temperature: {self.temperature.shape}, {self.base_dist._parameters[0]}: ...)"
