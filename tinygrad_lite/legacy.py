"""PyTorch's legacy typed constructors: ``FloatTensor``, ``DoubleTensor``, ``LongTensor``, ``IntTensor``, ...

Old tutorials make tensors with them; each fixes the dtype in its name::

    torch.FloatTensor([1, 2])           # from data: tensor([1., 2.]) (float32)
    torch.LongTensor([0, 2, 1])         # class labels: int64 (floats are truncated: [1.7] -> [1])
    torch.FloatTensor(2, 3)             # from sizes (ints, or a torch.Size): 2x3 (zeros; PyTorch leaves them unset)
    torch.FloatTensor()                 # empty, shape (0,)
    isinstance(x, torch.FloatTensor)    # True for a float32 tensor on the CPU

A tuple is data, as in PyTorch: ``FloatTensor((2, 3))`` is ``tensor([2., 3.])``; only ints as separate arguments
or a ``Size`` are sizes. New code should write ``torch.tensor(data, dtype=...)`` and ``torch.zeros(size, dtype=...)``.
"""
import math
import numbers

import numpy as np

from . import dtypes as dt
from .device import array_module_of, move
from .shapes import size_args
from .tensor import Size, Tensor, as_array


class TypedTensor(type):
    """The metaclass: calling ``FloatTensor(...)`` makes a Tensor; ``isinstance`` checks dtype and device."""

    def __call__(cls, *args, device=None):
        name = cls.__name__
        if len(args) == 1 and isinstance(args[0], Tensor):
            if args[0].dtype is not cls.dtype:
                raise TypeError(f"{name}(): expected a {cls.dtype.name} tensor, got {args[0].dtype.name}; convert it "
                                f"with .to(torch.{cls.dtype.name})")
            return args[0].detach()
        if not args or all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in args) or (
                len(args) == 1 and isinstance(args[0], Size)):
            array = np.zeros(size_args(args if args else (0,), name), cls.dtype.np)
            return Tensor._make(array if device is None else move(array, device), None)
        if len(args) > 1:
            raise TypeError(f"{name}(): expected sizes ({name}(2, 3)) or one sequence of numbers ({name}([1, 2])), "
                            f"got {len(args)} arguments of types {', '.join(type(a).__name__ for a in args)}")
        if isinstance(args[0], (numbers.Number, np.generic)):
            raise TypeError(f"{name}(): data must be a sequence (got {type(args[0]).__name__}); for a tensor holding "
                            f"one number use torch.tensor({args[0]!r}, dtype=torch.{cls.dtype.name})")
        return Tensor._make(as_array(args[0], cls.dtype, device), None)

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype is cls.dtype and obj.device.type == "cpu"


def _typed(name, dtype):
    doc = f"``{name}(data)`` or ``{name}(*sizes)``: a {dtype.name} tensor (legacy; see tinygrad_lite.legacy)"
    return TypedTensor(name, (), {"dtype": dtype, "__doc__": doc})


FloatTensor = _typed("FloatTensor", dt.float32)
DoubleTensor = _typed("DoubleTensor", dt.float64)
HalfTensor = _typed("HalfTensor", dt.float16)
LongTensor = _typed("LongTensor", dt.int64)
IntTensor = _typed("IntTensor", dt.int32)
ShortTensor = _typed("ShortTensor", dt.int16)
CharTensor = _typed("CharTensor", dt.int8)
ByteTensor = _typed("ByteTensor", dt.uint8)
BoolTensor = _typed("BoolTensor", dt.bool)

def new(self, *args):
    """``x.new(*sizes)`` or ``x.new(data)``: a tensor of x's dtype and device (PyTorch's legacy constructor): zeros
    of those sizes (PyTorch's numbers are uninitialised; ``empty`` gives zeros here), or the data (a list, a tuple,
    an array); ``x.new()`` has no numbers."""
    if not args or all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in args) or (
            len(args) == 1 and isinstance(args[0], Size)):
        return self.new_zeros(size_args(args if args else (0,), "new"))
    if len(args) > 1:
        raise TypeError(f"new(): expected sizes (x.new(2, 3)) or one sequence of numbers (x.new([1, 2])), got "
                        f"{len(args)} arguments of types {', '.join(type(a).__name__ for a in args)}")
    return self.new_tensor(args[0])


def resize_(self, *sizes, memory_format=None):
    """Give the tensor the shape ``sizes`` in place (legacy, as pytorch-a3c's ``p.new().resize_as_(p).zero_()``):
    its numbers in order fill the new shape, and any room left is zeros (PyTorch's is uninitialised). A tensor
    that requires grad cannot be resized, as in PyTorch."""
    shape = size_args(sizes, "resize_")
    if self.requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    old, count = self.array.reshape(-1), math.prod(shape)
    grown = array_module_of(old).zeros(count, dtype=old.dtype)
    grown[:min(count, old.size)] = old[:count]
    self.array = grown.reshape(shape)
    self._bump_version()
    return self


def resize_as_(self, other, memory_format=None):
    """``resize_`` to ``other``'s shape."""
    if not isinstance(other, Tensor):
        raise TypeError(f"resize_as_(): argument 'the_template' must be a Tensor, not {type(other).__name__}")
    return resize_(self, other.shape)


Tensor.new, Tensor.resize_, Tensor.resize_as_ = new, resize_, resize_as_
Tensor.ndimension = Tensor.dim  # (legacy: x.ndimension() is x.dim())

__all__ = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor", "CharTensor",
           "ByteTensor", "BoolTensor"]
