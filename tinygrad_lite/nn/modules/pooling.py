"""The pooling layers (``MaxPool2d``, ``AvgPool2d``, ``AdaptiveAvgPool2d``... in 1d, 2d and 3d) and ``Unfold`` /
``Fold``, ``MaxUnpool2d``: each holds its arguments and calls its function in nn/functional/pooling.py, conv.py or
vision.py. No parameters."""
from .. import functional as F
from ..functional.conv import _tuple
from .module import Module

__all__ = ["MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d", "AdaptiveAvgPool1d",
           "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d",
           "Unfold", "Fold", "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d", "LPPool1d", "LPPool2d", "LPPool3d"]


class _MaxPoolNd(Module):
    function = None

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input):
        return type(self).function(input, self.kernel_size, self.stride, self.padding, self.dilation,
                                   ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """The max of each window along the last dim (``F.max_pool1d``); ``stride`` defaults to ``kernel_size``."""
    function = staticmethod(F.max_pool1d)


class MaxPool2d(_MaxPoolNd):
    """The max of each kH x kW window of an image (``F.max_pool2d``); ``stride`` defaults to ``kernel_size``, so
    MaxPool2d(2) halves the height and width."""
    function = staticmethod(F.max_pool2d)


class MaxPool3d(_MaxPoolNd):
    """The max of each kD x kH x kW window (``F.max_pool3d``)."""
    function = staticmethod(F.max_pool3d)


class _AvgPoolNd(Module):
    function = None

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.ceil_mode, self.count_include_pad = padding, ceil_mode, count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input):
        return type(self).function(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                                   self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPoolNd):
    """The mean of each window along the last dim (``F.avg_pool1d``). As PyTorch's, it keeps its sizes as
    1-tuples."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        one = "the pooling dimension"
        super().__init__(_tuple("AvgPool1d", "kernel_size", kernel_size, 1, one),
                         _tuple("AvgPool1d", "stride", stride if stride is not None else kernel_size, 1, one),
                         _tuple("AvgPool1d", "padding", padding, 1, one), ceil_mode, count_include_pad)

    def forward(self, input):
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)


class AvgPool2d(_AvgPoolNd):
    """The mean of each kH x kW window of an image (``F.avg_pool2d``)."""
    function = staticmethod(F.avg_pool2d)


class AvgPool3d(_AvgPoolNd):
    """The mean of each kD x kH x kW window (``F.avg_pool3d``)."""
    function = staticmethod(F.avg_pool3d)


class _LPPoolNd(Module):
    function = None

    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        self.norm_type, self.kernel_size, self.stride, self.ceil_mode = norm_type, kernel_size, stride, ceil_mode

    def forward(self, input):
        return type(self).function(input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)

    def extra_repr(self):
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPoolNd):
    """The p-norm of each window along the last dim (``F.lp_pool1d``); ``stride`` defaults to ``kernel_size``."""
    function = staticmethod(F.lp_pool1d)


class LPPool2d(_LPPoolNd):
    """The p-norm of each kH x kW window (``F.lp_pool2d``): p = 1 is sum pooling, p = inf would be max pooling."""
    function = staticmethod(F.lp_pool2d)


class LPPool3d(_LPPoolNd):
    """The p-norm of each kD x kH x kW window (``F.lp_pool3d``)."""
    function = staticmethod(F.lp_pool3d)


class _AdaptivePool(Module):
    function = None

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return type(self).function(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class _AdaptiveMaxPool(_AdaptivePool):
    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input):
        return type(self).function(input, self.output_size, self.return_indices)


class AdaptiveAvgPool1d(_AdaptivePool):
    """The mean over ``output_size`` nearly equal windows along the last dim (``F.adaptive_avg_pool1d``)."""
    function = staticmethod(F.adaptive_avg_pool1d)


class AdaptiveAvgPool2d(_AdaptivePool):
    """The mean over an ``output_size`` grid of windows, whatever the image's size: AdaptiveAvgPool2d(1) is the
    global average pool before a classifier (``F.adaptive_avg_pool2d``)."""
    function = staticmethod(F.adaptive_avg_pool2d)


class AdaptiveAvgPool3d(_AdaptivePool):
    """As ``AdaptiveAvgPool2d``, over (D, H, W)."""
    function = staticmethod(F.adaptive_avg_pool3d)


class AdaptiveMaxPool1d(_AdaptiveMaxPool):
    """The max over ``output_size`` nearly equal windows along the last dim."""
    function = staticmethod(F.adaptive_max_pool1d)


class AdaptiveMaxPool2d(_AdaptiveMaxPool):
    """The max over an ``output_size`` grid of windows (``F.adaptive_max_pool2d``)."""
    function = staticmethod(F.adaptive_max_pool2d)


class AdaptiveMaxPool3d(_AdaptiveMaxPool):
    """As ``AdaptiveMaxPool2d``, over (D, H, W)."""
    function = staticmethod(F.adaptive_max_pool3d)


class Unfold(Module):
    """An image's sliding windows as columns, (N, C, H, W) -> (N, C kH kW, L) (``F.unfold``)."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input):
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
                f"stride={self.stride}")


class Fold(Module):
    """Columns back into an image, overlapping windows added up, (N, C kH kW, L) -> (N, C, *output_size)
    (``F.fold``)."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input):
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class _MaxUnpool(Module):
    d, function = 2, None

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        name, d, what = type(self).__name__, self.d, "the pooling dimensions"
        self.kernel_size = _tuple(name, "kernel_size", kernel_size, d, what)
        self.stride = _tuple(name, "stride", stride if stride is not None else kernel_size, d, what)
        self.padding = _tuple(name, "padding", padding, d, what)

    def forward(self, input, indices, output_size=None):
        return type(self).function(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpool):
    """Undo ``MaxPool1d(return_indices=True)``: each max back in its place, zeros elsewhere."""
    d, function = 1, staticmethod(F.max_unpool1d)


class MaxUnpool2d(_MaxUnpool):
    """Undo ``MaxPool2d(return_indices=True)``: each max back in its place, zeros elsewhere (``F.max_unpool2d``)."""
    d, function = 2, staticmethod(F.max_unpool2d)


class MaxUnpool3d(_MaxUnpool):
    """Undo ``MaxPool3d(return_indices=True)``."""
    d, function = 3, staticmethod(F.max_unpool3d)
