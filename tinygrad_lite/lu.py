r"""The LU factorisation with partial pivoting, and what it gives: ``linalg.solve``, ``linalg.inv`` (``inverse``),
``linalg.det`` (``det``), ``linalg.slogdet`` (``slogdet``), ``logdet`` and the factors themselves. Composed of
the library's ops, one step per column, so autograd differentiates them (there is no backward of their own).

Gaussian elimination writes P A = L U: L unit lower-triangular, U upper-triangular, P the row order. At column j,
the row with the largest |A_ij| (i >= j) is swapped into place (partial pivoting: dividing by the largest pivot
keeps the multipliers at most 1 and the rounding small), then each row below loses l_i = A_ij / A_jj times row j.
The pivots' choice reads numbers (no gradient flows through it); the swaps are a gather of rows, and the gradient
follows them back.

- det A = (the permutation's sign) prod_j U_jj; slogdet gives (its sign, log |det A|) without overflow;
- solve(A, B): L y = P B, then U x = y (``triangular.py``'s solves); inv(A) = solve(A, I).
- The factors themselves, as LAPACK gives them: ``lu_factor`` (L and U packed in one matrix, and the pivots: row j
  was swapped with row pivots_j - 1, counted from 1), ``lu`` (P, L, U with A = P L U; A may be rectangular),
  ``lu_unpack`` and ``lu_solve`` (A X = B, or A^T X = B, from the packed factors).
- ``tensorinv`` and ``tensorsolve``: ``inv`` and ``solve`` of a tensor reshaped to a square matrix.

A zero pivot (a singular matrix) gives det 0, and ``solve``/``inv`` raise ``linalg.LinAlgError``, as PyTorch's;
``solve_ex``, ``inv_ex`` and ``lu_factor_ex`` return ``info`` instead (per matrix, 0 or the first zero pivot's
place, counted from 1).
Like the Cholesky factor, this is a Python step per column: fine for the small matrices of a Kalman filter or a
course, slower than LAPACK beyond.
"""
import math
import warnings

import numpy as np

from . import dtypes as dt
from .creation import eye
from .functions import _check_tensor, _flag, _no_out, cat
from .return_types import linalg_inv_ex, linalg_lu, linalg_lu_factor, linalg_lu_factor_ex, linalg_solve_ex
from .return_types import lu_unpack as lu_unpack_triple
from .return_types import slogdet as _slogdet_pair
from .tensor import Tensor, where
from .triangular import LinAlgError, _check_square, solve_triangular

__all__ = ["solve", "inv", "det", "slogdet", "logdet", "inverse", "inv_ex", "solve_ex", "lu_factor", "lu_factor_ex",
           "lu", "lu_unpack", "lu_solve", "tensorinv", "tensorsolve"]


def _factor(A):
    """(LU, order, sign, pivots) for A of m x n: L (below the diagonal, its unit diagonal implied) and U (on and
    above) packed in one m x n matrix, the row order P as an index array (..., m), the permutation's sign (an array of
    the batch), and LAPACK's pivots (..., min(m, n)): at step j, row j was swapped with row pivots_j - 1."""
    m, n = A.shape[-2:]
    batch = tuple(A.shape[:-2])
    order = np.broadcast_to(np.arange(m), batch + (m,)).copy()
    sign, pivots = np.ones(batch), []
    M = A
    for j in range(min(m, n)):
        column = np.abs(M[..., j:, j].detach().cpu().numpy())
        pivot = j + column.argmax(-1)  # (the row below j with the largest number in column j)
        swap = np.broadcast_to(np.arange(m), batch + (m,)).copy()
        np.put_along_axis(swap, np.full(batch + (1,), j), pivot[..., None], -1)
        np.put_along_axis(swap, pivot[..., None], np.full(batch + (1,), j), -1)
        rows = Tensor._make(swap, None).to(A.device).unsqueeze(-1).expand(batch + (m, n))
        M = M.gather(-2, rows)  # (rows j and pivot exchanged, the factors of L stored so far with them)
        order = np.take_along_axis(order, swap, -1)
        sign = np.where(pivot != j, -sign, sign)
        pivots.append(pivot + 1)
        head = M[..., j, j]
        factors = M[..., j + 1:, j] / where(head == 0, 1.0, head).unsqueeze(-1)  # (a zero pivot: 0, not inf)
        below = M[..., j + 1:, j + 1:] - factors.unsqueeze(-1) * M[..., j:j + 1, j + 1:]
        M = cat([M[..., :j + 1, :], cat([M[..., j + 1:, :j], factors.unsqueeze(-1), below], -1)], -2)
    return M, order, sign, np.stack(pivots, -1).astype(np.int32) if pivots else np.zeros(batch + (0,), np.int32)


def _info(LU):
    """Per matrix, 0, or the 1-based index of U's first zero on the diagonal (LAPACK's info): an int32 array."""
    zero = (LU.diagonal(dim1=-2, dim2=-1) == 0).cpu().numpy()
    return np.where(zero.any(-1), zero.argmax(-1) + 1, 0).astype(np.int32) if zero.shape[-1] else \
        np.zeros(zero.shape[:-1], np.int32)


def _singular(name, info):
    """PyTorch's error for a matrix with a zero pivot (U_jj = 0): the first such matrix of a batch named, and (for
    an inverse) its first zero."""
    if info.any():
        flat = info.reshape(-1)
        first = int(np.argmax(flat > 0))
        where_ = f"(Batch element {first}): " if info.ndim else ""
        if name.startswith("solve"):
            raise LinAlgError(f"torch.linalg.{name}: {where_}The solver failed because the input matrix is singular.")
        raise LinAlgError(f"linalg.{name}: {where_}The diagonal element {int(flat[first])} is zero, the inversion "
                          "could not be completed because the input matrix is singular.")


def solve(A, B, *, left=True, out=None):
    """X with A X = B (``left=False``: X A = B), for a square A; B a matrix or (a batch of) vectors."""
    _check_square("solve", A)
    _check_tensor("solve", B, "B")
    _no_out("linalg.solve", out)
    if not left:
        return _solve("solve", A.mT, B.mT)[0].mT
    return _solve("solve", A, B)[0]


def _solve(name, A, B, check_errors=True):
    """(x, info): L y = P B, then U x = y; ``name`` (solve, inv) for the error of a singular A, unless not
    ``check_errors`` (then a zero pivot gives inf or nan, as LAPACK's). B is a vector (or a batch of them) when it is
    1-D or has A's shape without its last dim, as PyTorch decides."""
    if A.dtype != B.dtype:
        raise RuntimeError(f"linalg.{name}: Expected A and B to have the same dtype, but found A of type "
                           f"{A.dtype.name} and B of type {B.dtype.name} instead.")
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    B = B.unsqueeze(-1) if vector else B
    if A.shape[-1] == 0:
        return (B.squeeze(-1) if vector else B) * 1, np.zeros(A.shape[:-2], np.int32)
    LU, order, _, _ = _factor(A)
    info = _info(LU)
    if check_errors:
        _singular(name, info)
    x = _substitute(LU, order, B)
    return (x.squeeze(-1) if vector else x), info


def _substitute(LU, order, B):
    """X with (P^T L U) X = B: the rows of B in the order P, then the two triangular solves."""
    batch = tuple(np.broadcast_shapes(tuple(LU.shape[:-2]), tuple(B.shape[:-2])))
    rows = Tensor._make(np.broadcast_to(order, batch + order.shape[-1:]).copy(), None).to(LU.device)
    permuted = B.expand(batch + tuple(B.shape[-2:])).gather(-2, rows.unsqueeze(-1).expand(batch + tuple(B.shape[-2:])))
    with np.errstate(divide="ignore", invalid="ignore"):  # (a zero pivot without check_errors: inf, as LAPACK's)
        return solve_triangular(LU, solve_triangular(LU, permuted, upper=False, unitriangular=True), upper=True)


def inv(A, *, out=None):
    """A^{-1}: the solution of A X = I."""
    _check_square("inv", A)
    _no_out("linalg.inv", out)
    return _solve("inv", A, eye(A.shape[-1], dtype=A.dtype, device=A.device).expand(tuple(A.shape)))[0]


def det(A, *, out=None):
    """det A: the permutation's sign times the product of U's diagonal (0 for a singular A)."""
    _check_square("det", A)
    if A.shape[-1] == 0:
        return A.new_ones(tuple(A.shape[:-2]))
    LU, _, sign, _ = _factor(A)
    return LU.diagonal(dim1=-2, dim2=-1).prod(-1) * Tensor._make(sign.astype(A.array.dtype), None).to(A.device)


def slogdet(A, *, out=None):
    """(sign, log |det A|), without the overflow of the product itself: a pair with ``sign`` and ``logabsdet``."""
    _check_square("slogdet", A)
    LU, _, sign, _ = _factor(A)
    diagonal = LU.diagonal(dim1=-2, dim2=-1)
    signs = Tensor._make(sign.astype(A.array.dtype), None).to(A.device) * diagonal.sign().prod(-1).detach()
    return _slogdet_pair(signs, diagonal.abs().log().sum(-1))


def logdet(A):
    """log det A: nan where det A < 0, -inf where it is 0, as PyTorch's."""
    sign, value = slogdet(A)
    return where(sign < 0, float("nan"), where(sign == 0, float("-inf"), value))


def inv_ex(A, *, check_errors=False, out=None):
    """(inverse, info): ``inv`` without raising for a singular A (unless ``check_errors``); info per matrix is 0, or
    the 1-based index of U's first zero pivot (then the inverse's numbers are inf or nan, as PyTorch's)."""
    _check_square("inv_ex", A)
    _no_out("linalg.inv_ex", out)
    identity = eye(A.shape[-1], dtype=A.dtype, device=A.device).expand(tuple(A.shape))
    inverse, info = _solve("inv_ex", A, identity, _flag("linalg.inv_ex", "check_errors", check_errors))
    return linalg_inv_ex(inverse, _int32(info, A))


def solve_ex(A, B, *, left=True, check_errors=False, out=None):
    """(result, info): ``solve`` without raising for a singular A (unless ``check_errors``), info as ``inv_ex``'s."""
    _check_square("solve_ex", A)
    _check_tensor("solve_ex", B, "B")
    _no_out("linalg.solve_ex", out)
    left, check_errors = _flag("linalg.solve_ex", "left", left), _flag("linalg.solve_ex", "check_errors", check_errors)
    result, info = _solve("solve_ex", A.mT, B.mT, check_errors) if not left else _solve("solve_ex", A, B, check_errors)
    return linalg_solve_ex(result if left else result.mT, _int32(info, A))


def lu_factor_ex(A, *, pivot=True, check_errors=False, out=None):
    """(LU, pivots, info) of A, m x n: L and U packed in one matrix, LAPACK's 1-based pivots (int32), and info per
    matrix (0, or the 1-based index of U's first zero on the diagonal; with ``check_errors`` that raises)."""
    _check_matrices("lu_factor_ex", A, pivot)
    _no_out("linalg.lu_factor_ex", out)
    LU, _, _, pivots = _factor(A)
    info = _info(LU)
    if _flag("linalg.lu_factor_ex", "check_errors", check_errors) and info.any():
        raise LinAlgError(f"torch.linalg.lu_factor_ex: U[{int(info[info > 0].min())},{int(info[info > 0].min())}] "
                          "is zero (the matrix is singular)")
    return linalg_lu_factor_ex(LU, _int32(pivots, A), _int32(info, A))


def lu_factor(A, *, pivot=True, out=None):
    """(LU, pivots), as ``lu_factor_ex``, raising PyTorch's error for a zero on U's diagonal (a singular A)."""
    _check_matrices("lu_factor", A, pivot)
    LU, pivots, info = lu_factor_ex(A, out=out)
    if info.any().item():
        j = int(info[info > 0].min().item())
        raise LinAlgError(f"torch.linalg.lu_factor: U[{j},{j}] is zero and using it on lu_solve would result in a "
                          "division by zero. If you still want to perform the factorization, consider calling "
                          "linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")
    return linalg_lu_factor(LU, pivots)


def lu(A, *, pivot=True, out=None):
    """(P, L, U) with A = P L U: P a permutation matrix (m x m), L unit lower-triangular (m x k), U upper-triangular
    (k x n), k = min(m, n)."""
    _check_matrices("lu", A, pivot)
    _no_out("linalg.lu", out)
    LU, order, _, _ = _factor(A)
    return linalg_lu(*_unpacked(LU, order))


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True, *, out=None):
    """(P, L, U) from ``lu_factor``'s result; what is not unpacked is an empty tensor, as PyTorch's."""
    _check_matrices("lu_unpack", LU_data)
    _check_tensor("lu_unpack", LU_pivots, "LU_pivots")
    _no_out("linalg.lu_unpack", out)
    unpack_data, unpack_pivots = _flag("lu_unpack", "unpack_data", unpack_data), _flag("lu_unpack", "unpack_pivots",
                                                                                      unpack_pivots)
    P, L, U = _unpacked(LU_data, _order(LU_pivots, LU_data.shape[-2]))
    empty = LU_data.new_zeros(0)
    return lu_unpack_triple(P if unpack_pivots else empty, L if unpack_data else empty, U if unpack_data else empty)


def lu_solve(LU, pivots, B, *, left=True, adjoint=False, out=None):
    """X with A X = B for A = P L U given as ``lu_factor``'s (LU, pivots); ``adjoint``: A^T X = B; ``left=False``:
    X A = B (that is A^T X^T = B^T)."""
    _check_square("lu_solve", LU)
    _check_tensor("lu_solve", B, "B")
    _check_tensor("lu_solve", pivots, "pivots")
    _no_out("linalg.lu_solve", out)
    left, adjoint = _flag("linalg.lu_solve", "left", left), _flag("linalg.lu_solve", "adjoint", adjoint)
    if LU.dtype != B.dtype:
        raise RuntimeError(f"linalg.lu_solve: Expected LU and B to have the same dtype, but found LU of type "
                           f"{LU.dtype} and B of type {B.dtype} instead")
    if tuple(pivots.shape) != tuple(LU.shape[:-1]):
        raise RuntimeError(f"linalg.lu_solve: Expected LU.shape[:-1] and pivots.shape to be the same, but got pivots "
                           f"with shape {list(pivots.shape)} instead")
    try:
        np.broadcast_shapes(tuple(LU.shape[:-2]), tuple(B.shape[:-2]))
    except ValueError:
        raise RuntimeError(f"linalg.lu_solve: the batches of LU {tuple(LU.shape[:-2])} and B {tuple(B.shape[:-2])} "
                           "do not broadcast") from None
    if pivots.dtype != dt.int32 or not bool(((pivots >= 1) & (pivots <= LU.shape[-1])).all().item()):
        raise RuntimeError(f"linalg.lu_solve: pivots must be lu_factor's, int32 numbers from 1 to {LU.shape[-1]}; "
                           f"got {pivots.dtype} {pivots.tolist() if pivots.numel() < 10 else ''}")
    if not left:
        return lu_solve(LU, pivots, B.mT, adjoint=not adjoint).mT
    if B.ndim < 2 or B.shape[-2] != LU.shape[-1]:
        raise RuntimeError(f"linalg.lu_solve: B must have {LU.shape[-1]} rows to match LU, got shape "
                           f"{tuple(B.shape)}")
    order = _order(pivots, LU.shape[-1])
    if not adjoint:
        return _substitute(LU, order, B)
    # A^T = U^T L^T P, so U^T z = B, then L^T w = z, and X = P^T w: X's row order[i] is w's row i
    w = solve_triangular(LU.mT, solve_triangular(LU.mT, B, upper=False), upper=True, unitriangular=True)
    back = np.argsort(order, -1)
    rows = Tensor._make(back, None).to(LU.device).unsqueeze(-1)
    return w.gather(-2, rows.expand(tuple(rows.shape[:-1]) + (w.shape[-1],)))


def lu_solve_old(b, LU_data, LU_pivots, *, out=None):
    """``torch.lu_solve`` (deprecated in PyTorch, with its warning): ``linalg.lu_solve`` with the arguments in the
    older order."""
    warnings.warn("torch.lu_solve is deprecated in favor of torch.linalg.lu_solveand will be removed in a future "
                  "PyTorch release.\nNote that torch.linalg.lu_solve has its arguments reversed.\nX = "
                  "torch.lu_solve(B, LU, pivots)\nshould be replaced with\nX = torch.linalg.lu_solve(LU, pivots, B)",
                  UserWarning, stacklevel=2)
    return lu_solve(LU_data, LU_pivots, b, out=out)


def _check_matrices(name, A, pivot=True):
    _check_tensor(f"linalg.{name}", A, "A")
    if A.ndim < 2 or not A.dtype.is_floating_point:
        raise RuntimeError(f"linalg.{name}: A must be (a batch of) floating-point matrices, got {A.dtype} of shape "
                           f"{tuple(A.shape)}")
    if not _flag(f"linalg.{name}", "pivot", pivot):
        raise RuntimeError(f"linalg.{name}: LU without pivoting is not implemented on the CPU (nor here, on any "
                           "device); leave pivot=True")


def _order(pivots, m):
    """The row order P (..., m) that LAPACK's sequential swaps (row j with row pivots_j - 1) make of 0, 1, ..."""
    swaps = pivots.cpu().numpy().astype(np.int64) - 1 if isinstance(pivots, Tensor) else pivots
    order = np.broadcast_to(np.arange(m), swaps.shape[:-1] + (m,)).copy()
    for j in range(swaps.shape[-1]):
        here, there = order[..., j].copy(), np.take_along_axis(order, swaps[..., j:j + 1], -1)[..., 0]
        order[..., j] = there
        np.put_along_axis(order, swaps[..., j:j + 1], here[..., None], -1)
    return order


def _unpacked(LU, order):
    """(P, L, U) from the packed factors and the row order."""
    m, n = LU.shape[-2:]
    k = min(m, n)
    L = LU[..., :, :k].tril(-1) + eye(m, k, dtype=LU.dtype, device=LU.device)
    U = LU[..., :k, :].triu()
    P = np.swapaxes(np.eye(m)[order], -1, -2)  # (P[order_i, i] = 1: A = P L U, where L U holds A's rows in order)
    return Tensor._make(P, None).to(LU.device).to(LU.dtype), L, U


def _int32(array, like):
    return Tensor._make(np.asarray(array, np.int32), None).to(like.device)


def tensorinv(A, ind=2, *, out=None):
    """The inverse of A as a linear map from its last dims to its first ``ind`` dims: inv of A reshaped to a square
    matrix, reshaped back to A.shape[ind:] + A.shape[:ind]."""
    _check_tensor("linalg.tensorinv", A, "A")
    _no_out("linalg.tensorinv", out)
    rows, cols = tuple(A.shape[:ind]), tuple(A.shape[ind:])
    if ind <= 0 or math.prod(rows) != math.prod(cols):
        raise RuntimeError(f"linalg.tensorinv: Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {math.prod(cols)} != {math.prod(rows)}")
    return inv(A.reshape(math.prod(rows), math.prod(cols))).reshape(cols + rows)


def tensorsolve(A, B, dims=None, *, out=None):
    """X with tensordot(A, X, X.ndim) = B: A reshaped to a square matrix (B's elements by X's), solved, X of shape
    A.shape[B.ndim:]. ``dims``: A's dims moved to the end first."""
    _check_tensor("linalg.tensorsolve", A, "A")
    _check_tensor("linalg.tensorsolve", B, "B")
    _no_out("linalg.tensorsolve", out)
    if dims is not None:
        A = A.movedim(tuple(dims), tuple(range(A.ndim - len(dims), A.ndim)))
    result = tuple(A.shape[B.ndim:])
    if math.prod(A.shape[:B.ndim]) != math.prod(result) or math.prod(A.shape[:B.ndim]) != B.numel():
        raise RuntimeError(f"linalg.tensorsolve: Expected A's first B.ndim dims and its last ones to hold as many "
                           f"numbers as B, for a square system; got A of shape {tuple(A.shape)} and B of shape "
                           f"{tuple(B.shape)}")
    return solve(A.reshape(B.numel(), math.prod(result)), B.reshape(-1)).reshape(result)


inverse = inv
Tensor.lu_solve = lu_solve_old
for _name, _function in (("inverse", inv), ("det", det), ("slogdet", slogdet), ("logdet", logdet)):
    setattr(Tensor, _name, _function)
