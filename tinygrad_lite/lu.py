r"""The LU factorisation with partial pivoting, and what it gives: ``linalg.solve``, ``linalg.inv`` (``inverse``),
``linalg.det`` (``det``), ``linalg.slogdet`` (``slogdet``) and ``logdet``. Composed of the library's ops, one step
per column, so autograd differentiates them (there is no backward of their own).

Gaussian elimination writes P A = L U: L unit lower-triangular, U upper-triangular, P the row order. At column j,
the row with the largest |A_ij| (i >= j) is swapped into place (partial pivoting: dividing by the largest pivot
keeps the multipliers at most 1 and the rounding small), then each row below loses l_i = A_ij / A_jj times row j.
The pivots' choice reads numbers (no gradient flows through it); the swaps are a gather of rows, and the gradient
follows them back.

- det A = (the permutation's sign) prod_j U_jj; slogdet gives (its sign, log |det A|) without overflow;
- solve(A, B): L y = P B, then U x = y (``triangular.py``'s solves); inv(A) = solve(A, I).

A zero pivot (a singular matrix) gives det 0, and ``solve``/``inv`` raise ``linalg.LinAlgError``, as PyTorch's.
Like the Cholesky factor, this is a Python step per column: fine for the small matrices of a Kalman filter or a
course, slower than LAPACK beyond.
"""
import numpy as np

from .creation import eye
from .functions import _check_tensor, cat
from .return_types import slogdet as _slogdet_pair
from .tensor import Tensor, where
from .triangular import LinAlgError, _check_square, solve_triangular

__all__ = ["solve", "inv", "det", "slogdet", "logdet", "inverse"]


def _factor(A):
    """(LU, order, sign): L (below the diagonal, its unit diagonal implied) and U (on and above) packed in one
    matrix, the row order P as an index array (..., n), and the permutation's sign (an array of the batch)."""
    n = A.shape[-1]
    batch = tuple(A.shape[:-2])
    order = np.broadcast_to(np.arange(n), batch + (n,)).copy()
    sign = np.ones(batch)
    M = A
    for j in range(n):
        column = np.abs(M[..., j:, j].detach().cpu().numpy())
        pivot = j + column.argmax(-1)  # (the row below j with the largest number in column j)
        swap = np.broadcast_to(np.arange(n), batch + (n,)).copy()
        np.put_along_axis(swap, np.full(batch + (1,), j), pivot[..., None], -1)
        np.put_along_axis(swap, pivot[..., None], np.full(batch + (1,), j), -1)
        rows = Tensor._make(swap, None).to(A.device).unsqueeze(-1).expand(batch + (n, n))
        M = M.gather(-2, rows)  # (rows j and pivot exchanged, the factors of L stored so far with them)
        order = np.take_along_axis(order, swap, -1)
        sign = np.where(pivot != j, -sign, sign)
        head = M[..., j, j]
        factors = M[..., j + 1:, j] / where(head == 0, 1.0, head).unsqueeze(-1)  # (a zero pivot: 0, not inf)
        below = M[..., j + 1:, j + 1:] - factors.unsqueeze(-1) * M[..., j:j + 1, j + 1:]
        M = cat([M[..., :j + 1, :], cat([M[..., j + 1:, :j], factors.unsqueeze(-1), below], -1)], -2)
    return M, order, sign


def _singular(name, LU):
    """PyTorch's error for a matrix with a zero pivot (U_jj = 0)."""
    zero = (LU.diagonal(dim1=-2, dim2=-1) == 0).cpu().numpy()
    if zero.any():
        first = int(np.argmax(zero.reshape(-1, zero.shape[-1]).any(0)))  # (the first pivot that is 0, in any matrix)
        raise LinAlgError(f"linalg.{name}: The diagonal element {first + 1} is zero, the inversion could not be "
                          "completed because the input matrix is singular.")


def solve(A, B, *, left=True, out=None):
    """X with A X = B (``left=False``: X A = B), for a square A; B a matrix or (a batch of) vectors."""
    _check_square("solve", A)
    _check_tensor("solve", B, "B")
    if out is not None:
        raise TypeError("linalg.solve(): out= is not covered by tinygrad_lite; assign the result")
    if not left:
        return _solve("solve", A.mT, B.mT).mT
    return _solve("solve", A, B)


def _solve(name, A, B):
    """L y = P B, then U x = y; ``name`` (solve, inv) for the error of a singular A. B is a vector (or a batch of
    them) when it is 1-D or has A's shape without its last dim, as PyTorch decides."""
    if A.dtype != B.dtype:
        raise RuntimeError(f"linalg.{name}: Expected A and B to have the same dtype, but found A of type "
                           f"{A.dtype.name} and B of type {B.dtype.name} instead.")
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    B = B.unsqueeze(-1) if vector else B
    if A.shape[-1] == 0:
        return (B.squeeze(-1) if vector else B) * 1
    LU, order, _ = _factor(A)
    _singular(name, LU)
    batch = tuple(np.broadcast_shapes(tuple(A.shape[:-2]), tuple(B.shape[:-2])))
    rows = Tensor._make(np.broadcast_to(order, batch + order.shape[-1:]).copy(), None).to(A.device)
    permuted = B.expand(batch + tuple(B.shape[-2:])).gather(-2, rows.unsqueeze(-1).expand(batch + tuple(B.shape[-2:])))
    lower = solve_triangular(LU, permuted, upper=False, unitriangular=True)
    x = solve_triangular(LU, lower, upper=True)
    return x.squeeze(-1) if vector else x


def inv(A, *, out=None):
    """A^{-1}: the solution of A X = I."""
    _check_square("inv", A)
    if out is not None:
        raise TypeError("linalg.inv(): out= is not covered by tinygrad_lite; assign the result")
    return _solve("inv", A, eye(A.shape[-1], dtype=A.dtype, device=A.device).expand(tuple(A.shape)))


def det(A, *, out=None):
    """det A: the permutation's sign times the product of U's diagonal (0 for a singular A)."""
    _check_square("det", A)
    if A.shape[-1] == 0:
        return A.new_ones(tuple(A.shape[:-2]))
    LU, _, sign = _factor(A)
    return LU.diagonal(dim1=-2, dim2=-1).prod(-1) * Tensor._make(sign.astype(A.array.dtype), None).to(A.device)


def slogdet(A, *, out=None):
    """(sign, log |det A|), without the overflow of the product itself: a pair with ``sign`` and ``logabsdet``."""
    _check_square("slogdet", A)
    LU, _, sign = _factor(A)
    diagonal = LU.diagonal(dim1=-2, dim2=-1)
    signs = Tensor._make(sign.astype(A.array.dtype), None).to(A.device) * diagonal.sign().prod(-1).detach()
    return _slogdet_pair(signs, diagonal.abs().log().sum(-1))


def logdet(A):
    """log det A: nan where det A < 0, -inf where it is 0, as PyTorch's."""
    sign, value = slogdet(A)
    return where(sign < 0, float("nan"), where(sign == 0, float("-inf"), value))


inverse = inv
for _name, _function in (("inverse", inv), ("det", det), ("slogdet", slogdet), ("logdet", logdet)):
    setattr(Tensor, _name, _function)
