r"""The Cholesky factorisation and triangular solves, composed of the library's ops (one step per row or column;
autograd differentiates them, so there is no backward of their own).

- ``linalg.cholesky(A)``: the lower-triangular L with L L^T = A, for a symmetric positive-definite A, column by
  column:

      L_jj = \sqrt{A_jj - \sum_{k<j} L_jk^2},      L_ij = (A_ij - \sum_{k<j} L_ik L_jk) / L_jj   (i > j)

  Only A's lower triangle is read, as PyTorch's does, and its gradient is symmetric, as PyTorch's is (only one
  triangle of a symmetric matrix is free): the numbers of the lower triangle mirrored, carried by the graph of
  (A + A^T) / 2 (a term worth 0). A matrix that is not positive-definite raises ``linalg.LinAlgError`` at the first
  column where the square root's argument is not positive, as PyTorch's error says.
- ``linalg.solve_triangular(A, B, upper=..., left=True)``: X with A X = B for a triangular A, by forward substitution
  (x_i = (b_i - \sum_{k<i} A_ik x_k) / A_ii) or backward for an upper one.
- ``cholesky_ex`` (the factor and, per matrix, where it failed, without raising), ``cholesky_solve(B, L)`` (A X = B
  for A = L L^T, two triangular solves) and ``cholesky_inverse(L)`` (A^{-1}).
- ``diag_embed(x)``: a batch of vectors as a batch of diagonal matrices.

Each step is a Python loop over n (the matrix's size): fine for the small covariances of a policy or a Gaussian
process of a few hundred points, slower than LAPACK beyond. ``MultivariateNormal`` (distributions/) is built on them.
"""
import numpy as np

from .creation import eye
from .functions import _check_tensor, _no_out, cat, stack
from .return_types import cholesky_ex as _pair
from .tensor import Tensor, where

__all__ = ["cholesky", "cholesky_ex", "cholesky_solve", "cholesky_inverse", "solve_triangular", "diag_embed",
           "LinAlgError"]


def _check_square(name, A):
    _check_tensor(name, A, "A")
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.{name}: A must be batches of square matrices, got shape {tuple(A.shape)}")
    if not A.dtype.is_floating_point:
        raise RuntimeError(f"linalg.{name}: Expected a floating point tensor as input. Got {A.dtype.name}")


class LinAlgError(RuntimeError):
    """``torch.linalg.LinAlgError``: a factorisation that cannot be completed (a RuntimeError, as PyTorch's)."""


def _factor(A, name, check_errors):
    """(L, info): the factor column by column (the module's docstring), and per matrix 0, or the order of the first
    leading minor that is not positive-definite (that matrix's columns from there on are left at 0). With
    ``check_errors``, such a matrix raises ``LinAlgError`` instead."""
    n = A.shape[-1]
    lower = A.tril()
    symmetric = (A + A.mT) / 2  # (the gradient's path: its numbers are replaced by the lower triangle's below)
    A = (lower + lower.tril(-1).mT).detach() + (symmetric - symmetric.detach())
    info = np.zeros(A.shape[:-2], np.int32)
    columns = []
    for j in range(n):
        done = stack(columns, -1) if columns else A[..., :, :0]  # (..., n, j): the columns so far
        square = A[..., j, j] - (done[..., j, :] ** 2).sum(-1)
        failed = ((square <= 0) | (square != square)).cpu().numpy() & (info == 0)
        if failed.any() and check_errors:
            element = f"(Batch element {int(failed.reshape(-1).argmax())}): " if failed.ndim else ""
            raise LinAlgError(f"linalg.{name}: {element}The factorization could not be completed because the input "
                              f"is not positive-definite (the leading minor of order {j + 1} is not "
                              "positive-definite).")
        info = np.where(failed, j + 1, info)
        stopped = Tensor._make(info != 0, None).to(A.device)
        diagonal = where(stopped, 1.0, square).sqrt()
        below = (A[..., j + 1:, j] - (done[..., j + 1:, :] * done[..., j:j + 1, :]).sum(-1)) / diagonal.unsqueeze(-1)
        column = cat([A[..., :j, j] * 0, diagonal.unsqueeze(-1), below], -1)
        columns.append(where(stopped.unsqueeze(-1), 0.0, column))
    return stack(columns, -1), info


def cholesky(A, *, upper=False, out=None):
    """L with L L^T = A (lower-triangular; ``upper=True``: L^T). Only A's lower triangle is read, as PyTorch's
    does; the gradient is symmetric (see the module's docstring)."""
    _check_square("cholesky", A)
    _no_out("linalg.cholesky", out)
    if A.shape[-1] == 0:
        return A.clone()
    L, _ = _factor(A, "cholesky", check_errors=True)
    return L.mT if upper else L


def cholesky_ex(A, *, upper=False, check_errors=False, out=None):
    """(L, info), as ``cholesky`` but without raising (unless ``check_errors``): info is 0 for each matrix that
    factored, else the order of its first leading minor that is not positive-definite (an int32 tensor)."""
    _check_square("cholesky_ex", A)
    _no_out("linalg.cholesky_ex", out)
    if A.shape[-1] == 0:
        return _pair(A.clone(), Tensor._make(np.zeros(A.shape[:-2], np.int32), None))
    L, info = _factor(A, "cholesky_ex", check_errors)
    return _pair(L.mT if upper else L, Tensor._make(info, None).to(A.device))


def cholesky_solve(B, L, upper=False):
    """X with A X = B for A = L L^T (``upper``: A = U^T U), by two triangular solves."""
    _check_tensor("cholesky_solve", B)
    _check_square("cholesky_solve", L)
    lower = L.mT if upper else L
    return solve_triangular(lower.mT, solve_triangular(lower, B, upper=False), upper=True)


def cholesky_inverse(L, upper=False):
    """A^{-1} for A = L L^T (``upper``: A = U^T U): cholesky_solve of the identity."""
    _check_square("cholesky_inverse", L)
    return cholesky_solve(eye(L.shape[-1], dtype=L.dtype, device=L.device).expand(L.shape), L, upper)


def solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None):
    """X with A X = B (``left=False``: X A = B) for a triangular A (``upper`` says which triangle)."""
    _check_square("solve_triangular", A)
    _check_tensor("solve_triangular", B, "B")
    _no_out("linalg.solve_triangular", out)
    if not left:  # X A = B  <=>  A^T X^T = B^T, and A^T is triangular the other way
        return solve_triangular(A.mT, B.mT, upper=not upper, unitriangular=unitriangular).mT
    if B.ndim < 2 or B.shape[-2] != A.shape[-1]:
        raise RuntimeError(f"linalg.solve_triangular: B must have {A.shape[-1]} rows to match A, got shape "
                           f"{tuple(B.shape)}")
    batch = tuple(np.broadcast_shapes(tuple(A.shape[:-2]), tuple(B.shape[:-2])))
    A, B = A.expand(batch + tuple(A.shape[-2:])), B.expand(batch + tuple(B.shape[-2:]))
    n = A.shape[-1]
    if n == 0:
        return B * 1  # (nothing to solve: the empty X, in the graph)
    rows = [None] * n
    for i in (range(n - 1, -1, -1) if upper else range(n)):
        known = range(i + 1, n) if upper else range(i)  # the rows already solved
        rest = B[..., i, :]
        if known:
            solved = stack([rows[k] for k in known], -2)  # (..., len(known), k)
            coefficients = A[..., i, i + 1:] if upper else A[..., i, :i]
            rest = rest - (coefficients.unsqueeze(-1) * solved).sum(-2)
        rows[i] = rest if unitriangular else rest / A[..., i, i].unsqueeze(-1)
    return stack(rows, -2)


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Each vector of the last dim of ``input`` as the diagonal of a matrix: (..., n) -> (..., n, n)."""
    _check_tensor("diag_embed", input)
    if (offset, dim1, dim2) != (0, -2, -1):
        raise NotImplementedError("diag_embed(): only offset=0, dim1=-2, dim2=-1 are covered by tinygrad_lite")
    if input.ndim == 0:
        raise RuntimeError("diag_embed(): input must have at least 1 dim (the diagonals), got a 0-d tensor")
    return input.unsqueeze(-1) * eye(input.shape[-1], dtype=input.dtype, device=input.device)


Tensor.diag_embed = diag_embed
Tensor.cholesky_solve, Tensor.cholesky_inverse = cholesky_solve, cholesky_inverse
