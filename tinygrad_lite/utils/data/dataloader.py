"""``DataLoader``: iterate over a dataset in mini-batches, shuffled or in order.

One epoch is::

    for indices in batch_sampler:                           # e.g. [17, 3, 42, ...], batch_size of them
        yield collate_fn([dataset[i] for i in indices])     # samples joined into one batch

Where we differ from PyTorch on purpose:

- ``num_workers > 0`` is accepted but the samples are still loaded in this process, one batch after another
  (as with ``num_workers=0``): for a map-style dataset the batches are the same, only not loaded in parallel.
  There are no worker processes, so ``worker_init_fn`` is not called and ``get_worker_info()`` is None: an
  ``IterableDataset`` that splits its stream among workers by ``get_worker_info`` yields it once, whole, as
  PyTorch's workers do together; one that does not split it yields it once here, where each of PyTorch's
  ``num_workers`` workers yields a full copy. ``pin_memory``, ``timeout``, ``prefetch_factor`` and the other worker
  options are accepted and ignored (``prefetch_factor`` and ``persistent_workers=True`` with ``num_workers=0`` are
  refused, as PyTorch refuses them).
- A shortcut for tensors: when the dataset is a ``TensorDataset``, a ``Subset`` of one (as ``random_split``
  makes) or a plain Tensor (exactly these types: a subclass may override ``__getitem__``), and ``collate_fn``
  is the default, each tensor is indexed once with the whole list of indices, ``X[indices]``, instead of
  taking ``X[i]`` sample by sample and stacking. The result is the same, row for row and dtype for dtype
  (stacking the rows ``X[i]`` in the order of ``indices`` *is* ``X[indices]``), in one numpy call instead of
  ``batch_size`` of them.
- PyTorch also draws a seed for its worker processes at the start of every epoch; we have no workers and do not,
  and ``get_worker_info()`` is always None (what PyTorch gives in the main process).

An ``IterableDataset`` (a stream, with ``__iter__`` instead of ``__getitem__``) is read in order: each batch is the
next ``batch_size`` samples of one ``iter(dataset)`` per epoch, with no sampler (so no ``shuffle`` or ``sampler``).
"""
import itertools

import numpy as np

from ... import dtypes as dt
from ...tensor import Tensor
from .collate import default_collate, default_convert
from .dataset import IterableDataset, Subset, TensorDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler


def _rows(tensor, indices):
    """``tensor[indices]``, with the index array on the tensor's device."""
    return tensor[Tensor(np.asarray(indices, dtype=np.int64), dtype=dt.int64).to(tensor.device)]


def _fetch_tensors(dataset, indices):
    """The default-collated batch of a TensorDataset (or a Subset of one, or a Tensor) by indexing each tensor
    once, or None for any other dataset."""
    while type(dataset) is Subset:  # (exact types: a subclass may override __getitem__, e.g. to augment)
        indices, dataset = [dataset.indices[i] for i in indices], dataset.dataset
    if type(dataset) is TensorDataset:
        return [_rows(t, indices) for t in dataset.tensors]  # a list, like default_collate of tuples
    if type(dataset) is Tensor:
        return _rows(dataset, indices)
    return None


class DataLoader:
    """Batches of ``batch_size`` samples from ``dataset``; ``len(loader)`` is the number of batches per epoch.

    - ``shuffle=True``: a new random order every epoch (a ``RandomSampler``; see ``sampler.py`` for where its
      randomness comes from: ``generator`` if given, else a seed drawn each epoch from the global generator).
    - ``drop_last=True``: drop the last, smaller batch when ``batch_size`` does not divide ``len(dataset)``.
    - ``sampler``: your own order of indices (then leave ``shuffle`` off); ``batch_sampler``: your own lists of
      indices (then leave ``batch_size``, ``shuffle``, ``sampler`` and ``drop_last`` at their defaults).
    - ``batch_size=None``: no batching; each sample comes out alone, numpy arrays turned into tensors.
    - ``collate_fn``: how a list of samples becomes a batch (default: ``default_collate``, see ``collate.py``).
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True):
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers option should be a non-negative integer, got {num_workers!r}")
        for name, flag in (("shuffle", shuffle), ("drop_last", drop_last), ("pin_memory", pin_memory),
                           ("persistent_workers", persistent_workers)):
            if flag is not None and not isinstance(flag, (bool, np.bool_, int)):
                raise TypeError(f"DataLoader: {name} must be True or False, got {type(flag).__name__} {flag!r:.40}")
        if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int)):
            raise ValueError(f"DataLoader: batch_size must be a positive int (or None), got {batch_size!r:.40}")
        if num_workers == 0 and (prefetch_factor is not None or persistent_workers):  # (refused, as by PyTorch)
            raise ValueError("DataLoader: prefetch_factor and persistent_workers=True tune worker processes, so they "
                             "need num_workers > 0; leave them out with num_workers=0")
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool):
            raise TypeError(f"DataLoader: timeout must be a number of seconds, got {timeout!r:.40}")
        if timeout < 0:
            raise ValueError(f"DataLoader: timeout option should be non-negative, got {timeout!r}")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle; shuffle inside your "
                             "sampler, or pass shuffle=True without a sampler")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler option is mutually exclusive with batch_size, shuffle, "
                                 "sampler, and drop_last; the batch_sampler already decides all of these")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None option disables auto-batching and is mutually exclusive "
                             "with drop_last")
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:  # (PyTorch's ValueErrors: a stream has no indices to shuffle or sample)
            for name, value in (("shuffle", shuffle), ("sampler", sampler), ("batch_sampler", batch_sampler)):
                if value not in (None, False):
                    raise ValueError(f"DataLoader with IterableDataset: expected unspecified {name} option, but got "
                                     f"{name}={value!r:.60}; an iterable dataset yields its samples in its own order "
                                     "(shuffle inside its __iter__)")
        elif sampler is None:
            if not hasattr(dataset, "__len__"):
                raise TypeError(f"DataLoader: the dataset ({type(dataset).__name__}) has no __len__; a map-style "
                                "dataset needs __len__ and __getitem__ (a stream of samples subclasses "
                                "IterableDataset and defines __iter__)")
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and not self._iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset, self.batch_size, self.drop_last = dataset, batch_size, drop_last
        self.sampler, self.batch_sampler, self.generator = sampler, batch_sampler, generator
        self.num_workers, self.pin_memory, self.timeout = num_workers, pin_memory, timeout
        self.worker_init_fn, self.prefetch_factor, self.persistent_workers = (worker_init_fn, prefetch_factor,
                                                                              persistent_workers)
        if collate_fn is None:
            batched = batch_sampler is not None or (self._iterable and batch_size is not None)
            collate_fn = default_collate if batched else default_convert
        self.collate_fn = collate_fn

    def __len__(self):
        if self._iterable:  # (len(dataset): a TypeError for a stream without __len__, as in PyTorch)
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)

    def __iter__(self):
        return _Epoch(self._batches(), self)

    def _batches(self):
        if self._iterable:
            yield from self._stream_batches()
            return
        if self.batch_sampler is None:  # batch_size=None: one sample at a time
            for index in self.sampler:
                yield self.collate_fn(self.dataset[index])
            return
        for indices in self.batch_sampler:
            batch = _fetch_tensors(self.dataset, indices) if self.collate_fn is default_collate else None
            if batch is None:  # (a dataset's __getitems__, when it has one, fetches the batch's samples at once)
                many = getattr(self.dataset, "__getitems__", None)
                batch = self.collate_fn(many(list(indices)) if many else [self.dataset[i] for i in indices])
            yield batch

    def _stream_batches(self):
        """An IterableDataset's batches: its samples in order, ``batch_size`` at a time (the last one shorter,
        unless ``drop_last``)."""
        samples = iter(self.dataset)
        if self.batch_size is None:
            for sample in samples:
                yield self.collate_fn(sample)
            return
        while batch := list(itertools.islice(samples, self.batch_size)):
            if self.drop_last and len(batch) < self.batch_size:
                return
            yield self.collate_fn(batch)


def get_worker_info():
    """Information about the worker process that loads the current batch: always None here, as in PyTorch's main
    process (our DataLoader loads every batch in this process; see the module docstring)."""
    return None


class _Epoch:
    """One pass over a loader: an iterator of its batches that knows their number, ``len(iter(loader))``, as
    PyTorch's does."""

    def __init__(self, batches, loader):
        self._batches, self._loader = batches, loader

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._batches)

    def __len__(self):
        return len(self._loader)
