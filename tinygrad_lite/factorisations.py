r"""The spectral factorisations and what is built on them, as ``torch.linalg``: ``eigh``, ``eigvalsh``, ``svd``,
``svdvals``, ``qr``, ``pinv``, ``matrix_rank``, ``lstsq`` and ``cond``; and the older ``torch.svd``, ``torch.qr``
and ``torch.pinverse``. The factorisations and the pseudo-inverse are ops (``ops/factorisations.py``: LAPACK's
numbers, our gradients); the rest is composed of them.

- ``eigh(A)``: A = V diag(L) V^T for a symmetric A, eigenvalues ascending. Only the lower triangle is read
  (``UPLO="U"``: the upper one). Each eigenvector is unique only up to its sign (up to a basis, for a repeated
  eigenvalue): the signs are LAPACK's, so they may differ from PyTorch's, as they may between two PyTorch builds.
- ``svd(A, full_matrices=True)``: A = U diag(S) Vh, S descending; the same remark on signs.
- ``qr(A, mode="reduced")``: A = Q R by Householder reflections (LAPACK's geqrf), so R's diagonal may be negative.
- ``pinv(A)``: the pseudo-inverse Vh^T diag(1/S) U^T, where singular values at or below
  cut = max(atol, rtol * S_max) count as 0 (rtol = eps * max(m, n) unless given, or 0 when only a positive atol
  is); ``matrix_rank`` counts the ones above the cut.
- ``lstsq(A, B)``: the X that minimises ||A X - B|| (the shortest one, if several do), as pinv(A) B. PyTorch asks
  LAPACK's drivers (gelsy on the CPU, gels on a GPU); where the problem has one answer theirs is this one, and
  the ``driver`` decides, as in PyTorch, which of ``residuals``, ``rank`` and ``singular_values`` come back filled.

The gradients hold where the factorisation is differentiable (distinct eigenvalues or singular values where the
vectors matter, a full-rank A for QR; the pseudo-inverse's where A's rank does not change). Deliberate differences:
no complex matrices (so no ``eig`` or ``eigvals``, whose results are complex); a GPU's ``driver=`` choices are
accepted and ignored (one implementation, CuPy's); lstsq's ``rcond`` cuts singular values as ``pinv``'s rtol does,
where gelsy estimates the rank from a pivoted QR (the same rank unless a singular value is within rounding of
the cut).
"""
import numpy as np

from . import dtypes as dt
from .creation import eye
from .device import array_module_of
from .functions import _check_tensor, _flag, _no_out
from .lu import det, inv
from .ops.factorisations import Eigh, Pinv, Qr, Svd
from .return_types import geqrf as geqrf_pair
from .return_types import linalg_eigh, linalg_lstsq, linalg_qr, linalg_svd
from .return_types import qr as qr_pair
from .return_types import svd as svd_triple
from .tensor import Tensor, where
from .triangular import LinAlgError

__all__ = ["eigh", "eigvalsh", "svd", "svdvals", "qr", "pinv", "matrix_rank", "lstsq", "cond", "householder_product",
           "geqrf"]

LSTSQ_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def _check_matrices(name, A, what="A", refuse_nan=False):
    """A Tensor of (a batch of) float32 or float64 matrices (LAPACK has no float16); ``refuse_nan``: nan gets the
    SVD's error, as PyTorch's (a matrix with inf gets nan results; its eigh and qr return nan for nan too)."""
    _check_tensor(name, A, what)
    if A.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor {what} must have at least 2 dimensions, got shape "
                           f"{tuple(A.shape)}")
    if A.dtype not in (dt.float32, dt.float64):  # (NotImplementedError is a RuntimeError)
        raise NotImplementedError(f"{name}: expected a float32 or float64 tensor (the precisions LAPACK has), got "
                                  f"{A.dtype}; convert it with .float() or .double()")
    if refuse_nan and bool(A.detach().isnan().any().item()):
        raise LinAlgError("linalg.svd: The algorithm failed to converge because the input matrix contained "
                          "non-finite values.")


def eigh(A, UPLO="L", *, out=None):
    """(eigenvalues, eigenvectors) of a symmetric A: L ascending, V's columns the unit eigenvectors."""
    return linalg_eigh(*_eigh("linalg.eigh", A, UPLO, out))


def eigvalsh(A, UPLO="L", *, out=None):
    """The eigenvalues of a symmetric A, ascending (their gradient, V diag(gL) V^T, is finite for repeated ones)."""
    return _eigh("linalg.eigvalsh", A, UPLO, out)[0]


def _eigh(name, A, UPLO, out):
    _no_out(name, out)
    _check_symmetric(name, A, UPLO)
    return Eigh.apply(A, UPLO=UPLO.upper())


def _check_symmetric(name, A, UPLO="L"):
    """Square matrices, a valid UPLO, and inf or nan nowhere in the triangle that LAPACK reads."""
    _check_matrices(name, A)
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are {A.shape[-2]} by "
                           f"{A.shape[-1]} matrices")
    if UPLO not in ("L", "U", "l", "u"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    triangle = A.tril() if UPLO in "Ll" else A.triu()
    if not bool(triangle.detach().isfinite().all().item()):
        raise LinAlgError(f"{name}: The algorithm failed to converge because the input matrix has inf or nan in "
                          f"the triangle it reads (UPLO='{UPLO.upper()}').")


def _check_driver(name, A, driver):
    if driver is not None and A.device.type != "cuda":
        raise RuntimeError(f"{name}: keyword argument `driver=` is only supported on CUDA inputs with cuSOLVER "
                           "backend.")


def svd(A, full_matrices=True, *, driver=None, out=None):
    """(U, S, Vh) with A = U diag(S) Vh; ``full_matrices=False``: U of m x k and Vh of k x n, k = min(m, n)."""
    _check_matrices("linalg.svd", A, refuse_nan=True)
    _no_out("linalg.svd", out)
    _check_driver("torch.linalg.svd", A, driver)
    return linalg_svd(*Svd.apply(A, full_matrices=_flag("linalg.svd", "full_matrices", full_matrices)))


def svdvals(A, *, driver=None, out=None):
    """The singular values of A, descending (their gradient, U diag(gS) Vh, is finite for repeated ones)."""
    _check_matrices("linalg.svdvals", A, refuse_nan=True)
    _no_out("linalg.svdvals", out)
    _check_driver("torch.linalg.svdvals", A, driver)
    return Svd.apply(A, full_matrices=False)[1]


def svd_old(input, some=True, compute_uv=True, *, out=None):
    """``torch.svd``: (U, S, V) with A = U diag(S) V^T (V, not Vh); ``some=False``: U and V square.
    ``compute_uv=False``: U and V are zeros of m x m and n x n, as PyTorch's."""
    _check_matrices("svd", input, "input", refuse_nan=True)
    _no_out("svd", out)
    some, compute_uv = _flag("svd", "some", some), _flag("svd", "compute_uv", compute_uv)
    if not compute_uv:
        m, n = input.shape[-2:]
        zeros = [input.new_zeros(tuple(input.shape[:-2]) + (k, k)) for k in (m, n)]
        return svd_triple(zeros[0], svdvals(input), zeros[1])
    U, S, Vh = svd(input, full_matrices=not some)
    return svd_triple(U, S, Vh.mT)


def qr(A, mode="reduced", *, out=None):
    """(Q, R) with A = Q R: mode "reduced" (Q of m x k), "complete" (Q square) or "r" (R only; Q empty)."""
    _check_matrices("linalg.qr", A)
    _no_out("linalg.qr", out)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', "
                           "or 'complete'")
    return linalg_qr(*Qr.apply(A, mode=mode))


def qr_old(input, some=True, *, out=None):
    """``torch.qr``: ``linalg.qr`` with ``some=True`` as mode "reduced", ``some=False`` as "complete"."""
    _check_matrices("qr", input, "input")
    _no_out("qr", out)
    return qr_pair(*qr(input, "reduced" if _flag("qr", "some", some) else "complete"))


def _tolerances(name, A, atol, rtol):
    """(atol, rtol) as numbers or arrays of one per matrix (..., 1); rtol = eps * max(m, n) when it is not given,
    unless a positive atol is (then 0), as PyTorch decides."""
    def as_number_or_array(value, what):
        if isinstance(value, Tensor):
            try:
                np.broadcast_shapes(tuple(value.shape), tuple(A.shape[:-2]))
            except ValueError:
                raise RuntimeError(f"{name}: {what} of shape {tuple(value.shape)} does not broadcast with the batch "
                                   f"{tuple(A.shape[:-2])} of A (one tolerance per matrix)") from None
            return value.detach().to(A.dtype).to(A.device).array[..., None]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{name}(): argument '{what}' must be a number or a Tensor, not {type(value).__name__}")
        return float(value)
    atol = 0.0 if atol is None else as_number_or_array(atol, "atol")
    if rtol is None:
        positive = bool((atol > 0).all()) if not isinstance(atol, float) else atol > 0
        return atol, 0.0 if positive else float(np.finfo(A.array.dtype).eps) * max(A.shape[-2:])
    return atol, as_number_or_array(rtol, "rtol")


def pinv(A, rcond=None, hermitian=False, *, atol=None, rtol=None, out=None):
    """The pseudo-inverse A^+ (the module's docstring). ``rcond`` is PyTorch's older name for ``rtol``;
    ``hermitian``: from ``eigh`` of A's lower triangle, A^+ = V diag(1/L) V^T."""
    hermitian = _flag("linalg.pinv", "hermitian", hermitian)
    _check_matrices("linalg.pinv", A, refuse_nan=not hermitian)
    _no_out("linalg.pinv", out)
    if rcond is not None and (atol is not None or rtol is not None):
        raise TypeError("linalg.pinv(): give rcond (PyTorch's older name for rtol) or atol/rtol, not both")
    atol, rtol = _tolerances("linalg.pinv", A, atol, rcond if rcond is not None else rtol)
    if hermitian:
        _check_symmetric("linalg.pinv", A)
    return Pinv.apply(A, atol=atol, rtol=rtol, hermitian=hermitian)


def pinverse(input, rcond=1e-15):
    """``torch.pinverse``: ``linalg.pinv`` with ``rcond`` relative to the largest singular value."""
    _check_matrices("pinverse", input, "input")
    if isinstance(rcond, bool) or not isinstance(rcond, (int, float, Tensor)):
        raise TypeError(f"pinverse(): argument 'rcond' must be a number or a Tensor, not {type(rcond).__name__}")
    return pinv(input, rtol=rcond)


def matrix_rank(A, tol=None, hermitian=False, *, atol=None, rtol=None, out=None):
    """How many singular values (|eigenvalues| when ``hermitian``) are above the cut: an int64 tensor per matrix.
    ``tol`` is PyTorch's older name for ``atol``."""
    hermitian = _flag("linalg.matrix_rank", "hermitian", hermitian)
    _check_matrices("torch.linalg.matrix_rank", A, "input", refuse_nan=not hermitian)
    _no_out("linalg.matrix_rank", out)
    if tol is not None and (atol is not None or rtol is not None):
        raise TypeError("linalg.matrix_rank(): give tol (PyTorch's older name for atol) or atol/rtol, not both")
    atol, rtol = _tolerances("linalg.matrix_rank", A, tol if tol is not None else atol, rtol)
    return _above_the_cut((eigvalsh(A).abs() if hermitian else svdvals(A)).detach(), atol, rtol)


def _above_the_cut(S, atol, rtol):
    """How many of the values S (..., k) are above max(atol, rtol * their largest): an int64 tensor per matrix."""
    largest = S.amax(-1, keepdim=True) if S.shape[-1] else S.sum(-1, keepdim=True)
    cut = (largest.array * rtol).clip(atol)
    return Tensor._make((S.array > cut).sum(-1).astype(np.int64), None)


def lstsq(A, B, rcond=None, *, driver=None):
    """(solution, residuals, rank, singular_values): X = pinv(A) B, the least-squares solution of A X = B of the
    smallest norm. As PyTorch's drivers: ``rank`` for gelsy, gelsd and gelss; ``singular_values`` for gelsd and
    gelss; ``residuals`` (the squared norm of each column of A X - B) for all but gelsy, when m > n and every
    matrix has full rank. The default driver is gelsy on the CPU, gels (the only one, for m >= n) on a GPU.
    ``rcond`` as LAPACK reads it: gels ignores it (and refuses a matrix without full rank), gelsd takes eps for a
    value outside (0, 1), gelss for a negative one; gelsy's pivoted QR is played by the SVD's cut (the same rank and
    solution for a matrix of full rank, not always when rcond cuts singular values). Deliberate difference: where
    rcond cuts singular values, the gradient is the derivative of this (cut) solution; PyTorch's backward
    differentiates the uncut pinv(A) B instead."""
    _check_matrices("torch.linalg.lstsq", A, "input", refuse_nan=True)
    _check_tensor("torch.linalg.lstsq", B, "b")
    if B.dtype != A.dtype:
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same dtype, but got "
                           f"input's dtype {A.dtype} and other's dtype {B.dtype}")
    if not (A.ndim >= B.ndim and A.ndim - B.ndim <= 1):
        raise RuntimeError("torch.linalg.lstsq: input.dim() must be greater or equal to other.dim() and "
                           "(input.dim() - other.dim()) <= 1")
    on_gpu = A.device.type == "cuda"
    driver = driver.lower() if isinstance(driver, str) else "gels" if on_gpu and driver is None else \
        "gelsy" if driver is None else driver
    if driver not in LSTSQ_DRIVERS:
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")
    m, n = A.shape[-2:]
    if on_gpu and (driver != "gels" or m < n):
        raise RuntimeError("torch.linalg.lstsq: on CUDA only the `gels` driver, for overdetermined systems "
                           f"(input.size(-2) >= input.size(-1)), is supported; got driver {driver!r} and {m} x {n}")
    vector = B.ndim == A.ndim - 1
    B = B.unsqueeze(-1) if vector else B
    if B.shape[-2] != m:
        raise RuntimeError(f"torch.linalg.lstsq: input.size(-2) should match other.size(-2), got {m} and "
                           f"{B.shape[-2]}")
    eps = float(np.finfo(A.array.dtype).eps)
    if driver == "gels" or (driver == "gelsd" and rcond is not None and not 0 < rcond < 1) or (
            driver == "gelss" and rcond is not None and rcond < 0):
        rcond = None if driver != "gelsd" else eps
    S = svdvals(A).detach()  # (once: the rank is counted from them, and gelsd and gelss return them)
    rank = _above_the_cut(S, *_tolerances("torch.linalg.lstsq", A, None, rcond))
    if driver == "gels" and bool((rank < min(m, n)).any().item()):
        raise LinAlgError("torch.linalg.lstsq: The least squares solution could not be computed because the input "
                          f"matrix does not have full rank (error code: {int(rank.min().item()) + 1}).")
    X = pinv(A, rtol=rcond) @ B
    empty = A.new_zeros(0)
    full_rank = bool((rank == n).all().item())
    residuals = ((A @ X - B) ** 2).sum(-2) if driver != "gelsy" and m > n and full_rank else empty
    if vector:
        X, residuals = X.squeeze(-1), residuals.squeeze(-1) if residuals.ndim > 1 else residuals
    return linalg_lstsq(X, residuals, rank if driver != "gels" else rank.new_zeros(0),
                        S if driver in ("gelsd", "gelss") else empty)


def cond(A, p=None, *, out=None):
    """The condition number ||A|| ||A^{-1}||: for p None or 2, S_max / S_min (-2: S_min / S_max); for "fro", "nuc",
    1, -1, inf and -inf, the norms of a square A and of its inverse (inf for a singular A, and where the product is
    nan, as PyTorch's). Empty matrices: 0."""
    _check_matrices("linalg.cond", A)
    _no_out("linalg.cond", out)
    if p not in (None, 2, -2) and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.cond(ord={p}): A must be batches of square matrices, but they are {A.shape[-2]} "
                           f"by {A.shape[-1]} matrices")
    if 0 in A.shape[-2:]:
        return A.new_zeros(tuple(A.shape[:-2]))
    if p in (None, 2, -2):
        S = svdvals(A)
        big, small = S[..., 0], S[..., -1]
        return big / small if p != -2 else small / big
    from .linalg import matrix_norm  # (linalg imports this module)
    singular = (det(A) == 0).detach().unsqueeze(-1).unsqueeze(-1)  # (their number is inf, as PyTorch's)
    invertible = where(singular, eye(A.shape[-1], dtype=A.dtype, device=A.device), A)
    product = matrix_norm(invertible, p) * matrix_norm(inv(invertible), p)
    return where(singular.squeeze((-2, -1)) | product.isnan(), float("inf"), product)


def geqrf(input, *, out=None):
    """(a, tau): QR in LAPACK's packed form (geqrf): R on and above a's diagonal, the Householder vectors below it
    (each with an implied 1 on the diagonal), and their factors tau; ``householder_product(a, tau)`` gives Q. Not
    differentiable, as PyTorch's."""
    _check_matrices("geqrf", input, "input")
    _no_out("geqrf", out)
    packed, tau = array_module_of(input.array).linalg.qr(input.detach().array, "raw")
    return geqrf_pair(Tensor._make(packed.swapaxes(-1, -2).copy(), None), Tensor._make(tau, None))


def householder_product(A, tau, *, out=None):
    """The first n columns of H_1 H_2 ... H_k, H_i = I - tau_i v_i v_i^T, v_i being A's column i below the diagonal
    with 1 on it (LAPACK's orgqr; with geqrf's result, QR's Q). Composed of the library's ops (one reflection a
    step), so autograd differentiates it in A and tau."""
    _check_matrices("linalg.householder_product", A)
    _check_tensor("linalg.householder_product", tau, "tau")
    _no_out("linalg.householder_product", out)
    m, n = A.shape[-2:]
    k = tau.shape[-1]
    if not (m >= n >= k) or tuple(tau.shape[:-1]) != tuple(A.shape[:-2]):
        raise RuntimeError(f"torch.linalg.householder_product: expected A of m x n with m >= n >= k and tau of "
                           f"A's batch and k; got A {tuple(A.shape)} and tau {tuple(tau.shape)}")
    units = eye(m, dtype=A.dtype, device=A.device)
    below = units.new_ones(m, m).tril(-1)  # (below[r, i] = 1 where r > i)
    Q = eye(m, n, dtype=A.dtype, device=A.device).expand(tuple(A.shape[:-2]) + (m, n))
    for i in reversed(range(k)):  # (Q = H_i Q, from the last reflection to the first)
        v = A[..., :, i] * below[:, i] + units[:, i]  # (A's column i below the diagonal, 1 on it, 0 above)
        Q = Q - tau[..., i, None, None] * v.unsqueeze(-1) * (v.unsqueeze(-2) @ Q)
    return Q


def orgqr(input, tau):
    """``torch.orgqr``: ``linalg.householder_product``."""
    _check_tensor("orgqr", input, "input")
    _check_tensor("orgqr", tau, "tau")
    return householder_product(input, tau)


Tensor.svd, Tensor.qr, Tensor.pinverse, Tensor.geqrf, Tensor.orgqr = svd_old, qr_old, pinverse, geqrf, orgqr
