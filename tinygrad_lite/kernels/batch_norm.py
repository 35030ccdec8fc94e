r"""Batch norm on a GPU: ``BatchNorm`` (``ops/batch_norm.py``) as a few fused kernels and matrix products.

The formulas are ``ops/batch_norm.py``'s, computed in the same order; per channel c, over its n values (the sums run
over every dim but dim 1: ``kernels.channel_sums``, a reduction or a product with a vector of ones):

    training statistics      s_1 = \sum_i x_i,   s_2 = \sum_i (x_i - s_1 / n)^2          (``make_centred_squares``)
                             \mu = s_1 / n,   \sigma^2 = s_2 / n,   s = 1 / \sqrt{\sigma^2 + eps},  and the running
                             statistics, in place: r_\mu <- (1 - m) r_\mu + m \mu,
                             r_\sigma <- (1 - m) r_\sigma + m \sigma^2 n / (n - 1)          (``make_statistics``)
    evaluation statistics    \mu = r_\mu,   s = 1 / \sqrt{r_\sigma + eps}                  (``make_inverse_std``)
    forward                  y = (x - \mu) (\gamma s) + \beta                            (``make_normalise``)
    backward                 dL/d\beta = \sum_i g_i,   dL/d\gamma = \sum_i g_i \hat{x}_i  (``make_times_normalised``)
    (\hat{x} = (x - \mu) s)  training:   dL/dx = \gamma s (g - dL/d\beta / n - \hat{x} dL/d\gamma / n)
                             evaluation: dL/dx = \gamma s g                               (``make_input_gradient``)

A training step's forward is then two sums and three kernels, each reading x once at most, where the same
formula as separate CuPy ops launches a dozen kernels and reads and writes x about ten times (on an H200, 1064
us for an 8192x4096 batch; PyTorch's kernel 168 us). The variance takes two passes over x, the mean and then the
squares about it, as the CPU's ``batch_statistics``: the one-pass form (\sum x^2 / n - \mu^2) loses the variance to
rounding in float32 when the mean is large against the spread, and with the sums as matrix products it would read
as much memory anyway (the squares must be written out for the product).
"""
from ..device import array_module_of
from ..ops.batch_norm import BatchNorm
from . import channel_sums, fused


def batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps):
    r"""``F.batch_norm`` on a GPU (its arguments checked and fusable: see ``nn/functional``): the statistics \mu and s
    (in training one kernel, which also moves the running ones in place), then ``BatchNormCuda``."""
    x = input.array
    xp = array_module_of(x)
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)  # a per-channel vector that broadcasts over x
    if training:
        running = running_mean is not None and running_var is not None
        mean, inv_std = batch_statistics(x, running_mean.array if running else None,
                                         running_var.array if running else None, momentum, eps)
        if running:
            running_mean._bump_version()
            running_var._bump_version()
        mean, inv_std = mean.reshape(shape), inv_std.reshape(shape)
    else:
        mean = running_mean.array.reshape(shape)
        inv_std = fused(xp, make_inverse_std)(running_var.array.reshape(shape), eps)
    return BatchNormCuda.apply(input, weight, bias, mean, inv_std, training, eps)


def batch_statistics(x, running_mean, running_var, momentum, eps):
    r"""The mean \mu and the inverse standard deviation s = 1 / \sqrt{\sigma^2 + eps} of each channel of ``x``
    (\sigma^2 the biased variance), shape (C,); the running statistics (arrays, or None) moved towards \mu and
    \sigma^2 in place, with the unbiased variance."""
    xp = array_module_of(x)
    n = x.size // x.shape[1]
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    s1 = channel_sums(x)
    s2 = channel_sums(fused(xp, make_centred_squares)(x, s1.reshape(shape), n))
    number = x.dtype.type
    return fused(xp, make_statistics)(s1, s2, running_mean, running_var, n, eps, number(1 - momentum),
                                      number(momentum), number(momentum * n / (n - 1)))


class BatchNormCuda(BatchNorm):
    r"""``BatchNorm`` on a GPU: the same forward and backward (y = \gamma \hat{x} + \beta; dL/dx = \gamma s (g -
    mean(g) - \hat{x} mean(g \hat{x})) in training, \gamma s g in evaluation), as fused kernels (see the module).
    It takes the inverse standard deviation s where the CPU's op takes \sigma^2: the statistics' kernel computes
    it."""

    def forward(self, x, weight, bias, mean, inv_std, training, eps):
        xp = array_module_of(x)
        y = fused(xp, make_normalise)(x, mean, inv_std, _per_channel(weight, mean), _per_channel(bias, mean))
        self.save_for_backward(x, weight, mean, inv_std)
        self.training, self.bias_shape, self.eps = training, None if bias is None else bias.shape, eps
        return y

    def backward(self, g):
        x, weight, mean, inv_std = self.saved_tensors
        xp, n = array_module_of(x), x.size // x.shape[1]
        w = _per_channel(weight, mean)
        # (the sums stay (C,) arrays of their own, as the weight and the bias are: .grad takes them without a copy)
        d_beta = channel_sums(g) if self.training or self.bias_shape else None
        d_gamma = None
        if self.training or weight is not None:
            d_gamma = channel_sums(fused(xp, make_times_normalised)(g, x, mean, inv_std))
        if self.training:
            dx = fused(xp, make_input_gradient)(g, x, mean, inv_std, w, _per_channel(d_beta, mean),
                                                _per_channel(d_gamma, mean), n)
        else:
            dx = fused(xp, make_input_gradient)(g, x, mean, inv_std, w, None, None, None)
        return self.gradients(dx, weight, d_gamma, d_beta)


def _per_channel(vector, like):
    return None if vector is None else vector.reshape(like.shape)


def make_centred_squares(xp):
    r"""(x - s_1 / n)^2: the squares of x about its channel's mean (then summed, for \sigma^2)."""
    def centred_squares(x, s1, n):
        centred = x - s1 / n
        return centred * centred
    return centred_squares


def make_statistics(xp):
    r"""\mu = s_1 / n and s = 1 / \sqrt{s_2 / n + eps}, and the running statistics (when given) moved towards \mu and
    \sigma^2 = s_2 / n, in place: r <- r (1 - m) + \mu m, and r <- r (1 - m) + \sigma^2 m n / (n - 1)."""
    def statistics(s1, s2, running_mean, running_var, n, eps, keep, momentum, unbiased_momentum):
        mean, var = s1 / n, s2 / n
        if running_mean is not None:
            running_mean *= keep
            running_mean += mean * momentum
            running_var *= keep
            running_var += var * unbiased_momentum
        return mean, 1.0 / xp.sqrt(var + eps)
    return statistics


def make_inverse_std(xp):
    r"""s = 1 / \sqrt{\sigma^2 + eps}."""
    return lambda var, eps: 1.0 / xp.sqrt(var + eps)


def make_normalise(xp):
    r"""y = (x - \mu) (\gamma s) + \beta (\gamma, \beta: None when absent)."""
    def normalise(x, mean, inv_std, weight, bias):
        y = (x - mean) * (inv_std if weight is None else weight * inv_std)
        return y if bias is None else y + bias
    return normalise


def make_times_normalised(xp):
    r"""g \hat{x} = g (x - \mu) s, whose sum over a channel is dL/d\gamma."""
    return lambda g, x, mean, inv_std: g * ((x - mean) * inv_std)


def make_input_gradient(xp):
    r"""dL/dx = \gamma s (g - dL/d\beta / n - \hat{x} dL/d\gamma / n) in training; \gamma s g in evaluation (the sums
    None)."""
    def input_gradient(g, x, mean, inv_std, weight, d_beta, d_gamma, n):
        scale = inv_std if weight is None else weight * inv_std
        if d_beta is None:
            return scale * g
        x_hat = (x - mean) * inv_std
        return scale * (g - d_beta / n - x_hat * (d_gamma / n))
    return input_gradient
