"""Datasets: anything with ``len(dataset)`` and ``dataset[i]``, plus the usual ways to build and split them.

- ``Dataset``: the base class to subclass for your own data (define ``__getitem__`` and ``__len__``).
- ``TensorDataset(X, y)``: sample i is ``(X[i], y[i])``.
- ``Subset(dataset, indices)``: the samples at ``indices``; ``ConcatDataset([a, b])`` (or ``a + b``): a, then b.
- ``StackDataset(a, b)`` (or ``StackDataset(x=a, y=b)``): sample i is ``(a[i], b[i])`` (or ``{"x": a[i], ...}``).
- ``IterableDataset``: the base class of a *stream* of samples (``__iter__`` instead of ``__getitem__``);
  ``ChainDataset([a, b])`` (or ``a + b``): the samples of a, then those of b.
- ``random_split(dataset, [0.8, 0.2])``: shuffle the indices once and cut them into non-overlapping Subsets.
"""
import bisect
import itertools
import math
import numbers
import warnings
from typing import Generic, TypeVar

from ...creation import randperm
from ...random import default_generator
from ...tensor import Tensor

T_co = TypeVar("T_co", covariant=True)


class Dataset(Generic[T_co]):
    """The base class of map-style datasets: subclasses define ``__getitem__(i)`` and ``__len__()``.

    ``__getitem__`` may return anything the DataLoader's collate function understands: a tensor, a number,
    a numpy array, or tuples / lists / dicts of these (see ``collate.py``). ``a + b`` concatenates two datasets.
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(self, index), which returns "
                                  "sample number `index`")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset[T_co]):
    """The base class of iterable-style datasets: subclasses define ``__iter__``, which yields the samples one
    after another (lines of a file, samples generated on the fly), instead of ``__getitem__``.

    A DataLoader groups consecutive samples into batches. It cannot shuffle or sample them, having no index to
    pick: shuffle inside ``__iter__``. ``__len__`` is optional (``len(loader)`` needs it). ``a + b`` chains two.
    """

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__(self), which yields the samples")

    def __add__(self, other):
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """Several iterable datasets one after another: all of the first's samples, then the second's..."""

    def __init__(self, datasets):
        self.datasets = datasets

    def _each(self):
        for i, dataset in enumerate(self.datasets):
            if not isinstance(dataset, IterableDataset):  # (an AssertionError, as PyTorch's)
                raise AssertionError(f"ChainDataset only supports IterableDataset: datasets[{i}] is a "
                                     f"{type(dataset).__name__}; chain map-style datasets with ConcatDataset")
            yield dataset

    def __iter__(self):
        for dataset in self._each():
            yield from dataset

    def __len__(self):
        return sum(len(dataset) for dataset in self._each())


class StackDataset(Dataset):
    """Datasets of the same length side by side: ``StackDataset(images, labels)[i]`` is ``(images[i],
    labels[i])``, and ``StackDataset(x=images, y=labels)[i]`` is ``{"x": images[i], "y": labels[i]}``."""

    def __init__(self, *args, **kwargs):
        if args and kwargs:
            raise ValueError("StackDataset: give the datasets by position (samples are tuples) or by name (samples "
                             "are dicts), not both")
        datasets = args or tuple(kwargs.values())
        if not datasets:
            raise ValueError("StackDataset: at least one dataset should be passed")
        names = [f"datasets[{i}]" for i in range(len(args))] if args else list(kwargs)
        for name, dataset in zip(names, datasets):
            check_dataset("StackDataset", dataset, name)
        lengths = [len(d) for d in datasets]
        if len(set(lengths)) > 1:
            raise ValueError(f"StackDataset: size mismatch between datasets: their lengths are {lengths}; each "
                             "needs one item per sample")
        self._length, self.datasets = lengths[0], args if args else dict(kwargs)

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {name: dataset[index] for name, dataset in self.datasets.items()}
        return tuple(dataset[index] for dataset in self.datasets)

    def __len__(self):
        return self._length


class TensorDataset(Dataset):
    """Samples from tensors that share their first dim: sample i is ``(tensors[0][i], tensors[1][i], ...)``.

    ``TensorDataset(X, y)`` with X of shape (N, features) and y of shape (N,) has N samples ``(X[i], y[i])``.
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor, e.g. TensorDataset(X, y)")
        for k, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset: argument {k} is of type {type(t).__name__}, not a Tensor; convert it "
                                "first with torch.tensor(...) or torch.from_numpy(...)")
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: argument {k} is a 0-d tensor; each tensor needs a first dim that "
                                 "counts the samples")
        sizes = [t.shape[0] for t in tensors]
        if len(set(sizes)) > 1:
            shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
            raise AssertionError(f"TensorDataset: size mismatch between tensors: the first dims are {sizes} "
                                 f"(shapes {shapes}); every tensor needs one row per sample, so these must all be "
                                 "equal")  # (an AssertionError, as PyTorch's "Size mismatch between tensors")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order: ``Subset(d, idx)[i]`` is ``d[idx[i]]``."""

    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, indices

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __getitems__(self, indices):
        """The samples at ``indices`` in one call of the dataset's own ``__getitems__`` where it has one (a batch
        fetched at once, as the DataLoader asks), else one by one."""
        many = getattr(self.dataset, "__getitems__", None)
        picked = [self.indices[i] for i in indices]
        return many(picked) if many is not None else [self.dataset[i] for i in picked]

    def __len__(self):
        return len(self.indices)


class ConcatDataset(Dataset):
    """Several datasets one after another. Index i falls in the first dataset whose running total exceeds i."""

    def __init__(self, datasets):
        if isinstance(datasets, (str, bytes)) or not hasattr(datasets, "__iter__"):
            raise TypeError(f"ConcatDataset: datasets must be a list of datasets, got {type(datasets).__name__}")
        datasets = list(datasets)  # (a generator of datasets too, as PyTorch's)
        for i, dataset in enumerate(datasets):
            check_dataset("ConcatDataset", dataset, f"datasets[{i}]")
        self.datasets = list(datasets)
        if not self.datasets:  # (an AssertionError, as PyTorch's)
            raise AssertionError("ConcatDataset: datasets should not be an empty list")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    @property
    def cummulative_sizes(self):
        """PyTorch's old misspelled name of ``cumulative_sizes``, with its deprecation warning."""
        warnings.warn("cummulative_sizes attribute is renamed to cumulative_sizes", DeprecationWarning, stacklevel=2)
        return self.cumulative_sizes

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        if index < 0:
            if -index > len(self):  # (a ValueError, as PyTorch's; an index past the end is an IndexError)
                raise ValueError(f"ConcatDataset: index {index} is out of range for length {len(self)}")
            index += len(self)
        k = bisect.bisect_right(self.cumulative_sizes, index)  # the dataset that holds sample `index`
        if k == len(self.datasets):
            raise IndexError(f"ConcatDataset: index {index} is out of range for length {len(self)}")
        start = self.cumulative_sizes[k - 1] if k > 0 else 0
        return self.datasets[k][index - start]


def _lengths_from_fractions(fractions, n):
    """PyTorch's rounding: floor(n * f) for each fraction, then the remainder handed out 1 by 1, round robin."""
    lengths = []
    for i, f in enumerate(fractions):
        if not 0 <= f <= 1:
            raise ValueError(f"random_split: fraction at index {i} is {f}, not between 0 and 1")
        lengths.append(math.floor(n * f))
    for i in range(n - sum(lengths)):
        lengths[i % len(lengths)] += 1
    for i, length in enumerate(lengths):
        if length == 0:
            warnings.warn(f"random_split: the split at index {i} has length 0; it will be an empty dataset",
                          stacklevel=3)
    return lengths


def check_dataset(owner, dataset, name="dataset"):
    """A dataset answers len() and indexing: a clear TypeError for anything else (a number, None, a 0-d tensor)."""
    sized = hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")
    if not sized or isinstance(dataset, (str, bytes)) or (isinstance(dataset, Tensor) and dataset.ndim == 0):
        raise TypeError(f"{owner}: {name} must be a dataset (something with len() and [i]), such as a TensorDataset or "
                        f"a list of samples; got {type(dataset).__name__}")


def random_split(dataset, lengths, generator=default_generator):
    """Split ``dataset`` into non-overlapping random Subsets of the given ``lengths``.

    ``lengths`` holds either sample counts that add up to ``len(dataset)``, e.g. ``[800, 200]``, or fractions
    that add up to 1, e.g. ``[0.8, 0.2]``. (PyTorch's rule, followed here: if the lengths add up to 1 they are
    read as fractions, so ``[1, 0]`` means "everything, nothing".) Fractions become counts by PyTorch's rounding:
    ``floor(len(dataset) * f)`` each, then the samples left over go one each to the first, second, ... split.

    One random permutation of 0..N-1 is drawn from ``generator`` (the global one by default, so ``manual_seed``
    makes the split repeatable; ``torch.Generator().manual_seed(42)`` gives a split of its own) and cut into
    consecutive pieces.
    """
    check_dataset("random_split", dataset)
    if hasattr(lengths, "tolist"):  # (a numpy array or a tensor of lengths, as PyTorch takes)
        lengths = lengths.tolist()
    if not isinstance(lengths, (list, tuple, range)) or not all(
            isinstance(x, (numbers.Integral, numbers.Real)) and not isinstance(x, bool) for x in lengths):
        raise TypeError(f"random_split: lengths must be a list of sample counts (e.g. [800, 200]) or of fractions "
                        f"(e.g. [0.8, 0.2]), got {lengths!r:.60}")
    lengths = [int(x) if isinstance(x, numbers.Integral) else float(x) for x in lengths]  # (numpy's numbers too)
    n = len(dataset)
    total = sum(lengths)
    if math.isclose(total, 1) and total <= 1:
        lengths = _lengths_from_fractions(lengths, n)
    elif any(isinstance(length, float) for length in lengths):
        raise ValueError(f"random_split: the fractions {lengths} add up to {total}, not 1; give fractions that add "
                         f"up to 1 (e.g. [0.8, 0.2]) or whole sample counts that add up to {n}")
    for i, length in enumerate(lengths):
        if length < 0:
            raise ValueError(f"random_split: the length at index {i} is {length}; lengths cannot be negative")
    if sum(lengths) != n:
        raise ValueError(f"random_split: the lengths {lengths} add up to {sum(lengths)}, but the dataset has {n} "
                         f"samples; they must add up to {n} (or give fractions that add up to 1)")
    indices = randperm(n, generator=generator).tolist()
    ends = list(itertools.accumulate(lengths))
    return [Subset(dataset, indices[end - length:end]) for end, length in zip(ends, lengths)]
