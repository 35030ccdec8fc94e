"""Looking values up, with no gradient: ``unique``, ``searchsorted`` and ``bucketize``.

Their results are positions and counts (integers), or for ``unique`` the distinct values themselves: none is a
differentiable function of the input (PyTorch records ``unique`` in the graph and raises if asked for its
derivative; here its result simply does not require grad). Each is numpy's function of the same idea, run on
the tensor's device, with PyTorch's arguments and conventions.
"""
from .device import array_module_of, on_device_of
from .functions import _check_tensor, with_out
from .shapes import dim_index
from .tensor import Tensor


def _result(array, dtype=None):
    """A tensor (not requiring grad) of ``array``, on the device it is on; cast to ``dtype`` if given."""
    return Tensor._make(array if dtype is None else array.astype(dtype), None)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values of ``input`` in increasing order (flattened; with ``dim``, the distinct slices along
    dim). ``return_inverse``: also where each item of the input went (``values[inverse]`` is the input);
    ``return_counts``: also how many times each value occurs. ``unique(labels, return_counts=True)`` counts the
    classes. (PyTorch's ``sorted=False`` may return another order; the values come sorted here either way.)"""
    _check_tensor("unique", input)
    if dim is not None and input.ndim == 0:  # (an IndexError, as PyTorch's)
        raise IndexError(f"unique(): dim {dim} specified, but a 0-d tensor has no dims; leave dim out")
    xp = array_module_of(input.array)
    array = input.detach().array
    with on_device_of(input.array):
        if dim is None:
            values, inverse, counts = xp.unique(array, return_inverse=True, return_counts=True, equal_nan=False)
            inverse = inverse.reshape(array.shape)  # (each nan a value of its own, as in PyTorch)
        else:
            d = dim_index(dim, input.ndim, "unique")
            values, inverse, counts = xp.unique(array, axis=d, return_inverse=True, return_counts=True)
            inverse = inverse.reshape(-1)
    out = [_result(values)]
    if return_inverse:
        out.append(_result(inverse, "int64"))
    if return_counts:
        out.append(_result(counts, "int64"))
    return out[0] if len(out) == 1 else tuple(out)


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):
    """Where each value of ``input`` would go in the increasing ``sorted_sequence`` to keep it sorted: the index of
    the first item >= the value (``right=True`` or ``side="right"``: > the value). A sequence of several dims is
    searched row by row, with ``input`` holding one row of values for each. ``sorter``: the indices that sort an
    unsorted ``sorted_sequence`` (its ``argsort()``)."""
    return _search("searchsorted", sorted_sequence, input, out_int32, right, side, sorter)


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each value of ``input`` among the increasing 1-D ``boundaries``: i such that
    boundaries[i - 1] < x <= boundaries[i] (``right=True``: boundaries[i - 1] <= x < boundaries[i]); 0 below the
    first boundary, ``len(boundaries)`` above the last. ``searchsorted`` with the arguments the other way round."""
    _check_tensor("bucketize", boundaries, "boundaries")
    if boundaries.ndim != 1:
        raise RuntimeError(f"bucketize(): boundaries must be a 1-D tensor, got shape {tuple(boundaries.shape)}")
    return _search("bucketize", boundaries, input, out_int32, right, None, None)


def _search(op, sequence, input, out_int32, right, side, sorter):
    _check_tensor(op, sequence, "sorted_sequence" if op == "searchsorted" else "boundaries")
    for name, flag in (("out_int32", out_int32), ("right", right)):
        if not isinstance(flag, bool):
            raise TypeError(f"{op}(): argument '{name}' must be True or False, not {type(flag).__name__}")
    if side is not None:
        if not isinstance(side, str) or side not in ("left", "right"):
            raise (TypeError if not isinstance(side, str) else RuntimeError)(
                f"{op}(): side can only be 'left' or 'right', got {side!r}")
        if right and side == "left":
            raise RuntimeError(f"{op}(): side and right can't be set to opposites, got side of left while right was "
                               "True")
        right = side == "right"
    if sequence.ndim == 0:
        raise RuntimeError(f"{op}(): the sorted sequence must have at least 1 dim, got a 0-d tensor")
    if not isinstance(input, (Tensor, int, float)) or isinstance(input, bool):
        raise TypeError(f"{op}(): argument 'input' must be a Tensor or a number, not {type(input).__name__}")
    values = input if isinstance(input, Tensor) else sequence.new_tensor(input)
    if sorter is not None:
        _check_tensor(op, sorter, "sorter")
        if tuple(sorter.shape) != tuple(sequence.shape) or sorter.dtype.is_floating_point:
            raise RuntimeError(f"{op}(): sorter must be integer indices of the sequence's shape "
                               f"{tuple(sequence.shape)} (its argsort()), got {sorter.dtype} {tuple(sorter.shape)}")
        sequence = sequence.gather(-1, sorter)
    xp = array_module_of(sequence.array)
    boundaries, queries = sequence.array, values.array
    with on_device_of(sequence.array):
        if boundaries.ndim <= 1:
            found = xp.searchsorted(boundaries, queries, side="right" if right else "left")
        else:
            if boundaries.shape[:-1] != queries.shape[:-1]:
                raise RuntimeError(f"{op}(): the sequence {tuple(boundaries.shape)} and the values "
                                   f"{tuple(queries.shape)} must match in every dim but the last")
            rows_b, rows_q = boundaries.reshape(-1, boundaries.shape[-1]), queries.reshape(-1, queries.shape[-1])
            found = xp.stack([xp.searchsorted(b, q, side="right" if right else "left")
                              for b, q in zip(rows_b, rows_q)]).reshape(queries.shape)
    return _result(xp.asarray(found), "int32" if out_int32 else "int64")


Tensor.unique = unique
searchsorted, bucketize = with_out(searchsorted), with_out(bucketize)  # (out=, as PyTorch's)
