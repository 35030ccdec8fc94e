r"""Products of tensors beyond ``matmul``, composed of it and of reshapes, so that their gradients come from the
ops they are made of: ``tensordot``, ``inner``, ``kron``, ``cross`` (``linalg.cross``), ``matrix_power``
(``linalg.matrix_power``), ``chain_matmul`` and ``linalg.multi_dot``, ``addr``, ``matrix_exp`` (``linalg.matrix_exp``).

- ``tensordot(a, b, dims)``: sums over pairs of dims, a's last ``dims`` with b's first (or the listed pairs):
  a's kept dims, then b's. Made as one matrix product of a reshaped to (kept, summed) and b to (summed, kept).
- ``kron(a, b)``: the Kronecker product, out[i k, j l] = a[i, j] b[k, l] in 2-D (every dim alike): a with a dim of
  size 1 after each of its dims, times b with one before each of its, merged pairwise.
- ``cross(a, b, dim)``: the cross product of 3-vectors along ``dim`` (a x b = (a1 b2 - a2 b1, a2 b0 - a0 b2,
  a0 b1 - a1 b0)).
- ``matrix_power(A, n)``: A^n by repeated squaring (n = 0: the identity; n < 0: the inverse's power).
- ``matrix_exp(A)``: e^A = \sum_k A^k / k!, by scaling and squaring: e^A = (e^{A / 2^s})^{2^s}, with s the
  smallest that brings ||A / 2^s||_1 to at most 1, where the series to degree 18 (Horner's rule) is exact to
  float64's rounding (the first term left out is at most 1 / 19! = 8e-18 of the sum's size); then s squarings.
  One s for the whole batch (the largest): the extra squarings of the smaller matrices cost rounding only.
"""
import builtins
import functools
import math
import warnings

from numpy import broadcast_shapes

from .creation import eye
from .functions import _check_tensor, _tensor_list, stack, with_out
from .inplace_methods import in_place
from .shapes import as_int, dim_index
from .tensor import Tensor, matmul

__all__ = ["tensordot", "inner", "kron", "cross", "matrix_power", "matrix_exp", "chain_matmul", "multi_dot", "addr"]


def tensordot(a, b, dims=2, out=None):
    """The sum over ``dims`` pairs of dims: an int n (a's last n with b's first n) or two lists of dims."""
    _check_tensor("tensordot", a), _check_tensor("tensordot", b)
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if not 0 <= dims <= builtins.min(a.ndim, b.ndim):
            raise RuntimeError(f"tensordot(): dims={dims} must be between 0 and the smaller number of dims "
                               f"({builtins.min(a.ndim, b.ndim)}): it counts a's last dims summed with b's first")
        summed_a, summed_b = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    elif isinstance(dims, (list, tuple)) and len(dims) == 2:
        summed_a, summed_b = ([d] if isinstance(d, int) else list(d) for d in dims)
    else:
        raise TypeError(f"tensordot(): dims must be an int or a pair of lists of dims, got {dims!r:.60}")
    summed_a = [dim_index(d, a.ndim, "tensordot") for d in summed_a]
    summed_b = [dim_index(d, b.ndim, "tensordot") for d in summed_b]
    if len(summed_a) != len(summed_b):
        raise RuntimeError(f"both dimension lists should have same length, got {summed_a} and {summed_b}")
    for i, j in zip(summed_a, summed_b):
        if a.shape[i] != b.shape[j]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {a.shape[i]} in dim {i} "
                               f"and second has size {b.shape[j]} in dim {j}")
    kept_a = [d for d in range(a.ndim) if d not in summed_a]
    kept_b = [d for d in range(b.ndim) if d not in summed_b]
    size = builtins.int(functools.reduce(lambda p, d: p * a.shape[d], summed_a, 1))
    left = a.permute(*kept_a, *summed_a).reshape(-1, size)
    right = b.permute(*summed_b, *kept_b).reshape(size, -1)
    result = (left @ right).reshape(*[a.shape[d] for d in kept_a], *[b.shape[d] for d in kept_b])
    return result if out is None else out.copy_(result)


def inner(input, other):
    """The sum over the last dim of both (a dot product for vectors); a number times a tensor for a 0-d one."""
    _check_tensor("inner", input), _check_tensor("inner", other)
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner(): the last dims must be the same size, got shapes {tuple(input.shape)} and "
                           f"{tuple(other.shape)}")
    return tensordot(input, other, dims=([-1], [-1]))


def kron(input, other):
    """The Kronecker product: every element of ``input`` times the whole of ``other``, laid out in blocks."""
    _check_tensor("kron", input), _check_tensor("kron", other)
    n = builtins.max(input.ndim, other.ndim)
    a = input.reshape((1,) * (n - input.ndim) + tuple(input.shape))
    b = other.reshape((1,) * (n - other.ndim) + tuple(other.shape))
    spread_a = a.reshape([s for size in a.shape for s in (size, 1)])
    spread_b = b.reshape([s for size in b.shape for s in (1, size)])
    return (spread_a * spread_b).reshape([p * q for p, q in zip(a.shape, b.shape)])


def cross(input, other, dim=None):
    """The cross product of the 3-vectors along ``dim`` (``torch.cross``: the first dim of size 3 when None, with
    a warning, as PyTorch's; ``linalg.cross``: -1)."""
    _check_tensor("cross", input), _check_tensor("cross", other)
    shape = _broadcast(input, other)
    a, b = input.broadcast_to(shape), other.broadcast_to(shape)
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated. Please either pass the dim "
                      "explicitly or simply use torch.linalg.cross. The default value of dim will change to agree "
                      "with that of linalg.cross in a future release.", UserWarning, stacklevel=2)
        dim = next((d for d, size in enumerate(a.shape) if size == 3), None)
        if dim is None:
            raise RuntimeError(f"no dimension of size 3 in input of shape {tuple(a.shape)}")
    d = dim_index(dim, a.ndim, "cross")
    if a.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {a.shape[d]} and "
                           f"{b.shape[d]}")
    a0, a1, a2 = a.unbind(d)
    b0, b1, b2 = b.unbind(d)
    return stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], dim=d)


def _broadcast(a, b):
    """The shape both broadcast to, or PyTorch's RuntimeError."""
    try:
        return broadcast_shapes(tuple(a.shape), tuple(b.shape))
    except ValueError:
        raise RuntimeError(f"linalg.cross: the shapes {tuple(a.shape)} and {tuple(b.shape)} do not broadcast") from None


def matrix_power(input, n):
    """A^n for square matrices (a batch too): repeated squaring; n = 0 the identity, n < 0 the inverse's power."""
    _check_tensor("matrix_power", input)
    n = as_int(n, "matrix_power", "n")
    if input.ndim < 2 or input.shape[-1] != input.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but they are "
                           f"{input.shape[-2] if input.ndim > 1 else 1} by {input.shape[-1]} matrices")
    if n == 0:
        identity = eye(input.shape[-1], dtype=input.dtype, device=input.device)
        return identity.expand(*input.shape).clone()
    if n == 1:
        return input.clone()  # (a new tensor, as PyTorch's: changing it leaves A alone)
    base = input if n > 0 else input.inverse()
    result, power = None, builtins.abs(n)
    while power:
        if power & 1:
            result = base if result is None else matmul(result, base)
        power >>= 1
        if power:
            base = matmul(base, base)
    return result


def matrix_exp(A):
    """e^A for (a batch of) square matrices (the module's docstring): composed of matmuls, so autograd gives its
    gradient (PyTorch's own backward computes the same derivative)."""
    _check_tensor("matrix_exp", A)
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.matrix_exp: A must be batches of square matrices, got shape {tuple(A.shape)}")
    if not A.dtype.is_floating_point:
        raise RuntimeError(f"linalg.matrix_exp: Expected a floating point tensor as input. Got {A.dtype}")
    identity = eye(A.shape[-1], dtype=A.dtype, device=A.device)
    if A.numel() == 0:
        return A * 1
    largest = A.detach().abs().sum(-2).amax().item()  # (the largest column sum: ||A||_1 over the batch)
    squarings = builtins.max(0, math.ceil(math.log2(largest))) if 0 < largest < math.inf else 0
    X = A / 2 ** squarings
    result = identity + X / 18
    for k in range(17, 0, -1):  # Horner: I + X (I + X/2 (I + X/3 (...)))
        result = identity + matmul(X, result) / k
    for _ in range(squarings):
        result = matmul(result, result)
    return result


def multi_dot(tensors, name="multi_dot"):
    """A chain of matrix products, the first and last operands may be vectors (``linalg.multi_dot``)."""
    tensors = _tensor_list(name, tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"{name}(): expected at least 2 tensors but got {len(tensors)}")
    try:
        return functools.reduce(matmul, tensors)
    except RuntimeError as error:
        raise RuntimeError(f"{name}(): {error}") from None


def chain_matmul(*matrices):
    """Deprecated in PyTorch for ``linalg.multi_dot``: the product of the matrices in order."""
    if len(matrices) == 1 and isinstance(matrices[0], Tensor):
        return matrices[0].clone()
    return multi_dot(matrices, "chain_matmul")


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """beta input + alpha outer(vec1, vec2)."""
    _check_tensor("addr", input), _check_tensor("addr", vec1, "vec1"), _check_tensor("addr", vec2, "vec2")
    if vec1.ndim != 1 or vec2.ndim != 1:
        raise RuntimeError(f"addr(): vec1 and vec2 must be vectors (1-D), got shapes {tuple(vec1.shape)} and "
                           f"{tuple(vec2.shape)}")
    product = vec1.outer(vec2)
    scaled = product if alpha == 1 else product * alpha
    if beta == 0:  # (input is then ignored, nan and inf in it too, as PyTorch's)
        return scaled + input.new_zeros(input.shape)
    return (input if beta == 1 else input * beta) + scaled


def linalg_cross(input, other, *, dim=-1):
    """``linalg.cross``: the cross product along ``dim`` (the last by default)."""
    return cross(input, other, dim)


for _function in (inner, kron, cross, matrix_power, matrix_exp, addr):
    setattr(Tensor, _function.__name__, _function)
Tensor.addr_ = in_place("addr", addr)
tensordot, inner, kron, cross, linalg_cross, addr = (with_out(f) for f in (tensordot, inner, kron, cross,
                                                                               linalg_cross, addr))
