"""Collating: turning a list of samples into one batch, as PyTorch's ``default_collate`` does.

The rule looks at the first sample and recurses into containers, so a batch has the samples' structure with
a new leading "batch" dim on every tensor:

=======================  ===================================================================
each sample is           the batch is
=======================  ===================================================================
Tensor of shape S        Tensor of shape (B, *S), same dtype (the samples stacked)
numpy array              the same, after turning each array into a tensor (dtype kept)
Python float             float64 tensor of shape (B,)   (a Python float is a C double)
Python int / bool        int64 / bool tensor of shape (B,)
numpy scalar             tensor of shape (B,) with the scalar's dtype
str or bytes             the batch of them as it comes: a list (a tuple within tuple samples, as PyTorch)
dict                     dict with the same keys, each value collated
namedtuple               the same namedtuple type, each field collated
tuple or list            a *list*, one collated entry per position (PyTorch also gives a list)
=======================  ===================================================================

So ``TensorDataset(X, y)`` samples ``(X[i], y[i])`` collate to ``[X_batch, y_batch]``, which unpacks as
``for xb, yb in loader``. A dict subclass (an ``OrderedDict``) comes back as its own type, where it can be made
from a dict, as in PyTorch.
"""
import collections.abc

import numpy as np

from ... import dtypes as dt
from ...creation import as_tensor
from ...device import array_module_of
from ...functions import stack
from ...tensor import Tensor, as_array

_ERROR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _stack(samples):
    first = samples[0]
    for i, t in enumerate(samples):
        if not isinstance(t, Tensor):  # (a tensor and a numpy array in one batch: PyTorch's TypeError too)
            raise TypeError(f"default_collate: sample 0 is a tensor but sample {i} is a {type(t).__name__}; make "
                            "every sample a tensor (torch.as_tensor), or pass DataLoader(..., collate_fn=...)")
        if t.shape != first.shape:
            raise RuntimeError(f"default_collate: each sample must have the same shape to be stacked into a batch; "
                               f"sample 0 has shape {tuple(first.shape)} but sample {i} has {tuple(t.shape)}. Make "
                               "the samples equal in size (crop or pad), or pass DataLoader(..., collate_fn=...)")
    if any(t.requires_grad for t in samples) or len({t.dtype for t in samples}) > 1:
        return stack(samples)  # records the op for autograd, and promotes mixed dtypes as PyTorch does
    return Tensor._make(array_module_of(first.array).stack([t.array for t in samples]), None)  # same, in one call


def default_collate(batch):
    """Join a list of samples into one batch (the table in the module docstring)."""
    if not isinstance(batch, (list, tuple)):
        raise TypeError(f"default_collate: batch must be a list of samples, got {batch!r:.60}")
    if not batch:  # (an IndexError, as PyTorch's, which reads batch[0])
        raise IndexError("default_collate: the batch is empty: there is no sample to join")
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack(batch)
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "USO":  # strings or Python objects: no tensor can hold them
            raise TypeError(_ERROR.format(f"a numpy array of dtype {elem.dtype}"))
        return _stack([as_tensor(b) for b in batch])
    if isinstance(elem, (np.bool_, np.number)):  # (in the first one's dtype: np.float32(0.5) with 1.0 is float32)
        return as_tensor(np.asarray(batch, dtype=elem.dtype))
    if isinstance(elem, float):
        return Tensor(batch, dtype=dt.float64)
    if isinstance(elem, int):  # (bool is an int too: it gives a bool tensor)
        return Tensor._make(as_array(batch, op="default_collate"), None)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):  # (of the samples' own type, an OrderedDict too, where it can be)
        joined = {key: default_collate([sample[key] for sample in batch]) for key in elem}
        try:
            return type(elem)(joined)
        except TypeError:
            return joined
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a namedtuple keeps its type
        return type(elem)(*(default_collate(column) for column in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        sizes = {len(sample) for sample in batch}
        if len(sizes) > 1:
            raise RuntimeError(f"default_collate: each sample in the batch should have the same number of entries; "
                               f"got lengths {sorted(sizes)}")
        columns = [default_collate(column) for column in zip(*batch)]  # (each column a tuple: strings stay one)
        if isinstance(elem, tuple):  # (a tuple gives a list, as PyTorch's; a list of its own type keeps the type)
            return columns
        try:
            return type(elem)(columns)
        except TypeError:
            return columns
    raise TypeError(_ERROR.format(type(elem)))


def default_convert(data):
    """What ``DataLoader(batch_size=None)`` applies to each single sample: numpy arrays and numpy scalars become
    tensors (inside dicts, namedtuples, tuples and lists too; tuples become lists); everything else is left as it is.
    """
    if isinstance(data, (np.ndarray, np.bool_, np.number)) and data.dtype.kind not in "USO":
        return as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return {key: default_convert(value) for key, value in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, (tuple, list)):  # a tuple comes back as a list, as in PyTorch
        return [default_convert(d) for d in data]
    return data
