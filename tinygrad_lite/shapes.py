"""Shape, size and dim arguments: accepting PyTorch's forms and explaining what is wrong with a bad one.

The ops call these checks first, so that a bad argument fails with a message naming the op, the argument and
the fix, never deep inside numpy (a float size, a negative size, a dim given twice, an empty maximum).
"""
import builtins
import math
import numbers
import operator

import numpy as np

INT64_MAX = 2**63 - 1


def as_int(value, op, arg="size"):
    """An integer argument: a Python int, a numpy integer or a one-element integer tensor (not a float, not a bool)."""
    if not isinstance(value, builtins.bool) and getattr(value, "ndim", 0) == 0:
        try:
            return operator.index(value)
        except (TypeError, RuntimeError):  # (RuntimeError: a tensor's __index__ refusing)
            pass
    hint = f"; round it with int({value!r})" if isinstance(value, builtins.float) and math.isfinite(value) else ""
    if hint and op in ("max", "min") and arg == "dim":  # x.max(0.0): meant as the elementwise max with 0, not a dim
        hint = f" (a dim to reduce over); the elementwise {op} is x.clamp({'min' if op == 'max' else 'max'}={value!r})"
    raise TypeError(f"{op}(): argument '{arg}' must be an int, got {type(value).__name__} {value!r}{hint}")


def check_broadcast(op, *shapes):
    """Raise a clear error unless ``shapes`` broadcast together (lined up from the right, sizes equal or 1)."""
    shapes = [tuple(s) for s in shapes if len(s)]  # a 0-d shape () broadcasts with any shape: skip it
    for i, a in enumerate(shapes):  # (pairwise is enough: no two disagree means all agree)
        for b in shapes[i + 1:]:
            if not _broadcastable(a, b):
                _broadcast_error(op, a, b)


def _broadcastable(a, b):
    return a == b or builtins.all(x == y or x == 1 or y == 1 for x, y in zip(reversed(a), reversed(b)))


def _broadcast_error(op, a, b):
    k = next(k for k in range(1, builtins.min(len(a), len(b)) + 1) if a[-k] != b[-k] and 1 not in (a[-k], b[-k]))
    raise RuntimeError(f"{op}: shapes {a} and {b} cannot be broadcast together: lined up from the right, dim -{k} "
                       f"has size {a[-k]} vs {b[-k]} (sizes must be equal or one of them 1). Reshape or unsqueeze "
                       "one operand, or check that these are the tensors you meant to combine.")


def dim_index(d, ndim, op):
    """Check a dim index and make it non-negative (-1 is the last dim)."""
    d = as_int(d, op, "dim")
    n = builtins.max(ndim, 1)
    if not -n <= d < n:
        raise IndexError(f"{op}: dim {d} is out of range for a tensor with {ndim} dims (expected {-n} to {n - 1})")
    return d % n


def dim_indices(dim, ndim, op):
    """One dim or a tuple/list of dims, each made non-negative; a dim named twice is an error (as in PyTorch).

    None means all dims, and so does an empty tuple or list, as PyTorch's reductions read it: ``x.sum(dim=())`` is
    ``x.sum()``, not x unchanged (``squeeze(())`` and ``flip(())`` change nothing)."""
    if dim is None or isinstance(dim, (tuple, list)) and len(dim) == 0:
        return None
    if isinstance(dim, (tuple, list)):
        dims = tuple(dim_index(d, ndim, op) for d in dim)
    elif isinstance(dim, builtins.bool) or not hasattr(dim, "__index__"):
        raise TypeError(f"{op}(): argument 'dim' must be an int or a tuple of ints, got {type(dim).__name__} {dim!r}")
    else:
        dims = (dim_index(dim, ndim, op),)
    for i, d in enumerate(dims):
        if d in dims[:i]:
            raise RuntimeError(f"{op}(): dim {d} appears more than once in the list of dims {tuple(dim)}; "
                               "name each dim once")
    return dims if ndim else ()  # a 0-d tensor accepts dim 0 or -1 (as PyTorch): there is no axis to reduce


def check_flag(op, name, value):
    """A yes/no option such as ``keepdim``: a bool (0 and 1 are accepted too), as PyTorch requires."""
    if isinstance(value, (builtins.bool, np.bool_)) or (type(value) is builtins.int and value in (0, 1)):
        return builtins.bool(value)
    raise TypeError(f"{op}(): argument '{name}' must be a bool, got {type(value).__name__} {value!r:.40}")


def shape_args(shape, op="reshape"):
    """Accept both f(2, 3) and f((2, 3)); every entry must be an int (-1 is checked by the op that allows it)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(as_int(n, op, "size") for n in shape)


def sizes_or_keyword(sizes, keyword, name, op):
    """The sizes of f(2, 3), f((2, 3)) or f(name=(2, 3)): PyTorch takes its keyword too (``size``, ``shape``,
    ``dims``); both at once are refused."""
    if keyword is None:
        return sizes
    if sizes:
        raise TypeError(f"{op}(): got the {name} twice, as {sizes} and as {name}={keyword!r}; give one of them")
    return (keyword,)


def size_args(shape, op):
    """The size of a new tensor, as f(2, 3) or f((2, 3)): ints >= 0 whose product fits in an int64."""
    sizes = shape_args(shape, op)
    for n in sizes:
        if n < 0:
            raise RuntimeError(f"{op}(): negative size {n} in {list(sizes)}: every size counts elements, so it must "
                               "be 0 or more")
        if n > INT64_MAX:
            raise TypeError(f"{op}(): size {n} in {list(sizes)} is too large (over int64's maximum, 2**63 - 1)")
    if math.prod(sizes) > INT64_MAX:
        raise RuntimeError(f"{op}(): the size {list(sizes)} has {math.prod(sizes)} elements, more than any computer "
                           "can hold (int64's maximum is 2**63 - 1); check the sizes")
    return sizes


def check_reducible(op, shape, dims, error=RuntimeError):
    """max, min, argmax ... have no value on zero elements (unlike sum, which gives 0): name the empty dim.

    ``dims`` None means all dims. PyTorch raises RuntimeError for a whole empty tensor (``error``; IndexError for
    argmax/argmin) and IndexError for an empty dim.
    """
    shape = tuple(shape)
    if dims is None:
        if 0 in shape:
            raise error(f"{op}(): cannot reduce an empty tensor (shape {shape}, 0 elements): the {op} of no numbers "
                        "is undefined. Pass dim= to reduce along a non-empty dim, or check why the tensor is empty "
                        "(an empty batch, a mask that selects nothing?)")
        return
    for d in dims:
        if shape and shape[d] == 0:
            raise IndexError(f"{op}(): dim {d} has size 0 in a tensor of shape {shape}: the {op} of no numbers is "
                             "undefined. Reduce along a non-empty dim, or check why this dim is empty")


def check_size(owner, name, value):
    """A layer's size argument (``in_features``, ``num_features`` ...): an int >= 0, as the layer's tensors need."""
    n = as_int(value, owner, name)
    if n < 0:
        raise RuntimeError(f"{owner}(): argument '{name}' must be 0 or more, got {n}; it counts features")
    if n > INT64_MAX:
        raise TypeError(f"{owner}(): argument '{name}' is too large ({n} is over int64's maximum, 2**63 - 1)")
    return n


def check_number(owner, name, value, low=-math.inf, high=math.inf):
    """A numeric option (a probability, a slope, eps ...): a real number, not nan, within [low, high]."""
    if isinstance(value, builtins.bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}(): argument '{name}' must be a number, got {type(value).__name__} {value!r}")
    if value != value:
        raise ValueError(f"{owner}(): argument '{name}' must be a number, got nan")
    if not low <= value <= high:
        bounds = f"between {low} and {high}" if math.isfinite(low) and math.isfinite(high) else \
            f">= {low}" if math.isfinite(low) else f"<= {high}"
        raise ValueError(f"{owner}(): argument '{name}' must be {bounds}, got {value}")
    return value
