r"""The mean squared error as one op, with the closed-form backward (PyTorch's ``MseLossBackward0``).

For predictions x and targets y (broadcast against each other, N numbers in all):

    forward                                   backward (g = dL/dloss, a number)
    d_n = x_n - y_n                              dL/dx_n = (2/N) d_n g     ('sum': 2 d_n g)
    loss = \frac{1}{N} \sum_n d_n^2              dL/dy_n = -(2/N) d_n g
           (or \sum_n d_n^2 for 'sum')

Written with the engine's small ops (subtract, square, mean) the loss is three ops, and their backward passes
compute 2 d_n / N in three steps; the regression models of the lessons are so small that the three ops, forward
and backward, were about a quarter of a training step. The numbers are those of the three ops, and the gradient
is computed in PyTorch's order, ((2/N) d_n) g.
"""
from ..autograd.function import Function


class MseLoss(Function):
    r"""loss = reduce_n (x_n - y_n)^2, 'mean' or 'sum'.   dL/dx = norm (x - y) g, dL/dy = -dL/dx, with
    norm = 2/N for 'mean' and 2 for 'sum'.

    As in PyTorch, x and y are saved for backward (changing either in place before backward is refused) and the
    differences are computed again there.
    """
    def forward(self, x, y, reduction):
        self.save_for_backward(x, y)
        d = x - y
        squares = d * d
        self.norm = 2 / max(d.size, 1) if reduction == "mean" else 2.0  # (an empty input has no gradient)
        return squares.mean() if reduction == "mean" else squares.sum()

    def backward(self, g):
        x, y = self.saved_tensors
        gx = self.norm * (x - y) * g
        return gx, (-gx if self.needs_input_grad[1] else None)
