r"""``Multinomial(total_count=1, probs=None, logits=None)``: the counts of each of K classes in n = ``total_count``
independent draws from one Categorical (event shape (K,)): P(x) = n! / (x_1! ... x_K!) p_1^{x_1} ... p_K^{x_K}.

log_prob(x) = log Gamma(sum x + 1) - sum_k log Gamma(x_k + 1) + sum_k x_k log p_k (a class of probability 0
that was drawn 0 times adds 0, not 0 * -inf). Mean n p, variance n p (1 - p) (each count is Binomial(n, p_k)).
The entropy is n H(p) - log n! + sum_k E[log x_k!], the last term summed over each count's Binomial support. A
sample draws n classes and counts them; n is one whole number for the whole batch, as PyTorch asks.
"""
from ..creation import full
from ..special import lgamma
from ..tensor import where
from . import constraints
from .binomial import Binomial
from .categorical import Categorical
from .distribution import Distribution, broadcast_all, floating

__all__ = ["Multinomial"]


class Multinomial(Distribution):
    """Counts of the K classes (the last dim of ``probs`` or ``logits``) in ``total_count`` draws."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if isinstance(total_count, bool) or not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        self._categorical = Categorical(probs=probs, logits=logits)
        self._parameters = self._categorical._parameters
        self._binomial = Binomial(total_count=total_count, probs=self._categorical.probs)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    probs = property(lambda self: self._categorical.probs)
    logits = property(lambda self: self._categorical.logits)
    param_shape = property(lambda self: self._categorical.param_shape)
    mean = property(lambda self: self.probs * self.total_count)
    variance = property(lambda self: self.total_count * self.probs * (1 - self.probs))

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self):
        return constraints.multinomial(self.total_count)  # (counts >= 0 adding up to no more than n: PyTorch's check)

    def sample(self, sample_shape=()):
        classes = self._categorical.sample((self.total_count,) + tuple(sample_shape))  # (n, S, B)
        classes = classes.movedim(0, -1)  # (S, B, n)
        counts = full(self._extended_shape(sample_shape), 0, dtype=classes.dtype, device=classes.device)
        return counts.scatter_add(-1, classes, classes * 0 + 1).to(self.probs.dtype)

    def log_prob(self, value):
        self._check_value(value)
        logits, value = broadcast_all(self.logits, floating(value, self.logits))
        logits = where((value == 0) & (logits == float("-inf")), 0.0, logits)
        return lgamma(value.sum(-1) + 1) - lgamma(value + 1).sum(-1) + (logits * value).sum(-1)

    def entropy(self):
        n = self.total_count
        first = n * self._categorical.entropy() - lgamma(self.probs.new_tensor(float(n)) + 1)
        support = self._binomial.enumerate_support(expand=False)[1:]
        probabilities = self._binomial.log_prob(support).exp()
        return first + (probabilities * lgamma(support + 1)).sum(0).sum(-1)

    def expand(self, batch_shape):
        given = self._parameters[0]
        shape = tuple(batch_shape) + tuple(self.event_shape)
        return Multinomial(self.total_count, **{given: getattr(self._categorical, given).expand(shape)},
                           validate_args=self._validate_args)
