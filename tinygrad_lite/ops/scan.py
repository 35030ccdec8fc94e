r"""Scans: running sums and running products along one dim.

z_i depends on x_0 .. x_i (everything up to i), so the gradient of x_i collects from z_i, z_{i+1}, ...
(everything from i on): the backward of a scan runs the other way.
"""
import numpy as np

from ..autograd.function import Function
from ..device import array_module_of
from ..summation import cumsum_dtype


class CumSum(Function):
    r"""z_i = \sum_{j \le i} x_j along ``dim``.

    dz_j/dx_i = 1 for j >= i, so dL/dx_i = \sum_{j \ge i} g_j: a cumulative sum of g taken from the end.
    """
    def forward(self, x, dim):  # (float16 summed in float32, float32 on the CPU in float64, rounded once, as
        self.dim = dim          # PyTorch's kernels sum them: summation.py)
        sums = np.cumsum(x, axis=dim, dtype=cumsum_dtype(x))
        return sums.astype(x.dtype, copy=False) if x.dtype.kind == "f" else sums

    def backward(self, g):
        xp = array_module_of(g)
        sums = xp.cumsum(xp.flip(g, self.dim), axis=self.dim, dtype=cumsum_dtype(g))
        return xp.flip(sums, self.dim).astype(g.dtype, copy=False)


class CumProd(Function):
    r"""z_i = \prod_{j \le i} x_j along ``dim``.

    dz_j/dx_i = \prod_{k \le j, k \ne i} x_k for j >= i, so
        dL/dx_i = \sum_{j \ge i} g_j \prod_{k \le j, k \ne i} x_k = P_i S_i,
    with P_i = \prod_{k < i} x_k (the running product before i) and S_i = \sum_{j \ge i} g_j \prod_{i < k \le j} x_k,
    which satisfies S_i = g_i + x_{i+1} S_{i+1}. We run that recurrence from the end instead of dividing
    z_j by x_i, so inputs that are exactly 0 get exact gradients (as in PyTorch).
    """
    def forward(self, x, dim):
        self.dim = dim
        self.save_for_backward(x)
        return np.cumprod(x, axis=dim)

    def backward(self, g):
        x, = self.saved_tensors
        xp = array_module_of(g)
        x, g = xp.moveaxis(x, self.dim, -1), xp.moveaxis(g, self.dim, -1)  # the scanned dim last
        n = x.shape[-1]
        before = xp.ones_like(g)
        before[..., 1:] = xp.cumprod(x[..., :-1], axis=-1)                # P_i
        s = xp.zeros_like(g)
        for i in reversed(range(n)):                                       # S_i = g_i + x_{i+1} S_{i+1}
            s[..., i] = g[..., i] + (x[..., i + 1] * s[..., i + 1] if i + 1 < n else 0)
        return xp.moveaxis(before * s, -1, self.dim)
