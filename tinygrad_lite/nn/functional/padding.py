"""``pad``: add (or, with negative sizes, cut) items at both ends of the last dims of a tensor.

``pad`` lists the sizes from the last dim backwards, two per dim: ``(left, right)`` for the last dim, then
``(top, bottom)`` for the one before, and so on. What the new items hold depends on ``mode``:

- ``"constant"``: ``value`` (0 by default);
- ``"replicate"``: the edge item, repeated;
- ``"reflect"``: the items next to the edge, mirrored (the edge itself not repeated: [1, 2, 3] padded by 2 on the
  left is [3, 2, 1, 2, 3]);
- ``"circular"``: the items from the other end, as if the dim wrapped around.

Built of the library's ops (``cat`` of constant blocks, or an ``index_select`` of computed positions), so the
gradient flows back to the items that were copied (a replicated edge gets the sum of its copies' gradients).
Deliberate difference: the non-constant modes take any number of padded dims on any input (PyTorch limits them to
the last 1-3 dims of a batched input).
"""
import builtins

from ...amp.autocast_mode import autocast_args
from ...creation import arange
from ...functions import cat
from ...shapes import as_int, check_number
from ...tensor import Tensor
from ._checks import _check_tensor

__all__ = ["pad"]

MODES = ("constant", "reflect", "replicate", "circular")


def pad(input, pad, mode="constant", value=None):
    """``input`` with ``pad[2k]`` items added before and ``pad[2k + 1]`` after dim ``-1 - k`` (see the module's
    docstring for the modes)."""
    _check_tensor("pad", input)
    if not isinstance(pad, (tuple, list)):
        raise TypeError(f"pad(): argument 'pad' must be a tuple of ints such as (1, 1), not {type(pad).__name__}")
    sizes = [as_int(n, "pad", "pad") for n in pad]
    if len(sizes) % 2:
        raise RuntimeError(f"pad(): padding length must be divisible by 2 (a pair per dim), got {len(sizes)}")
    if len(sizes) // 2 > input.ndim:
        raise RuntimeError(f"pad(): padding length should be less than or equal to two times the input dimension "
                           f"but got padding length {len(sizes)} and input of dimension {input.ndim}")
    if not isinstance(mode, str):
        raise TypeError(f"pad(): argument 'mode' must be a str such as 'constant', not {type(mode).__name__}")
    if mode not in MODES:
        raise NotImplementedError(f"pad(): mode must be one of {', '.join(MODES)}, got {mode!r}")
    if value is not None:
        if isinstance(value, Tensor) and value.numel() == 1:
            value = value.item()
        check_number("pad", "value", value)
        if mode != "constant":
            raise RuntimeError(f"pad(): padding mode \"{mode}\" doesn't take in value argument (it copies items)")
    if mode in ("reflect", "replicate"):  # (float32 inside a CPU autocast, as PyTorch's reflection_pad and
        input, = autocast_args(f"{mode}ion_pad" if mode == "reflect" else "replication_pad", input)  # replication_)
    out = input
    for k in range(len(sizes) // 2):
        d, before, after = input.ndim - 1 - k, sizes[2 * k], sizes[2 * k + 1]
        out = _pad_constant(out, d, before, after, value or 0) if mode == "constant" else \
            _pad_copying(out, d, before, after, mode)
    return out if out is not input else input.clone()


def _pad_constant(x, d, before, after, value):
    n = x.shape[d]
    if n + builtins.min(before, 0) + builtins.min(after, 0) < 0:
        raise RuntimeError(f"pad(): the negative padding ({before}, {after}) removes more than the {n} items of "
                           f"dim {d}")
    x = x.narrow(d, -builtins.min(before, 0), n + builtins.min(before, 0) + builtins.min(after, 0))
    pieces = []
    for size in (builtins.max(before, 0), None, builtins.max(after, 0)):
        if size is None:
            pieces.append(x)
        elif size:
            pieces.append(x.new_full(tuple(x.shape[:d]) + (size,) + tuple(x.shape[d + 1:]), value))
    return cat(pieces, d) if len(pieces) > 1 else x


def _pad_copying(x, d, before, after, mode):
    """A negative size first cuts items off (as in constant mode); then the positions of the padded dim, -before ..
    n + after - 1, are mapped back into 0 .. n - 1 of what is left, by the mode."""
    if before < 0 or after < 0:
        x = _pad_constant(x, d, builtins.min(before, 0), builtins.min(after, 0), 0)
        before, after = builtins.max(before, 0), builtins.max(after, 0)
    n = x.shape[d]
    limit = {"reflect": n - 1, "circular": n}.get(mode)  # (replicate repeats the edge any number of times)
    if limit is not None and builtins.max(before, after) > limit:
        raise RuntimeError(f"pad(): with mode \"{mode}\" the padding ({before}, {after}) of dim {d} must be at most "
                           f"{limit} (that dim has {n} items)")
    if n == 0 and (before or after):
        raise RuntimeError(f"pad(): with mode \"{mode}\" dim {d} must have items to copy, but it is empty")
    i = arange(-before, n + after, device=x.device)
    if mode == "replicate":
        i = i.clamp(0, n - 1)
    elif mode == "reflect":
        i = (n - 1) - ((n - 1) - i.abs()).abs()
    else:
        i = i % n
    return x.index_select(d, i)

