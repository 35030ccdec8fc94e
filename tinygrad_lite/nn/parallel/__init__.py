"""``nn.parallel``: the wrappers that run a model on several GPUs or processes, for the scripts that use them.

tinygrad_lite runs a model on one device in one process. ``DataParallel`` wraps the model as PyTorch's does (the
model is ``.module``, so state_dict keys start with ``module.``) and calls it on the whole batch: on the CPU, as
PyTorch's does without GPUs, and on one GPU, its first device, where PyTorch's would split the batch across all of
them (deliberate difference: one replica, the same numbers). ``DistributedDataParallel`` needs a process group,
which ``distributed.init_process_group`` refuses to make: it raises PyTorch's error for that.
"""
from ... import cuda
from ...cuda import _index  # (a GPU's number from a device, its name or the number itself)
from ...distributed import NOT_INITIALIZED
from ..modules.module import Module

__all__ = ["DataParallel", "DistributedDataParallel"]


class DataParallel(Module):
    """``DataParallel(module, device_ids=None, output_device=None, dim=0)``: ``module`` called on the batch, on the
    GPU ``device_ids[0]`` (every GPU by default: the first) where there is a GPU, else on the CPU."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        self.module, self.dim = module, dim
        if not cuda.is_available():
            self.device_ids, self.output_device, self.src_device_obj = [], None, None
            return
        ids = list(range(cuda.device_count())) if device_ids is None else [_index(d) for d in device_ids]
        self.device_ids, self.output_device = ids, _index(ids[0] if output_device is None else output_device)
        self.src_device_obj = f"cuda:{ids[0]}"

    def forward(self, *inputs, **kwargs):
        if not self.device_ids:
            return self.module(*inputs, **kwargs)
        for t in (*self.module.parameters(), *self.module.buffers()):
            if str(t.device) != self.src_device_obj:
                raise RuntimeError(f"module must have its parameters and buffers on device {self.src_device_obj} "
                                   f"(device_ids[0]) but found one of them on device: {t.device}")
        inputs = [_to(x, self.src_device_obj) for x in inputs]
        kwargs = {k: _to(v, self.src_device_obj) for k, v in kwargs.items()}
        return _to(self.module(*inputs, **kwargs), f"cuda:{self.output_device}")


class DistributedDataParallel(Module):
    def __init__(self, module, *args, **kwargs):
        raise ValueError(NOT_INITIALIZED + " (tinygrad_lite trains in one process: torch.distributed is not "
                         "covered; run the script without torchrun, on its one-process path)")


def _to(x, device):
    """Tensors (in lists, tuples and dicts too) moved to ``device``; anything else as it is."""
    if hasattr(x, "to") and hasattr(x, "device"):
        return x.to(device)
    if isinstance(x, (list, tuple)):
        return type(x)(_to(v, device) for v in x)
    if isinstance(x, dict):
        return {k: _to(v, device) for k, v in x.items()}
    return x
