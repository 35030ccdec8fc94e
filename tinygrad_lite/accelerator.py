"""``tinygrad_lite.accelerator``: PyTorch's device-agnostic query, as used by its current tutorials:

    device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"
"""
from . import cuda
from .device import device


def is_available():
    """True when a GPU is usable (through CuPy)."""
    return cuda.is_available()


def current_accelerator():
    """The accelerator device (``device("cuda")``), or None when there is none."""
    return device("cuda") if is_available() else None


def device_count():
    return cuda.device_count()
