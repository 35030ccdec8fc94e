"""``tinygrad_lite.cuda``: is a GPU usable? Mirrors the small part of ``torch.cuda`` that scripts use.

The GPU is reached through CuPy, an optional extra (``pip install cupy-cuda12x``): nothing here imports it until
one of these functions is called, and then only once (``device.cupy_or_error``). The usual device-agnostic line::

    device = "cuda" if torch.cuda.is_available() else "cpu"
"""
from . import device as _device
from .random import manual_seed as _seed


def is_available():
    """True when CuPy is installed and sees at least one GPU."""
    try:
        _device.cupy_or_error()
        return True
    except RuntimeError:
        return False


def device_count():
    """How many GPUs CuPy sees (0 without CuPy or without a GPU)."""
    if not is_available():
        return 0
    return _device.cupy_or_error().cuda.runtime.getDeviceCount()


def current_device():
    """The index of the GPU new ``"cuda"`` tensors go to (always 0 here: ``"cuda"`` means ``"cuda:0"``)."""
    _device.cupy_or_error()
    return 0


def manual_seed(seed):
    """Seed GPU random numbers. Ours are drawn on the CPU and copied, so this seeds the one global generator
    (``tinygrad_lite.manual_seed``): a seeded run draws the same numbers on either device."""
    _seed(seed)


def manual_seed_all(seed):
    manual_seed(seed)


def synchronize(device=None):
    """Wait until the GPU has finished all the work queued so far.

    GPU calls are asynchronous: ``y = x @ x`` returns as soon as the work is queued, so a timer stopped right after
    measures the queueing, not the multiply. Call ``synchronize()`` before reading the clock. As in PyTorch, this
    needs a GPU: on a CPU-only machine it raises (guard it with ``if device == "cuda"``).
    """
    cupy = _device.cupy_or_error()
    index = 0 if device is None else _device.device(device).index or 0
    cupy.cuda.Device(index).synchronize()


def get_device_name(device=None):
    """The GPU's name, e.g. "NVIDIA H100 80GB HBM3" (``torch.cuda.get_device_name``)."""
    cupy = _device.cupy_or_error()
    index = 0 if device is None else device if isinstance(device, int) else _device.device(device).index or 0
    name = cupy.cuda.runtime.getDeviceProperties(index)["name"]
    return name.decode() if isinstance(name, bytes) else name


def memory_allocated(device=None):
    """Bytes of GPU memory held by tensors now (CuPy's memory pool: blocks in use)."""
    return _device.cupy_or_error().get_default_memory_pool().used_bytes()


def empty_cache():
    """Give the memory pool's unused blocks back to the GPU (what ``nvidia-smi`` shows drops; tensors stay)."""
    if is_available():
        _device.cupy_or_error().get_default_memory_pool().free_all_blocks()
