"""Where an advanced index puts its dims: PyTorch's rule against numpy's, which differ once integers mix in.

An index that holds integer arrays (lists, tuples, ranges, integer tensors) or boolean masks (and bools) is
*advanced*: its arrays broadcast together into one block of dims in the result. Both libraries place that block
the same way: where the arrays stand when they stand side by side in the index, at the front when anything stands
between them. They differ on what stands between. numpy counts a plain integer as one more advanced index (a 0-d
array), and an Ellipsis as a separator even where it stands for no dims; PyTorch applies the integers first, as
``select`` does, and judges the arrays without them and without such an Ellipsis. On a (2, 3, 4) tensor::

    x[0, :, [2, 0]]   PyTorch: x[0][:, [2, 0]], shape (3, 2): the list, alone, keeps its place
                      numpy:   0 and [2, 0] are apart (a slice between them): the block goes first, shape (2, 3)

The numbers are the same, in another order: the Tensor API indexes with numpy and then moves the block to
PyTorch's place (``torch_order``), and a value written with such an index is put in numpy's order first.
"""
import numpy as np

from .device import is_gpu_array


def _is_int(item):
    """A plain integer, numpy's or a 0-d integer array (from a 0-d int64 or int32 tensor, which PyTorch reads as an
    int; a 0-d uint8 tensor it reads as a mask, which this rule does not follow)."""
    if isinstance(item, np.ndarray) or is_gpu_array(item):
        return item.ndim == 0 and item.dtype.kind in "iu"
    return isinstance(item, (int, np.integer)) and not isinstance(item, (bool, np.bool_))


def _kinds(items, ndim):
    """Each item of an index tuple as one of "int", "array" (an integer array or a mask: advanced), "slice" (one
    dim), "new" (None: a new dim) and "ellipsis", with the number of result dims the Ellipsis stands for."""
    kinds = ["int" if _is_int(item) else "slice" if isinstance(item, slice) else "new" if item is None else
             "ellipsis" if item is Ellipsis else "array" for item in items]
    consumed = sum(1 if kind in ("int", "slice") else items[k].ndim if items[k].dtype == bool else 1
                   for k, kind in enumerate(kinds) if kind in ("int", "slice", "array"))
    return kinds, ndim - consumed


def torch_order(index, ndim, result_ndim):
    """How to permute numpy's ``array[index]`` (``array`` of ``ndim`` dims, the result of ``result_ndim``) into
    PyTorch's order: a list of dims for ``permute``, or None when the two orders agree. ``index`` is as numpy takes
    it: lists, tuples, ranges, bools and tensors inside it already arrays (``tensor._index``)."""
    if not isinstance(index, tuple):
        return None  # (one item: nothing to mix)
    kinds, spread = _kinds(index, ndim)
    arrays = [k for k, kind in enumerate(kinds) if kind == "array"]
    advanced = [k for k, kind in enumerate(kinds) if kind in ("int", "array")]
    if not arrays or advanced[-1] - advanced[0] + 1 == len(advanced):
        return None  # numpy's advanced indices side by side: so are PyTorch's
    # PyTorch's arrays apart too (something between them other than an int or an Ellipsis of no dims): both
    # libraries put the block first
    if any(kinds[k] in ("slice", "new") or (kinds[k] == "ellipsis" and spread)
           for k in range(arrays[0], arrays[-1]) if k not in arrays):
        return None
    # numpy put the block first; PyTorch puts it after the dims made by what comes before its first array
    made = {"slice": 1, "new": 1, "ellipsis": spread}
    to = sum(made.get(kind, 0) for kind in kinds[:arrays[0]])
    size = max(1 if index[k].dtype == bool else index[k].ndim for k in arrays)  # the block's dims
    return [size + d for d in range(to)] + list(range(size)) + list(range(to + size, result_ndim))


def _on_host(item):
    """An index item for working out shapes on the CPU: a GPU array copied to the host (only a mask's values
    matter: they tell how many elements it picks)."""
    return item.get() if is_gpu_array(item) else item


def in_numpy_order(shape, index, value):
    """``value``, to be written at ``x[index]`` (``x`` of ``shape``), broadcast to PyTorch's shape of ``x[index]``
    and put in numpy's order where the two orders differ; otherwise as it is. A Tensor stays one (``expand`` and
    ``permute``, which the graph records), anything else becomes a numpy array. Leading dims of size 1 beyond
    that shape are dropped first, as PyTorch accepts them."""
    if not np.ndim(value) or torch_order(index, len(shape), 0) is None:  # (the usual case, told at once)
        return value
    host = tuple(_on_host(item) for item in index)
    picked = np.broadcast_to(np.empty((), np.int8), shape)[host]  # (numpy's shape of x[index], x not copied)
    order = torch_order(index, len(shape), picked.ndim)
    inverse = np.argsort(order).tolist()
    torch_shape = tuple(picked.shape[d] for d in order)
    extra = np.ndim(value) - len(torch_shape)
    if extra > 0 and all(n == 1 for n in np.shape(value)[:extra]):
        value = value.reshape(np.shape(value)[extra:])
    if hasattr(value, "permute"):  # a Tensor (not imported here: tensor.py imports this module)
        return value.expand(torch_shape).permute(inverse)
    return np.broadcast_to(np.asarray(value), torch_shape).transpose(inverse)
