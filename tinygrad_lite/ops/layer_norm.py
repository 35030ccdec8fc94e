r"""Layer normalisation as one op: each sample normalised over its last dims, with the closed-form backward.

For one sample's m values x_i (the last k dims, ``normalized_shape``), with \gamma and \beta of that shape:

    forward                                          backward (g = dL/dy; h_i = \gamma_i g_i; sums over the m values)
    \mu = \frac{1}{m} \sum_i x_i                        dL/dx_i = \frac{1}{m \sqrt{\sigma^2 + eps}}
    \sigma^2 = \frac{1}{m} \sum_i (x_i - \mu)^2                (m h_i - \sum_j h_j - \hat{x}_i \sum_j h_j \hat{x}_j)
    \hat{x}_i = (x_i - \mu) / \sqrt{\sigma^2 + eps}      dL/d\gamma_i = \sum_{samples} g_i \hat{x}_i
    y_i = \gamma_i \hat{x}_i + \beta_i                   dL/d\beta_i  = \sum_{samples} g_i

It is batch norm's formula (``batch_norm.py``) turned around: the statistics are taken across the features of one
sample instead of across the batch for one feature, so \gamma sits inside the sums (it differs from value to value).
"""
import numpy as np

from ..autograd.function import Function
from ..summation import rounded_sum


class LayerNorm(Function):
    r"""y = \gamma \hat{x} + \beta, \hat{x} = (x - \mu) / \sqrt{\sigma^2 + eps} over the last ``k`` dims.
    With h = \gamma g: dL/dx = (h - mean(h) - \hat{x} mean(h \hat{x})) / \sqrt{\sigma^2 + eps} (means over those dims);
    dL/d\gamma = \sum g \hat{x} and dL/d\beta = \sum g (sums over the samples).

    ``weight`` (\gamma) and ``bias`` (\beta) have the shape of those k dims, or are None. As in PyTorch, x and \gamma
    are saved for backward (changing them in place before backward is refused) and y is not.
    """
    def forward(self, x, weight, bias, k, eps):
        dims = tuple(range(x.ndim - k, x.ndim))
        mean = x.mean(axis=dims, keepdims=True)
        centred = x - mean
        inv_std = 1.0 / np.sqrt((centred * centred).mean(axis=dims, keepdims=True) + eps)
        y = centred * inv_std
        if weight is not None:
            y *= weight
        if bias is not None:
            y += bias
        self.save_for_backward(x, weight, mean, inv_std)
        self.dims, self.has_bias, self.eps = dims, bias is not None, eps
        return y

    def backward(self, g):
        x, weight, mean, inv_std = self.saved_tensors
        x_hat = (x - mean) * inv_std
        h = g if weight is None else g * weight
        h_mean = h.mean(axis=self.dims, keepdims=True)                  # \frac{1}{m} \sum_j h_j
        hx_mean = (h * x_hat).mean(axis=self.dims, keepdims=True)       # \frac{1}{m} \sum_j h_j \hat{x}_j
        grads = [inv_std * (h - h_mean - x_hat * hx_mean)]
        samples = tuple(range(x.ndim - len(self.dims)))                 # the dims in front: one sample each
        if weight is not None:
            grads.append(rounded_sum(g * x_hat, axis=samples))  # (many samples: summation.py)
        if self.has_bias:
            grads.append(rounded_sum(g, axis=samples))
        return tuple(grads)
