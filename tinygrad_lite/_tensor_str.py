"""How a tensor prints: like PyTorch, ``tensor([[1., 2.], [3., 4.]], requires_grad=True)``."""
import numpy as np

from . import dtypes as dt
from .device import move


def tensor_repr(t):
    """The numbers (4 significant decimals for floats), then the device, dtype and graph facts worth showing."""
    arr = move(t.array, "cpu")
    if arr.dtype.kind == "f":
        body = np.array2string(arr, separator=", ", prefix="tensor(", precision=4, floatmode="maxprec_equal")
    else:
        body = np.array2string(arr, separator=", ", prefix="tensor(")
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
