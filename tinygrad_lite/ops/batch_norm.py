r"""Batch normalisation as one op: the forward and the closed-form backward that lesson 10 derives.

Per channel c (dim 1 of x, of shape (N, C) or (N, C, L, ...)), over its n = N L ... values x_i:

    forward                                          backward (g = dL/dy, sums over the channel's n values)
    \mu = \frac{1}{n} \sum_i x_i                        dL/d\beta  = \sum_i g_i
    \sigma^2 = \frac{1}{n} \sum_i (x_i - \mu)^2          dL/d\gamma = \sum_i g_i \hat{x}_i
    \hat{x}_i = (x_i - \mu) / \sqrt{\sigma^2 + eps}      dL/dx_i = \frac{\gamma}{n \sqrt{\sigma^2 + eps}}
    y_i = \gamma \hat{x}_i + \beta                            (n g_i - dL/d\beta - \hat{x}_i dL/d\gamma)

In training \mu and \sigma^2 are the batch's own statistics, so x_i reaches y through them too: that is where the
two sums in dL/dx come from. In evaluation they are the running statistics, constants, and dL/dx_i = \gamma g_i /
\sqrt{\sigma^2 + eps}. Writing it as one op (instead of the ~20 small ops of the formula) is what PyTorch does too.
"""
import numpy as np

from ..autograd.function import Function
from ..summation import rounded_mean, rounded_sum


def batch_statistics(x):
    """The mean and the biased variance (divide by n) of each channel of ``x``, shaped to broadcast over it."""
    dims = (0,) + tuple(range(2, x.ndim))
    mean = rounded_mean(x, axis=dims, keepdims=True)  # (a long float32 sum in float64: summation.py)
    centred = x - mean
    return mean, rounded_mean(centred * centred, axis=dims, keepdims=True)


class BatchNorm(Function):
    r"""y = \gamma \hat{x} + \beta per channel, \hat{x} = (x - \mu) / \sqrt{\sigma^2 + eps}.   Training:
    dL/dx = \gamma / \sqrt{\sigma^2 + eps} (g - mean(g) - \hat{x} mean(g \hat{x})); evaluation: dL/dx = \gamma g /
    \sqrt{\sigma^2 + eps}; dL/d\gamma = \sum g \hat{x}, dL/d\beta = \sum g (means and sums over the channel's values).

    ``mean`` and ``var`` are arrays shaped (1, C, 1, ...): the batch's (``batch_statistics``) when ``training``,
    else the running statistics. ``weight`` (\gamma) and ``bias`` (\beta) are (C,) or None. As in PyTorch, x and
    \gamma are saved (so changing them in place before backward is refused) and y is not (``relu_`` after it is fine).
    """
    def forward(self, x, weight, bias, mean, var, training, eps):
        inv_std = 1.0 / np.sqrt(var + eps)
        shape = mean.shape  # (1, C, 1, ...): a per-channel vector that broadcasts over x
        y = (x - mean) * (inv_std if weight is None else weight.reshape(shape) * inv_std)
        if bias is not None:
            y += bias.reshape(shape)
        self.save_for_backward(x, weight, mean, inv_std)
        self.training, self.bias_shape, self.eps = training, None if bias is None else bias.shape, eps
        return y

    def backward(self, g):
        x, weight, mean, inv_std = self.saved_tensors
        dims = (0,) + tuple(range(2, x.ndim))                  # every dim but the channels
        x_hat = (x - mean) * inv_std
        d_beta = rounded_sum(g, axis=dims, keepdims=True)            # \sum_i g_i
        d_gamma = rounded_sum(g * x_hat, axis=dims, keepdims=True)   # \sum_i g_i \hat{x}_i
        scale = inv_std if weight is None else weight.reshape(mean.shape) * inv_std
        if self.training:
            n = x.size // x.shape[1]
            dx = scale * (g - d_beta / n - x_hat * (d_gamma / n))
        else:
            dx = scale * g
        return self.gradients(dx, weight, d_gamma, d_beta)

    def gradients(self, dx, weight, d_gamma, d_beta):
        r"""The gradients backward returns: dL/dx, then dL/d\gamma and dL/d\beta shaped as the weight and the bias,
        for those that were given (a sum of that shape already is passed as it is: a reshaped one is a view, which
        ``.grad`` would have to copy)."""
        def shaped(d, shape):
            return d if d.shape == shape else d.reshape(shape)
        return (dx,) + ((shaped(d_gamma, weight.shape),) if weight is not None else ()) \
            + ((shaped(d_beta, self.bias_shape),) if self.bias_shape is not None else ())

