r"""``nn.utils.fusion``: a convolution or Linear layer followed by batch norm in eval mode, folded into one layer.

In eval mode batch norm is a fixed affine map per channel c,

    bn(y)_c = gamma_c (y_c - mu_c) / sqrt(var_c + eps) + beta_c = s_c y_c + (beta_c - s_c mu_c),
    s_c = gamma_c / sqrt(var_c + eps),

with the running statistics mu and var. After a layer y = W x + b whose output channel c is row c of W (dim 0 of
a convolution's weight; dim 1 of a transposed convolution's), the two compose to one layer with

    W'_c = s_c W_c,    b'_c = s_c (b_c - mu_c) + beta_c,

which computes the same numbers (within rounding) with one op less: how models are prepared for inference. The
layer is copied; the originals stay as they are. As PyTorch's: both layers must be in eval mode (the statistics of
a batch in training mode are not fixed), refused with an AssertionError otherwise.
"""
import copy

from ... import creation
from ..parameter import Parameter

__all__ = ["fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval", "fuse_linear_bn_weights"]


def fuse_conv_bn_eval(conv, bn, transpose=False):
    """A copy of ``conv`` that computes ``bn(conv(x))`` (``transpose=True`` for a transposed convolution)."""
    _check_eval(conv, bn)
    fused = copy.deepcopy(conv)
    fused.weight, fused.bias = fuse_conv_bn_weights(fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps,
                                                    bn.weight, bn.bias, transpose)
    return fused


def fuse_conv_bn_weights(conv_w, conv_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b, transpose=False):
    """The folded weight and bias (Parameters of the convolution's dtypes), from the module docstring's formula; a
    missing bias, batch-norm weight or batch-norm bias counts as 0, 1 and 0."""
    bias_dtype = conv_w.dtype if conv_b is None else conv_b.dtype
    conv_b = creation.zeros_like(bn_rm) if conv_b is None else conv_b
    bn_w = creation.ones_like(bn_rm) if bn_w is None else bn_w
    bn_b = creation.zeros_like(bn_rm) if bn_b is None else bn_b
    inverse_std = (bn_rv + bn_eps).rsqrt()
    channels = [1, -1] if transpose else [-1, 1]  # (the dim of the output channels)
    weight = (conv_w * (bn_w * inverse_std).reshape(channels + [1] * (conv_w.dim() - 2))).to(dtype=conv_w.dtype)
    bias = ((conv_b - bn_rm) * inverse_std * bn_w + bn_b).to(dtype=bias_dtype)
    return Parameter(weight, conv_w.requires_grad), Parameter(bias, conv_b.requires_grad)


def fuse_linear_bn_eval(linear, bn):
    """A copy of ``linear`` that computes ``bn(linear(x))`` (a BatchNorm1d of its out_features, or of 1)."""
    _check_eval(linear, bn)
    if not (linear.out_features == bn.num_features or bn.num_features == 1):
        raise AssertionError("To fuse, linear.out_features == bn.num_features or bn.num_features == 1 (got "
                             f"{linear.out_features} and {bn.num_features})")
    fused = copy.deepcopy(linear)
    fused.weight, fused.bias = fuse_linear_bn_weights(fused.weight, fused.bias, bn.running_mean, bn.running_var,
                                                      bn.eps, bn.weight, bn.bias)
    return fused


def fuse_linear_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b):
    """The folded weight and bias of a Linear layer (Parameters of its dtypes), from the module docstring's
    formula."""
    bias_dtype = linear_w.dtype if linear_b is None else linear_b.dtype
    linear_b = creation.zeros_like(bn_rm) if linear_b is None else linear_b
    scale = bn_w * (bn_rv + bn_eps).rsqrt()
    weight = linear_w * scale.unsqueeze(-1).to(dtype=linear_w.dtype)
    bias = ((linear_b - bn_rm) * scale + bn_b).to(dtype=bias_dtype)
    return Parameter(weight, linear_w.requires_grad), Parameter(bias, linear_b.requires_grad)


def _check_eval(layer, bn):
    if layer.training or bn.training:
        raise AssertionError("Fusion only for eval! Call .eval() on both layers first: in training mode batch norm "
                             "uses each batch's statistics, which no fixed weights can fold")
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("Fusion needs the batch norm's running statistics: it was made with "
                             "track_running_stats=False, so it normalises by each batch's statistics in eval too")
