r"""``MixtureSameFamily(mixture_distribution, component_distribution)``: a mixture of k components of one family
(a mixture of Gaussians, the output of a mixture density network): draw a component j from the Categorical
``mixture_distribution``, then a value from component j.

The components are the last batch dim of ``component_distribution`` (batch shape (..., k)); the mixture's batch
shape is the rest, its event shape the components'. log p(x) = logsumexp_j (log w_j + log p_j(x)), with
log w = log_softmax of the mixture's logits, so it is stable where a component's density underflows. The mean is
sum_j w_j mean_j; the variance, by the law of total variance, sum_j w_j var_j + sum_j w_j (mean_j - mean)^2; the
cdf sum_j w_j cdf_j(x). A sample takes, for each draw, component j's sample; there is no rsample (the choice of j
is not differentiable), as in PyTorch.
"""
from ..autograd.grad_mode import no_grad
from . import constraints
from .categorical import Categorical
from .distribution import Distribution

__all__ = ["MixtureSameFamily"]


class MixtureSameFamily(Distribution):
    """A mixture of the components of ``component_distribution``, weighted by ``mixture_distribution``."""

    arg_constraints = {}

    def __init__(self, mixture_distribution, component_distribution, validate_args=None):
        if not isinstance(mixture_distribution, Categorical):
            raise ValueError("The Mixture distribution needs to be an instance of torch.distributions.Categorical")
        if not isinstance(component_distribution, Distribution):
            raise ValueError("The Component distribution need to be an instance of torch.distributions.Distribution")
        self._mixture_distribution, self._component_distribution = mixture_distribution, component_distribution
        mixture_batch = tuple(mixture_distribution.batch_shape)
        component_batch = tuple(component_distribution.batch_shape)
        pairs = zip(reversed(mixture_batch), reversed(component_batch[:-1]))  # (PyTorch's check: they broadcast)
        if len(component_batch) < 1 or any(m != c and m != 1 and c != 1 for m, c in pairs):
            raise ValueError(f"`mixture_distribution.batch_shape` ({mixture_distribution.batch_shape}) is not "
                             "compatible with `component_distribution.batch_shape`"
                             f"({component_distribution.batch_shape})")
        k = mixture_distribution.param_shape[-1]
        if k != component_batch[-1]:
            raise ValueError(f"`mixture_distribution component` ({k}) does not equal "
                             f"`component_distribution.batch_shape[-1]` ({component_batch[-1]})")
        self._num_component, self._event_ndims = k, len(component_distribution.event_shape)
        super().__init__(component_batch[:-1], component_distribution.event_shape, validate_args=validate_args)

    mixture_distribution = property(lambda self: self._mixture_distribution)
    component_distribution = property(lambda self: self._component_distribution)

    @constraints.dependent_property
    def support(self):
        """The components' support, checked with the components' dim put back (every component's must hold)."""
        return constraints.MixtureSameFamilyConstraint(self._component_distribution.support)

    def _weights(self):
        """The mixture's probabilities with a dim of 1 for each event dim: (..., k, 1, ...)."""
        probs = self._mixture_distribution.probs
        return probs.reshape(tuple(probs.shape) + (1,) * self._event_ndims)

    @property
    def mean(self):
        return (self._weights() * self._component_distribution.mean).sum(-1 - self._event_ndims)

    @property
    def variance(self):
        weights, dim = self._weights(), -1 - self._event_ndims
        means = self._component_distribution.mean
        within = (weights * self._component_distribution.variance).sum(dim)
        between = (weights * (means - self.mean.unsqueeze(dim)) ** 2).sum(dim)
        return within + between

    def _pad(self, x):
        """x with a dim for the components, before its event dims."""
        return x.unsqueeze(-1 - self._event_ndims)

    def log_prob(self, x):
        self._check_value(x)
        log_components = self._component_distribution.log_prob(self._pad(x))  # (S, B, k)
        log_weights = self._mixture_distribution.logits.log_softmax(-1)
        return (log_components + log_weights).logsumexp(-1)

    def cdf(self, x):
        return (self._component_distribution.cdf(self._pad(x)) * self._mixture_distribution.probs).sum(-1)

    def sample(self, sample_shape=()):
        with no_grad():
            chosen = self._mixture_distribution.sample(sample_shape)  # (S, B'), B' broadcasting to B
            lead = len(self.batch_shape) - len(self._mixture_distribution.batch_shape)
            chosen = chosen.reshape(tuple(sample_shape) + (1,) * lead + tuple(self._mixture_distribution.batch_shape))
            chosen = chosen.expand(tuple(sample_shape) + tuple(self.batch_shape))
            draws = self._component_distribution.sample(sample_shape)  # (S, B, k, E)
            index = chosen.reshape(tuple(chosen.shape) + (1,) * (1 + self._event_ndims))
            index = index.expand(tuple(chosen.shape) + (1,) + tuple(self.event_shape))
            return draws.gather(len(sample_shape) + len(self.batch_shape), index).squeeze(
                len(sample_shape) + len(self.batch_shape))

    def expand(self, batch_shape):
        batch_shape = tuple(batch_shape)
        return MixtureSameFamily(self._mixture_distribution.expand(batch_shape),  # (B' broadcasts to the new B)
                                 self._component_distribution.expand(batch_shape + (self._num_component,)),
                                 validate_args=self._validate_args)

    def __repr__(self):
        return (f"MixtureSameFamily(\n  {self._mixture_distribution!r},\n  {self._component_distribution!r})")
