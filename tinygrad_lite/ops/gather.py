r"""Gather and scatter-add: reading numbers at given positions, and adding numbers into given positions.

They are each other's backward. If z gathers x at positions ``index`` (z_i = x_{index_i}), then x_j was read once
per i with index_i = j, so dL/dx_j = \sum_{i: index_i = j} g_i: a scatter-add of g. And if z scatter-adds w
(z_k = \sum_{i: index_i = k} w_i), then dL/dw_i = g_{index_i}: a gather of g.

``sort``, ``topk`` and ``max(dim)`` are gathers: once the positions are chosen (which is not differentiable:
they are integers), the values are read from x, and the gradient goes back to the positions they came from.
``bincount`` is a scatter-add. The usual ``nll_loss`` (and so ``cross_entropy``) gathers one number per row.
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
        gx = array_module_of(g).zeros(self.shape, dtype=g.dtype)
        array_module_of(g).add.at(gx, coordinates(self.index, self.dim), g)
        return gx


def coordinates(index, dim):
    """Where gather reads x (and its backward, and a scatter, write): each element of ``index`` at its own
    coordinates, but with its number as the coordinate along ``dim`` (a tuple of arrays that broadcast)."""
    xp, shape = array_module_of(index), index.shape
    grid = [xp.arange(n).reshape([-1 if i == k else 1 for i in range(len(shape))]) for k, n in enumerate(shape)]
    grid[dim] = index
    return tuple(grid)


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


class NllLoss(Function):
    r"""z = -\frac{1}{N} \sum_n x_{n, y_n}: the mean negative log-likelihood of class indices y (N of them; an array,
    not an input) under log-probabilities x (N, C). ``nll_loss``'s usual case as one op, as in PyTorch.

    dz/dx_{n, c} = -1/N where c = y_n, else 0: the gradient -g/N goes to the one picked number of each row.
    """
    def forward(self, x, target):
        xp = array_module_of(x)
        self.shape, self.rows = x.shape, (xp.arange(len(target)), target)  # (target: the caller's own copy)
        picked = x[self.rows]                                               # x_{n, y_n}, one per row
        # the mean as sum / N (np.mean wraps the same sum in 3 us of Python); float16 summed in float32, as np.mean
        return -(picked.sum(dtype=xp.float32 if x.dtype == xp.float16 else x.dtype) / len(target)).astype(x.dtype)

    def backward(self, g):
        gx = array_module_of(g).zeros(self.shape, dtype=g.dtype)
        gx[self.rows] = -g / len(self.rows[1])  # (each row picks one number, so plain assignment adds nothing twice)
        return gx
