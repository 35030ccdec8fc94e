"""Padding layers: each adds items around the last 1, 2 or 3 dims with ``F.pad`` (see nn/functional/padding.py).

``ConstantPad{1,2,3}d(padding, value)`` and ``ZeroPad{1,2,3}d(padding)`` fill with a number;
``ReflectionPad``, ``ReplicationPad`` and ``CircularPad`` copy items, as ``F.pad``'s modes of those names.
``padding`` is one int (the same on every side) or a tuple of two per padded dim, the last dim first:
``(left, right)``, then ``(top, bottom)``, then ``(front, back)``.
"""
from ...shapes import as_int, check_number
from .. import functional as F
from .module import Module


def _padding(owner, padding, dims):
    """``padding`` as a tuple of 2 * dims ints: one int repeated, or a tuple of that length."""
    if isinstance(padding, (tuple, list)):
        sizes = tuple(as_int(n, owner, "padding") for n in padding)
        if len(sizes) != 2 * dims:
            raise ValueError(f"{owner}: padding must be an int or a tuple of {2 * dims} ints (two per padded dim), "
                             f"got {len(sizes)}: {tuple(padding)}")
        return sizes
    return (as_int(padding, owner, "padding"),) * (2 * dims)


class _PadNd(Module):
    """A padding layer: ``mode`` and the number of padded dims are the class's, ``padding`` the instance's."""
    mode, dims = "constant", 1

    def __init__(self, padding):
        super().__init__()
        self.padding = _padding(type(self).__name__, padding, self.dims)

    def forward(self, input):
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = check_number(type(self).__name__, "value", value)

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """``value`` added before and after the last dim."""
    dims = 1


class ConstantPad2d(_ConstantPadNd):
    """``value`` added around the last two dims (an image's width and height)."""
    dims = 2


class ConstantPad3d(_ConstantPadNd):
    """``value`` added around the last three dims."""
    dims = 3


class _Zeros:
    """A ``ConstantPad`` whose value is 0 (and not shown in its repr): PyTorch's ``ZeroPad`` layers subclass it."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad1d(_Zeros, ConstantPad1d):
    """Zeros added before and after the last dim."""


class ZeroPad2d(_Zeros, ConstantPad2d):
    """Zeros added around the last two dims."""


class ZeroPad3d(_Zeros, ConstantPad3d):
    """Zeros added around the last three dims."""


_MODE_NAMES = {"reflect": "Reflection", "replicate": "Replication", "circular": "Circular"}


def _copying_layer(mode, dims, doc):
    """The class ``ReflectionPad2d`` (and the others that copy items): a ``_PadNd`` with that mode and number of
    dims. Nine classes that differ only in these two settings, so they are made here rather than written out."""
    name = f"{_MODE_NAMES[mode]}Pad{dims}d"
    return type(name, (_PadNd,), {"mode": mode, "dims": dims, "__doc__": doc, "__module__": __name__,
                                  "__qualname__": name})


ReflectionPad1d, ReflectionPad2d, ReflectionPad3d = (
    _copying_layer("reflect", d, f"The last {d} dim(s) padded with their items mirrored (the edge not repeated).")
    for d in (1, 2, 3))
ReplicationPad1d, ReplicationPad2d, ReplicationPad3d = (
    _copying_layer("replicate", d, f"The last {d} dim(s) padded with copies of their edge item.") for d in (1, 2, 3))
CircularPad1d, CircularPad2d, CircularPad3d = (
    _copying_layer("circular", d, f"The last {d} dim(s) padded with the items of the other end (wrapped around).")
    for d in (1, 2, 3))

__all__ = ["ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
           "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
           "ReplicationPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d"]
