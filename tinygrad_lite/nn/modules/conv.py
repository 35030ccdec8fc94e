r"""The convolution layers: ``Conv1d``, ``Conv2d``, ``Conv3d`` and their transposes (``ConvTranspose2d``...).

A convolution layer holds a weight (out_channels, in_channels / groups, *kernel_size) and a bias (out_channels),
PyTorch's layouts and ``state_dict`` keys, so weights move between the two libraries unchanged; a transposed one
holds (in_channels, out_channels / groups, *kernel_size). The math is ``F.conv2d``'s (nn/functional/conv.py).

PyTorch's default initialisation: W ~ U(-1/\sqrt{fan_in}, 1/\sqrt{fan_in}) (``kaiming_uniform_`` with a = \sqrt{5})
and b the same, with fan_in = in_channels / groups * prod(kernel_size) (of the weight's dims after the first).
``padding_mode`` other than "zeros" ("reflect", "replicate", "circular") pads the input with ``F.pad`` first.
"""
from ...creation import empty
from ...shapes import as_int, check_size
from .. import functional as F
from ..functional.conv import _tuple
from ..parameter import Parameter
from .linear import draw_weights
from .module import Module

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """What the six layers share: their arguments, parameters, initialisation and repr; ``d`` spatial dims."""
    d, transposed = 2, False

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None, output_padding=0):
        super().__init__()
        name, d = type(self).__name__, self.d
        in_channels, out_channels = check_size(name, "in_channels", in_channels), \
            check_size(name, "out_channels", out_channels)
        groups = as_int(groups, name, "groups")
        if groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups}")
        for what, n in (("in_channels", in_channels), ("out_channels", out_channels)):
            if n % groups:
                raise ValueError(f"{name}: {what} must be divisible by groups ({what}={n}, groups={groups})")
        self.kernel_size = _tuple(name, "kernel_size", kernel_size, d)
        if not all(0 <= k < 2**63 for k in self.kernel_size):
            raise RuntimeError(f"{name}: kernel_size must be 0 or more (and fit in int64), got {self.kernel_size}")
        self.stride = _tuple(name, "stride", stride, d)
        self.dilation = _tuple(name, "dilation", dilation, d)
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"{name}: invalid padding string {padding!r}, should be one of 'valid', 'same'")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = _tuple(name, "padding", padding, d)
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {PADDING_MODES}, but got padding_mode="
                             f"{padding_mode!r}")
        if self.transposed and padding_mode != "zeros":
            raise ValueError(f'{name}: only "zeros" padding mode is supported for {name}')
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.padding_mode, self.output_padding = padding_mode, _tuple(name, "output_padding", output_padding, d)
        # the F.pad sizes of a padding_mode other than "zeros": (before, after) per dim, from the last dim back
        spans = [dl * (k - 1) for k, dl in zip(self.kernel_size, self.dilation)]
        pairs = [(s // 2, s - s // 2) for s in spans] if self.padding == "same" else \
            [(0, 0)] * d if self.padding == "valid" else [(p, p) for p in self.padding]
        self._reversed_padding_repeated_twice = [n for pair in reversed(pairs) for n in pair]
        shape = (in_channels, out_channels // groups) if self.transposed else (out_channels, in_channels // groups)
        self.weight = Parameter(empty(shape + self.kernel_size, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Draw new weights: W and b from U(-1/sqrt(fan_in), 1/sqrt(fan_in)), as a Linear layer's."""
        draw_weights(self.weight, self.bias)

    def extra_repr(self):
        d = self.d
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * d:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * d:
            text += f", dilation={self.dilation}"
        if self.output_padding != (0,) * d:
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class _Conv(_ConvNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype)

    def forward(self, input):
        conv = (F.conv1d, F.conv2d, F.conv3d)[self.d - 1]
        if self.padding_mode == "zeros":
            return conv(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)
        padded = F.pad(input, tuple(self._reversed_padding_repeated_twice), mode=self.padding_mode)
        return conv(padded, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


class Conv1d(_Conv):
    """A 1-D convolution layer: (N, in_channels, L) -> (N, out_channels, L_out) (see ``F.conv1d``)."""
    d = 1


class Conv2d(_Conv):
    """A 2-D convolution layer: (N, in_channels, H, W) -> (N, out_channels, H_out, W_out) (see ``F.conv2d``).
    ``kernel_size``, ``stride``, ``padding`` and ``dilation`` are one number or one per dim; ``padding`` may be
    "valid" (none) or "same" (the output keeps the input's size)."""
    d = 2


class Conv3d(_Conv):
    """A 3-D convolution layer: (N, in_channels, D, H, W) -> (N, out_channels, D_out, H_out, W_out)."""
    d = 3


class _ConvTranspose(_ConvNd):
    transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype, output_padding)

    def forward(self, input, output_size=None):
        """``output_size``: the size wanted (with or without the batch and channel dims), when the stride makes
        several sizes possible; it chooses ``output_padding`` for this call."""
        conv = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[self.d - 1]
        extra = self.output_padding if output_size is None else self._output_padding(input, output_size)
        return conv(input, self.weight, self.bias, self.stride, self.padding, extra, self.groups, self.dilation)

    def _output_padding(self, input, output_size):
        d, name = self.d, type(self).__name__
        if len(output_size) not in (d, d + 2):
            raise ValueError(f"{name}: output_size must have {d} or {d + 2} elements (got {len(output_size)})")
        wanted = [as_int(n, name, "output_size") for n in output_size][-d:]
        extra = []
        for n, want, s, p, k, dl in zip(input.shape[-d:], wanted, self.stride, self.padding, self.kernel_size,
                                        self.dilation):
            smallest = (n - 1) * s - 2 * p + dl * (k - 1) + 1
            if not smallest <= want < smallest + s:
                raise ValueError(f"{name}: requested an output size of {wanted}, but valid sizes range from "
                                 f"{smallest} to {smallest + s - 1} along each dim (for an input of size "
                                 f"{list(input.shape[-d:])})")
            extra.append(want - smallest)
        return tuple(extra)


class ConvTranspose1d(_ConvTranspose):
    """The transposed 1-D convolution layer (an upsampling one): see ``F.conv_transpose1d``."""
    d = 1


class ConvTranspose2d(_ConvTranspose):
    """The transposed 2-D convolution layer: (N, in_channels, H, W) -> (N, out_channels, H_out, W_out), H_out =
    (H - 1) stride - 2 padding + dilation (k - 1) + output_padding + 1."""
    d = 2


class ConvTranspose3d(_ConvTranspose):
    """The transposed 3-D convolution layer: see ``F.conv_transpose3d``."""
    d = 3
