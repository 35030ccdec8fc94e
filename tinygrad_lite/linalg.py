r"""``tinygrad_lite.linalg``: norms, as ``torch.linalg``.

- ``vector_norm(x, ord=2, dim=None, keepdim=False)``: ||x||_p = (\sum_i |x_i|^p)^{1/p} over ``dim`` (all elements
  when None); ord may be any number, ``inf`` (largest |x_i|), ``-inf`` (smallest) or 0 (count of non-zeros).
- ``matrix_norm(A, ord="fro", dim=(-2, -1))``: "fro" (the 2-norm of all entries), 1 / -1 (largest / smallest
  column sum of |A|), inf / -inf (largest / smallest row sum of |A|).
- ``norm(A, ord=None, dim=None)``: a vector norm or a matrix norm, chosen by ``ord``, ``dim`` and A's dims.

``torch.norm`` and ``Tensor.norm`` (the older API, ``p="fro"`` by default) are vector norms, computed in tensor.py.
The gradient of every norm is exact, and 0 at the zero vector (see ``ops/norm.py``).
``cholesky``, ``cholesky_ex`` and ``solve_triangular`` are composed in ``triangular.py``; ``solve``, ``inv``,
``det`` and ``slogdet`` in ``lu.py``.
Not covered: the spectral norm (ord 2 / -2 of a matrix) and the nuclear norm ("nuc"), which need an SVD, nor the
other factorisations (eigh, svd, qr).
"""
import math

from . import dtypes as dt
from .coverage import missing_names as _missing_names
from .lu import det, inv, slogdet, solve  # (composed: lu.py)
from .products import linalg_cross as cross  # (composed of matmul and reshapes: products.py)
from .products import matrix_power, multi_dot
from .shapes import dim_indices
from .tensor import Tensor, _numpy_names
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
    if ord in ("nuc", 2, -2):
        raise NotImplementedError(f"linalg.matrix_norm: ord={ord!r} needs singular values (an SVD), which "
                                  "tinygrad_lite does not compute; 'fro', 1, -1, inf and -inf are supported")
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


norm, vector_norm, matrix_norm = (_numpy_names(f) for f in (norm, vector_norm, matrix_norm))  # (axis=, keepdims=)
__all__ = ["norm", "vector_norm", "matrix_norm", "cholesky", "cholesky_ex", "solve_triangular", "LinAlgError", "solve",
           "inv", "det", "slogdet", "cross", "matrix_power", "multi_dot"]


__getattr__ = _missing_names(__name__)  # (a name this module lacks: what the library has instead)
