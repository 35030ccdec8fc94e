r"""Convolutions and the sliding windows they are made of, composed of the library's ops (no backward of their own).

A convolution slides a small kernel over the input's spatial dims (a signal's length, an image's height and width)
and takes, at each position, the dot product of the kernel with the window under it. In 1-D, for output channel o
and position i (``d`` the dilation, ``s`` the stride, after ``padding`` zeros at both ends):

    out[n, o, i] = bias[o] + \sum_c \sum_k weight[o, c, k] x[n, c, i s + k d]

Built as "im2col": ``_windows`` gathers every window as a column (one strided slice of the input per kernel
offset, stacked), so that the convolution is ONE matrix product of the flattened weight (out, in * K) with the
columns (in * K, positions). The gradient flows back through the product and the slices (each slice adds its
gradient into the positions it read), so it is exact and matches PyTorch's. ``unfold`` returns those columns.

A transposed convolution (``conv_transpose2d``, a "deconvolution") is the adjoint: each input position spreads
the kernel, scaled by its value, over a window of the output, and overlapping windows add up. It is a product with
the transposed weight, then ``_place`` (and ``fold``), which adds each column back into the window it came from.

The padding of a convolution is zeros (a ``Conv2d`` layer's ``padding_mode`` pads with ``F.pad`` first). Under
autocast each convolution is one op, as PyTorch's: its inputs are cast to float16, the ops inside are not cast again.
"""
import builtins
import itertools
import math

from ...amp.autocast_mode import as_one_op
from ...creation import zeros
from ...functions import stack
from ...shapes import as_int
from ._checks import _check_tensor
from .padding import pad as _pad

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "unfold",
           "fold"]


# -------------------------------------------------------------------- arguments
def _tuple(op, name, value, d, what="the convolution dimensions"):
    """An int, or a tuple/list of ``d`` ints, as a tuple of ``d`` ints (PyTorch's ``_pair``, ``_triple``)."""
    if isinstance(value, (tuple, list)):
        if len(value) == 1:
            value = value * d
        if len(value) != d:
            raise RuntimeError(f"{op}(): expected {name} to be a single integer value or a list of {d} values to "
                               f"match {what}, but got {name}={list(value)}")
        return tuple(as_int(v, op, name) for v in value)
    return (as_int(value, op, name),) * d


def _positive(op, name, values):
    if builtins.min(values) <= 0:
        raise RuntimeError(f"{op}(): non-positive {name} is not supported (got {name}={values}); a {name} counts "
                           "positions, from 1")
    return values


def _sizes(op, shape, kernel, stride, dilation):
    """The number of windows along each spatial dim of ``shape`` (already padded)."""
    spans = [dl * (k - 1) + 1 for k, dl in zip(kernel, dilation)]
    if any(n < span for n, span in zip(shape, spans)):
        raise RuntimeError(f"{op}(): calculated padded input size per channel: ({' x '.join(map(str, shape))}). "
                           f"Kernel size: ({' x '.join(map(str, spans))}). Kernel size can't be greater than actual "
                           "input size; use a smaller kernel (or dilation), or pad the input")
    return tuple((n - span) // s + 1 for n, span, s in zip(shape, spans, stride))


# -------------------------------------------------------------------- windows as columns, and back
def _offsets(kernel, stride, dilation, sizes):
    """For each of the K = prod(kernel) kernel offsets (row-major), the index of (N, C, *spatial) that picks what
    this offset reads at every one of the ``sizes`` window positions: one strided slice per spatial dim."""
    for offset in itertools.product(*(range(k) for k in kernel)):
        yield (slice(None), slice(None)) + tuple(slice(o * dl, o * dl + s * (n - 1) + 1, s)
                                                 for o, dl, s, n in zip(offset, dilation, stride, sizes))


def _windows(x, kernel, stride, dilation, sizes):
    """x (N, C, *spatial) -> (N, C, K, *sizes): each kernel offset's strided slice of x, stacked."""
    return stack([x[index] for index in _offsets(kernel, stride, dilation, sizes)], 2)


def _place(columns, shape, kernel, stride, dilation):
    """The adjoint of ``_windows``: columns (N, C, K, *sizes) -> (N, C, *shape), each offset's slice added into
    the positions it was read from (where windows overlap, their numbers add up)."""
    n, c, sizes = columns.shape[0], columns.shape[1], columns.shape[3:]
    out = zeros((n, c) + tuple(shape), dtype=columns.dtype, device=columns.device)
    for j, index in enumerate(_offsets(kernel, stride, dilation, sizes)):
        out[index] += columns[:, :, j]
    return out


# -------------------------------------------------------------------- convolution
def _check_input(op, input, weight, d, transposed=False):
    _check_tensor(op, input)
    _check_tensor(op, weight, "weight")
    if weight.ndim != d + 2:
        raise RuntimeError(f"{op}(): expected a weight of {d + 2} dims, ({'in, out' if transposed else 'out, in'}"
                           f"_channels / groups, *kernel_size), but got weight of size {list(weight.shape)}")
    if input.ndim not in (d + 1, d + 2):
        raise RuntimeError(f"{op}(): expected {d + 1}D (unbatched) or {d + 2}D (batched) input to {op}, but got "
                           f"input of size: {list(input.shape)}")


def _check_dtypes(op, input, weight, bias):
    if input.dtype != weight.dtype:
        fix = f"convert the input with .to({weight.dtype}) (or the layer with .to({input.dtype}))" if \
            input.is_floating_point() and weight.is_floating_point() else \
            "convert the input with x.float() (images stored as uint8: x.float() / 255)"
        raise RuntimeError(f"{op}(): input is {input.dtype} and weight is {weight.dtype}; they must be the same "
                           f"dtype: {fix}")
    if bias is not None and bias.dtype != input.dtype:
        raise RuntimeError(f"{op}(): input type ({input.dtype}) and bias type ({bias.dtype}) should be the same")


def _padding(op, padding, d, kernel, stride, dilation):
    """(the zeros before, the zeros after) along each spatial dim, for an int, a tuple, "valid" or "same"."""
    if isinstance(padding, str):
        if padding == "valid":
            return [(0, 0)] * d
        if padding != "same":
            raise RuntimeError(f"{op}(): invalid padding string: {padding!r}; expected 'valid', 'same' or numbers")
        if builtins.max(stride) > 1:
            raise RuntimeError(f"{op}(): padding='same' is not supported for strided convolutions (stride={stride}): "
                               "give the padding as numbers")
        # as PyTorch: the output keeps the input's size, the extra zero (an even kernel) after
        return [(dl * (k - 1) // 2, dl * (k - 1) - dl * (k - 1) // 2) for k, dl in zip(kernel, dilation)]
    sizes = _tuple(op, "padding", padding, d)
    if builtins.min(sizes) < 0:
        raise RuntimeError(f"{op}(): negative padding is not supported (got padding={sizes})")
    return [(p, p) for p in sizes]


def _padded(x, pads, value=0):
    """x (N, C, *spatial) with ``pads[i]`` = (before, after) items of ``value`` around spatial dim i."""
    if not any(before or after for before, after in pads):
        return x
    return _pad(x, tuple(n for before_after in reversed(pads) for n in before_after), value=value)


def _convolution(op, d, input, weight, bias, stride, padding, dilation, groups):
    _check_input(op, input, weight, d)
    kernel = tuple(weight.shape[2:])
    stride = _positive(op, "stride", _tuple(op, "stride", stride, d))
    dilation = _positive(op, "dilation", _tuple(op, "dilation", dilation, d))
    pads = _padding(op, padding, d, kernel, stride, dilation)
    groups = _positive(op, "groups", (as_int(groups, op, "groups"),))[0]
    (input, weight, bias), uncast = as_one_op(op, input, weight, bias)
    _check_dtypes(op, input, weight, bias)
    batched = input.ndim == d + 2
    x = input if batched else input[None]
    n, c, out_channels = x.shape[0], x.shape[1], weight.shape[0]
    if out_channels % groups:
        raise RuntimeError(f"{op}(): given groups={groups}, expected weight to be divisible by {groups} at dimension "
                           f"0, but got weight of size {list(weight.shape)} instead")
    if c != weight.shape[1] * groups:
        wanted, hint = weight.shape[1] * groups, ""
        if x.shape[-1] == wanted:
            hint = (f"; the input looks channels-last, {op} wants the channels in dim 1: "
                    f"x.permute(0, {d + 1}, {', '.join(str(i) for i in range(1, d + 1))})")
        elif not batched and wanted == 1:
            hint = (f"; a {d + 1}-D input is ONE example (C, *spatial): for a batch of one-channel inputs, "
                    "add the channel dim with x.unsqueeze(1)")
        raise RuntimeError(f"{op}(): given groups={groups}, weight of size {list(weight.shape)}, expected "
                           f"input{list(x.shape)} to have {wanted} channels, but got {c} channels instead{hint}")
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise RuntimeError(f"{op}(): given weight of size {list(weight.shape)}, expected bias to be 1-dimensional "
                           f"with {out_channels} elements, but got bias of size {list(bias.shape)} instead")
    with uncast:
        x = _padded(x, pads)
        sizes = _sizes(op, tuple(x.shape[2:]), kernel, stride, dilation)
        rows = c // groups * math.prod(kernel)  # (each group's channels times the kernel's offsets)
        columns = _windows(x, kernel, stride, dilation, sizes).reshape(n, groups, rows, math.prod(sizes))
        # (groups, out / groups, in / groups * K) @ (N, groups, in / groups * K, positions)
        out = (weight.reshape(groups, out_channels // groups, rows) @ columns).reshape((n, out_channels) + sizes)
        # (a new tensor, not a reshape of the product, so that it can be changed in place: relu_, +=)
        out = out + bias.reshape((out_channels,) + (1,) * d) if bias is not None else out.clone()
    return out if batched else out[0]


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    r"""1-D convolution: input (N, C_in, L) or (C_in, L), weight (C_out, C_in / groups, k), bias (C_out,).

    L_out = \lfloor (L + 2 padding - dilation (k - 1) - 1) / stride \rfloor + 1. ``padding``: a number, "valid"
    (none) or "same" (the output keeps L; stride 1 only). ``groups``: the channels split into that many groups,
    each convolved with its own slice of the weight (groups = C_in: a depthwise convolution)."""
    return _convolution("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    r"""2-D convolution: input (N, C_in, H, W) or (C_in, H, W), weight (C_out, C_in / groups, kH, kW), bias (C_out,).

    Each of ``stride``, ``padding``, ``dilation`` is one number or one per spatial dim; H_out as L_out in
    ``conv1d``, for each dim."""
    return _convolution("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution: input (N, C_in, D, H, W) or (C_in, D, H, W), weight (C_out, C_in / groups, kD, kH, kW)."""
    return _convolution("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


# -------------------------------------------------------------------- transposed convolution
def _transposed(op, d, input, weight, bias, stride, padding, output_padding, groups, dilation):
    _check_input(op, input, weight, d, transposed=True)
    kernel = tuple(weight.shape[2:])
    stride = _positive(op, "stride", _tuple(op, "stride", stride, d))
    dilation = _positive(op, "dilation", _tuple(op, "dilation", dilation, d))
    padding = _tuple(op, "padding", padding, d)
    if builtins.min(padding) < 0:
        raise RuntimeError(f"{op}(): negative padding is not supported (got padding={padding})")
    extra = _tuple(op, "output_padding", output_padding, d)
    if any(e < 0 or (e >= s and e >= dl) for e, s, dl in zip(extra, stride, dilation)):
        raise RuntimeError(f"{op}(): output padding must be smaller than either stride or dilation, but got "
                           f"output_padding={extra}, stride={stride}, dilation={dilation}")
    groups = _positive(op, "groups", (as_int(groups, op, "groups"),))[0]
    (input, weight, bias), uncast = as_one_op(op, input, weight, bias)
    _check_dtypes(op, input, weight, bias)
    batched = input.ndim == d + 2
    x = input if batched else input[None]
    n, c, sizes = x.shape[0], x.shape[1], tuple(x.shape[2:])
    if c != weight.shape[0] or c % groups:
        raise RuntimeError(f"{op}(): given transposed=1, groups={groups}, weight of size {list(weight.shape)}, "
                           f"expected input{list(x.shape)} to have {weight.shape[0]} channels (divisible by groups), "
                           f"but got {c} channels instead")
    out_channels = weight.shape[1] * groups
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise RuntimeError(f"{op}(): expected bias to be 1-dimensional with {out_channels} elements, but got bias "
                           f"of size {list(bias.shape)} instead")
    full = tuple((m - 1) * s + dl * (k - 1) + 1 + e for m, s, dl, k, e in zip(sizes, stride, dilation, kernel, extra))
    if any(f - 2 * p < 0 for f, p in zip(full, padding)):
        raise RuntimeError(f"{op}(): the padding {padding} leaves no output (input size {list(sizes)}, kernel "
                           f"{list(kernel)}); use less padding")
    with uncast:
        k = math.prod(kernel)
        # (groups, out / groups * K, in / groups) @ (N, groups, in / groups, positions): each input position's
        # contribution to every kernel offset of its window
        w = weight.reshape(groups, c // groups, out_channels // groups * k).transpose(1, 2)
        columns = (w @ x.reshape(n, groups, c // groups, math.prod(sizes))).reshape((n, out_channels, k) + sizes)
        out = _place(columns, full, kernel, stride, dilation)
        out = out[(slice(None), slice(None)) + tuple(slice(p, f - p) for p, f in zip(padding, full))]
        if bias is not None:
            out = out + bias.reshape((out_channels,) + (1,) * d)
    return out if batched else out[0]


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    r"""The transposed 1-D convolution (the gradient of ``conv1d`` with respect to its input, used to upsample):
    input (N, C_in, L), weight (C_in, C_out / groups, k) (PyTorch's layout: in before out), output length
    (L - 1) stride - 2 padding + dilation (k - 1) + output_padding + 1."""
    return _transposed("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """The transposed 2-D convolution: input (N, C_in, H, W), weight (C_in, C_out / groups, kH, kW)."""
    return _transposed("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups, dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """The transposed 3-D convolution: input (N, C_in, D, H, W), weight (C_in, C_out / groups, kD, kH, kW)."""
    return _transposed("conv_transpose3d", 3, input, weight, bias, stride, padding, output_padding, groups, dilation)


# -------------------------------------------------------------------- unfold and fold
def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    r"""The sliding windows of an image as columns: input (N, C, H, W) or (C, H, W) -> (N, C kH kW, L), L the
    number of windows. Column l holds window l's numbers, channel by channel, each channel's in row-major order.
    ``conv2d(x, w)`` is ``w.view(C_out, -1) @ unfold(x, w.shape[2:])``, reshaped."""
    op = "unfold"
    _check_tensor(op, input)
    if input.ndim not in (3, 4):
        raise RuntimeError(f"{op}(): expected 3D or 4D (batch mode) tensor for input, but got: {list(input.shape)}")
    kernel = _positive(op, "kernel_size", _tuple(op, "kernel_size", kernel_size, 2, "the image's two dims"))
    dilation = _positive(op, "dilation", _tuple(op, "dilation", dilation, 2, "the image's two dims"))
    stride = _positive(op, "stride", _tuple(op, "stride", stride, 2, "the image's two dims"))
    if isinstance(padding, str):
        raise TypeError(f"{op}(): argument 'padding' must be an int or a pair of ints, not {padding!r}")
    pads = _padding(op, padding, 2, kernel, stride, dilation)
    (input,), uncast = as_one_op(op, input)
    batched = input.ndim == 4
    with uncast:
        x = _padded(input if batched else input[None], pads)
        sizes = _sizes(op, tuple(x.shape[2:]), kernel, stride, dilation)
        columns = _windows(x, kernel, stride, dilation, sizes)
        out = columns.reshape(x.shape[0], x.shape[1] * math.prod(kernel), math.prod(sizes)).clone()
    return out if batched else out[0]


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    r"""The adjoint of ``unfold``: columns (N, C kH kW, L) or (C kH kW, L) -> an image (N, C, *output_size), each
    column's numbers added into the window it stands for (overlapping windows add up; ``fold(unfold(x))`` is x
    times the number of windows that cover each position)."""
    op = "fold"
    _check_tensor(op, input)
    if input.ndim not in (2, 3):
        raise RuntimeError(f"{op}(): expected 2D or 3D (batch mode) tensor for input, but got: {list(input.shape)}")
    two = "the image's two dims"
    size = _positive(op, "output_size", _tuple(op, "output_size", output_size, 2, two))
    kernel = _positive(op, "kernel_size", _tuple(op, "kernel_size", kernel_size, 2, two))
    dilation = _positive(op, "dilation", _tuple(op, "dilation", dilation, 2, two))
    stride = _positive(op, "stride", _tuple(op, "stride", stride, 2, two))
    if isinstance(padding, str):
        raise TypeError(f"{op}(): argument 'padding' must be an int or a pair of ints, not {padding!r}")
    pads = _padding(op, padding, 2, kernel, stride, dilation)
    batched = input.ndim == 3
    cols = input if batched else input[None]
    padded = tuple(s + before + after for s, (before, after) in zip(size, pads))
    sizes = _sizes(op, padded, kernel, stride, dilation)
    k = math.prod(kernel)
    if cols.shape[1] % k or cols.shape[2] != math.prod(sizes):
        raise RuntimeError(
            f"{op}(): given output_size={size}, kernel_size={kernel}, dilation={dilation}, padding="
            f"{tuple(p for p, _ in pads)}, stride={stride}, expected input of size (N, C * {k}, "
            f"{' * '.join(map(str, sizes))} = {math.prod(sizes)}), but got input of size {list(input.shape)}")
    (cols,), uncast = as_one_op(op, cols)
    with uncast:
        out = _place(cols.reshape((cols.shape[0], cols.shape[1] // k, k) + sizes), padded, kernel, stride, dilation)
        out = out[(slice(None), slice(None)) + tuple(slice(b, b + s) for s, (b, _) in zip(size, pads))]
    return out if batched else out[0]
