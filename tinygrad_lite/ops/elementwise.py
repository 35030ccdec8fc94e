r"""Elementwise ops: output element i depends only on input element i.

So each backward is the chain rule one element at a time: dL/dx = dL/dz * dz/dx, where dz/dx is the
*local derivative* written in each docstring. ``g`` always stands for dL/dz, the gradient of the output.
"""
import numpy as np

from ..autograd.function import Function
from ..device import device_of, move


class Add(Function):
    r"""z = x + y.   dz/dx = 1, dz/dy = 1: the gradient passes through unchanged to both."""
    def forward(self, x, y):
        return x + y

    def backward(self, g):
        return g, g


class Sub(Function):
    r"""z = x - y.   dz/dx = 1, dz/dy = -1."""
    def forward(self, x, y):
        return x - y

    def backward(self, g):
        return g, -g


class Rsub(Function):
    r"""z = c - x for a number c (``1 - x``, PyTorch's rsub): c is a constant, not an input.   dz/dx = -1."""
    def forward(self, x, c):
        return c - x

    def backward(self, g):
        return -g


class Mul(Function):
    r"""z = x y.   dz/dx = y, dz/dy = x: each input's gradient is scaled by the other input.

    So dL/dx needs only y, and dL/dy only x: we save just what the inputs that require grad need (as PyTorch
    does; changing the other one in place before backward is then harmless).
    """
    def forward(self, x, y):
        need_x, need_y = self.needs_input_grad
        self.save_for_backward(x if need_y else None, y if need_x else None)
        return x * y

    def backward(self, g):
        x, y = self.saved_tensors
        return (g * y if y is not None else None), (g * x if x is not None else None)


class Div(Function):
    r"""z = x / y.   dz/dx = 1/y, dz/dy = -x/y^2 (so x is saved only when y requires grad)."""
    def forward(self, x, y):
        self.save_for_backward(x if self.needs_input_grad[1] else None, y)
        return x / y

    def backward(self, g):
        x, y = self.saved_tensors
        gy = -g * x / (y * y) if self.needs_input_grad[1] else None
        return (g / y if self.needs_input_grad[0] else None), gy


class Reciprocal(Function):
    r"""z = 1 / x.   dz/dx = -1/x^2 = -z^2, so we keep the output. (``c / x`` for a number c is
    ``reciprocal(x) * c``, as in PyTorch's graph.)"""
    def forward(self, x):
        z = np.reciprocal(x)
        self.save_for_backward(z)
        return z

    def backward(self, g):
        z, = self.saved_tensors
        return g * -(z * z)


class Pow(Function):
    r"""z = x^y.   dz/dx = y x^{y-1},  dz/dy = x^y \ln x.

    As in PyTorch, dz/dx is taken as 0 where y = 0, and dz/dy as 0 where x = 0 and y >= 0
    (so ``x ** 2`` at x = 0 and ``0 ** y`` give clean zeros, not nan). A number as the base or the exponent
    (``2 ** x``, ``x ** 2``) is a constant, not an input, as in PyTorch's graph: ``number_first`` says which, and
    backward returns the gradient of the one tensor.
    """
    def forward(self, x, y, number_first=None):
        self.number_first = number_first
        if number_first is not None:  # one input: spell its flag out as the base's and the exponent's
            needed = self.needs_input_grad[0]
            self.needs_input_grad = (False, needed) if number_first else (needed, False)
        z = x ** y
        self.save_for_backward(x, y, z if self.needs_input_grad[1] else None)  # z only for dz/dy, as in PyTorch
        return z

    def backward(self, g):
        x, y, z = self.saved_tensors
        # (where y = 0, x^{y-1} is never formed: at x = 0 it would be 1/0, a warning for a gradient that is 0)
        gx = np.where(y == 0, 0, g * y * x ** np.where(y == 0, 1, y - 1)) if self.needs_input_grad[0] else None
        gy = None
        if self.needs_input_grad[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                gy = np.where((x == 0) & (y >= 0), 0, g * z * np.log(x))
        return (gx, gy) if self.number_first is None else gy if self.number_first else gx


class Maximum(Function):
    r"""z = max(x, y).   The gradient goes to the larger input; on a tie it is split in half (as in PyTorch). Where
    one is nan (z is nan), neither is smaller, so both get g, as in PyTorch: the nan shows in the gradients."""
    def forward(self, x, y):
        self.save_for_backward(x, y)
        return np.maximum(x, y)

    def backward(self, g):
        x, y = self.saved_tensors
        both = np.where(x == y, g * 0.5, g)  # (a side's 0 stays 0 for an inf g: np.where, not g * 0)
        return np.where(x < y, 0, both), np.where(x > y, 0, both)


class Neg(Function):
    r"""z = -x.   dz/dx = -1.

    Backward computes 0 - g rather than -g: the same numbers, but a zero gradient stays 0 instead of becoming -0.
    (min is -max(-x): the elements min did not pick would print as -0. in x.grad.)
    """
    def forward(self, x):
        return -x

    def backward(self, g):
        return 0 - g


class Abs(Function):
    r"""z = |x|.   dz/dx = sign(x) (taken as 0 at x = 0)."""
    def forward(self, x):
        self.save_for_backward(x)
        return np.abs(x)

    def backward(self, g):
        x, = self.saved_tensors
        return g * np.sign(x)


class Exp(Function):
    r"""z = e^x.   dz/dx = e^x = z, so we keep the output."""
    def forward(self, x):
        z = np.exp(x)
        self.save_for_backward(z)
        return z

    def backward(self, g):
        z, = self.saved_tensors
        return g * z


class Expm1(Function):
    r"""z = e^x - 1, accurate for tiny x (where e^x - 1 would cancel).   dz/dx = e^x, computed from x: z + 1
    would cancel for very negative x (z near -1)."""
    def forward(self, x):
        self.save_for_backward(x)
        return np.expm1(x)

    def backward(self, g):
        x, = self.saved_tensors
        return g * np.exp(x)


class Log(Function):
    r"""z = \ln x.   dz/dx = 1/x."""
    def forward(self, x):
        self.save_for_backward(x)
        return np.log(x)

    def backward(self, g):
        x, = self.saved_tensors
        return g / x


class Log1p(Function):
    r"""z = \ln(1 + x), accurate for tiny x.   dz/dx = 1/(1 + x)."""
    def forward(self, x):
        self.save_for_backward(x)
        return np.log1p(x)

    def backward(self, g):
        x, = self.saved_tensors
        return g / (1 + x)


class Sqrt(Function):
    r"""z = \sqrt{x}.   dz/dx = 1 / (2 \sqrt{x}) = 1 / (2z)."""
    def forward(self, x):
        z = np.sqrt(x)
        self.save_for_backward(z)
        return z

    def backward(self, g):
        z, = self.saved_tensors
        return g / (2 * z)


class Sin(Function):
    r"""z = \sin x.   dz/dx = \cos x."""
    def forward(self, x):
        self.save_for_backward(x)
        return np.sin(x)

    def backward(self, g):
        x, = self.saved_tensors
        return g * np.cos(x)


class Cos(Function):
    r"""z = \cos x.   dz/dx = -\sin x."""
    def forward(self, x):
        self.save_for_backward(x)
        return np.cos(x)

    def backward(self, g):
        x, = self.saved_tensors
        return -g * np.sin(x)


class Asin(Function):
    r"""z = \arcsin x, for -1 <= x <= 1.   dz/dx = 1 / \sqrt{1 - x^2} (inf at x = +-1, as in PyTorch)."""
    def forward(self, x):
        self.save_for_backward(x)
        return np.arcsin(x)

    def backward(self, g):
        x, = self.saved_tensors
        return g / np.sqrt(1 - x * x)


class Atan2(Function):
    r"""z = atan2(y, x), the angle of the point (x, y), in [-\pi, \pi].   dz/dy = x / (x^2 + y^2),
    dz/dx = -y / (x^2 + y^2), both 0 at the origin, as in PyTorch (atan y is atan2(y, 1))."""
    def forward(self, y, x):
        self.save_for_backward(y, x)
        return np.arctan2(y, x)

    def backward(self, g):
        y, x = self.saved_tensors
        r2 = x * x + y * y
        with np.errstate(divide="ignore"):
            inverse = np.where(r2 == 0, 0, 1 / r2)  # (0 at the origin, as PyTorch's)
        return g * x * inverse, -g * y * inverse


class Clamp(Function):
    r"""z = min(max(x, lo), hi).   dz/dx = 1 where lo <= x <= hi, else 0 (the clipped values are constants)."""
    def forward(self, x, min=None, max=None):
        self.save_for_backward(x)
        self.lo, self.hi = min, max
        return np.clip(x, min, max)

    def backward(self, g):
        x, = self.saved_tensors
        inside = (x <= self.hi) if self.lo is None else (x >= self.lo)  # (arrays on x's device)
        if self.lo is not None and self.hi is not None:
            inside &= x <= self.hi
        return np.where(inside, g, 0)  # (0 outside even for an inf or nan g, as PyTorch: not g * 0)


class ClampTensor(Function):
    r"""z = min(max(x, lo), hi) with tensor bounds (broadcast together; either may be None).

    The gradient goes to the one that z equals, by PyTorch's rule: to x where lo <= x <= hi; to lo where
    x < lo < hi; to hi where x > hi, or wherever hi < lo (then z = hi whatever x is). Where lo = x = hi,
    x gets it. A missing bound counts as -inf or +inf and is not an input.
    """
    def forward(self, x, lo, hi):
        self.save_for_backward(x, lo, hi)
        return np.clip(x, -np.inf if lo is None else lo, np.inf if hi is None else hi).astype(x.dtype)

    def backward(self, g):
        x, lo, hi = self.saved_tensors
        lo_, hi_ = (-np.inf if lo is None else lo), (np.inf if hi is None else hi)
        grads = [np.where((x >= lo_) & (x <= hi_), g, 0)]
        if lo is not None:
            grads.append(np.where((x < lo) & (lo < hi_), g, 0))
        if hi is not None:
            grads.append(np.where((x > hi) | (hi < lo_), g, 0))
        return tuple(grads)


class Where(Function):
    r"""z = x where cond else y.   The gradient goes to x where cond holds, to y elsewhere."""
    def forward(self, x, y, cond):
        self.cond = cond
        return np.where(cond, x, y)

    def backward(self, g):
        return np.where(self.cond, g, 0), np.where(self.cond, 0, g)


class Cast(Function):
    r"""z = x converted to another dtype.   The gradient is converted back."""
    def forward(self, x, dtype):
        return x.astype(dtype)

    def backward(self, g):
        return g.astype(self.inputs[0].array.dtype)


class ToDevice(Function):
    r"""z = x copied to another device (CPU <-> GPU).   The gradient is copied back."""
    def forward(self, x, device):
        self.source = device_of(x)
        return move(x, device)

    def backward(self, g):
        return move(g, self.source)


class Clone(Function):
    r"""z = a copy of x.   dz/dx = 1."""
    def forward(self, x):
        return x.copy()

    def backward(self, g):
        return g
