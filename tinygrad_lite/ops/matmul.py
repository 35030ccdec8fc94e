r"""The matrix product, the op that does almost all of a network's arithmetic.

For Z = X W (X: n x k, W: k x m):   dL/dX = G W^T,   dL/dW = X^T G,   with G = dL/dZ (n x m).
Check the shapes: G W^T is (n x m)(m x k) = n x k, the shape of X; X^T G is (k x n)(n x m) = k x m, that of W.

Like numpy and PyTorch, 1-D operands are treated as a row (left) or a column (right) vector, and extra
leading dims are batch dims that broadcast. The engine's ``unbroadcast`` sums the gradient of a
broadcast operand over the batch.
"""
from ..autograd.function import Function


class MatMul(Function):
    def forward(self, x, w):
        if x.ndim == 0 or w.ndim == 0:
            raise RuntimeError(f"matmul: both arguments need at least 1 dimension, got shapes {x.shape} and "
                               f"{w.shape}; to scale by a number use *")
        if x.dtype != w.dtype:
            raise RuntimeError(f"matmul: both operands must have the same dtype, got {x.dtype} and {w.dtype}; "
                               "convert one with .float() or .double()")
        k_x = x.shape[-1]
        k_w = w.shape[-2] if w.ndim > 1 else w.shape[0]
        if k_x != k_w:
            which = "first" if w.ndim == 1 else "second-to-last"
            raise RuntimeError(
                f"matmul: shapes {x.shape} and {w.shape} cannot be multiplied: the last dim of the first ({k_x}) "
                f"must equal the {which} dim of the second ({k_w}). If the second is a Linear weight of shape "
                "(out, in), multiply by its transpose: x @ W.T")
        try:
            z = x @ w
        except ValueError:
            raise RuntimeError(f"matmul: the batch dims of {x.shape} and {w.shape} cannot be broadcast together") \
                from None
        self.save_for_backward(x, w)
        return z

    def backward(self, g):
        x, w = self.saved_tensors
        # make 1-D operands 2-D (row vector x, column vector w), and give g the matching size-1 dims
        x2 = x[None, :] if x.ndim == 1 else x
        w2 = w[:, None] if w.ndim == 1 else w
        g2 = g[..., None] if w.ndim == 1 else g
        g2 = g2[..., None, :] if x.ndim == 1 else g2
        gx = gw = None
        if self.needs_input_grad[0]:
            gx = g2 @ w2.swapaxes(-1, -2)
            gx = gx.squeeze(-2) if x.ndim == 1 else gx
        if self.needs_input_grad[1]:
            gw = x2.swapaxes(-1, -2) @ g2
            gw = gw.squeeze(-1) if w.ndim == 1 else gw
        return gx, gw


class Linear(Function):
    r"""The dense layer as one op: Y = X W^T + b, for X of shape (*, in), W of shape (out, in), b of shape (out,).

    With G = dL/dY and the leading dims of X flattened into rows (n rows):
        dL/dX = G W,     dL/dW = G^T X,     dL/db = \sum_rows G.
    Same numbers as matmul(X, W.T) + b, in one step (PyTorch's addmm does the same).
    """
    def forward(self, x, w, b=None):
        rows = x.reshape(-1, x.shape[-1])
        self.save_for_backward(rows, w)
        self.x_shape = x.shape
        y = rows @ w.T
        if b is not None:
            y += b
        return y.reshape(*x.shape[:-1], w.shape[0])

    def backward(self, g):
        rows, w = self.saved_tensors
        g = g.reshape(-1, w.shape[0])
        gx = (g @ w).reshape(self.x_shape) if self.needs_input_grad[0] else None
        gw = g.T @ rows if self.needs_input_grad[1] else None
        return (gx, gw) if len(self.inputs) == 2 else (gx, gw, g.sum(axis=0))
