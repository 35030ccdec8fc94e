"""``DistributedSampler``: each of several processes trains on its own share of the dataset (``torch.utils.data.
distributed``).

With ``num_replicas`` processes, the process of rank r visits the indices r, r + num_replicas, r + 2 num_replicas,
... of one ordering of the dataset: in order, or a permutation drawn from a generator seeded with ``seed + epoch``
(so every process draws the same one: call ``set_epoch(epoch)`` at each epoch for a new one). The ordering is first
made a multiple of ``num_replicas`` long, by repeating its start (or by cutting its end with ``drop_last``), so that
every process gets ``len(sampler)`` indices. tinygrad_lite trains in one process (``distributed.py``): pass
``num_replicas`` and ``rank`` yourself to use it, as a test of what each process would see does.
"""
import math

from ...creation import randperm
from ...random import Generator
from ...shapes import as_int
from .dataset import check_dataset
from .sampler import Sampler

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler):
    """The indices of ``dataset`` that process ``rank`` of ``num_replicas`` visits in this epoch."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        check_dataset("DistributedSampler", dataset, "dataset")
        seed = as_int(seed, "DistributedSampler", "seed")
        if num_replicas is not None:
            num_replicas = as_int(num_replicas, "DistributedSampler", "num_replicas")
            if num_replicas < 1:
                raise ValueError(f"DistributedSampler: num_replicas must be 1 or more, got {num_replicas}")
        if rank is not None:
            rank = as_int(rank, "DistributedSampler", "rank")
        if num_replicas is None or rank is None:  # (PyTorch asks the process group, which one process never has)
            raise RuntimeError("Requires distributed package to be available (tinygrad_lite trains in one process: "
                               "pass num_replicas and rank to see one process's share)")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank, self.epoch = dataset, num_replicas, rank, 0
        self.drop_last, self.shuffle, self.seed = drop_last, shuffle, seed
        n = len(dataset)
        if drop_last and n % num_replicas:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)  # (the remainder dropped)
        else:
            self.num_samples = math.ceil(n / num_replicas)  # (padded by repeating the first indices)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            generator = Generator()
            generator.manual_seed(self.seed + self.epoch)
            order = randperm(n, generator=generator).tolist()
        else:
            order = list(range(n))
        if self.drop_last:
            order = order[:self.total_size]
        else:
            missing = self.total_size - len(order)
            order += (order * math.ceil(missing / len(order)))[:missing] if missing else []
        return iter(order[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Shuffle with ``seed + epoch`` from now on: the same new order in every process."""
        self.epoch = epoch
