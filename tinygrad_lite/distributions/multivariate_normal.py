r"""``MultivariateNormal(loc, covariance_matrix=None, scale_tril=None)``: the Gaussian over vectors of k numbers.

With the covariance factored as Sigma = L L^T (L lower-triangular, ``linalg.cholesky``):

    log p(x) = -(k log(2 pi) + |z|^2) / 2 - \sum_i log L_ii,     z = L^{-1} (x - loc)   (a triangular solve)

|z|^2 is the Mahalanobis distance, and \sum log L_ii half the log-determinant of Sigma. ``rsample`` is
loc + L eps, eps ~ N(0, I), differentiable in loc and L (the reparameterisation). The entropy is
k (1 + log 2 pi) / 2 + \sum log L_ii. Sigma may be given (``covariance_matrix``) or its factor (``scale_tril``);
``precision_matrix`` (Sigma^{-1}) is not covered. A PPO agent with a continuous action and a diagonal covariance
needs none of this: ``Independent(Normal(mean, std), 1)`` gives the same numbers.
"""
import math

import numpy as np

from ..creation import randn
from ..tensor import Size
from ..triangular import cholesky, solve_triangular
from . import constraints
from .distribution import Distribution
from .kl import register_kl

__all__ = ["MultivariateNormal"]


class MultivariateNormal(Distribution):
    """A normal distribution over the last dim of ``loc`` (k numbers), its covariance (k x k) from
    ``covariance_matrix`` or ``scale_tril``."""

    arg_constraints = {"loc": constraints.real_vector, "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite, "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None, validate_args=None):
        if (covariance_matrix is not None) + (precision_matrix is not None) + (scale_tril is not None) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or scale_tril may be specified.")
        if precision_matrix is not None:
            raise NotImplementedError("MultivariateNormal(precision_matrix=...) is not covered by tinygrad_lite: give "
                                      "covariance_matrix or scale_tril")
        if loc.ndim < 1:
            raise ValueError("loc must be at least one-dimensional.")
        given = covariance_matrix if covariance_matrix is not None else scale_tril
        if given.ndim < 2:
            raise ValueError("scale_tril or covariance_matrix must be at least two-dimensional, with optional "
                             "leading batch dimensions")
        batch = Size(np.broadcast_shapes(tuple(given.shape[:-2]), tuple(loc.shape[:-1])))
        k = loc.shape[-1]
        self.loc = loc.expand(tuple(batch) + (k,))
        super().__init__(batch, Size((k,)), validate_args)
        if scale_tril is not None:
            self._parameters = ("loc", "covariance_matrix", "scale_tril")  # (the covariance once it is asked for)
            self.scale_tril = scale_tril.expand(tuple(batch) + (k, k))
            self._check_parameter("scale_tril", scale_tril)
        else:
            self._parameters = ("loc", "covariance_matrix")
            self.covariance_matrix = covariance_matrix.expand(tuple(batch) + (k, k))
            self._check_parameter("covariance_matrix", covariance_matrix)
            try:
                self.scale_tril = cholesky(self.covariance_matrix)
            except RuntimeError:  # (not positive-definite, and not checked: validate_args=False; the same ValueError)
                raise self._parameter_error("covariance_matrix", covariance_matrix,
                                            self.arg_constraints["covariance_matrix"]) from None
        self._check_parameter("loc")

    def __getattr__(self, name):  # the covariance, from the factor, when only the factor was given
        if name == "covariance_matrix":
            self.covariance_matrix = self.scale_tril @ self.scale_tril.mT
            return self.covariance_matrix
        raise AttributeError(f"'{type(self).__name__}' object has no attribute {name!r}")

    mean = property(lambda self: self.loc)
    mode = property(lambda self: self.loc)
    variance = property(lambda self: (self.scale_tril ** 2).sum(-1).expand(tuple(self._batch_shape)
                                                                             + tuple(self._event_shape)))

    def _half_log_det(self):
        return self.scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)

    def rsample(self, sample_shape=()):
        noise = randn(self._extended_shape(sample_shape), dtype=self.loc.dtype, device=self.loc.device)
        return self.loc + (self.scale_tril @ noise.unsqueeze(-1)).squeeze(-1)

    def log_prob(self, value):
        self._check_value(value)
        difference = value - self.loc
        shape = np.broadcast_shapes(tuple(difference.shape[:-1]), tuple(self.scale_tril.shape[:-2]))
        z = solve_triangular(self.scale_tril.expand(shape + tuple(self.scale_tril.shape[-2:])),
                             difference.expand(shape + tuple(difference.shape[-1:])).unsqueeze(-1), upper=False)
        k = self._event_shape[0]
        return -0.5 * (k * math.log(2 * math.pi) + (z.squeeze(-1) ** 2).sum(-1)) - self._half_log_det()

    def entropy(self):
        k = self._event_shape[0]
        return (0.5 * k * (1.0 + math.log(2 * math.pi)) + self._half_log_det()).expand(tuple(self._batch_shape))

    def expand(self, batch_shape):
        k = self._event_shape[0]
        return MultivariateNormal(self.loc.expand(tuple(batch_shape) + (k,)),
                                  scale_tril=self.scale_tril.expand(tuple(batch_shape) + (k, k)),
                                  validate_args=self._validate_args)


@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_multivariate_normal(p, q):
    """(tr(S_q^{-1} S_p) + |L_q^{-1} (m_q - m_p)|^2 - k) / 2 + log det L_q - log det L_p."""
    k = p.event_shape[0]
    shape = np.broadcast_shapes(tuple(p.scale_tril.shape[:-2]), tuple(q.scale_tril.shape[:-2]))
    lq, lp = (m.scale_tril.expand(shape + (k, k)) for m in (q, p))
    trace = (solve_triangular(lq, lp, upper=False) ** 2).sum((-2, -1))
    gap = solve_triangular(lq, (q.loc - p.loc).expand(shape + (k,)).unsqueeze(-1), upper=False).squeeze(-1)
    return 0.5 * (trace + (gap ** 2).sum(-1) - k) + q._half_log_det() - p._half_log_det()
