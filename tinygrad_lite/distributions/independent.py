r"""``Independent(base, n)``: the last n batch dims of ``base`` read as one event.

Normal(mu, sigma) with mu of shape (B, D) is B x D separate numbers; Independent(Normal(mu, sigma), 1) is B vectors
of D independent numbers, so log_prob gives one number per vector, the sum of the D log-densities (a VAE's
likelihood of an image), and the entropy the sum of the D entropies.
"""
from . import constraints
from .distribution import Distribution

__all__ = ["Independent"]


class Independent(Distribution):
    """``base``'s last ``reinterpreted_batch_ndims`` batch dims become event dims."""

    arg_constraints = {}

    def __init__(self, base_distribution, reinterpreted_batch_ndims, validate_args=None):
        if not isinstance(base_distribution, Distribution):
            raise TypeError(f"Independent: base_distribution must be a Distribution, got "
                            f"{type(base_distribution).__name__}")
        n = reinterpreted_batch_ndims
        if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= len(base_distribution.batch_shape):
            raise ValueError(f"Expected reinterpreted_batch_ndims <= len(base_distribution.batch_shape), actual {n} vs "
                             f"{len(base_distribution.batch_shape)}")
        self.base_dist, self.reinterpreted_batch_ndims = base_distribution, n
        batch = base_distribution.batch_shape
        cut = len(batch) - n
        super().__init__(batch[:cut], tuple(batch[cut:]) + tuple(base_distribution.event_shape), validate_args)

    has_rsample = property(lambda self: self.base_dist.has_rsample)
    mean = property(lambda self: self.base_dist.mean)
    mode = property(lambda self: self.base_dist.mode)
    variance = property(lambda self: self.base_dist.variance)

    @constraints.dependent_property
    def support(self):
        """The base's support, with the reinterpreted dims read as part of each event."""
        n, base = self.reinterpreted_batch_ndims, self.base_dist.support
        return constraints.independent(base, n) if n else base

    def sample(self, sample_shape=()):
        return self.base_dist.sample(sample_shape)

    def rsample(self, sample_shape=()):
        return self.base_dist.rsample(sample_shape)

    def enumerate_support(self, expand=True):
        raise NotImplementedError("Enumeration over cartesian product is not implemented")

    def _sum_event_dims(self, t):
        n = self.reinterpreted_batch_ndims
        return t.sum(tuple(range(-n, 0))) if n else t

    def log_prob(self, value):
        return self._sum_event_dims(self.base_dist.log_prob(value))

    def entropy(self):
        return self._sum_event_dims(self.base_dist.entropy())

    def __repr__(self):
        return f"Independent({self.base_dist!r}, {self.reinterpreted_batch_ndims})"
