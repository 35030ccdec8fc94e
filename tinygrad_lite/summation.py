r"""How sums are accumulated, so that they keep PyTorch's accuracy.

A float32 number carries 24 bits. Adding n numbers one after another into one float32 total rounds n times, and
the error grows with n: 0.1 added 100,000 times gives 9998.56. PyTorch's CPU kernels add in a cascade (blocks
summed, then their sums) and its GPU kernels in a tree, so the error stays near a few roundings. numpy adds
pairwise along the last, contiguous dims of an array, but one number at a time along any other dim: a column sum
``x.sum(0)``, a column mean over a dataset, the statistics of a batch norm, a bias's gradient. So here:

- float16 is summed in float32 and rounded once, as PyTorch sums it (in float16 a running total of 0.05s stops
  growing at 128);
- float32 on the CPU is summed in float64 and rounded once where numpy would add one number at a time and at least
  ``ONE_AT_A_TIME`` = 4096 numbers go into each sum. Below that the error stays under 4096 x 2^-24 = 2.4e-4 of the
  total in the worst case (about 1e-6 for numbers of mixed signs), and the float64 route would cost 2-4 times as
  much on a training step's many small reductions;
- ``cumsum`` adds float32 in float64 on the CPU, as PyTorch's CPU kernel does, and so do ``var`` and ``std``
  (tensor.py: their squares of 1e20 overflow float32);
- CuPy (a GPU) sums in a tree already: its sums are left as they are.
"""
import math

import numpy as np

ONE_AT_A_TIME = 4096  # numbers per sum from which a float32 sum across dims is accumulated in float64


def accumulated_sum(array, axis=None, keepdims=False):
    """``array.sum(axis)`` in the dtype it is accumulated in (module docstring), not yet rounded back."""
    if array.dtype == np.float16:
        return array.sum(axis=axis, dtype=np.float32, keepdims=keepdims)
    if type(array) is np.ndarray and array.size >= ONE_AT_A_TIME and array.dtype == np.float32 and \
            _one_at_a_time(array, axis):  # (a small array, the usual case, is answered at once)
        return array.sum(axis=axis, dtype=np.float64, keepdims=keepdims)
    return array.sum(axis=axis, keepdims=keepdims)


def rounded_sum(array, axis=None, keepdims=False):
    """``array.sum(axis)`` accumulated as the module docstring says, in the array's dtype (an integer array's sum
    is numpy's, an int64)."""
    total = accumulated_sum(array, axis, keepdims)  # (a Tensor too, in a recorded backward: its own sum)
    return total if total.dtype == array.dtype or getattr(array.dtype, "kind", "") != "f" else \
        total.astype(array.dtype)


def rounded_mean(array, axis=None, keepdims=False):
    """``array.mean(axis)`` of a floating array: the sum accumulated as above, divided, and rounded once."""
    n = array.size if axis is None else math.prod(array.shape[a] for a in ((axis,) if isinstance(axis, int) else axis))
    return (accumulated_sum(array, axis, keepdims) / n).astype(array.dtype, copy=False)


def cumsum_dtype(array):
    """The dtype a running sum of ``array`` is accumulated in: float32 for float16, float64 for float32 on the CPU
    (as PyTorch's CPU kernel), else its own (None)."""
    if array.dtype == np.float16:
        return np.float32
    return np.float64 if array.dtype == np.float32 and type(array) is np.ndarray else None


def _one_at_a_time(array, axis):
    """Would numpy add the numbers of each sum over ``axis`` one after another, many (``ONE_AT_A_TIME``) of them?
    Pairwise summation covers a reduction over the last dims of a contiguous array (or over all of its dims)."""
    axes = tuple(range(array.ndim)) if axis is None else (axis,) if isinstance(axis, int) else tuple(axis)
    axes = sorted(a % array.ndim for a in axes)
    if math.prod(array.shape[a] for a in axes) < ONE_AT_A_TIME:
        return False
    trailing = axes == list(range(array.ndim - len(axes), array.ndim))
    return not ((trailing and array.flags.c_contiguous) or (len(axes) == array.ndim and array.flags.f_contiguous))
