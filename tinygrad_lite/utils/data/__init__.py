"""``tinygrad_lite.utils.data``: feeding a model mini-batches, as ``torch.utils.data`` does.

Three parts work together:

- a **Dataset** answers "how many samples?" (``len``) and "give me sample i" (``dataset[i]``) (``dataset.py``);
- a **Sampler** decides the order in which the indices are visited: in order, or shuffled afresh each epoch;
  a ``BatchSampler`` groups them into lists of ``batch_size`` indices (``sampler.py``);
- the **DataLoader** fetches the samples of each list and joins them into one batch with a *collate* function,
  which stacks tensors along a new first dim (``collate.py``, ``dataloader.py``).

``DistributedSampler`` gives each of several processes its share of the indices (``distributed.py``).
An ``IterableDataset`` is a stream instead: it yields its samples in its own order, and the DataLoader batches them
as they come (no sampler).
"""
from ...coverage import missing_names as _missing_names
from .collate import default_collate, default_convert
from .dataloader import DataLoader, get_worker_info
from .dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)
from . import distributed
from .distributed import DistributedSampler
from .sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = ["BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset", "DistributedSampler",
           "IterableDataset",
           "RandomSampler", "Sampler", "SequentialSampler", "StackDataset", "Subset", "SubsetRandomSampler",
           "TensorDataset", "WeightedRandomSampler", "default_collate", "default_convert", "get_worker_info",
           "random_split"]


__getattr__ = _missing_names(__name__)  # (a name this module lacks: what the library has instead)
