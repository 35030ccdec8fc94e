r"""The matrix product, the op that does almost all of a network's arithmetic.

For Z = X W (X: n x k, W: k x m):   dL/dX = G W^T,   dL/dW = X^T G,   with G = dL/dZ (n x m).
Check the shapes: G W^T is (n x m)(m x k) = n x k, the shape of X; X^T G is (k x n)(n x m) = k x m, that of W.

Like numpy and PyTorch, 1-D operands are treated as a row (left) or a column (right) vector, and extra
leading dims are batch dims that broadcast. The engine's ``unbroadcast`` sums the gradient of a
broadcast operand over the batch.
"""
import math

from ..autograd.function import Function
from ..float16_matmul import is_float16_on_gpu, matmul_in_float32
from ..summation import rounded_sum


class MatMul(Function):
    r"""Z = X W (batched, and with 1-D operands, as ``torch.matmul``).   dL/dX = G W^T,   dL/dW = X^T G.

    So dL/dX needs only W and dL/dW only X: each is saved only if the other requires grad (as in PyTorch). For a
    batch of X and one matrix W, dL/dW sums X^T G over the batch (the engine's ``unbroadcast``); in float16 on a GPU
    it is one product over all the rows instead, so that the sum is rounded once (float16_matmul.py).
    """
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
            z = matmul_in_float32(x, w)  # (float16 accumulates in float32, rounded once: float16_matmul.py)
        except ValueError:
            raise RuntimeError(f"matmul: the batch dims of {x.shape} and {w.shape} cannot be broadcast together") \
                from None
        need_x, need_w = self.needs_input_grad
        self.save_for_backward(x if need_w else None, w if need_x else None)
        self.x_ndim, self.w_ndim = x.ndim, w.ndim
        return z

    def backward(self, g):
        x, w = self.saved_tensors
        # treat a 1-D x as a row vector and a 1-D w as a column vector: give g the matching size-1 dims
        g2 = g[..., None] if self.w_ndim == 1 else g
        g2 = g2[..., None, :] if self.x_ndim == 1 else g2
        gx = gw = None
        if w is not None:                                         # dL/dX = G W^T
            gx = matmul_in_float32(g2, (w[:, None] if w.ndim == 1 else w).swapaxes(-1, -2))
            gx = gx.squeeze(-2) if self.x_ndim == 1 else gx
        if x is not None:                                         # dL/dW = X^T G
            if x.ndim > 2 and self.w_ndim == 2 and is_float16_on_gpu(x):  # one W for a batch: X^T G of all its rows
                gw = matmul_in_float32(x.reshape(-1, x.shape[-1]).T, g.reshape(-1, g.shape[-1]))
            else:
                gw = matmul_in_float32((x[None, :] if x.ndim == 1 else x).swapaxes(-1, -2), g2)
                gw = gw.squeeze(-1) if self.w_ndim == 1 else gw
        return gx, gw


class Linear(Function):
    r"""The dense layer as one op: Y = X W^T + b, for X of shape (*, in), W of shape (out, in), b of shape (out,).

    With G = dL/dY and the leading dims of X flattened into rows (n rows):
        dL/dX = G W,     dL/dW = G^T X,     dL/db = \sum_rows G.
    Same numbers as matmul(X, W.T) + b, in one step (PyTorch's addmm does the same). In float16 (autocast) the
    products and the bias are added up in float32 and rounded once, as PyTorch's addmm; so are dL/db's sums. On a
    GPU the three products take float16 operands, as cuBLAS's do (float16_matmul.py).
    """
    def forward(self, x, w, b=None):
        need_x, need_w = self.needs_input_grad[:2]
        self.save_for_backward(x if need_w else None, w if need_x else None)  # dL/dX needs W; dL/dW needs X
        self.x_shape, self.n_out = x.shape, w.shape[0]
        rows = x if x.ndim == 2 else x.reshape(math.prod(x.shape[:-1]), x.shape[-1])  # (*, in): leading dims as rows
        y = matmul_in_float32(rows, w.T, b)
        return y if x.ndim == 2 else y.reshape(*x.shape[:-1], w.shape[0])

    def backward(self, g):
        x, w = self.saved_tensors
        g = g.reshape(math.prod(g.shape[:-1]), self.n_out)                      # (as forward: the leading dims as rows)
        gx = None if w is None else matmul_in_float32(g, w).reshape(self.x_shape)          # dL/dX = G W
        gw = None if x is None else matmul_in_float32(g.T, x.reshape(g.shape[0], x.shape[-1]))  # dL/dW = G^T X
        if len(self.inputs) == 2:
            return gx, gw
        return gx, gw, (rounded_sum(g, axis=0) if self.needs_input_grad[2] else None)
