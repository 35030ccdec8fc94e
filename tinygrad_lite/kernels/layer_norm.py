r"""Layer norm on a GPU: ``LayerNorm`` (``ops/layer_norm.py``) as a few fused kernels and matrix products.

The formulas are ``ops/layer_norm.py``'s, computed in the same order; per sample, over its m values (the last k
dims), with X the (M, m) matrix of the samples' values and the sums over a sample as products X @ (1, ..., 1):

    statistics    s_1 = \sum_j x_j,   s_2 = \sum_j (x_j - s_1 / m)^2                   (``make_centred_squares``)
                  \mu = s_1 / m,   s = 1 / \sqrt{s_2 / m + eps}                          (``make_statistics``)
    forward       y = ((x - \mu) s) \gamma + \beta                                       (``make_normalise``)
    backward      with \hat{x} = (x - \mu) s and h = \gamma g:
                  \sum_j h_j = G \gamma,   \sum_j h_j \hat{x}_j = (G \circ \hat{X}) \gamma   (products with \gamma
                  instead of ones: h and h \hat{x} are never written out; batch norm's ``make_times_normalised``)
                  dL/dx = s (h - \sum_j h_j / m - \hat{x} \sum_j h_j \hat{x}_j / m)      (``make_input_gradient``)
                  dL/d\gamma = (1, ..., 1) G \circ \hat{X},   dL/d\beta = (1, ..., 1) G   (sums over the samples)
"""
import math

from ..device import array_module_of
from ..ops.layer_norm import LayerNorm
from . import fused, leading_sums, ones, trailing_sums
from .batch_norm import make_centred_squares, make_times_normalised


class LayerNormCuda(LayerNorm):
    r"""``LayerNorm`` on a GPU: the same forward and backward (y = \gamma \hat{x} + \beta; dL/dx = s (h - mean(h) -
    \hat{x} mean(h \hat{x})) with h = \gamma g), as fused kernels and matrix products (see the module)."""

    def forward(self, x, weight, bias, k, eps):
        xp = array_module_of(x)
        keep = x.shape[:x.ndim - k] + (1,) * k  # a per-sample number that broadcasts over the sample's values
        m = math.prod(x.shape[x.ndim - k:])
        s1 = trailing_sums(x, k).reshape(keep)
        s2 = trailing_sums(fused(xp, make_centred_squares)(x, s1, m), k).reshape(keep)
        mean, inv_std = fused(xp, make_statistics)(s1, s2, m, eps)
        y = fused(xp, make_normalise)(x, mean, inv_std, weight, bias)
        self.save_for_backward(x, weight, mean, inv_std)
        self.dims, self.has_bias, self.eps = tuple(range(x.ndim - k, x.ndim)), bias is not None, eps
        return y

    def backward(self, g):
        x, weight, mean, inv_std = self.saved_tensors
        xp, k = array_module_of(x), len(self.dims)
        m = math.prod(x.shape[x.ndim - k:])
        gx = fused(xp, make_times_normalised)(g, x, mean, inv_std)  # g \hat{x}
        gamma = ones(x, m) if weight is None else weight.reshape(m)
        h_sum = _per_sample(g, gamma).reshape(mean.shape)           # \sum_j \gamma_j g_j
        hx_sum = _per_sample(gx, gamma).reshape(mean.shape)         # \sum_j \gamma_j g_j \hat{x}_j
        grads = [fused(xp, make_input_gradient)(g, x, mean, inv_std, weight, h_sum, hx_sum, m)]
        if weight is not None:
            grads.append(leading_sums(gx, x.ndim - k))
        if self.has_bias:
            grads.append(leading_sums(g, x.ndim - k))
        return tuple(grads)


def _per_sample(values, gamma):
    """X @ gamma: each sample's values (the rows of X) weighted by gamma and summed."""
    return values.reshape(-1, gamma.size) @ gamma


def make_statistics(xp):
    r"""\mu = s_1 / m and s = 1 / \sqrt{s_2 / m + eps} (s_1, s_2: the sums of x and of the squares about \mu)."""
    return lambda s1, s2, m, eps: (s1 / m, 1.0 / xp.sqrt(s2 / m + eps))


def make_normalise(xp):
    r"""y = ((x - \mu) s) \gamma + \beta (\gamma, \beta: None when absent)."""
    def normalise(x, mean, inv_std, weight, bias):
        y = (x - mean) * inv_std
        if weight is not None:
            y = y * weight
        return y if bias is None else y + bias
    return normalise


def make_input_gradient(xp):
    r"""dL/dx = s (h - \sum h / m - \hat{x} \sum h \hat{x} / m), h = \gamma g (g when \gamma is None)."""
    def input_gradient(g, x, mean, inv_std, weight, h_sum, hx_sum, m):
        h = g if weight is None else g * weight
        x_hat = (x - mean) * inv_std
        return inv_std * (h - h_sum / m - x_hat * (hx_sum / m))
    return input_gradient
