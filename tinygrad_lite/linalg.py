r"""``tinygrad_lite.linalg``: norms, as ``torch.linalg``, and the factorisations, from the modules that compute them.

- ``vector_norm(x, ord=2, dim=None, keepdim=False)``: ||x||_p = (\sum_i |x_i|^p)^{1/p} over ``dim`` (all elements
  when None); ord may be any number, ``inf`` (largest |x_i|), ``-inf`` (smallest) or 0 (count of non-zeros).
- ``matrix_norm(A, ord="fro", dim=(-2, -1))``: "fro" (the 2-norm of all entries), 1 / -1 (largest / smallest
  column sum of |A|), inf / -inf (largest / smallest row sum of |A|), "nuc" (the sum of the singular values), 2 / -2
  (the largest / smallest singular value).
- ``norm(A, ord=None, dim=None)``: a vector norm or a matrix norm, chosen by ``ord``, ``dim`` and A's dims.

``torch.norm`` and ``Tensor.norm`` (the older API, ``p="fro"`` by default) are vector norms, computed in tensor.py.
The gradient of every norm is exact, and 0 at the zero vector (see ``ops/norm.py``).
``cholesky``, ``cholesky_ex`` and ``solve_triangular`` are composed in ``triangular.py``; ``solve``, ``inv``,
``det``, ``slogdet``, their ``_ex`` forms, ``lu_factor``, ``lu``, ``lu_solve``, ``tensorinv`` and ``tensorsolve`` in
``lu.py``; ``eigh``, ``eigvalsh``, ``svd``, ``svdvals``, ``qr``, ``pinv``, ``matrix_rank``, ``lstsq`` and ``cond``
in ``factorisations.py``; ``matrix_exp``, ``matrix_power`` and ``multi_dot`` in ``products.py``. ``vecdot``,
``matmul``, ``diagonal`` and ``vander`` (increasing powers, unlike ``torch.vander``) are here. Not covered: complex
matrices, and so ``eig`` and ``eigvals``; the LDL factorisation.
"""
import math

from . import dtypes as dt
from .coverage import missing_names as _missing_names
from .factorisations import (  # (factorisations.py)
    cond,
    eigh,
    eigvalsh,
    householder_product,
    lstsq,
    matrix_rank,
    pinv,
    qr,
    svd,
    svdvals,
)
from .functions import _no_out, cat
from .lu import (  # (lu.py)
    det,
    inv,
    inv_ex,
    lu,
    lu_factor,
    lu_factor_ex,
    lu_solve,
    slogdet,
    solve,
    solve_ex,
    tensorinv,
    tensorsolve,
)
from .products import linalg_cross as cross  # (composed of matmul and reshapes: products.py)
from .products import matrix_exp, matrix_power, multi_dot
from .shapes import dim_indices
from .tensor import Tensor, _numpy_names
from .tensor import matmul as _matmul
from .tensor import vector_norm as _vector_norm
from .triangular import LinAlgError, cholesky, cholesky_ex, solve_triangular  # (composed: triangular.py)


def _check_input(name, x, dtype):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be a Tensor, not {type(x).__name__}")
    x = x.to(dt.as_dtype(dtype, name)) if dtype is not None else x
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"{name}: expected a floating point tensor as input, got {x.dtype}; convert it first "
                           "with .float()")
    return x


def vector_norm(input, ord=2, dim=None, keepdim=False, *, dtype=None):
    """The vector ``ord``-norm of ``input`` over ``dim`` (all elements when None); computed in tensor.py, as
    ``Tensor.norm`` computes it too."""
    if not isinstance(input, Tensor):
        raise TypeError(f"linalg.vector_norm(): argument 'input' must be a Tensor, not {type(input).__name__}")
    return _vector_norm(input, ord, dim, keepdim, dtype=dtype)


def matrix_norm(input, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """The matrix norm of ``input`` (A) over the two dims ``dim`` (a batch of matrices is fine)."""
    A = _check_input("linalg.matrix_norm", input, dtype)
    if A.ndim < 2:
        raise RuntimeError(f"linalg.matrix_norm: the input must have at least 2 dims, got shape {tuple(A.shape)}; "
                           "for a vector use linalg.vector_norm")
    if len(tuple(dim)) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple of the matrices' dims, got {tuple(dim)}")
    rows, cols = dim_indices(tuple(dim), A.ndim, "linalg.matrix_norm")
    if ord == "fro":
        return vector_norm(A, 2, (rows, cols), keepdim)
    if ord in ("nuc", 2, -2):  # (the singular values' sum, largest, smallest)
        S = svdvals(A.movedim((rows, cols), (-2, -1)))
        largest = S.amax(-1) if S.shape[-1] else S.sum(-1)  # (an empty matrix's 2-norm is 0; its -2 is undefined)
        out = S.sum(-1) if ord == "nuc" else largest if ord == 2 else S.amin(-1)
        kept = tuple(1 if d in (rows, cols) else size for d, size in enumerate(A.shape))
        return out.reshape(kept) if keepdim else out
    if ord in (1, -1, math.inf, -math.inf):
        summed, extreme = (rows, cols) if abs(ord) == 1 else (cols, rows)  # 1: column sums; inf: row sums
        sums = A.abs().sum(summed, keepdim=True)
        out = sums.amax(extreme, keepdim=True) if ord > 0 else sums.amin(extreme, keepdim=True)
        return out if keepdim else out.squeeze((rows, cols))
    raise RuntimeError(f"linalg.matrix_norm: ord must be 'fro', 'nuc', 1, -1, 2, -2, inf or -inf, got {ord!r}")


def norm(input, ord=None, dim=None, keepdim=False, *, dtype=None):
    """A vector norm or a matrix norm: with ``dim`` an int (or None with a 1-D input, or ord None) a vector norm,
    with ``dim`` a pair (or None with a 2-D input and an ord given) a matrix norm."""
    A = input
    if isinstance(dim, int) or (dim is not None and len(dim) == 1):
        return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
    if dim is not None:
        return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    ndim = A.ndim if isinstance(A, Tensor) else None
    if ndim == 1:
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    if ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    raise RuntimeError(f"linalg.norm: with ord={ord!r} and no dim, the input must be 1-D or 2-D, got {ndim} dims; "
                       "pass dim, or use linalg.vector_norm for the norm of all elements")


def vecdot(x, y, *, dim=-1, out=None):
    """The dot products of the vectors along ``dim`` (x and y broadcast): (x * y).sum(dim), for real numbers."""
    _check_input("linalg.vecdot", x, None)
    if isinstance(y, Tensor) and y.dtype != x.dtype:
        raise RuntimeError(f"linalg.vecdot: Expected x and y to have the same dtype, but found x of type {x.dtype} "
                           f"and y of type {y.dtype} instead")
    _no_out("linalg.vecdot", out)
    return (x * y).sum(dim)


def matmul(input, other, *, out=None):
    """``linalg.matmul``: ``matmul``."""
    _no_out("linalg.matmul", out)
    return _matmul(input, other)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """``linalg.diagonal``: ``A.diagonal`` with the last two dims as the default."""
    if not isinstance(A, Tensor):
        raise TypeError(f"linalg.diagonal(): argument 'A' must be a Tensor, not {type(A).__name__}")
    return A.diagonal(offset, dim1, dim2)


def vander(x, *, N=None):
    """The Vandermonde matrix with increasing powers, 1, x, ..., x^{N-1}, for (a batch of) vectors: by cumulative
    products of x, so that its gradient is exact at x = 0 too."""
    if not isinstance(x, Tensor):
        raise TypeError(f"linalg.vander(): argument 'x' must be a Tensor, not {type(x).__name__}")
    if x.ndim < 1:
        raise RuntimeError("linalg.vander: x must have at least 1 dimension (a vector, or a batch of them)")
    if x.dtype == dt.bool:
        raise RuntimeError("linalg.vander supports floating point, complex, and integer tensors, but got Bool")
    n = x.shape[-1] if N is None else N
    if n <= 1:
        raise RuntimeError("N must be greater than 1.")
    repeated = x.unsqueeze(-1).expand(tuple(x.shape) + (n - 1,))
    return cat([x.unsqueeze(-1) ** 0, repeated], -1).cumprod(-1)


norm, vector_norm, matrix_norm = (_numpy_names(f) for f in (norm, vector_norm, matrix_norm))  # (axis=, keepdims=)
__all__ = ["norm", "vector_norm", "matrix_norm", "cholesky", "cholesky_ex", "solve_triangular", "LinAlgError", "solve",
           "inv", "det", "slogdet", "cross", "matrix_power", "multi_dot", "eigh", "eigvalsh", "svd", "svdvals", "qr",
           "pinv", "matrix_rank", "lstsq", "cond", "inv_ex", "solve_ex", "lu_factor", "lu_factor_ex", "lu", "lu_solve",
           "tensorinv", "tensorsolve", "matrix_exp", "vecdot", "matmul", "diagonal", "vander", "householder_product"]


__getattr__ = _missing_names(__name__)  # (a name this module lacks: what the library has instead)
