"""Element types with PyTorch's names (``tinygrad_lite.float32`` ...), each backed by a numpy dtype.

Type promotion follows PyTorch, not numpy. The rule has two parts:

1. *Category first*: bool < integer < floating point. The result has the highest category among the
   operands; inside a category the wider type wins (``int32 + int64 -> int64``, ``float32 + float64 -> float64``).
   So ``int64 + float16 -> float16`` here, while numpy would give float64.
2. *Python numbers and 0-d tensors are weak*: they can raise the category but not the width.
   ``float32_tensor * 2.5 -> float32``; ``int64_tensor * 2.5 -> float32`` (the default float type).
"""
import numpy as np

from .device import move


class dtype:
    """One element type: its PyTorch-style name, the numpy dtype that stores it, and its category."""

    def __init__(self, name, np_dtype, category, itemsize):
        self.name, self.np, self.category, self.itemsize = name, np.dtype(np_dtype), category, itemsize

    @property
    def is_floating_point(self):
        return self.category == FLOAT

    @property
    def legacy_name(self):
        """PyTorch's old tensor-type name (``x.type()`` gives "torch.FloatTensor" for float32)."""
        return {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
                "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}[self.name]

    def __repr__(self):
        return f"tinygrad_lite.{self.name}"

    def __reduce__(self):  # dtypes are singletons: copies and pickles resolve to the same object
        return (as_dtype, (self.name,))


BOOL, INT, FLOAT = 0, 1, 2
bool = dtype("bool", np.bool_, BOOL, 1)  # noqa: A001  (shadows the builtin only inside this module)
uint8 = dtype("uint8", np.uint8, INT, 1)
int8 = dtype("int8", np.int8, INT, 1)
int16 = dtype("int16", np.int16, INT, 2)
int32 = dtype("int32", np.int32, INT, 4)
int64 = dtype("int64", np.int64, INT, 8)
float16 = dtype("float16", np.float16, FLOAT, 2)
float32 = dtype("float32", np.float32, FLOAT, 4)
float64 = dtype("float64", np.float64, FLOAT, 8)
ALL = (bool, uint8, int8, int16, int32, int64, float16, float32, float64)
_BY_NUMPY = {d.np: d for d in ALL}
_BY_NAME = {d.name: d for d in ALL}
_BY_NAME.update(half=float16, float=float32, double=float64, short=int16, int=int32, long=int64)

_default_float = float32


def get_default_dtype():
    """The float type that Python floats become (float32 unless changed)."""
    return _default_float


def set_default_dtype(d):
    """Change the default float type, e.g. to ``float64`` for gradient checks (as in PyTorch)."""
    global _default_float
    d = as_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"set_default_dtype: only floating point types are allowed, got {d}")
    _default_float = d


def from_numpy_dtype(np_dtype):
    """The tinygrad_lite dtype stored as ``np_dtype``; a clear error for types we do not support."""
    try:
        return _BY_NUMPY[np.dtype(np_dtype)]
    except KeyError:
        names = ", ".join(d.name for d in ALL)
        raise TypeError(f"unsupported array dtype {np.dtype(np_dtype)}; tinygrad_lite supports {names}") from None


def as_dtype(d):
    """Accept a tinygrad_lite dtype, a numpy dtype, a name like 'float32', or the Python types float/int/bool."""
    import builtins
    if isinstance(d, dtype):
        return d
    if d is builtins.float:  # a Python float is a C double: PyTorch maps dtype=float to float64
        return float64
    if d is builtins.int:
        return int64
    if d is builtins.bool:
        return bool
    if isinstance(d, str) and d in _BY_NAME:
        return _BY_NAME[d]
    return from_numpy_dtype(d)


def promote_types(a, b):
    """The smallest dtype that holds both: the higher category wins, then the wider type (PyTorch's table)."""
    if a is b:
        return a
    if a.category != b.category:
        return a if a.category > b.category else b
    return from_numpy_dtype(np.promote_types(a.np, b.np))


def python_scalar_dtype(x):
    """The dtype a lone Python number gets: bool -> bool, int -> int64, float -> the default float."""
    import builtins
    if isinstance(x, builtins.bool):
        return bool
    if isinstance(x, builtins.int):
        return int64
    if isinstance(x, builtins.float):
        return _default_float
    raise TypeError(f"expected a Tensor or a Python number, got {type(x).__name__}")


def result_type(*operands):
    """The dtype of an op on ``operands`` (Tensors and Python numbers), by PyTorch's rule in the module docstring."""
    strong = weak = None  # strong: tensors with >= 1 dim; weak: 0-d tensors
    for x in operands:
        if hasattr(x, "dtype") and hasattr(x, "ndim"):
            if x.ndim > 0:
                strong = x.dtype if strong is None else promote_types(strong, x.dtype)
            else:
                weak = x.dtype if weak is None else promote_types(weak, x.dtype)
    result = strong
    if weak is not None and (result is None or weak.category > result.category):
        result = weak
    for x in operands:
        if not hasattr(x, "dtype"):
            d = python_scalar_dtype(x)
            if result is None or d.category > result.category:
                result = d
    return result


def as_array(data, dtype=None, device=None):
    """Turn numbers, (nested) lists, numpy/CuPy arrays or Tensors into an array of a supported dtype.

    Python floats become the default float type (float32) and Python ints become int64, as in PyTorch;
    numpy arrays keep their dtype.
    """
    from .tensor import Tensor  # (here, not at the top: tensor.py imports this module)
    if isinstance(data, Tensor):
        arr = data.array
    elif hasattr(data, "__array_namespace__") or isinstance(data, np.generic):
        arr = data  # a numpy or CuPy array (or numpy scalar): keep its dtype
    else:
        try:
            arr = np.asarray(data)
        except ValueError as e:
            raise ValueError(f"tensor(): could not turn {type(data).__name__} into an array; are the nested lists "
                             f"ragged (rows of different lengths)? ({e})") from None
        if arr.dtype.kind == "f":  # (with a dtype given, convert once below, straight from the exact Python floats)
            arr = arr.astype(get_default_dtype().np) if dtype is None else arr
        elif arr.dtype.kind in "iu":
            arr = arr.astype(np.int64)
        elif arr.dtype.kind != "b":
            raise TypeError(f"tensor(): expected numbers, got {type(data).__name__} of dtype {arr.dtype}")
    d = as_dtype(dtype) if dtype is not None else from_numpy_dtype(arr.dtype)
    if arr.dtype != d.np:
        arr = arr.astype(d.np)
    if isinstance(arr, np.generic):
        arr = np.asarray(arr)
    return move(arr, device) if device is not None else arr
