"""Where an advanced index puts its dims: PyTorch's rule against numpy's, which differ once integers mix in.

An index that holds integer arrays (lists, integer tensors) or boolean masks is *advanced*: its arrays broadcast
together into one block of dims in the result. Both libraries place that block the same way: where the arrays
stand when they stand side by side in the index, at the front when anything stands between them. They differ on
a plain integer beside them. numpy counts it as one more advanced index (a 0-d array); PyTorch applies it first,
as ``select`` does, and judges the arrays without it. On a (2, 3, 4) tensor::

    x[0, :, [2, 0]]   PyTorch: x[0][:, [2, 0]], shape (3, 2): the list, alone, keeps its place
                      numpy:   0 and [2, 0] are apart (a slice between them): the block goes first, shape (2, 3)

The numbers are the same, in another order: the Tensor API indexes with numpy and then moves the block to
PyTorch's place (``torch_order``), and a value written with such an index is put in numpy's order first.
"""
import numpy as np


def _is_int(item):
    """A plain integer, numpy's or a 0-d integer array (from a 0-d integer tensor, which PyTorch reads as an int)."""
    if isinstance(item, np.ndarray):
        return item.ndim == 0 and item.dtype.kind in "iu"
    return isinstance(item, (int, np.integer)) and not isinstance(item, (bool, np.bool_))


def _is_array(item):
    return hasattr(item, "ndim") and hasattr(item, "dtype") and not _is_int(item)


def torch_order(index, ndim, result_ndim):
    """How to permute numpy's ``array[index]`` (``array`` of ``ndim`` dims, the result of ``result_ndim``) into
    PyTorch's order: a list of dims for ``permute``, or None when the two orders agree. ``index`` is as numpy takes
    it: lists and tensors already arrays (``tensor._index``)."""
    if not isinstance(index, tuple):
        return None  # (one item: nothing to mix)
    items = index
    arrays = [k for k, item in enumerate(items) if _is_array(item)]
    advanced = sorted(arrays + [k for k, item in enumerate(items) if _is_int(item)])
    if not arrays or advanced[-1] - advanced[0] + 1 == len(advanced):
        return None  # numpy's advanced indices side by side: so are PyTorch's (only integers may part its arrays)
    if any(not _is_int(items[k]) for k in range(arrays[0], arrays[-1]) if k not in arrays):
        return None  # PyTorch's arrays apart too: both libraries put the block first
    # numpy put the block first; PyTorch puts it after the dims made by what comes before its first array
    consumed = sum(1 for item in items if _is_int(item) or isinstance(item, slice))
    consumed += sum(items[k].ndim if items[k].dtype == bool else 1 for k in arrays)
    made = {"slice": 1, "NoneType": 1, "ellipsis": ndim - consumed}  # dims each kind of item makes in the result
    to = sum(made.get(type(item).__name__, 0) for item in items[:arrays[0]])
    size = max(1 if items[k].dtype == bool else items[k].ndim for k in arrays)  # the block's dims
    return [size + d for d in range(to)] + list(range(size)) + list(range(to + size, result_ndim))


def in_numpy_order(shape, index, value):
    """``value``, to be written at ``x[index]`` (``x`` of ``shape``), broadcast to PyTorch's shape of ``x[index]``
    and put in numpy's order where the two orders differ; otherwise as it is. A Tensor stays one (``expand`` and
    ``permute``, which the graph records), anything else becomes a numpy array."""
    if not np.ndim(value) or torch_order(index, len(shape), 0) is None:  # (the usual case, told at once)
        return value
    picked = np.broadcast_to(np.empty((), np.int8), shape)[index]  # (numpy's shape of x[index], x not copied)
    order = torch_order(index, len(shape), picked.ndim)
    inverse = np.argsort(order).tolist()
    torch_shape = tuple(picked.shape[d] for d in order)
    if hasattr(value, "permute"):  # a Tensor (not imported here: tensor.py imports this module)
        return value.expand(torch_shape).permute(inverse)
    return np.broadcast_to(np.asarray(value), torch_shape).transpose(inverse)
