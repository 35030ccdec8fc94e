"""Error messages in a learner's words, where numpy's would speak of arrays.

A tensor's ops run on numpy (or CuPy) arrays, so a bad index or a value that does not fit fails inside numpy, whose
message speaks of arrays, axes and ``numpy.newaxis``. ``in_tensor_words`` puts those messages in a tensor's terms
(PyTorch's where they are clearer, with the fix), and ``ragged`` says where nested lists stop being a block of
numbers, as PyTorch says it ("expected sequence of length 2 at dim 1 (got 1)"). Plumbing for errors only: the
Tensor API (tensor.py) calls these when numpy has refused.
"""
import re

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
    (r"setting an array element with a sequence\. The requested array has an inhomogeneous shape.*",
     "the lists in the index are ragged (rows of different lengths); an index list must be a block of integers"),
]
_WRITING_WORDS = [  # and for a value written, x[index] = value
    (r"could not broadcast input array from shape (\S+) into shape (\S+)",
     r"a value of shape \1 cannot be written into the indexed part, of shape \2 (it must broadcast to it)"),
    (r"setting an array element with a sequence\.", "the value has more dims than the indexed part"),
]


def in_tensor_words(error, index, writing=False):
    """The text of numpy's ``error`` for ``x[index]`` (or, ``writing``, ``x[index] = value``) in ``_NUMPY_WORDS``'
    terms, naming a float index's type."""
    parts = index if isinstance(index, tuple) else (index,)
    bad = next((p for p in parts if isinstance(p, float) or _float_dtype(getattr(p, "dtype", None))), None)
    got = "" if bad is None else f" (got {getattr(bad, 'dtype', type(bad).__name__)})"
    text = str(error)
    for numpy_words, words in _NUMPY_WORDS + (_WRITING_WORDS if writing else []):
        text = re.sub(numpy_words, words.replace("{got}", got), text)
    return text


def _float_dtype(dtype):
    """Is ``dtype`` (numpy's, or a tensor's when the index was not turned into arrays yet) a float type?"""
    return getattr(dtype, "kind", None) == "f" or getattr(dtype, "is_floating_point", False) is True


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
