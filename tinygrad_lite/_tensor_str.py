"""How a tensor prints: like PyTorch, ``tensor([[1., 2.], [3., 4.]], requires_grad=True)``."""
import numpy as np

from . import dtypes as dt
from .device import move

# numpy's print options are global: a notebook's np.set_printoptions(suppress=True) would print 1e-05 as 0.0000
# in a tensor too. PyTorch's printing has options of its own, so ours are fixed here: numpy's defaults.
_DEFAULTS = {"precision": 8, "threshold": 1000, "edgeitems": 3, "linewidth": 75, "suppress": False, "nanstr": "nan",
             "infstr": "inf", "formatter": None, "sign": "-", "floatmode": "maxprec", "legacy": False}


def _numbers(arr):
    """The numbers of a numpy array as PyTorch prints them: whole numbers as `2.`, others with 4 decimals for all
    (`0.5000`)."""
    if arr.dtype.kind != "f":
        return np.array2string(arr, separator=", ", prefix="tensor(")
    sizes = np.abs(arr[np.isfinite(arr) & (arr != 0)], dtype=np.float64)  # both turn to 1.0000e+03 form alike
    whole = sizes.size == 0 or bool(np.all(sizes == np.round(sizes)) and sizes.max() < 1e8
                                    and sizes.max() <= 1000 * sizes.min())
    return np.array2string(arr, separator=", ", prefix="tensor(", precision=4,
                           floatmode="maxprec_equal" if whole else "fixed")


def tensor_repr(t):
    """The numbers (4 decimals for floats, as PyTorch), then the device, dtype and graph facts worth showing."""
    with np.printoptions(**_DEFAULTS):
        body = _numbers(move(t.array, "cpu"))
    extra = []
    if t.device.type != "cpu":
        extra.append(f"device='{t.device}'")
    if t.dtype not in (dt.get_default_dtype(), dt.int64, dt.bool):
        extra.append(f"dtype={t.dtype}")
    if t.grad_fn is not None:
        extra.append(f"grad_fn={t.grad_fn!r}")
    elif t.requires_grad:
        extra.append("requires_grad=True")
    return "tensor(" + ", ".join([body] + extra) + ")"
