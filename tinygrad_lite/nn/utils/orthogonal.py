r"""``nn.utils.parametrizations.orthogonal``: a weight kept orthogonal while it trains (orthonormal columns for a
tall matrix, rows for a wide one), as PyTorch's, so that a recurrent net's hidden-to-hidden map neither grows nor
shrinks the signal.

The trained tensor X is unconstrained; the weight is a map of it onto the orthogonal matrices (for a tall n x k
weight; a wide one is transposed first):
- "matrix_exp" (the default for a square weight): A = L - L^T from X's lower triangle L (padded to n x n), which is
  skew-symmetric, so e^A (``linalg.matrix_exp``) is orthogonal; its first k columns;
- "cayley": (I - A/2)^{-1} (I + A/2), orthogonal for the same A (``linalg.solve``);
- "householder" (the default otherwise): the product of the reflections I - tau_i v_i v_i^T with v_i X's column i
  below the diagonal (1 on it) and tau_i = 2 / (1 + |v_i below the diagonal|^2) (``linalg.householder_product``),
  each column's sign given by X's diagonal (+1 or -1, not trained).
With ``use_trivialization=True`` (the default) the weight is B Q(X), B an orthogonal n x n buffer (``base``): when a
matrix is assigned (``module.weight = W``, or at registration), B becomes W made orthogonal (QR with R's diagonal
positive, W completed with random columns when it is not square) and X the tensor that Q maps to the identity, so
the weight starts as W. Training moves X near the identity, where the maps are well conditioned (Lezcano-Casado,
2019). Deliberate difference: the random completion of a non-square W comes from the library's generator, so B's
last n - k columns (and so the training path, not the starting weight) differ from PyTorch's for one seed.
"""
import numpy as np

from ... import dtypes as dt
from ...autograd.grad_mode import no_grad
from ...creation import eye, randn, zeros_like
from ...factorisations import geqrf, householder_product
from ...functions import cat
from ...lu import solve
from ...products import matrix_exp
from ...tensor import Tensor, where
from ..modules.module import Module
from . import parametrize

__all__ = ["orthogonal"]

MAPS = ("matrix_exp", "cayley", "householder")


def _is_orthogonal(Q):
    """Q^T Q = I, within 10 n eps."""
    n, k = Q.shape[-2:]
    eps = 10.0 * n * float(np.finfo(Q.array.dtype).eps)
    return bool(((Q.mT @ Q - eye(k, dtype=Q.dtype, device=Q.device)).abs() <= eps).all().item())


def _make_orthogonal(A):
    """The Q of A = Q R for a tall A, with R's diagonal made positive (so Q is A's own orthonormalisation)."""
    packed, tau = geqrf(A)
    Q = householder_product(packed, tau)
    return Q * packed.diagonal(dim1=-2, dim2=-1).sign().unsqueeze(-2)


class _Orthogonal(Module):
    """The map from the trained X to the orthogonal weight (module docstring)."""

    def __init__(self, weight, orthogonal_map, *, use_trivialization=True):
        super().__init__()
        self.shape, self.orthogonal_map = tuple(weight.shape), orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X):
        n, k = X.shape[-2:]
        transposed = n < k
        if transposed:
            X, (n, k) = X.mT, (k, n)
        if self.orthogonal_map in ("matrix_exp", "cayley"):
            X = X.tril()
            if n != k:
                X = cat([X, X.new_zeros(tuple(X.shape[:-2]) + (n, n - k))], -1)
            A = X - X.mT
            if self.orthogonal_map == "matrix_exp":
                Q = matrix_exp(A)
            else:
                identity = eye(n, dtype=A.dtype, device=A.device)
                Q = solve(identity - A / 2, identity + A / 2)
            Q = Q[..., :k] if n != k else Q
        else:
            A = X.tril(-1)
            tau = 2.0 / (1.0 + (A * A).sum(-2))
            Q = householder_product(A, tau) * X.diagonal(dim1=-2, dim2=-1).detach().trunc().unsqueeze(-2)
        if getattr(self, "base", None) is not None:
            Q = self.base @ Q
        return Q.mT if transposed else Q

    def right_inverse(self, Q):
        """The X whose map is Q (module docstring): with the trivialization, B from Q and X the map's identity."""
        with no_grad():
            if tuple(Q.shape) != self.shape:
                raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. Got a tensor of shape "
                                 f"{tuple(Q.shape)}.")
            given = Q
            n, k = Q.shape[-2:]
            transposed = n < k
            if transposed:
                Q, (n, k) = Q.mT, (k, n)
            if "base" not in self._buffers:
                if self.orthogonal_map != "householder":
                    raise NotImplementedError("It is not possible to assign to the matrix exponential or the Cayley "
                                              "parametrizations when use_trivialization=False.")
                packed, tau = geqrf(Q)  # (Q's reflections; the diagonal holds each column's sign, flipped
                signs = packed.diagonal(dim1=-2, dim2=-1).sign()  # where LAPACK used no reflection, tau = 0)
                signs = where(tau == 0, -signs, signs)
                on_diagonal = eye(n, k, dtype=dt.bool, device=Q.device)
                packed = where(on_diagonal, signs.unsqueeze(-2), packed)
                return packed.mT if transposed else packed
            if n == k:
                Q = Q.clone() if _is_orthogonal(Q) else _make_orthogonal(Q)
            else:
                completion = randn(tuple(Q.shape[:-2]) + (n, n - k), dtype=Q.dtype, device=Q.device)
                Q = _make_orthogonal(cat([Q, completion], -1))
            self.base = Q
            minus_identity = zeros_like(given)
            minus_identity.diagonal(dim1=-2, dim2=-1).fill_(-1.0)
            return minus_identity


def orthogonal(module, name="weight", orthogonal_map=None, *, use_trivialization=True):
    """Keep ``module.<name>`` orthogonal (module docstring): the map "matrix_exp", "cayley" or "householder" (by
    default "matrix_exp" for a square weight, else "householder"). Returns the module."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if not weight.dtype.is_floating_point:
        raise TypeError(f"orthogonal: the weight must be a floating-point tensor, got {weight.dtype}")
    if weight.ndim < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of {weight.ndim} dimensions.")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.shape[-2] == weight.shape[-1] else "householder"
    if orthogonal_map not in MAPS:
        raise ValueError(f'orthogonal_map has to be one of "matrix_exp", "cayley", "householder". Got: '
                         f"{orthogonal_map}")
    parametrize.register_parametrization(module, name, _Orthogonal(weight, orthogonal_map,
                                                                   use_trivialization=use_trivialization),
                                         unsafe=True)
    return module
