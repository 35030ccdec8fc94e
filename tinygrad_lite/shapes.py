"""Shape and dim arguments: accepting PyTorch's forms and explaining what is wrong with a bad one."""
import builtins

import numpy as np


def check_broadcast(op, a, b):
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        k = next(k for k in range(1, builtins.min(len(a), len(b)) + 1) if a[-k] != b[-k] and 1 not in (a[-k], b[-k]))
        raise RuntimeError(f"{op}: shapes {a} and {b} cannot be broadcast together: lined up from the right, dim -{k} "
                           f"has size {a[-k]} vs {b[-k]} (sizes must be equal or one of them 1). Reshape or unsqueeze "
                           "one operand, or check that these are the tensors you meant to combine.") from None


def dim_index(d, ndim, op):
    """Check a dim index and make it non-negative (-1 is the last dim)."""
    n = builtins.max(ndim, 1)
    if not -n <= d < n:
        raise IndexError(f"{op}: dim {d} is out of range for a tensor with {ndim} dims (expected {-n} to {n - 1})")
    return d % n


def dim_indices(dim, ndim, op):
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, builtins.int) else tuple(dim)
    dims = tuple(dim_index(d, ndim, op) for d in dims)
    return dims if ndim else ()  # a 0-d tensor accepts dim 0 or -1 (as PyTorch): there is no axis to reduce


def shape_args(shape):
    """Accept both f(2, 3) and f((2, 3))."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(builtins.int(n) for n in shape)
