"""``torch.distributed``, for the scripts that import it: tinygrad_lite trains in one process.

Scripts written for several processes (launched with ``torchrun``, as nanoGPT's train.py can be) import this module
and the wrapper ``nn.parallel.DistributedDataParallel`` at the top, and use them only when launched that way
(``RANK`` in the environment). Run as one process (``python train.py``), they take their one-process path, which
runs here. ``is_available()`` and ``is_initialized()`` are False; ``init_process_group`` refuses (a ValueError,
as PyTorch's without ``RANK`` in the environment) with what to do instead; the collective operations raise
PyTorch's error for a process group that was never made.
"""
import enum

__all__ = ["is_available", "is_initialized", "init_process_group", "destroy_process_group", "get_rank",
           "get_world_size", "barrier", "all_reduce", "broadcast", "all_gather", "reduce", "ReduceOp"]

NOT_INITIALIZED = "Default process group has not been initialized, please make sure to call init_process_group."


class ReduceOp(enum.Enum):
    """The reductions of ``all_reduce`` (``dist.ReduceOp.SUM``...), so that scripts can name them."""
    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"


def is_available():
    """False: this library has no process groups, so a script that asks takes its one-process path."""
    return False


def is_initialized():
    return False


def init_process_group(backend=None, *args, **kwargs):
    raise ValueError("init_process_group: tinygrad_lite trains in one process and has no process groups "
                     "(torch.distributed is not covered). Run the script as one process (python train.py, not "
                     "torchrun, without RANK and WORLD_SIZE in the environment), which leaves this set-up out.")


def destroy_process_group(group=None):
    raise AssertionError("Process group cannot be None")  # (PyTorch's, when none was made)


def _needs_a_group(*args, **kwargs):
    raise ValueError(NOT_INITIALIZED)


get_rank = get_world_size = barrier = all_reduce = broadcast = all_gather = reduce = _needs_a_group
