r"""``torch.testing``: ``assert_close`` and ``make_tensor``, as PyTorch's, for the tests and notebooks that use them.

``assert_close(actual, expected)`` passes when every element is close,

    |actual - expected| <= atol + rtol * |expected|,

with equal infinities close, and NaNs close only with ``equal_nan=True``. ``rtol`` and ``atol`` are given both or
neither; without them they come from the dtype (PyTorch's table): float16 (1e-3, 1e-5), float32 (1.3e-6, 1e-5),
float64 and Python floats (1e-7, 1e-7); integers and bools must be equal. The inputs are tensors (or numpy arrays,
compared with numpy arrays), Python numbers, bools and None, and lists, tuples and dicts of them, compared item by
item. Before the numbers, a pair of tensors must agree in shape, device (``check_device``) and dtype
(``check_dtype``; without it both are promoted to a common dtype, and the looser tolerance applies). A failure is an
AssertionError that says how many elements differ and where the largest absolute and relative differences are, as
PyTorch's says it; ``msg`` replaces that message (a string) or rewrites it (a function of it).

Differences from PyTorch: the messages print this library's names (``tinygrad_lite.Size([2])``,
``tinygrad_lite.float32``); ``check_stride=True`` is refused, since tensors here do not expose strides.
``make_tensor`` draws from this library's generators, so its numbers are not PyTorch's for the same seed.
"""
import cmath
import math
import numbers
import warnings
from collections.abc import Mapping, Sequence

import numpy as np

from . import dtypes
from .creation import as_tensor, empty, randint
from .functions import finfo, iinfo
from .tensor import Tensor

__all__ = ["assert_close", "make_tensor", "assert_allclose"]

DEFAULT_TOLERANCES = {dtypes.float16: (1e-3, 1e-5), dtypes.float32: (1.3e-6, 1e-5), dtypes.float64: (1e-7, 1e-7)}


class _Failure(Exception):
    """One comparison that failed: the exception type to raise, its message, and where in nested inputs it was."""

    def __init__(self, kind, message, path=()):
        super().__init__(message)
        self.kind, self.message, self.path = kind, message, path


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None, equal_nan=False,
                 check_device=True, check_dtype=True, check_layout=True, check_stride=False, msg=None):
    """Raises an AssertionError when ``actual`` and ``expected`` are not close (the module docstring says when
    they are)."""
    if (rtol is None) != (atol is None):
        raise ValueError("Both 'rtol' and 'atol' must be either specified or omitted, "
                         f"but got no {'atol' if atol is None else 'rtol'}.")
    if check_stride:
        raise NotImplementedError("assert_close(check_stride=True): tensors here do not expose strides (no "
                                  "Tensor.stride()), so there is nothing to compare; leave check_stride=False")
    options = dict(allow_subclasses=allow_subclasses, rtol=rtol, atol=atol, equal_nan=equal_nan,
                   check_device=check_device, check_dtype=check_dtype)
    try:
        _compare(actual, expected, (), options)
    except _Failure as failure:
        message = failure.message
        if failure.path:
            message += "\n\nThe failure occurred for item " + "".join(str([key]) for key in failure.path)
        if failure.kind is AssertionError and isinstance(msg, str):
            message = msg
        elif failure.kind is AssertionError and callable(msg):
            message = msg(message)
        raise failure.kind(message) from None


def _compare(actual, expected, path, options):
    """Compares nested inputs: sequences and mappings item by item, everything else as one pair."""
    if _is_sequence(actual) and _is_sequence(expected):
        if len(actual) != len(expected):
            raise _Failure(AssertionError, f"The length of the sequences mismatch: {len(actual)} != {len(expected)}",
                           path)
        for index, (a, e) in enumerate(zip(actual, expected)):
            _compare(a, e, (*path, index), options)
    elif isinstance(actual, Mapping) and isinstance(expected, Mapping):
        missing, extra = _sorted(set(expected) - set(actual)), _sorted(set(actual) - set(expected))
        if missing or extra:
            lines = ["The keys of the mappings do not match:"]
            lines += [f"Missing keys in the actual mapping: {missing}"] if missing else []
            lines += [f"Additional keys in the actual mapping: {extra}"] if extra else []
            raise _Failure(AssertionError, "\n".join(lines), path)
        for key in _sorted(actual):
            _compare(actual[key], expected[key], (*path, key), options)
    else:
        try:
            _compare_pair(actual, expected, options)
        except _Failure as failure:
            failure.path = path
            raise


def _sorted(keys):
    """Keys in order where they have one (mixed types may not), else as they come."""
    try:
        return sorted(keys)
    except TypeError:
        return list(keys)


def _is_sequence(x):
    return isinstance(x, Sequence) and not isinstance(x, str)


def _compare_pair(actual, expected, options):
    """Two leaves: None with None, bool with bool, number with number, or tensor-like with tensor-like."""
    if actual is None or expected is None:
        if actual is not expected:
            raise _Failure(AssertionError, f"None mismatch: {actual} is not {expected}")
    elif isinstance(actual, (bool, np.bool_)) and isinstance(expected, (bool, np.bool_)):
        if bool(actual) != bool(expected):
            raise _Failure(AssertionError, f"Booleans mismatch: {actual} is not {expected}")
    elif _is_number(actual) and _is_number(expected):
        _compare_numbers(_as_python_number(actual), _as_python_number(expected), options)
    elif _tensor_likes(actual, expected, options["allow_subclasses"]):
        _compare_tensors(*(x if isinstance(x, Tensor) else as_tensor(x) for x in (actual, expected)), options)
    else:
        raise _Failure(TypeError, "No comparison pair was able to handle inputs of type "
                                  f"{type(actual)} and {type(expected)}.")


def _is_number(x):
    return isinstance(x, (numbers.Number, np.number)) and not isinstance(x, (bool, np.bool_))


def _as_python_number(x):
    return x.item() if isinstance(x, np.generic) else x


def _tensor_likes(actual, expected, allow_subclasses):
    """Two tensors, or two numpy arrays; of one type, or (with ``allow_subclasses``) one a subclass of the other's."""
    if not all(isinstance(x, (Tensor, np.ndarray)) for x in (actual, expected)):
        return False
    if allow_subclasses:
        return isinstance(actual, type(expected)) or isinstance(expected, type(actual))
    return type(actual) is type(expected)


def _tolerances(kinds, options):
    """The given (rtol, atol), or the loosest of the defaults of ``kinds`` (dtypes, or Python's int and float)."""
    if options["rtol"] is not None:
        return options["rtol"], options["atol"]
    defaults = [DEFAULT_TOLERANCES.get(dtypes.float64 if kind in (float, complex) else kind, (0.0, 0.0))
                for kind in kinds]  # (a Python complex: complex128's, PyTorch's (1e-7, 1e-7))
    return max(rtol for rtol, _ in defaults), max(atol for _, atol in defaults)


def _compare_numbers(actual, expected, options):
    """Two Python numbers; an int and a float are refused as different types unless ``check_dtype=False``."""
    if options["check_dtype"] and type(actual) is not type(expected):
        raise _Failure(AssertionError, f"The (d)types do not match: {type(actual)} != {type(expected)}.")
    rtol, atol = _tolerances({type(actual), type(expected)}, options)
    if actual == expected or (options["equal_nan"] and cmath.isnan(actual) and cmath.isnan(expected)):
        return
    difference = abs(actual - expected)
    if math.isfinite(difference) and difference <= atol + rtol * abs(expected):
        return
    raise _Failure(AssertionError, _scalar_message(actual, expected, rtol, atol))


def _compare_tensors(actual, expected, options):
    """Two tensors: the same shape, device and dtype (as asked), then close element by element."""
    checks = [("shape", lambda x: x.shape, True), ("device", lambda x: x.device, options["check_device"]),
              ("dtype", lambda x: x.dtype, options["check_dtype"])]
    for name, attribute, wanted in checks:
        if wanted and attribute(actual) != attribute(expected):
            raise _Failure(AssertionError, f"The values for attribute '{name}' do not match: "
                                           f"{attribute(actual)} != {attribute(expected)}.")
    rtol, atol = _tolerances({actual.dtype, expected.dtype}, options)
    common = dtypes.promote_types(actual.dtype, expected.dtype).np
    a, e = (x.detach().cpu().numpy().astype(common, copy=False) for x in (actual, expected))
    matches = _isclose(a, e, rtol, atol, options["equal_nan"])
    if matches.all():
        return
    if a.ndim == 0:
        raise _Failure(AssertionError, _scalar_message(a.item(), e.item(), rtol, atol))
    raise _Failure(AssertionError, _tensor_message(a, e, matches, rtol, atol))


def _isclose(a, e, rtol, atol, equal_nan):
    """Element by element, as ``isclose``: equal, or a finite difference within the tolerance, computed in the
    arrays' dtype (integers as floats when there is a tolerance at all)."""
    if a.dtype.kind not in "f" and rtol == 0 and atol == 0:
        return a == e
    if a.dtype.kind not in "f":
        a, e = a.astype(np.float32), e.astype(np.float32)
    with np.errstate(invalid="ignore", over="ignore"):
        difference = np.abs(a - e)
        close = (a == e) | (np.isfinite(difference) & (difference <= atol + np.abs(rtol * e)))
    return close | (np.isnan(a) & np.isnan(e)) if equal_nan else close


def _scalar_message(actual, expected, rtol, atol):
    difference = abs(actual - expected)
    relative = math.inf if expected == 0 else difference / abs(expected)
    return _mismatch("Scalars", f"Expected {expected} but got {actual}.", rtol, atol, ("Absolute", difference, None),
                     ("Relative", relative, None))


def _tensor_message(a, e, matches, rtol, atol):
    """How many elements differ, and the largest absolute and relative differences among them (the matching
    elements count as 0), with their index. As in PyTorch, integers' differences are int64 and their relative
    differences float32; floats' are in their dtype."""
    count, total = int(matches.size - matches.sum()), matches.size
    if a.dtype.kind != "f":
        a, e = a.astype(np.int64), e.astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        absolute = np.where(matches, 0, np.abs(a - e)).astype(a.dtype)
        ratio = absolute / np.abs(e) if a.dtype.kind == "f" else absolute.astype(np.float32) / np.abs(e)
        relative = np.where(matches, 0, ratio).astype(ratio.dtype if a.dtype.kind == "f" else np.float32)
    lines = []
    for kind, difference in (("absolute", absolute), ("relative", relative)):
        flat = int(np.argmax(difference))  # (the first largest, or the first NaN)
        index = tuple(int(i) for i in np.unravel_index(flat, a.shape))
        lines.append((kind, difference.ravel()[flat].item(), index))
    return _mismatch("Tensor-likes", f"Mismatched elements: {count} / {total} ({count / total:.1%})", rtol, atol,
                     *lines)


def _mismatch(what, extra, rtol, atol, absolute, relative):
    """PyTorch's message: "not equal" when both tolerances are 0, else "not close" with what each allows."""
    equality = rtol == 0 and atol == 0
    lines = [f"{what} are not {'equal' if equality else 'close'}!", "", extra]
    for (kind, difference, index), tolerance in ((absolute, atol), (relative, rtol)):
        line = f"{kind} difference: {difference}" if index is None else \
            f"Greatest {kind} difference: {difference} at index {index}"
        lines.append(line if equality else f"{line} (up to {tolerance} allowed)")
    return "\n".join(lines)


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan=True, msg=""):
    """Deprecated in PyTorch (and warns so): ``assert_close`` with the dtype checked loosely, NaNs equal, other
    inputs made tensors, and its own default tolerances (float16 (1e-3, 1e-3), float32 (1e-4, 1e-5), float64
    (1e-5, 1e-8))."""
    warnings.warn("`torch.testing.assert_allclose()` is deprecated since 1.12 and will be removed in a future "
                  "release. Please use `torch.testing.assert_close()` instead.", FutureWarning, stacklevel=2)
    actual = actual if isinstance(actual, Tensor) else as_tensor(actual)
    expected = expected if isinstance(expected, Tensor) else as_tensor(expected, dtype=actual.dtype)
    if rtol is None and atol is None:
        table = {dtypes.float16: (1e-3, 1e-3), dtypes.float32: (1e-4, 1e-5), dtypes.float64: (1e-5, 1e-8)}
        defaults = [table.get(x.dtype, (0.0, 0.0)) for x in (actual, expected)]
        rtol, atol = max(r for r, _ in defaults), max(a for _, a in defaults)
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=True,
                 check_dtype=False, msg=msg or None)


def make_tensor(*shape, dtype, device, low=None, high=None, requires_grad=False, noncontiguous=False,
                exclude_zero=False, memory_format=None):
    """A tensor of ``shape`` filled with random numbers in [low, high): floats uniform (default [-9, 9)), integers
    uniform (default [-9, 10), clamped to the dtype's range), bools at random. ``exclude_zero`` replaces zeros by
    1 (integers) or the dtype's smallest normal number (floats). ``noncontiguous`` and ``memory_format`` are
    accepted; tensors here are always contiguous."""
    if len(shape) == 1 and isinstance(shape[0], Sequence):
        shape = shape[0]
    shape = tuple(shape)
    d = dtypes.as_dtype(dtype, op="make_tensor")
    if noncontiguous and memory_format is not None:
        raise ValueError("The parameters `noncontiguous` and `memory_format` are mutually exclusive, "
                         f"but got noncontiguous={noncontiguous} and memory_format={memory_format}")
    if requires_grad and not d.is_floating_point:
        raise ValueError("`requires_grad=True` is not supported for boolean and integral dtypes, "
                         f"but got dtype={d}")
    if d is dtypes.bool:
        low, high = _low_high(low, high, d, 0, 2, 0, 2)
        result = randint(low, high, shape, dtype=d, device=device)
    elif not d.is_floating_point:
        info = iinfo(d)
        low, high = _low_high(low, high, d, info.min, info.max + (d is not dtypes.int64), -9, 10)
        result = randint(low, high, shape, dtype=d, device=device)
    else:
        low, high = _low_high(low, high, d, finfo(d).min, finfo(d).max, -9, 9)
        result = empty(shape, dtype=d, device=device)
        if high - low >= finfo(d).max:  # (uniform_ needs high - low to be a finite number of the dtype)
            result.uniform_(low / 2, high / 2).mul_(2)
        else:
            result.uniform_(low, high)
    if exclude_zero:
        result[result == 0] = 1 if not d.is_floating_point else finfo(d).tiny
    return result.requires_grad_(requires_grad) if d.is_floating_point else result


def _low_high(low, high, d, lowest, highest, default_low, default_high):
    """``low`` and ``high`` checked and clamped to [lowest, highest); for integers rounded up (randint's high is
    exclusive)."""
    low = default_low if low is None else low
    high = default_high if high is None else high
    if any(isinstance(value, float) and math.isnan(value) for value in (low, high)):
        raise ValueError(f"`low` and `high` cannot be NaN, but got low={low} and high={high}")
    if low == high and d.is_floating_point:
        warnings.warn("Passing `low==high` to `torch.testing.make_tensor` for floating or complex types is "
                      "deprecated since 2.1 and will be removed in 2.3. Use `torch.full(...)` instead.",
                      FutureWarning, stacklevel=3)
    elif low >= high:
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    elif high < lowest or low >= highest:
        raise ValueError(f"The value interval specified by `low` and `high` is [{low}, {high}), but {d} only "
                         f"supports [{lowest}, {highest})")
    low, high = min(max(low, lowest), highest), min(max(high, lowest), highest)
    return (math.ceil(low), math.ceil(high)) if not d.is_floating_point else (low, high)
