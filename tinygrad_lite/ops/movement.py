r"""Movement ops rearrange numbers without changing them.

So each backward moves the gradient back to where each number came from: reshape it back, permute it
back, scatter it back into the indexed positions, split it back into the concatenated pieces.
"""
import numpy as np

from ..autograd.function import Function
from ..device import array_module_of


class Reshape(Function):
    r"""Same numbers, new shape.   Backward: reshape the gradient to the input's shape."""
    def forward(self, x, shape):
        self.shape = x.shape
        return x.reshape(shape)

    def backward(self, g):
        return g.reshape(self.shape)


class Permute(Function):
    r"""Reorder the dims: output dim i is input dim dims[i].   Backward: apply the inverse permutation."""
    def forward(self, x, dims):
        self.inverse = tuple(np.argsort(dims))
        return x.transpose(dims)

    def backward(self, g):
        return g.transpose(self.inverse)


class Expand(Function):
    r"""Repeat size-1 dims (without copying) to a bigger shape.

    Backward: each input element was used many times, so its gradient is the sum over the copies;
    the engine's ``unbroadcast`` does exactly that to what we return.
    """
    def forward(self, x, shape):
        return np.broadcast_to(x, shape)

    def backward(self, g):
        return g


def _is_basic(index):
    """Slices, ints, None and ... pick each element at most once; integer arrays and masks may repeat."""
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, np.integer, slice)) for i in items)


class Index(Function):
    r"""z = x[index]: slices, integers, integer arrays, boolean masks.

    Backward: start from zeros of x's shape and *add* g into the picked positions. Adding (``add.at``)
    rather than assigning matters when an integer array picks the same element twice: both uses count.
    """
    def forward(self, x, index):
        self.shape, self.index = x.shape, index
        z = x[index]
        if isinstance(z, np.generic):  # one number: numpy copies it out, but x[i, ...] is a 0-d view, as PyTorch's x[i]
            z = x[(index if isinstance(index, tuple) else (index,)) + (Ellipsis,)]
        return z

    def backward(self, g):
        xp = array_module_of(g)
        gx = xp.zeros(self.shape, dtype=g.dtype)
        if _is_basic(self.index):
            gx[self.index] = g
        else:
            xp.add.at(gx, self.index, g)
        return gx


class SetItem(Function):
    r"""z = x with z[index] = v: setitem, ``x[index] = v``, written into x's own array (the one op that changes its
    input: that is what setitem means; ``autograd/inplace.record_inplace`` gives x the new place in the graph).

    z takes v's numbers at the written positions and x's elsewhere, so dL/dx = g with the written positions set
    to 0 (x's old numbers there are gone), and dL/dv = g[index] (summed over the positions that a broadcast v
    filled: the engine's ``unbroadcast`` does that).
    """
    def forward(self, x, v, index):
        self.index, self.v_ndim = index, v.ndim
        x[index] = v if v.size != 1 else v.reshape(())  # (one number in any shape, (1,) too, fills any place)
        return x

    def backward(self, g):
        gx = gv = None
        if self.needs_input_grad[0]:
            gx = array_module_of(g).array(g)  # (a copy, and an array even where g is a 0-d numpy scalar)
            gx[self.index] = 0
        if self.needs_input_grad[1]:
            gv = g[self.index]
            gv = gv.reshape((1,) * (self.v_ndim - gv.ndim) + gv.shape)  # v may have extra leading dims of size 1
        return gx, gv


class Cat(Function):
    r"""Join tensors along ``dim``.   Backward: cut the gradient into the same pieces, one per input."""
    def forward(self, *xs, dim):
        self.dim = dim
        self.ends = np.cumsum([x.shape[dim] for x in xs])[:-1]
        return array_module_of(xs[0]).concatenate(xs, axis=dim)

    def backward(self, g):
        return tuple(array_module_of(g).split(g, self.ends.tolist(), axis=self.dim))
