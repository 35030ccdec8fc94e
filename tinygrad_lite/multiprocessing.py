"""``torch.multiprocessing``: Python's ``multiprocessing``, under PyTorch's name, for the scripts that import it.

PyTorch's module wraps Python's so that a tensor sent to another process travels through shared memory, and
``model.share_memory()`` lets several processes train one model (Hogwild!). tinygrad_lite's tensors are numpy
arrays, which another process receives as a copy: ``Module.share_memory()`` and ``Tensor.share_memory_()`` refuse,
so a Hogwild! script stops there, with that reason, instead of training copies that never meet. Everything else
(``Process``, ``Pool``, ``Queue``, ``set_start_method``, ``cpu_count``...) is Python's own.
"""
import multiprocessing as _multiprocessing
from multiprocessing import *  # noqa: F403 (Python's names, PyTorch's module)

__all__ = list(getattr(_multiprocessing, "__all__", []))


def get_all_sharing_strategies():
    """PyTorch's ways of sharing tensors between processes: none here (a tensor arrives as a copy)."""
    return set()
