r"""Reductions: many elements in, fewer out.

Their backward *spreads* the output gradient back over the elements that were reduced. ``dim=None``
means all dims. With ``keepdim=False`` the reduced dims disappear, so backward first puts them back
(as size 1) and then lets broadcasting copy the gradient along them.
"""
import numpy as np

from ..autograd.function import Function
from ..device import array_module_of
from ..summation import rounded_mean, rounded_sum


def _restore_dims(g, shape, dim, keepdim):
    """Reinsert the reduced dims (size 1) into g so that it broadcasts against the input's shape."""
    if dim is None:
        return g.reshape((1,) * len(shape))
    return g if keepdim else np.expand_dims(g, dim)


class Sum(Function):
    r"""z = \sum_i x_i.   dz/dx_i = 1: every summed element gets the whole output gradient.

    float16 is summed in float32 and rounded once, as PyTorch sums it, and a long float32 sum across dims in
    float64 (summation.py: numpy would add its numbers one at a time)."""
    def forward(self, x, dim=None, keepdim=False):
        self.shape, self.dim, self.keepdim = x.shape, dim, keepdim
        return rounded_sum(x, axis=dim, keepdims=keepdim)

    def backward(self, g):
        return np.broadcast_to(_restore_dims(g, self.shape, self.dim, self.keepdim), self.shape)


class Mean(Function):
    r"""z = \frac{1}{N} \sum_i x_i.   dz/dx_i = 1/N.   (The sum accumulated as ``Sum``'s, rounded once.)"""
    def forward(self, x, dim=None, keepdim=False):
        self.shape, self.dim, self.keepdim = x.shape, dim, keepdim
        self.n = x.size if dim is None else int(np.prod([x.shape[d] for d in dim]))
        return rounded_mean(x, axis=dim, keepdims=keepdim)

    def backward(self, g):  # (float16: 1/N in float32, since N past 65,504 is inf in float16 and 1/inf is 0)
        n = np.float32(self.n) if g.dtype == np.float16 else self.n
        return np.broadcast_to((_restore_dims(g, self.shape, self.dim, self.keepdim) / n).astype(g.dtype, copy=False),
                               self.shape)


class Amax(Function):
    r"""z = \max_i x_i.   dz/dx_i = 1 for the maximum, 0 elsewhere; tied maxima share the gradient equally.

    Two of PyTorch's rules at the edges: ``max()`` gives the gradient to the nans (a nan is the maximum, as numpy's
    max propagates it) and 0 elsewhere even for an inf g; ``amax`` (``spread=True``) is (g / count) * [x = z], so a
    slice with a nan (no x equals z) gets nan everywhere, and an inf g gives nan (inf * 0) off the maximum."""
    def forward(self, x, dim=None, keepdim=False, spread=False):
        z = x.max(axis=dim, keepdims=keepdim)
        self.save_for_backward(x, z)
        self.dim, self.keepdim, self.spread = dim, keepdim, spread
        return z

    def backward(self, g):
        x, z = self.saved_tensors
        z = _restore_dims(z, x.shape, self.dim, self.keepdim)
        is_max = (x == z) | (np.isnan(x) & np.isnan(z)) if x.dtype.kind == "f" and not self.spread else x == z
        with np.errstate(divide="ignore", invalid="ignore"):  # the nans and infs above are PyTorch's, unwarned
            g = _restore_dims(g, x.shape, self.dim, self.keepdim) / is_max.sum(axis=self.dim, keepdims=True)
            return g * is_max if self.spread else np.where(is_max, g, 0)


class MaxAlongDim(Function):
    r"""z = \max_i x_i along one dim, as ``x.max(dim)``.   The gradient goes to the position argmax picked."""
    def forward(self, x, dim, keepdim=False):
        self.index = np.expand_dims(x.argmax(axis=dim), dim)
        self.shape, self.dim, self.keepdim = x.shape, dim, keepdim
        z = np.take_along_axis(x, self.index, axis=dim)
        return z if keepdim else z.squeeze(dim)

    def backward(self, g):
        xp = array_module_of(g)
        g = g if self.keepdim else xp.expand_dims(g, self.dim)
        dim = self.dim % len(self.shape)
        positions = xp.arange(self.shape[dim]).reshape([-1 if d == dim else 1 for d in range(len(self.shape))])
        return xp.where(positions == self.index, g, g.dtype.type(0))  # g where argmax picked, 0 elsewhere


def _products_of_the_others(x, axis):
    r"""p_i = \prod_{k \ne i} x_k along ``axis``, as (product of those before i) * (product of those after i).

    No division by x_i, so an input that is exactly 0 is handled exactly.
    """
    xp = array_module_of(x)
    x = xp.moveaxis(x, axis, -1)
    before, after = xp.ones_like(x), xp.ones_like(x)
    before[..., 1:] = xp.cumprod(x[..., :-1], axis=-1)
    after[..., :-1] = xp.flip(xp.cumprod(xp.flip(x[..., 1:], -1), axis=-1), -1)
    return xp.moveaxis(before * after, -1, axis)


class Prod(Function):
    r"""z = \prod_i x_i (over all elements, or along one dim).   dz/dx_i = \prod_{k \ne i} x_k.

    With no zeros that is z / x_i; with one zero only the zero's own gradient is non-zero; with two or more,
    every gradient is 0. Computing the products of the others directly gets all three cases right.
    """
    def forward(self, x, dim=None, keepdim=False):
        self.save_for_backward(x)
        self.dim, self.keepdim = dim, keepdim
        return x.prod(axis=dim, keepdims=keepdim)

    def backward(self, g):
        x, = self.saved_tensors
        if self.dim is None:
            return g * _products_of_the_others(x.reshape(-1), 0).reshape(x.shape)
        return _restore_dims(g, x.shape, (self.dim,), self.keepdim) * _products_of_the_others(x, self.dim)
