r"""Rounding and integer division: step functions, and the remainders they leave.

floor, ceil, trunc, round and sign are *step functions*: flat between their jumps, so their derivative is 0
wherever it exists. At the jumps it does not exist; PyTorch uses 0 there too, and so do we. So the gradient of
``x.round()`` is all zeros: rounding inside a loss stops the gradient (which is why binary accuracy,
``(p.round() == y).float().mean()``, is a metric and never a loss).

Floor division ``a // b = floor(a / b)`` is a step function of both inputs (gradient 0). The remainder is not:
``a % b = a - b floor(a / b)`` rises with a at slope 1, and moves with b at slope -floor(a / b).
As in Python (and PyTorch), ``//`` rounds towards -inf and ``%`` takes the sign of the divisor: -7 // 2 = -4,
-7 % 2 = 1. ``fmod`` is C's remainder instead: a - b trunc(a / b), with the sign of the dividend (-7 fmod 2 = -1).
"""
import numpy as np

from ..autograd.function import Function
from ..device import array_module_of


def _is_integer(x):
    return x.dtype.kind in "iub"


class StepFunction(Function):
    r"""A function that is flat between its jumps: dz/dx = 0 for every input (also at the jumps, as PyTorch)."""
    def backward(self, g):
        zeros = array_module_of(g).zeros_like(g)
        return zeros if len(self.inputs) == 1 else (zeros,) * len(self.inputs)


class Floor(StepFunction):
    r"""z = \lfloor x \rfloor, the largest integer <= x.   dz/dx = 0."""
    def forward(self, x):
        return x.copy() if _is_integer(x) else np.floor(x)


class Ceil(StepFunction):
    r"""z = \lceil x \rceil, the smallest integer >= x.   dz/dx = 0."""
    def forward(self, x):
        return x.copy() if _is_integer(x) else np.ceil(x)


class Trunc(StepFunction):
    r"""z = x with its fractional part dropped (rounded towards 0).   dz/dx = 0."""
    def forward(self, x):
        return x.copy() if _is_integer(x) else np.trunc(x)


class Round(StepFunction):
    r"""z = x rounded to ``decimals`` decimal places; halves go to the even neighbour (0.5 -> 0, 1.5 -> 2, 2.5 -> 2),
    as in PyTorch and numpy.   dz/dx = 0.

    With decimals = d > 0 the value is rint(x 10^d) / 10^d; with d < 0 it is rint(x / 10^{-d}) 10^{-d}.
    """
    def forward(self, x, decimals=0):
        if _is_integer(x):
            return x.copy()
        return np.round(x, decimals)


class Sign(StepFunction):
    r"""z = -1, 0 or 1 for x < 0, x = 0, x > 0, as (x > 0) - (x < 0): 0 for nan too, as in PyTorch.   dz/dx = 0."""
    def forward(self, x):
        return x.copy() if x.dtype.kind == "b" else (x > 0).astype(x.dtype) - (x < 0).astype(x.dtype)


def _check_integer_divisor(name, x, y):
    """Integer division by zero has no answer; PyTorch raises, numpy would quietly give 0."""
    if _is_integer(x) and _is_integer(y) and not np.all(y):
        raise RuntimeError(f"{name}: integer division by zero (ZeroDivisionError); a divisor element is 0. Divide "
                           "floats instead (x.float()) to get inf or nan, or mask the zero divisors out first")


class FloorDivide(StepFunction):
    r"""z = \lfloor a / b \rfloor (``a // b``), rounding towards -inf like Python.   dz/da = dz/db = 0.

    (PyTorch raises "derivative for floor_divide is not implemented" on backward; it is 0 wherever it exists,
    which is what we return.)
    """
    def forward(self, a, b):
        _check_integer_divisor("floor_divide", a, b)
        with np.errstate(divide="ignore", invalid="ignore"):  # x / 0 gives inf or nan, as in PyTorch
            return np.floor_divide(a, b)


class Remainder(Function):
    r"""z = a - b \lfloor a / b \rfloor (``a % b``): the sign of b, like Python.

    dz/da = 1,   dz/db = -\lfloor a / b \rfloor.
    """
    def forward(self, a, b):
        _check_integer_divisor("remainder", a, b)
        self.save_for_backward(a, b)
        with np.errstate(divide="ignore", invalid="ignore"):  # x / 0 gives inf or nan, as in PyTorch
            return np.remainder(a, b)

    def backward(self, g):
        a, b = self.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            gb = -g * np.floor_divide(a, b) if self.needs_input_grad[1] else None
        return g, gb


class Fmod(Function):
    r"""z = a - b \,\mathrm{trunc}(a / b): C's remainder, with the sign of a.

    dz/da = 1,   dz/db = -\mathrm{trunc}(a / b).
    """
    def forward(self, a, b):
        _check_integer_divisor("fmod", a, b)
        self.save_for_backward(a, b)
        with np.errstate(divide="ignore", invalid="ignore"):  # x / 0 gives inf or nan, as in PyTorch
            return np.fmod(a, b)

    def backward(self, g):
        a, b = self.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            gb = -g * np.trunc(a / b) if self.needs_input_grad[1] else None
        return g, gb
