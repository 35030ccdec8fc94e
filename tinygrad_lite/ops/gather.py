r"""Gather and scatter-add: reading numbers at given positions, and adding numbers into given positions.

They are each other's backward. If z gathers x at positions ``index`` (z_i = x_{index_i}), then x_j was read once
per i with index_i = j, so dL/dx_j = \sum_{i: index_i = j} g_i: a scatter-add of g. And if z scatter-adds w
(z_k = \sum_{i: index_i = k} w_i), then dL/dw_i = g_{index_i}: a gather of g.

``sort``, ``topk`` and ``max(dim)`` are gathers: once the positions are chosen (which is not differentiable:
they are integers), the values are read from x, and the gradient goes back to the positions they came from.
``bincount`` is a scatter-add.
"""
from ..autograd.function import Function
from ..device import array_module_of


class Gather(Function):
    r"""z[..., i, ...] = x[..., index[..., i, ...], ...] along ``dim`` (``torch.gather``, ``take_along_dim``).

    ``index`` has the shape of the output. Backward: dL/dx starts at 0 and each g_i is *added* at x's position
    index_i (``add.at``, so that a position read twice gets both gradients).
    """
    def forward(self, x, index, dim):
        self.shape, self.index, self.dim = x.shape, index, dim
        return array_module_of(x).take_along_axis(x, index, axis=dim)

    def backward(self, g):
        xp = array_module_of(g)
        gx = xp.zeros(self.shape, dtype=g.dtype)
        shape = self.index.shape  # where each element of index sits, with index itself along dim
        grid = [xp.arange(n).reshape([-1 if i == k else 1 for i in range(len(shape))]) for k, n in enumerate(shape)]
        grid[self.dim] = self.index
        xp.add.at(gx, tuple(grid), g)
        return gx


class Bincount(Function):
    r"""z_k = \sum_{i: x_i = k} w_i for k = 0 .. max(x) (or minlength - 1): a scatter-add of the weights.

    dz_k/dw_i = 1 if x_i = k, else 0, so dL/dw_i = g_{x_i}: the gradient is gathered back.
    (PyTorch has no derivative for bincount; this one is exact.) ``x`` is an array of counts' bins, not an input.
    """
    def forward(self, w, bins, length):
        self.bins = bins
        xp = array_module_of(w)
        z = xp.zeros(length, dtype=w.dtype)
        xp.add.at(z, bins, w)
        return z

    def backward(self, g):
        return g[self.bins]
