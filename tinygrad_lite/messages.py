"""Error messages in a learner's words, where numpy's would speak of arrays.

A tensor's ops run on numpy (or CuPy) arrays, so a bad index or a value that does not fit fails inside numpy, whose
message speaks of arrays, axes and ``numpy.newaxis``. ``in_tensor_words`` puts those messages in a tensor's terms
(PyTorch's where they are clearer, with the fix), and ``ragged`` says where nested lists stop being a block of
numbers, as PyTorch says it ("expected sequence of length 2 at dim 1 (got 1)"). Plumbing for errors only: the
Tensor API (tensor.py) calls these when numpy has refused.
"""
import re

import numpy as np

_NUMPY_WORDS = [  # numpy's words for a bad index or value, in a tensor's (a learner indexes tensors, not arrays)
    (r"arrays used as indices must be of integer \(or boolean\) type",
     "tensors used as indices must be long, int or bool tensors{got}; make it an integer tensor (.long(), or // "
     "instead of /)"),
    (r"only integers, slices \(`:`\), ellipsis \(`...`\), numpy.newaxis \(`None`\) and integer or boolean arrays "
     r"are valid indices", "only integers, slices (`:`), ellipsis (`...`), None and long or bool tensors are valid "
     "indices{got}"),
    (r"too many indices for array: array is (\d+)-dimensional, but (\d+) were indexed",
     r"too many indices for a tensor of dimension \1 (\2 were given)"),
    (r"boolean index did not match indexed array along axis (\d+); size of axis is (\d+) but size of corresponding "
     r"boolean axis is (\d+)", r"the mask has size \3 at dim \1, where the tensor has size \2"),
    (r"could not broadcast input array from shape (\S+) into shape (\S+)",
     r"a value of shape \1 cannot be written into the indexed part, of shape \2 (it must broadcast to it)"),
    (r"setting an array element with a sequence\.", "the value has more dims than the indexed part"),
]


def in_tensor_words(error, index):
    """The text of numpy's ``error`` for ``x[index]`` in ``_NUMPY_WORDS``' terms, naming a float index's type."""
    parts = index if isinstance(index, tuple) else (index,)
    bad = next((p for p in parts if isinstance(p, float) or getattr(p, "dtype", np.dtype(int)).kind == "f"),
               None)
    got = "" if bad is None else f" (got {getattr(bad, 'dtype', type(bad).__name__)})"
    text = str(error)
    for numpy_words, words in _NUMPY_WORDS:
        text = re.sub(numpy_words, words.replace("{got}", got), text)
    return text


def ragged(data):
    """Where nested lists stop being a block of numbers, in PyTorch's words, or None."""
    level, dim = [data], 0
    while level and all(isinstance(x, (list, tuple)) for x in level):
        lengths = [len(x) for x in level]
        other = next((n for n in lengths if n != lengths[0]), None)
        if other is not None:
            return (f"the nested lists are ragged: expected sequence of length {lengths[0]} at dim {dim} (got "
                    f"{other}); rows must be equally long")
        level, dim = [y for x in level for y in x], dim + 1
    if any(isinstance(x, (list, tuple)) for x in level):
        return f"the nested lists are ragged: at dim {dim} some elements are sequences and others are not"
    return None
