"""``InstanceNorm1d``, ``2d``, ``3d``: normalise each channel of each sample over its positions (``F.instance_norm``).

PyTorch's defaults differ from ``BatchNorm2d``'s: no learned ``weight`` and ``bias`` (``affine=False``) and no
running statistics (``track_running_stats=False``), so training and evaluation normalise with the sample's own
statistics. With ``track_running_stats=True``, evaluation uses the running averages instead.
"""
import warnings

from ... import dtypes as dt
from ...creation import ones, tensor, zeros
from ...shapes import check_number, check_size
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"]


class _InstanceNorm(Module):
    d = 2

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        name = type(self).__name__
        self.num_features = check_size(name, "num_features", num_features)
        self.eps, self.momentum = check_number(name, "eps", eps, low=0), check_number(name, "momentum", momentum)
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(ones(num_features, device=device, dtype=dtype))
            if bias:
                self.bias = Parameter(zeros(num_features, device=device, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, device=device, dtype=dtype))
            self.register_buffer("running_var", ones(num_features, device=device, dtype=dtype))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=dt.int64, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_parameters(self):
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input):
        name, d = type(self).__name__, self.d
        F._check_tensor(self, input)
        if input.ndim not in (d + 1, d + 2):
            raise ValueError(f"{self}: expected {d + 1}D or {d + 2}D input (got {input.ndim}D input of shape "
                             f"{tuple(input.shape)}); {name} takes (N, C, *spatial) or one sample (C, *spatial)")
        batched = input.ndim == d + 2
        channels = input.shape[1 if batched else 0]
        if channels != self.num_features:
            if self.affine:
                raise ValueError(f"{self}: expected input's size at dim={1 if batched else 0} to match num_features "
                                 f"({self.num_features}), but got: {channels}.")
            warnings.warn(f"{name}: input's size at dim={1 if batched else 0} does not match num_features. You can "
                          "silence this warning by not passing in num_features, which is not used because "
                          "affine=False", stacklevel=2)
        x = input if batched else input[None]
        use_input_stats = self.training or not self.track_running_stats
        out = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias, use_input_stats,
                              self.momentum, self.eps)
        return out if batched else out[0]

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of signals (N, C, L) or (C, L)."""
    d = 1


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of images (N, C, H, W) or (C, H, W): each channel of each image over its pixels."""
    d = 2


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation of volumes (N, C, D, H, W) or (C, D, H, W)."""
    d = 3
