r"""The vector p-norm, the length of a vector: ||x||_p = (\sum_i |x_i|^p)^{1/p}.

p = 2 is the Euclidean length (gradient clipping, weight norms, normalising embeddings), p = 1 the sum of
absolute values, p = inf the largest absolute value (and p = -inf the smallest), p = 0 the number of non-zeros.

The gradient, for n = ||x||_p:   dn/dx_i = sign(x_i) |x_i|^{p-1} / n^{p-1}.
So for p = 2 it is x_i / n (the unit vector), for p = 1 it is sign(x_i), for p = +-inf it is sign(x_i) on the
elements whose |x_i| equals n (shared equally on ties), and for p = 0 it is 0. At x = 0 the norm has a kink;
there we return 0, exactly as PyTorch does (so clipping an all-zero gradient gives no nan).
"""
import math

import numpy as np

from ..autograd.function import Function
from ..device import array_module_of
from .reduce import _restore_dims


class VectorNorm(Function):
    r"""n = ||x||_p over ``dim`` (all dims when None).   dn/dx_i = sign(x_i) |x_i|^{p-1} / n^{p-1} (0 where n = 0)."""
    def forward(self, x, ord, dim, keepdim):
        a = np.abs(x)
        if ord == math.inf:
            n = a.max(axis=dim, keepdims=keepdim)
        elif ord == -math.inf:
            n = a.min(axis=dim, keepdims=keepdim)
        elif ord == 0:
            n = (a != 0).sum(axis=dim, keepdims=keepdim).astype(x.dtype)
        elif ord == 1:
            n = a.sum(axis=dim, keepdims=keepdim)
        elif ord == 2:
            n = np.sqrt((x * x).sum(axis=dim, keepdims=keepdim))
        else:
            n = (a ** ord).sum(axis=dim, keepdims=keepdim) ** (1.0 / ord)
        self.save_for_backward(x, n)
        self.ord, self.dim, self.keepdim = ord, dim, keepdim
        return n

    def backward(self, g):
        x, n = self.saved_tensors
        p = self.ord
        g = _restore_dims(g, x.shape, self.dim, self.keepdim)
        n = _restore_dims(n, x.shape, self.dim, self.keepdim)
        if p == 0:
            return array_module_of(g).zeros(np.broadcast_shapes(x.shape, g.shape), dtype=g.dtype)
        if p == 1:
            return np.sign(x) * g
        with np.errstate(divide="ignore", invalid="ignore"):
            if p == 2:
                return g * np.where(n == 0, 0, x / n)
            if math.isinf(p):  # the extreme elements share the gradient
                hit = np.abs(x) == n
                return np.sign(x) * hit * (g / hit.sum(axis=self.dim, keepdims=True))
            if p < 1:  # |x_i|^{p-1} is infinite at x_i = 0, where the gradient is taken as 0
                scaled = np.where(x == 0, 0, np.sign(x) * np.abs(x) ** (p - 1))
                return scaled * g * n ** (1 - p)
            return np.sign(x) * np.abs(x) ** (p - 1) * np.where(n == 0, 0, g / n ** (p - 1))
