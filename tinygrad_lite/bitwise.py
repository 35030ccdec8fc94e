"""Bitwise ops on integer (and bool) tensors, as PyTorch's functions and methods: ``bitwise_and``, ``bitwise_or``,
``bitwise_xor``, ``bitwise_not``, and the shifts ``x << n`` and ``x >> n`` (``bitwise_left_shift``,
``bitwise_right_shift``), with their in-place forms.

``&``, ``|``, ``^`` and ``~`` are the operators of functions.py and tensor.py; the functions here are their names.
A shift moves the bits of each number: x << n is x 2^n and x >> n is x / 2^n rounded down (the sign kept: -8 >> 1
is -4), in x's integer type; a shift by the type's width or more gives what PyTorch's does, 0 to the left, and 0 or
-1 (the sign) to the right. Floats are refused, as in PyTorch. Nothing here has a gradient (integers have none).
"""
import numbers

import numpy as np

from . import dtypes as dt
from .creation import tensor
from .device import array_module_of
from .functions import _check_tensor, with_out
from .inplace_methods import in_place
from .shapes import check_broadcast
from .tensor import Tensor

__all__ = ["bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift", "bitwise_right_shift"]


def _integers(name, *operands):
    """Refuse floats (and anything but tensors and numbers), naming the function, as PyTorch refuses them."""
    for operand in operands:
        if not isinstance(operand, (Tensor, bool, np.bool_, numbers.Integral)):
            raise TypeError(f"{name}(): takes integer or bool tensors and numbers, got {type(operand).__name__}")
        if isinstance(operand, Tensor) and operand.dtype.is_floating_point:
            raise NotImplementedError(f"{name}(): bitwise ops take integer or bool tensors, got {operand.dtype} "
                                      "(PyTorch: not implemented for 'Float'); compare floats first: (x > 0)")


def bitwise_and(input, other):
    _check_tensor("bitwise_and", input), _integers("bitwise_and", input, other)
    return input & other


def bitwise_or(input, other):
    _check_tensor("bitwise_or", input), _integers("bitwise_or", input, other)
    return input | other


def bitwise_xor(input, other):
    _check_tensor("bitwise_xor", input), _integers("bitwise_xor", input, other)
    return input ^ other


def bitwise_not(input):
    """~x: every bit flipped (-x - 1 for signed integers), logical not for bools."""
    _check_tensor("bitwise_not", input)
    _integers("bitwise_not", input)
    return ~input


def _shift(name, symbol, left):
    def shift(input, other):
        """x << n (x 2^n) or x >> n (x / 2^n rounded down), elementwise, in the integer type of x and n."""
        if not isinstance(other, Tensor) and not isinstance(input, Tensor):
            _check_tensor(name, input)
        _integers(name, input, other)
        kind = dt.result_type(input, other)  # (a Python number is weak: int8 << 3 stays int8, bool << 3 is int64)
        kind = dt.int64 if kind is dt.bool else kind
        device = (input if isinstance(input, Tensor) else other).device
        x, n = (v.to(kind) if isinstance(v, Tensor) else tensor(v, device=device) for v in (input, other))
        check_broadcast(name, x.shape, n.shape)
        x, n = x.array.astype(kind.np), n.array.astype(np.int64)  # (the amount as int64: int8 << 300 is 0)
        width = np.iinfo(kind.np).bits
        xp = array_module_of(x)
        too_far = (n >= width) | (n < 0)
        n = xp.where(too_far, 0, n).astype(kind.np)
        if left:
            out = xp.where(too_far, 0, xp.left_shift(x, n))
        else:
            out = xp.where(too_far, xp.where(x < 0, -1, 0).astype(x.dtype), xp.right_shift(x, n))
        return Tensor._make(out.astype(kind.np), None)
    shift.__name__ = name
    return shift


bitwise_left_shift = _shift("bitwise_left_shift", "<<", left=True)
bitwise_right_shift = _shift("bitwise_right_shift", ">>", left=False)


def _reflected(shift):
    def reflected(self, other):  # (n << x: the number on the left)
        return shift(other, self)
    return reflected


Tensor.__lshift__, Tensor.__rshift__ = bitwise_left_shift, bitwise_right_shift
Tensor.__rlshift__, Tensor.__rrshift__ = _reflected(bitwise_left_shift), _reflected(bitwise_right_shift)
for _function in (bitwise_and, bitwise_or, bitwise_xor, bitwise_not, bitwise_left_shift, bitwise_right_shift):
    setattr(Tensor, _function.__name__, _function)
    setattr(Tensor, _function.__name__ + "_", in_place(_function.__name__, _function))
Tensor.__ilshift__, Tensor.__irshift__ = Tensor.bitwise_left_shift_, Tensor.bitwise_right_shift_
bitwise_and, bitwise_or, bitwise_xor, bitwise_not, bitwise_left_shift, bitwise_right_shift = (with_out(f) for f in (
    bitwise_and, bitwise_or, bitwise_xor, bitwise_not, bitwise_left_shift, bitwise_right_shift))
