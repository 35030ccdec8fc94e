"""``InstanceNorm1d``, ``2d``, ``3d``: normalise each channel of each sample over its positions (``F.instance_norm``).

PyTorch's defaults differ from ``BatchNorm2d``'s: no learned ``weight`` and ``bias`` (``affine=False``) and no
running statistics (``track_running_stats=False``), so training and evaluation normalise with the sample's own
statistics. With ``track_running_stats=True``, evaluation uses the running averages instead.
"""
import warnings

from .. import functional as F
from .batchnorm import _NormBase

__all__ = ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"]


class _InstanceNorm(_NormBase):
    d = 2

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False, device=None,
                 dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias)

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


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of signals (N, C, L) or (C, L)."""
    d = 1


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of images (N, C, H, W) or (C, H, W): each channel of each image over its pixels."""
    d = 2


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation of volumes (N, C, D, H, W) or (C, D, H, W)."""
    d = 3
