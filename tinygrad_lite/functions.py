"""The tensor methods again as functions, as PyTorch offers them: ``torch.exp(x)`` is ``x.exp()``."""
import builtins  # this module defines its own sum, max, any ...: the builtins are used by full name
import warnings

import numpy as np

from . import dtypes as dt
from .autograd.grad_mode import is_grad_enabled
from .device import move, same_place
from .ops.movement import Cat
from .return_types import refuse_pair
from .shapes import check_broadcast, check_number, dim_index
from .tensor import Tensor, _numpy_names, _operand, matmul
from .tensor import where as _where


def _tensor_list(op, tensors):
    """The tensors of ``cat``/``stack``: a list or tuple of Tensors, with a clear error for anything else."""
    if isinstance(tensors, (Tensor, str, bytes)) or not hasattr(tensors, "__iter__"):
        raise TypeError(f"{op}(): argument 'tensors' must be a list or tuple of Tensors, not {type(tensors).__name__}")
    tensors = list(tensors)
    for i, t in enumerate(tensors):
        _check_tensor(op, t, f"tensors[{i}]")
    return tensors


def _check_tensor(op, x, name="input"):
    if not isinstance(x, Tensor):
        refuse_pair(x, op)
        raise TypeError(f"{op}(): argument '{name}' must be a Tensor, not {type(x).__name__}")


def _no_out(op, out):
    """Refuse ``out=``, which ``op`` takes in PyTorch but not here (``with_out`` gives it to the functions that do)."""
    if out is not None:
        raise TypeError(f"{op}(): out= is not covered by tinygrad_lite; assign the result")


def _flag(op, name, value):
    """A yes-or-no argument: any value counts by its truth, as in PyTorch, but a Tensor (whose truth is ambiguous,
    or a mistake) is refused with PyTorch's words."""
    if isinstance(value, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be bool, not Tensor")
    return bool(value)


def cat(tensors, dim=0):
    """Join tensors along an existing dim: the backward hands each input its slice of the gradient."""
    tensors = _tensor_list("cat", tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")  # ValueError, as PyTorch
    everything = tensors  # (PyTorch's legacy rule: an empty 1-D tensor, torch.tensor([]), is left out of the join,
    tensors = [t for t in tensors if t.shape != (0,)] or tensors[:1]  # though its dtype counts: p = cat([p, batch]))
    first = tensors[0]
    for i, t in enumerate(tensors):
        if t.ndim == 0:
            raise RuntimeError(f"cat: zero-dimensional tensor (at position {i}) cannot be concatenated: it has no dim "
                               "to join along; use stack (a new dim), or reshape it to shape (1,) first")
    d = dim_index(dim, first.ndim, "cat")
    for i, t in enumerate(tensors[1:], 1):
        if t.ndim != first.ndim or builtins.any(a != b for k, (a, b) in enumerate(zip(t.shape, first.shape)) if k != d):
            raise RuntimeError(f"cat: tensors must have the same shape except in dim {d}; tensor 0 has shape "
                               f"{tuple(first.shape)} but tensor {i} has {tuple(t.shape)}")
    dtype = dt.result_type(*everything)
    return Cat.apply(*[_operand(t, dtype, first) for t in tensors], dim=d)


def stack(tensors, dim=0):
    """Join equally shaped tensors along a new dim: unsqueeze each, then cat."""
    tensors = _tensor_list("stack", tensors)
    if not tensors:
        raise RuntimeError("stack: expected a non-empty list of tensors")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise RuntimeError(f"stack: expects each tensor to be of equal shape, but got {tuple(tensors[0].shape)} "
                               f"at entry 0 and {tuple(t.shape)} at entry {i}")
    d = dim_index(dim, tensors[0].ndim + 1, "stack")
    return cat([t.unsqueeze(d) for t in tensors], dim=d)


def _quotient(self, other, rounding_mode, name):
    """``self / other`` (``Tensor.div``, alias ``divide``); with ``rounding_mode="floor"`` the quotient rounded down,
    ``self // other``, and with "trunc" rounded towards 0, both of gradient 0 (as ``//``). Integers stay integers
    when rounded, as in PyTorch: ``div(-7, 2, rounding_mode="trunc")`` is -3."""
    other = self._lift(other, op=name)  # (a bad operand is named as this op's)
    if rounding_mode is None:
        return self / other
    if not isinstance(rounding_mode, str):
        raise TypeError(f"{name}(): argument 'rounding_mode' must be None, 'trunc' or 'floor', not "
                        f"{type(rounding_mode).__name__}")
    if rounding_mode not in ("floor", "trunc"):
        raise RuntimeError(f"{name}: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")
    down = self // other
    if rounding_mode == "floor":
        return down
    if down.dtype.is_floating_point:
        return (self / other).trunc()
    return where((down < 0) & (down * other != self), down + 1, down)  # (a negative quotient, rounded up to 0)


def div(self, other, *, rounding_mode=None):
    return _quotient(self, other, rounding_mode, "div")


def divide(self, other, *, rounding_mode=None):
    """``div``'s other name, as PyTorch's."""
    return _quotient(self, other, rounding_mode, "divide")


Tensor.div, Tensor.divide = div, divide  # (the module's div and divide, below, are the functions torch.div(x, y))


def _bitwise(ufunc, symbol):
    """``x & y``, ``x | y``, ``x ^ y``: bitwise on integers (``5 & 3`` is 1), logical on bools (bool & bool stays
    bool), with numbers on either side; floats are refused, as in PyTorch (compare them first: ``(x > 0) & m``)."""
    def operator(self, other):
        if self.dtype.is_floating_point or isinstance(other, builtins.float) or (
                isinstance(other, Tensor) and other.dtype.is_floating_point):
            kind = self.dtype if self.dtype.is_floating_point else getattr(other, "dtype", "a float")
            raise NotImplementedError(f"{symbol}: bitwise ops take integer or bool tensors, got {kind}; to combine "
                                      "conditions on floats, compare first, e.g. (x > 0) & (y > 0)")
        return self._compare(ufunc, other)
    return operator


def _bitwise_in_place(operator, symbol):
    """``x &= y`` ...: x's own memory takes the result (whoever else holds x sees it), as in PyTorch, whose result
    must keep x's dtype (a bool mask &= an int tensor is refused)."""
    def in_place(self, other):
        result = operator(self, other)
        if result.dtype != self.dtype:
            raise RuntimeError(f"{symbol}=: the result is {result.dtype}, which can't be written into this "
                               f"{self.dtype} tensor in place (PyTorch refuses it too); write x = x {symbol} y")
        return self.copy_(result)
    return in_place


Tensor.__and__ = Tensor.__rand__ = _bitwise(np.bitwise_and, "&")
Tensor.__or__ = Tensor.__ror__ = _bitwise(np.bitwise_or, "|")
Tensor.__xor__ = Tensor.__rxor__ = _bitwise(np.bitwise_xor, "^")
Tensor.__iand__, Tensor.__ior__, Tensor.__ixor__ = (_bitwise_in_place(Tensor.__and__, "&"),
                                                    _bitwise_in_place(Tensor.__or__, "|"),
                                                    _bitwise_in_place(Tensor.__xor__, "^"))


def _method(name):
    def function(input, *args, **kwargs):
        if not isinstance(input, Tensor):
            refuse_pair(input, name)
            kind = type(input)
            if kind.__name__ == "Tensor":  # another library's (PyTorch's): the bare name would read "not Tensor"
                raise TypeError(f"{name}(): argument 'input' must be a tinygrad_lite Tensor, not "
                                f"{kind.__module__}.{kind.__qualname__}; call the tensor's own method, "
                                f"input.{name}(...), which works on both")
            raise TypeError(f"{name}(): argument 'input' must be a Tensor, not {kind.__name__}")
        return getattr(input, name)(*args, **kwargs)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"``{name}(x, ...)`` is ``x.{name}(...)``; see ``Tensor.{name}``."
    return function


_NAMES = ("abs neg exp expm1 log log1p sqrt rsqrt sin cos square relu sigmoid tanh softmax log_softmax clamp clip "
          "sum mean max min amax amin argmax argmin var std logsumexp all any reshape flatten squeeze unsqueeze "
          "permute transpose t maximum minimum add sub mul div divide pow eq ne lt le gt ge isnan isinf isfinite "
          "masked_fill numel clone detach logical_not addcmul addcdiv lerp is_floating_point").split()
globals().update({name: _method(name) for name in _NAMES})
concat = cat
_pow = pow


def pow(input, exponent):
    """``pow(x, y)`` is ``x.pow(y)``; the base may also be a number when the exponent is a Tensor, as in PyTorch
    (``pow(2.0, x)`` is ``2.0 ** x``)."""
    if isinstance(exponent, Tensor) and isinstance(input, (builtins.int, builtins.float)):
        return exponent.__rpow__(input)
    return _pow(input, exponent)


def is_tensor(obj):
    return isinstance(obj, Tensor)


def _check_same_dtype(op, input, other):
    if input.dtype != other.dtype:  # (PyTorch: "Float did not match Double")
        raise RuntimeError(f"{op}(): the two tensors have different dtypes, {input.dtype} and {other.dtype} (PyTorch "
                           "refuses it too); convert one first: other.to(input.dtype)")


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    _check_tensor("allclose", input), _check_tensor("allclose", other, "other")
    _check_same_dtype("allclose", input, other)
    check_number("allclose", "rtol", rtol), check_number("allclose", "atol", atol)
    check_broadcast("allclose", input.shape, other.shape)
    return bool(np.allclose(input.numpy(force=True), other.numpy(force=True), rtol, atol, equal_nan))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    _check_tensor("isclose", input), _check_tensor("isclose", other, "other")
    _check_same_dtype("isclose", input, other)
    check_number("isclose", "rtol", rtol), check_number("isclose", "atol", atol)
    check_broadcast("isclose", input.shape, other.shape)
    close = np.isclose(input.numpy(force=True), other.numpy(force=True), rtol, atol, equal_nan)
    return Tensor._make(move(close, input.device), None)  # (on the input's device, as PyTorch's)


def equal(input, other):
    _check_tensor("equal", input), _check_tensor("equal", other, "other")
    return input.shape == other.shape and bool((input == other).all())


Tensor.allclose, Tensor.isclose, Tensor.equal = allclose, isclose, equal  # x.allclose(y) ..., as torch.Tensor's


# -------------------------------------------------------------------- more of PyTorch's functions, and out=
_IDIOMS = ("floor ceil trunc fix round sign floor_divide remainder fmod prod cumsum cumprod sort argsort topk gather "
           "nonzero bincount norm").split()
globals().update({name: _method(name) for name in _IDIOMS})


def where(condition, input=None, other=None):
    """``where(cond, x, y)``: x where cond holds, else y (the gradient flows to the one picked).
    ``where(cond)`` alone: the indices where cond holds, one tensor per dim (``cond.nonzero(as_tuple=True)``)."""
    if input is None and other is None:
        if not isinstance(condition, Tensor):
            raise TypeError(f"where(): argument 'condition' must be a Tensor, not {type(condition).__name__}")
        return condition.nonzero(as_tuple=True)
    if input is None or other is None:
        raise TypeError("where(): give both input and other, where(cond, x, y), or neither, where(cond) (the indices "
                        "where cond holds)")
    return _where(condition, input, other)


def mm(input, mat2):
    """The product of two 2-D matrices (``matmul`` also takes vectors and batches)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"mm(): argument 'input' must be a Tensor, not {type(input).__name__}")
    return input.mm(mat2)


def bmm(input, mat2):
    """Batched matrix product: (b, n, k) @ (b, k, m) -> (b, n, m), with equal batch sizes and no broadcasting."""
    shapes = [tuple(t.shape) if isinstance(t, Tensor) else type(t).__name__ for t in (input, mat2)]
    if not (isinstance(input, Tensor) and isinstance(mat2, Tensor) and input.ndim == mat2.ndim == 3
            and input.shape[0] == mat2.shape[0]):
        raise RuntimeError(f"bmm: expects two 3-D tensors with the same batch size, got {shapes[0]} and {shapes[1]}; "
                           "use matmul for broadcasting batches")
    return matmul(input, mat2)


Tensor.bmm = bmm  # x.bmm(y), as torch.Tensor.bmm


cat, concat, stack = _numpy_names(cat), _numpy_names(concat), _numpy_names(stack)


def write_out(name, result, out, resize_warning=True):
    """The ``out=`` keyword: copy ``result`` into ``out`` and return ``out``, as PyTorch does.

    ``out`` takes the result's shape (PyTorch resizes it, with a warning when it had elements, which its creation
    functions but ``arange`` leave out: ``resize_warning``) and keeps its own
    dtype, into which the result must convert without changing kind (no float into an int tensor). Like PyTorch,
    out= refuses to run while gradients are recorded through it: the result would not be in the graph.
    """
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be a Tensor, not {type(out).__name__}")
    if result.requires_grad or (out.requires_grad and is_grad_enabled()):
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic differentiation, "
                           f"but one of the arguments requires grad. Write y = tl.{name}(...) without out=, or "
                           "call it inside tl.no_grad()")
    if not np.can_cast(result.array.dtype, out.array.dtype, "same_kind"):
        raise RuntimeError(f"{name}(): result type {result.dtype} can't be cast to the desired output type "
                           f"{out.dtype} of out; pass an out tensor of a matching dtype")
    array = move(result.array, out.device).astype(out.array.dtype, copy=False)
    if out.shape == result.shape:
        out.array[...] = array
    else:
        if out.numel() and resize_warning:
            warnings.warn(f"{name}(): out had shape {tuple(out.shape)}, which does not match the result's shape "
                          f"{tuple(result.shape)}; it was resized, as PyTorch does (and deprecates)", stacklevel=3)
        out.array = array.copy() if array is result.array else array
    out._bump_version()  # an in-place change: a graph that saved out's old numbers must not use them
    return out


FLOATING = "floating"


def with_out(function, name=None, dtype_from_out=False, resize_warning=True):
    """``function`` taking also ``out=`` (see ``write_out``). ``dtype_from_out``: a creation function makes its
    result in out's dtype when no dtype is given (``torch.arange(5, out=long_tensor)``); FLOATING: only when that
    dtype is a float type (random floats never become ints: another raises, as PyTorch's)."""
    name = name or function.__name__

    def function_with_out(*args, out=None, **kwargs):
        if out is None:
            return function(*args, **kwargs)
        if dtype_from_out and isinstance(out, Tensor):  # a creation function: made as out is, or refused
            given, where = kwargs.get("dtype"), kwargs.get("device")
            if given is not None and dt.as_dtype(given) is not out.dtype:
                raise RuntimeError(f"{name}(): dtype {dt.as_dtype(given).name} does not match out's dtype "
                                   f"({out.dtype.name}): leave dtype out, and the numbers are made in out's")
            if where is not None and not same_place(where, out.device):
                raise RuntimeError(f"{name}(): device {where} does not match out's device ({out.device}): leave "
                                   "device out, and the numbers are made on out's")
            if given is None and dtype_from_out is FLOATING and not out.dtype.is_floating_point:
                raise NotImplementedError(f"{name}(): draws random floats, and out's dtype is {out.dtype.name} "
                                          "(PyTorch refuses it too); give a float tensor as out")
            if given is None:
                kwargs["dtype"] = out.dtype
            if kwargs.pop("requires_grad", False):  # out is made a leaf that requires grad, as PyTorch's
                return write_out(name, function(*args, **kwargs), out, resize_warning).requires_grad_()
        return write_out(name, function(*args, **kwargs), out, resize_warning)
    function_with_out.__name__ = function_with_out.__qualname__ = function.__name__
    function_with_out.__doc__ = function.__doc__
    function_with_out.__wrapped__ = function
    return function_with_out


_WITH_OUT = ("add sub mul div pow matmul mm bmm exp expm1 log log1p sqrt rsqrt abs neg sin cos square sigmoid tanh "
             "clamp clip sum mean prod cumsum cumprod amax amin argmax argmin var std logsumexp maximum minimum cat "
             "concat stack where floor ceil trunc fix round sign floor_divide remainder fmod norm eq ne lt le gt "
             "ge").split()
globals().update({name: with_out(globals()[name], name) for name in _WITH_OUT})

__all__ = _NAMES + _IDIOMS + ["cat", "concat", "stack", "where", "matmul", "mm", "bmm", "is_tensor", "allclose",
                              "isclose", "equal", "finfo", "iinfo"]


# -------------------------------------------------------------------- a dtype's numbers
class finfo:
    """``finfo(dtype)``: the limits of a floating-point dtype (the default float type when omitted), as
    ``torch.finfo``: ``bits``, ``eps`` (the gap between 1 and the next number), ``max``, ``min``, ``tiny`` (=
    ``smallest_normal``), ``resolution`` and ``dtype`` (its name). The numbers are numpy's, as Python floats."""

    def __init__(self, type=None):
        d = dt.get_default_dtype() if type is None else type
        if not isinstance(d, dt.dtype) or not d.is_floating_point:
            raise TypeError(f"finfo(): expected a floating point dtype such as tinygrad_lite.float32, got {d!r}; "
                            "for an integer dtype use iinfo")
        info = np.finfo(d.np)
        self.bits, self.dtype = info.bits, d.name
        self.eps, self.max, self.min = builtins.float(info.eps), builtins.float(info.max), builtins.float(info.min)
        self.tiny = self.smallest_normal = builtins.float(info.smallest_normal)
        self.resolution = 10.0 ** -builtins.int(info.precision)  # (numpy's, a float16 for float16, is off by 4e-7)

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """``iinfo(dtype)``: the limits of an integer dtype, as ``torch.iinfo``: ``bits``, ``min``, ``max``, ``dtype``."""

    def __init__(self, type):
        if not isinstance(type, dt.dtype) or type.is_floating_point or type is dt.bool:
            raise TypeError(f"iinfo(): expected an integer dtype such as tinygrad_lite.int64, got {type!r}; for a "
                            "floating point dtype use finfo")
        info = np.iinfo(type.np)
        self.bits, self.min, self.max, self.dtype = info.bits, builtins.int(info.min), builtins.int(info.max), type.name

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"
