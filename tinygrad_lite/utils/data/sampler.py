"""Samplers: the order in which a DataLoader visits a dataset's indices, and how they are grouped into batches.

- ``SequentialSampler``: 0, 1, ..., N-1 every epoch (``shuffle=False``).
- ``RandomSampler``: a fresh random permutation of 0..N-1 every epoch (``shuffle=True``).
- ``SubsetRandomSampler(indices)``: the given indices in a fresh random order every epoch.
- ``WeightedRandomSampler(weights, num_samples)``: indices drawn with probabilities in proportion to ``weights``.
- ``BatchSampler``: cuts any sampler's stream of indices into lists of ``batch_size``.

Where the randomness comes from (as in PyTorch). With a ``generator``, each epoch's permutation is drawn from
it, so the epochs differ from each other but the whole sequence repeats for the same seed. Without one, each
epoch starts by drawing a seed from the *global* generator and shuffles with a generator seeded by it. So
``manual_seed`` makes the shuffling repeatable, and restoring a saved ``get_rng_state()`` replays exactly the
same epoch orders: that is what lets a training run resume bit-identically from a checkpoint.
(The permutations themselves are not PyTorch's: our random numbers come from numpy's PCG64.)
"""
from typing import Generic

from ... import dtypes as dt
from ...creation import as_tensor, multinomial, randint, randperm
from ...random import Generator, rng
from .dataset import T_co, check_dataset


class Sampler(Generic[T_co]):
    """Base class: a sampler is an iterable of dataset indices (and usually has a ``len``)."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__, which yields dataset indices")


class SequentialSampler(Sampler):
    """Yields 0, 1, ..., len(data_source) - 1, in order."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


def _epoch_generator(generator):
    """The generator for one epoch: the given one, or a new one seeded by a draw from the global generator."""
    if generator is not None:
        return generator
    return Generator().manual_seed(int(rng().integers(2**63)))


class RandomSampler(Sampler):
    """Yields the indices 0..N-1 in a random order (a permutation), drawn afresh each time it is iterated.

    With ``replacement=True`` it yields ``num_samples`` indices drawn independently and uniformly from 0..N-1
    (repeats allowed). Without replacement, ``num_samples`` larger than N chains several permutations.
    The module docstring explains where the randomness comes from.
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        check_dataset("RandomSampler", data_source, "data_source")
        self.data_source, self.replacement, self._num_samples = data_source, replacement, num_samples
        self.generator = generator
        if not isinstance(replacement, bool):
            raise TypeError(f"RandomSampler: replacement should be a boolean value, but got replacement={replacement}")
        if not isinstance(self.num_samples, int) or isinstance(self.num_samples, bool) or self.num_samples <= 0:
            raise ValueError(f"RandomSampler: num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):  # a generator function: the seed is drawn when the first index is asked for, as in PyTorch
        n = len(self.data_source)
        generator = _epoch_generator(self.generator)
        if self.replacement:  # 32 at a time, as PyTorch: num_samples may be huge (makemore asks for 1e10)
            for _ in range(self.num_samples // 32):
                yield from randint(n, (32,), generator=generator).tolist()
            yield from randint(n, (self.num_samples % 32,), generator=generator).tolist()
            return
        for _ in range(self.num_samples // n):
            yield from randperm(n, generator=generator).tolist()
        yield from randperm(n, generator=generator).tolist()[:self.num_samples % n]

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """Yields the given ``indices`` in a random order, drawn afresh each time it is iterated."""

    def __init__(self, indices, generator=None):
        self.indices, self.generator = indices, generator

    def __iter__(self):
        for k in randperm(len(self.indices), generator=_epoch_generator(self.generator)).tolist():
            yield self.indices[k]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """Yields ``num_samples`` indices, index i drawn with probability ``weights[i] / sum(weights)`` (with
    ``replacement=True``, the default, an index can come again; without, ``num_samples`` distinct ones).

    For an imbalanced dataset: give each sample the weight 1 / (the number of samples of its class), and each
    batch holds every class about equally often. Each epoch draws anew, from ``generator`` or the global generator
    (PyTorch draws from the global one directly here, with no seed per epoch, and so do we)."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(f"WeightedRandomSampler: num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples!r}")
        if not isinstance(replacement, bool):
            raise ValueError(f"WeightedRandomSampler: replacement should be a boolean value, but got "
                             f"replacement={replacement!r}")
        weights = as_tensor(weights, dtype=dt.float64)
        if weights.ndim != 1:
            raise ValueError(f"WeightedRandomSampler: weights should be a 1d sequence (one weight per sample) but "
                             f"given weights have shape {tuple(weights.shape)}")
        self.weights, self.num_samples, self.replacement, self.generator = weights, num_samples, replacement, generator

    def __iter__(self):  # (a generator function: the draw happens when the first index is asked for)
        yield from multinomial(self.weights, self.num_samples, self.replacement, generator=self.generator).tolist()

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size``.

    The last list is shorter when ``batch_size`` does not divide the number of indices, unless
    ``drop_last=True``, which drops it. So ``len`` is ceil(N / batch_size), or floor(N / batch_size) with drop_last.
    """

    def __init__(self, sampler, batch_size, drop_last):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value (a DataLoader's or a BatchSampler's "
                             f"batch size), but got batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"BatchSampler: drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def __iter__(self):
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
