r"""Activation functions and softmax.

Activations are elementwise non-linearities: without them a stack of Linear layers collapses into one
linear map. Softmax turns a row of scores into probabilities; it mixes elements along one dim, so its
backward is a small vector formula rather than a per-element derivative.
"""
import math

import numpy as np

from ..autograd.function import Function
from ..device import array_module_of
from ..special_numbers import erf_numbers


class ReLU(Function):
    r"""z = max(x, 0).   dz/dx = 1 for x > 0, else 0 (0 at x = 0, as in PyTorch).

    z > 0 exactly where x > 0, so we keep the output (as PyTorch does), not the input. A nan input gives a nan
    output, and the gradient passes there (as PyTorch's ``z <= 0``), so the nan shows in the gradients too.
    """
    def forward(self, x):
        z = np.maximum(x, 0)
        self.save_for_backward(z)
        return z

    def backward(self, g):
        z, = self.saved_tensors
        return np.where(z <= 0, 0, g)  # (0 where z = 0 even for an inf or nan g, as PyTorch: not g * 0)


class LeakyReLU(Function):
    r"""z = x for x > 0, else a x.   dz/dx = 1 for x > 0, else a."""
    def forward(self, x, negative_slope=0.01):
        self.save_for_backward(x)
        self.a = negative_slope
        return np.where(x > 0, x, x * negative_slope)

    def backward(self, g):
        x, = self.saved_tensors
        return np.where(x > 0, g, g * self.a)


class Sigmoid(Function):
    r"""z = 1 / (1 + e^{-x}).   dz/dx = z (1 - z).

    Computed as exp(-log(1 + e^{-x})) with ``logaddexp`` so that no exp ever overflows.
    """
    def forward(self, x):
        z = np.exp(-np.logaddexp(0, -x))
        self.save_for_backward(z)
        return z

    def backward(self, g):
        z, = self.saved_tensors
        return g * z * (1 - z)


class Tanh(Function):
    r"""z = \tanh x.   dz/dx = 1 - z^2."""
    def forward(self, x):
        z = np.tanh(x)
        self.save_for_backward(z)
        return z

    def backward(self, g):
        z, = self.saved_tensors
        return g * (1 - z * z)


class GELU(Function):
    r"""z = x \Phi(x), with \Phi the standard normal CDF.   dz/dx = \Phi(x) + x \varphi(x).

    ``approximate="tanh"`` uses \Phi(x) \approx (1 + \tanh(\sqrt{2/\pi}(x + 0.044715 x^3))) / 2, as PyTorch does.
    """
    def forward(self, x, approximate="none"):
        self.approximate = approximate
        if approximate == "tanh":
            t = np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3))
            self.save_for_backward(x, t)
            return 0.5 * x * (1 + t)
        cdf = 0.5 * (1 + erf_numbers(x / math.sqrt(2)))
        self.save_for_backward(x, cdf)
        return x * cdf

    def backward(self, g):
        if self.approximate == "tanh":
            x, t = self.saved_tensors
            du = math.sqrt(2 / math.pi) * (1 + 3 * 0.044715 * x * x)
            return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du)
        x, cdf = self.saved_tensors
        pdf = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        return g * (cdf + x * pdf)


def classes_first(x, dim):
    """``x`` with ``dim`` (the classes) moved to the front, so that the reductions and broadcasts run along dim 0.

    The layout matters for speed, not for the numbers. numpy works along a dim one row at a time, one inner-loop
    call per row: with 10 classes, one call per 10 numbers (the max of (1024, 10) scores takes 60 us, of (50000, 2)
    1.5 ms). So with few classes (32 or fewer) and many rows we work on a contiguous copy with the classes first,
    where every step is one pass over all the rows (3 to 8 times faster). Otherwise this is a view, no copy.
    (With so few classes, summing them one after the other rounds no worse than numpy's pairwise sum.)
    """
    if x.ndim == 0:
        return x.reshape(1)
    front = x.swapaxes(0, dim)
    if x.shape[dim] <= 32 and x.size >= 16 * x.shape[dim] and type(x) is np.ndarray:  # (a GPU has no such problem)
        front = front.copy()
    return front


def classes_back(front, dim, shape):
    """Undo ``classes_first``: the classes back in ``dim``, the array contiguous, of the input's ``shape``."""
    return array_module_of(front).ascontiguousarray(front.swapaxes(0, dim) if len(shape) else front).reshape(shape)


class Softmax(Function):
    r"""s_i = e^{x_i} / \sum_j e^{x_j} along ``dim``.

    Stable: we subtract max_j x_j first, which leaves s unchanged (it cancels) but keeps exp from overflowing.
    Backward: dL/dx_i = s_i (g_i - \sum_j g_j s_j). Computed with the classes first (``classes_first``).
    """
    @np.errstate(invalid="ignore")  # (a row of -inf only, as a fully masked attention row: nan, quietly, as PyTorch)
    def forward(self, x, dim):
        f, self.dim = classes_first(x, dim), dim
        e = np.exp(f - f.max(axis=0))
        s = (e / e.sum(axis=0, dtype=np.float32 if e.dtype == np.float16 else None)).astype(e.dtype, copy=False)
        out = classes_back(s, dim, x.shape)  # (float16: summed in float32, as PyTorch's: a sum past 65,504 is inf)
        self.save_for_backward(s, out)  # (out too, so that changing the result in place is caught, as in PyTorch)
        return out

    def backward(self, g):
        s, out = self.saved_tensors
        gf = classes_first(g, self.dim)
        return classes_back(s * (gf - (gf * s).sum(axis=0)), self.dim, out.shape)


class LogSoftmax(Function):
    r"""z_i = x_i - \log \sum_j e^{x_j} along ``dim`` (the log-sum-exp computed stably around the max).

    Backward: dL/dx_i = g_i - softmax(x)_i \sum_j g_j, and softmax(x) = e^z. Computed with the classes first.
    """
    @np.errstate(invalid="ignore")  # (a row of -inf only: nan, quietly, as PyTorch's)
    def forward(self, x, dim):
        f, self.dim = classes_first(x, dim), dim
        z = f - f.max(axis=0)                   # shifted by the max: every e^z <= 1
        z -= np.log(np.exp(z).sum(axis=0))      # minus the log-sum-exp
        out = classes_back(z, dim, x.shape)
        self.save_for_backward(z, out)  # (out too, so that changing the result in place is caught, as in PyTorch)
        return out

    def backward(self, g):
        z, out = self.saved_tensors
        gf = classes_first(g, self.dim)
        return classes_back(gf - np.exp(z) * gf.sum(axis=0), self.dim, out.shape)
