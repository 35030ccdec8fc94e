"""Element types with PyTorch's names (``tinygrad_lite.float32`` ...), each backed by a numpy dtype.

Type promotion follows PyTorch, not numpy. The rule has two parts:

1. *Category first*: bool < integer < floating point. The result has the highest category among the
   operands; inside a category the wider type wins (``int32 + int64 -> int64``, ``float32 + float64 -> float64``).
   So ``int64 + float16 -> float16`` here, while numpy would give float64.
2. *Python numbers and 0-d tensors are weak*: they can raise the category but not the width.
   ``float32_tensor * 2.5 -> float32``; ``int64_tensor * 2.5 -> float32`` (the default float type).
"""
import builtins
import math

import numpy as np


class dtype:
    """One element type: its PyTorch-style name, the numpy dtype that stores it, and its category."""
    is_complex = False  # (no complex dtypes here; PyTorch's name, for code that asks)

    def __init__(self, name, np_dtype, category, itemsize):
        self.name, self.np, self.category, self.itemsize = name, np.dtype(np_dtype), category, itemsize

    @property
    def is_floating_point(self):
        return self.category == FLOAT

    @property
    def is_signed(self):
        """Whether it holds negative numbers: the floats and int8-int64, not bool and uint8."""
        return self.category == FLOAT or self.np.kind == "i"


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
bool = dtype("bool", np.bool_, BOOL, 1)
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
_BY_LEGACY_NAME = {d.legacy_name + "Tensor": d for d in ALL}
# a Python float is a C double: PyTorch maps dtype=float to float64
_BY_PYTHON_TYPE = {builtins.float: float64, builtins.int: int64, builtins.bool: bool}

_default_float = float32


def get_default_dtype():
    """The float type that Python floats become (float32 unless changed)."""
    return _default_float


def set_default_dtype(d):
    """Change the default float type, e.g. to ``float64`` for gradient checks (as in PyTorch)."""
    global _default_float
    d = as_dtype(d, "set_default_dtype")
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


def as_dtype(d, op=None):
    """Accept a tinygrad_lite dtype, a numpy dtype, a name like 'float32', or the Python types float/int/bool."""
    if isinstance(d, dtype):
        return d
    if isinstance(d, type) and d in _BY_PYTHON_TYPE:
        return _BY_PYTHON_TYPE[d]
    if isinstance(d, str) and d in _BY_NAME:
        return _BY_NAME[d]
    if not isinstance(d, (np.dtype, type)) or (isinstance(d, type) and not issubclass(d, np.generic)):
        raise TypeError(f"{op + '(): ' if op else ''}dtype must be a tinygrad_lite dtype such as tinygrad_lite.float32 "
                        f"or tinygrad_lite.int64, got {type(d).__name__} {d!r:.60}")
    return from_numpy_dtype(d)


def from_legacy_name(name, default=None):
    """The dtype of a legacy tensor type's name ("FloatTensor", "torch.LongTensor"), else ``default``."""
    return _BY_LEGACY_NAME.get(name.rpartition(".")[2], default)


def promote_types(a, b):
    """The smallest dtype that holds both: the higher category wins, then the wider type (PyTorch's table)."""
    for name, d in (("type1", a), ("type2", b)):
        if not isinstance(d, dtype):
            raise TypeError(f"promote_types(): argument '{name}' must be a tinygrad_lite dtype, not {type(d).__name__}")
    if a is b:
        return a
    if a.category != b.category:
        return a if a.category > b.category else b
    return from_numpy_dtype(np.promote_types(a.np, b.np))


def python_scalar_dtype(x):
    """The dtype a lone Python number gets: bool -> bool, int -> int64, float -> the default float."""
    if isinstance(x, builtins.bool):
        return bool
    if isinstance(x, builtins.int):
        return int64
    if isinstance(x, builtins.float):
        return _default_float
    raise TypeError(f"result_type(): expected a Tensor or a Python number, got {type(x).__name__}")


_NUMBER_TYPES = (builtins.bool, builtins.int, builtins.float)  # exactly (numpy's scalars take the general rule)


def result_type(*operands):
    """The dtype of an op on ``operands`` (Tensors and Python numbers), by PyTorch's rule in the module docstring."""
    if len(operands) == 2:  # the common cases without the general rule's bookkeeping: two tensors of one dtype,
        x, y = operands     # and a tensor with a Python number (x * 2, 1 - x: the number wins only by category)
        a, b = getattr(x, "dtype", None), getattr(y, "dtype", None)
        if a is b and isinstance(a, dtype):
            return a
        if isinstance(a, dtype) and type(y) in _NUMBER_TYPES and hasattr(x, "ndim"):
            number = python_scalar_dtype(y)
            return number if number.category > a.category else a
        if isinstance(b, dtype) and type(x) in _NUMBER_TYPES and hasattr(y, "ndim"):
            number = python_scalar_dtype(x)
            return number if number.category > b.category else b
    strong = weak = None  # strong: tensors with >= 1 dim; weak: 0-d tensors
    operands = [x.item() if isinstance(x, np.generic) else x for x in operands]  # a numpy scalar acts as a number
    for x in operands:
        if hasattr(x, "dtype") and not isinstance(x.dtype, dtype):
            raise TypeError(f"result_type(): expected Tensors and Python numbers, got {type(x).__name__}")
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


# ---------------------------------------------------------------- float16 arithmetic that accumulates in float32
# A float16 number has 11 bits of precision: a running sum of thousands of them in float16 loses the small terms
# (at 2048 the spacing of float16 numbers is already 2). PyTorch therefore accumulates float16 sums and matrix
# products in float32 (its "accumulate type" for half) and rounds the result to float16 once; numpy's float16 sum
# and matmul round after every step. summation.py does what PyTorch does for sums (and for float32 sums across
# dims); the matrix product, which takes another route on a GPU than on the CPU, is float16_matmul.py's
# ``matmul_in_float32``.
FLOAT16 = np.dtype(np.float16)


def quietly_in_float16(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` without numpy's overflow and invalid-value warnings, for ops in float16.

    float16's largest number is 65504: under autocast a value or a scaled gradient overflows to inf as a matter of
    course (``GradScaler`` looks for the infs and skips the step), and inf - inf is nan. PyTorch says nothing then;
    numpy would print a RuntimeWarning for each op. Differs on purpose: other dtypes keep numpy's warnings (PyTorch
    is silent there too), because the lessons teach with them: an ``exp`` that overflows in float32 is a bug."""
    with np.errstate(over="ignore", invalid="ignore"):
        return fn(*args, **kwargs)


def cast(array, np_dtype):
    """``array.astype(np_dtype)``; in float16 a number past its range becomes inf without numpy's overflow warning,
    as PyTorch says nothing when ``x + 70000`` or ``tensor([7e4], dtype=float16)`` is inf (see above)."""
    return quietly_in_float16(array.astype, np_dtype) if np_dtype == FLOAT16 else array.astype(np_dtype)



def check_fits(values, d, op):
    """Raise unless every number in ``values`` (Python numbers or an array) fits in the integer dtype ``d`` (for
    any other ``d`` nothing is checked, but one Python number for a float dtype: see below).

    As in PyTorch, a value that does not fit is an error rather than a silent wrap-around (300 as uint8 would be 44).
    Floats must be finite and in range (they are truncated toward 0); negative ints down to -128 may go into uint8,
    where they wrap (-1 becomes 255) as in PyTorch. One finite Python number beyond a float dtype's range (float16's
    +-65504, float32's +-3.4e38) is refused too, as PyTorch's full, fill_ and masked_fill do (it would become inf).
    """
    if d.category == FLOAT and type(values) in (int, float) and np.finfo(d.np).max.item() < abs(values) < float("inf"):
        raise RuntimeError(f"{op}(): the value {values} cannot be converted to {d.name} without overflow (max "
                           f"{np.finfo(d.np).max:g})")
    if d.category != INT:
        return
    info = np.iinfo(d.np)
    if isinstance(values, int) and not isinstance(values, builtins.bool):  # one Python int: exact, even beyond int64
        value = values
        if (-128 if d is uint8 else info.min) <= value <= info.max:
            return
    else:
        arr = np.asarray(values)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{op}(): expected a number, got {type(values).__name__} {values!r}")
        if arr.size == 0 or arr.dtype.kind == "b":
            return
        low = -128 if d is uint8 and arr.dtype.kind in "iu" else info.min
        bad = ~np.isfinite(arr) | (arr < low) | (arr > info.max)  # (every int is finite)
        if not bad.any():
            return
        value = arr[bad].ravel()[0].item()
    if isinstance(value, float) and not math.isfinite(value):  # (no integer holds nan or inf: no wider one helps)
        raise RuntimeError(f"{op}(): the value {value} cannot be converted to {d.name}: no integer holds nan or inf. "
                           "Keep it in a float dtype, or replace it first, e.g. where(x.isnan(), 0.0, x)")
    raise RuntimeError(f"{op}(): the value {value} cannot be converted to {d.name} without overflow ({d.name} "
                       f"holds {info.min} to {info.max}); use a wider dtype such as int64 or float32, or check "
                       "the value")
